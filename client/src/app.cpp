#include "convoy/client/app.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "convoy/build_info.hpp"
#include "convoy/client/config.hpp"
#include "convoy/client/report.hpp"
#include "convoy/client/runner.hpp"
#include "convoy/context.hpp"

namespace convoy::client {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) { g_interrupted.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // A closed terminal or a parent that gives up (SIGHUP) ends the run as SIGTERM does: the
  // results measured so far are printed and written.
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &sa, nullptr);
}

void show_progress(const Progress& p) {
  static std::uint64_t last_completed = 0;
  static double last_elapsed = 0;
  const double dt = p.elapsed_s - last_elapsed;
  const double rate = dt > 0 ? static_cast<double>(p.completed - last_completed) / dt : 0;
  last_completed = p.completed;
  last_elapsed = p.elapsed_s;
  std::fprintf(stderr, "\r\033[K%7.1f s  %12llu replies  %10.0f req/s  %llu errors", p.elapsed_s,
               static_cast<unsigned long long>(p.completed), rate,
               static_cast<unsigned long long>(p.errors));
  std::fflush(stderr);
}

int run(const Config& config) {
  auto log = spdlog::stderr_logger_st("convoy-client");
  log->set_pattern("%n: %l: %v");
  const auto& build = convoy::build_info();
  if (build.build_type != "Release" || !build.sanitizer.empty()) {
    log->warn("this is a {} build{}{}: latencies are not representative", build.build_type,
              build.sanitizer.empty() ? "" : " with sanitizer ", build.sanitizer);
  }
  install_signal_handlers();
  ResultFiles files;
  if (const auto errors = files.open(config); !errors.empty()) {
    for (const auto& e : errors) std::cerr << "convoy-client: error: " << e << "\n";
    return 2;
  }
  const nlohmann::json context = convoy::machine_context();
  const bool tty = isatty(STDERR_FILENO) == 1;

  const RunResult result = run_load(
      config, tty ? std::function<void(const Progress&)>(show_progress) : nullptr, &g_interrupted);
  if (tty) std::fputs("\r\033[K", stderr);

  if (result.connected) print_summary(std::cout, config, result);
  std::cout.flush();
  int code = result.exit_code();
  for (const auto& e : files.write(config, result, context)) {
    log->error("{}", e);
    if (code == 0) code = 1;
  }
  if (!result.error.empty()) {
    if (result.error_kind == ErrorKind::interrupted) {
      log->warn("interrupted: the results above are partial");
    } else {
      log->error("{}{}", result.error, result.connected ? " — the results above are partial" : "");
    }
  }
  if (result.errors.corrupted > 0) {
    log->error("{} corrupted echo(es); first: {}", result.errors.corrupted,
               result.first_corruption);
  }
  const auto& e = result.errors;
  if (e.reordered + e.duplicated > 0) {
    log->error("{} reordered and {} duplicated echo(es)", e.reordered, e.duplicated);
  }
  return code;
}

}  // namespace

int run_app(int argc, char** argv) {
  const ParseOutcome outcome = parse_command_line(argc, argv);
  if (!outcome.config) {
    std::cout << outcome.output;
    if (!outcome.error.empty()) std::cerr << outcome.error << "\n";
    return outcome.exit_code;
  }
  try {
    return run(*outcome.config);
  } catch (const std::exception& e) {
    std::cerr << "convoy-client: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace convoy::client
