// convoy-test-echo: the tests' echo server as a program, for scripts/bench-client.sh (when
// convoy-server is not built) and for trying the client's fault handling by hand.
//   convoy-test-echo [--fault none|corrupt|close|silent|stall|reset] [--at BYTES]
// Prints "listening 127.0.0.1:PORT" and serves until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "echo_server.hpp"

int main(int argc, char** argv) {
  using Fault = convoy::client::testing::TestEchoServer::Fault;
  Fault fault = Fault::kNone;
  std::size_t at = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fault" && i + 1 < argc) {
      const std::string f = argv[++i];
      if (f == "none")
        fault = Fault::kNone;
      else if (f == "corrupt")
        fault = Fault::kCorruptByte;
      else if (f == "close")
        fault = Fault::kCloseMidRun;
      else if (f == "silent")
        fault = Fault::kNeverAnswer;
      else if (f == "stall")
        fault = Fault::kStallAfter;
      else if (f == "reset")
        fault = Fault::kResetUnread;
      else {
        std::fprintf(stderr, "convoy-test-echo: error: unknown fault '%s'\n", f.c_str());
        return 2;
      }
    } else if (arg == "--at" && i + 1 < argc) {
      at = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(
          stderr,
          "usage: convoy-test-echo [--fault none|corrupt|close|silent|stall|reset] [--at N]\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: they inherit the mask
  convoy::client::testing::TestEchoServer server(fault, at);
  std::printf("listening 127.0.0.1:%u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
