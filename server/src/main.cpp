#include <exception>
#include <iostream>

#include <spdlog/spdlog.h>

#include "convoy/server/app.hpp"
#include "convoy/server/cli.hpp"

int main(int argc, char** argv) {
  try {
    convoy::server::install_stderr_logger();
    const auto command = convoy::server::parse_command_line(argc, argv, std::cout, std::cerr);
    if (!command.config) return command.exit_code;
    return convoy::server::run_server(*command.config);
  } catch (const std::exception& e) {
    spdlog::critical("convoy-server: {}", e.what());
  } catch (...) {
    spdlog::critical("convoy-server: unknown exception");
  }
  return convoy::server::kExitFailure;
}
