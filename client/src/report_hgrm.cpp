// The --hgrm result file: HdrHistogram's percentile distribution text.
#include "convoy/client/report.hpp"

#include <cmath>
#include <cstdint>

#include "report_text.hpp"

namespace convoy::client {

using report_detail::format;
using report_detail::us;

void write_hgrm(std::ostream& out, const LatencyHistogram& h) {
  constexpr int kTicksPerHalfDistance = 5;
  const std::uint64_t total = h.count();
  out << format("%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  if (total > 0) {
    // Rows below 100 % until one reaches the maximum, so that a plot of 1/(1-Percentile), which
    // cannot show the 100 % row, still ends at the largest value.
    double p = 0;
    while (true) {
      const auto at = h.at_percentile(p);
      out << format("%12.3f %14.12f %10llu %14.2f\n", us(at.value_ns), p / 100,
                    static_cast<unsigned long long>(at.cumulative), 1 / (1 - p / 100));
      if (at.value_ns >= h.max()) break;
      // As HdrHistogram: kTicksPerHalfDistance steps each time the distance to 100 % halves.
      const double half_distance = std::pow(2.0, std::floor(std::log2(100.0 / (100.0 - p))) + 1);
      const double next = p + 100.0 / (kTicksPerHalfDistance * half_distance);
      if (!(next > p) || next >= 100) break;  // beyond what a double tells apart from 100 %
      p = next;
    }
    out << format("%12.3f %14.12f %10llu\n", us(h.max()), 1.0,
                  static_cast<unsigned long long>(total));
  }
  out << format("#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", us(h.mean()), us(h.stddev()));
  out << format("#[Max     = %12.3f, Total count    = %12llu]\n", us(h.max()),
                static_cast<unsigned long long>(total));
  out << format("#[Buckets = %12u, SubBuckets     = %12d]\n", LatencyHistogram::kBins, 1);
  out << format("#[Values in microseconds; log buckets, percentile error <= %.2f %%]\n",
                100 * LatencyHistogram::kRelativeError);
}

}  // namespace convoy::client
