// The --csv result file: one row per second.
#include "convoy/client/report.hpp"

#include <cstddef>

#include "report_text.hpp"

namespace convoy::client {

using report_detail::format;
using report_detail::us;

void write_csv(std::ostream& out, const std::vector<convoy::Histogram>& per_second) {
  out << "second,count,p50_us,p99_us,max_us\n";
  for (std::size_t s = 0; s < per_second.size(); ++s) {
    const auto& h = per_second[s];
    if (h.count() == 0) {
      out << s << ",0,,,\n";
      continue;
    }
    out << format("%zu,%llu,%.3f,%.3f,%.3f\n", s, static_cast<unsigned long long>(h.count()),
                  us(h.percentile(50)), us(h.percentile(99)), us(h.max()));
  }
}

}  // namespace convoy::client
