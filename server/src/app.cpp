#include "convoy/server/app.hpp"

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "convoy/duration.hpp"
#include "convoy/server/cli.hpp"
#include "convoy/server/server.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

std::atomic<Server*> g_server{nullptr};

extern "C" void on_stop_signal(int) {
  if (Server* server = g_server.load()) server->request_stop();
}

// Routes SIGINT and SIGTERM to `server` while alive; SIGPIPE is ignored (sends use MSG_NOSIGNAL
// anyway). The handlers stay installed afterwards and then do nothing.
class StopSignals {
 public:
  explicit StopSignals(Server& server) {
    g_server.store(&server);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (const int signal : {SIGINT, SIGTERM}) {
      if (::sigaction(signal, &action, nullptr) != 0) {
        throw std::runtime_error(std::string("sigaction: ") + std::strerror(errno));
      }
    }
    std::signal(SIGPIPE, SIG_IGN);
  }
  ~StopSignals() { g_server.store(nullptr); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

std::string describe(const ServerConfig& c) {
  return "policy " + gilcore::describe(c.interpreter.lock) + ", " + std::to_string(c.cpu_threads) +
         " fib thread(s), io-model " + std::string(to_string(c.io_model)) + ", io-release " +
         std::string(to_string(c.io.release)) + (c.io.timeout_socket ? ", timeout sockets" : "");
}

}  // namespace

void install_stderr_logger() {
  if (spdlog::get("convoy-server")) return;
  auto logger = spdlog::stderr_color_mt("convoy-server");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(std::move(logger));
}

int run_server(const ServerConfig& config) {
  install_stderr_logger();
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  if (!config.stats_path.empty() && !std::ofstream(config.stats_path, std::ios::app)) {
    std::cerr << "convoy-server: error: cannot write the stats file '" << config.stats_path
              << "': " << std::strerror(errno) << '\n';
    return kExitBadInput;
  }

  Server server(config);
  const StopSignals signals(server);
  try {
    server.listen();
  } catch (const StartupError& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("{}", describe(config));

  server.run([&server] {
    std::cout << "listening " << server.local_address() << std::endl;
    spdlog::info("listening on {}", server.local_address());
  });

  const auto stats = server.stats_json();
  spdlog::info(
      "stopped after {:.3f}s: {} connections, {} messages echoed, {:.0f} fib calls/s",
      stats["run"]["duration_s"].get<double>(), stats["connections"]["served"].get<std::uint64_t>(),
      stats["messages"]["count"].get<std::uint64_t>(), stats["fib"]["calls_per_s"].get<double>());
  if (!config.stats_path.empty()) {
    std::ofstream out(config.stats_path, std::ios::trunc);
    out << stats.dump(2) << '\n';
    out.close();
    if (!out) {
      spdlog::error("cannot write the stats file '{}': {}", config.stats_path,
                    std::strerror(errno));
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace convoy::server
