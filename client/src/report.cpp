// The result files named on the command line, opened before the run and written after it.
#include "convoy/client/report.hpp"

#include <sstream>
#include <string>

namespace convoy::client {
namespace {

template <typename Write>
std::string render(Write write) {
  std::ostringstream out;
  write(out);
  return out.str();
}

}  // namespace

std::vector<std::string> ResultFiles::open(const Config& c) {
  std::vector<std::string> errors;
  auto open_one = [&](convoy::ResultFile& file, const std::string& path, const char* option) {
    if (path.empty()) return;
    if (auto e = file.open(path); !e.empty()) errors.push_back(option + (": " + e));
  };
  open_one(json_, c.json_path, "--json");
  open_one(csv_, c.csv_path, "--csv");
  open_one(hgrm_, c.hgrm_path, "--hgrm");
  return errors;
}

std::vector<std::string> ResultFiles::write(const Config& c, const RunResult& r,
                                            const nlohmann::json& context) {
  std::vector<std::string> errors;
  auto write_one = [&](convoy::ResultFile& file, const char* what, auto writer) {
    if (!file.is_open()) return;
    if (auto e = file.commit(render(writer)); !e.empty()) {
      errors.push_back(std::string("the ") + what + " file: " + e);
    }
  };
  write_one(json_, "JSON",
            [&](std::ostream& o) { o << result_json(c, r, context).dump(2) << "\n"; });
  write_one(csv_, "CSV", [&](std::ostream& o) { write_csv(o, r.per_second); });
  write_one(hgrm_, "hgrm", [&](std::ostream& o) { convoy::write_hgrm(o, r.latency); });
  return errors;
}

}  // namespace convoy::client
