#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "convoy/histogram.hpp"
#include "convoy/server/config.hpp"
#include "gilcore/interpreter.hpp"

namespace convoy::server {

/// Why a connection ended.
enum class CloseReason {
  eof,           ///< the peer closed its side (also mid-message: an echo server has no framing)
  reset,         ///< the peer went away abruptly (ECONNRESET, EPIPE)
  idle_timeout,  ///< no progress for --idle-timeout
  shutdown,      ///< the server is stopping
  error,         ///< any other socket error
};
inline constexpr std::size_t kCloseReasonCount = 5;
/// "eof", "reset", "idle_timeout", "shutdown", "error".
std::string_view to_string(CloseReason reason) noexcept;

/// What one connection's echo loop needs to know.
struct SessionSettings {
  IoConfig io;
  std::size_t max_message = std::size_t{1} << 20;  ///< the most one recv reads
  std::uint64_t handler_bytecodes = 20;
};

/// What one connection did.
struct SessionStats {
  std::uint64_t messages = 0;  ///< recv chunks echoed completely
  std::uint64_t bytes = 0;     ///< bytes echoed
  /// Per message: from the recv syscall returning to the end of sendall. Includes the lock
  /// re-acquisitions after recv and around each send: the convoy as the server sees it.
  convoy::Histogram handling_ns;
  CloseReason reason = CloseReason::eof;
  std::string detail;  ///< a human explanation of `reason` for the log
};

/// Applies the socket options a connection needs before run_session: SO_RCVTIMEO and
/// SO_SNDTIMEO from the idle timeout (none when 0). Returns 0 or an errno value.
int prepare_socket(int fd, const IoConfig& io) noexcept;

/// The echo loop of one connection, run on the calling thread as an emulated `io` thread of
/// `interpreter`: recv (a blocking region) -> handler bytecodes -> sendall (a blocking region
/// per partial send), with the releases `settings.io` asks for. Returns when the peer leaves,
/// misbehaves, idles out, or the socket is shut down; `stopping` tells a shutdown from a peer's
/// close, and the handler work gives up as soon as it is set. Network errors end only this loop.
/// The caller owns `fd` and closes it. `connection` names it on the timeline.
SessionStats run_session(gilcore::Interpreter& interpreter, int fd, const SessionSettings& settings,
                         const std::atomic<bool>& stopping, std::uint64_t connection = 0);

}  // namespace convoy::server
