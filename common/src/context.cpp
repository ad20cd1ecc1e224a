#include "convoy/context.hpp"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#include "convoy/build_info.hpp"

namespace convoy {
namespace {

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "unknown";
  std::string out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    if (!out.empty()) out += ',';
    out += std::to_string(cpu);
    if (last > cpu) out += '-' + std::to_string(last);
    cpu = last;
  }
  return out;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

nlohmann::json machine_context() {
  utsname u{};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const auto& b = build_info();
  return {
      {"host", host},
      {"kernel", std::string(u.sysname) + " " + u.release},
      {"machine", u.machine},
      {"cpu_model", cpu_model()},
      {"cores_online", sysconf(_SC_NPROCESSORS_ONLN)},
      {"hardware_concurrency", std::thread::hardware_concurrency()},
      {"cpu_affinity", affinity()},
      {"clocksource",
       first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource")},
      {"version", b.version},
      {"git_revision", b.git_revision},
      {"build_type", b.build_type},
      {"sanitizer", b.sanitizer},
      {"compiler", b.compiler},
      {"start_time_utc", utc_now()},
  };
}

}  // namespace convoy
