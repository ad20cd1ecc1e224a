#include "convoy/server/app.hpp"

#include <csignal>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include "convoy/duration.hpp"
#include "convoy/result_file.hpp"
#include "convoy/server/cli.hpp"
#include "convoy/server/server.hpp"
#include "convoy/server/timeline.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

std::atomic<Server*> g_server{nullptr};

extern "C" void on_stop_signal(int) {
  if (Server* server = g_server.load()) server->request_stop();
}

// Routes SIGINT, SIGTERM and SIGHUP (a closed terminal, a parent giving up) to `server` while
// alive, so each of them ends the run with the stats written; SIGPIPE is ignored (sends use
// MSG_NOSIGNAL anyway). The handlers stay installed afterwards and then do nothing.
class StopSignals {
 public:
  explicit StopSignals(Server& server) {
    g_server.store(&server);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
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

// One warning line when the server can be reached from other hosts: it has no authentication,
// and an experiment over a network measures the network too.
void warn_if_reachable_from_other_hosts(const ServerConfig& c, const std::string& where) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(c.bind, ec);
  if (ec || address.is_loopback()) return;
  spdlog::warn(
      "listening on {}, {}: any host that can reach it may connect, and latencies include "
      "the network (see docs/network.md)",
      where, address.is_unspecified() ? "every interface" : "which is not a loopback address");
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

  // Opened before anything starts, written through a temporary file at exit (ResultFile): an
  // unwritable path is found now, and a server that does not start leaves no file behind.
  ResultFile stats_file;
  if (!config.stats_path.empty()) {
    if (const auto why = stats_file.open(config.stats_path); !why.empty()) {
      std::cerr << "convoy-server: error: --stats: " << why << '\n';
      return kExitBadInput;
    }
  }

  ResultFile trace_file;
  if (config.trace.enabled()) {
    if (const auto why = trace_file.open(config.trace.path); !why.empty()) {
      std::cerr << "convoy-server: error: --trace: " << why << '\n';
      return kExitBadInput;
    }
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
  warn_if_reachable_from_other_hosts(config, server.local_address());

  server.run([&server] {
    std::cout << "listening " << server.local_address() << std::endl;
    spdlog::info("listening on {}", server.local_address());
  });

  const auto stats = server.stats_json();
  spdlog::info(
      "stopped after {:.3f}s: {} connections, {} messages echoed, {:.0f} fib calls/s",
      stats["run"]["duration_s"].get<double>(), stats["connections"]["served"].get<std::uint64_t>(),
      stats["messages"]["count"].get<std::uint64_t>(), stats["fib"]["calls_per_s"].get<double>());
  if (stats.contains("trace")) {
    for (const auto& line : summary_lines(stats["trace"])) spdlog::info("{}", line);
  }
  if (trace_file.is_open()) {
    if (const auto why = trace_file.commit(server.timeline_json()); !why.empty()) {
      spdlog::error("the trace file: {}", why);
      return kExitFailure;
    }
  }
  if (stats_file.is_open()) {
    if (const auto why = stats_file.commit(stats.dump(2) + '\n'); !why.empty()) {
      spdlog::error("the stats file: {}", why);
      return kExitFailure;
    }
  }
  return kExitOk;
}

}  // namespace convoy::server
