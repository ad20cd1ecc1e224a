#pragma once
// What both I/O models do around accept: the thread-per-connection accept loop and the event loop.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace convoy::server::detail {

/// Out of descriptors or memory, new connections wait this long (socketserver's accept loop
/// retries; asyncio removes its reader for ACCEPT_RETRY_DELAY).
inline constexpr auto kAcceptPause = std::chrono::milliseconds(100);

/// What a failed accept asks for.
enum class AcceptFailure {
  transient,  ///< nothing to accept now, or the peer left before it was accepted: go on
  pause,      ///< out of descriptors or memory: stop accepting for kAcceptPause
  fatal,      ///< anything else: the listening socket is broken
};

/// The kind of accept's `error` (its errno).
inline AcceptFailure accept_failure(int error) noexcept {
  switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO: return AcceptFailure::transient;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM: return AcceptFailure::pause;
    default: return AcceptFailure::fatal;
  }
}

/// "127.0.0.1:PORT" or "[::1]:PORT" for an accepted peer's address; "local" for another family.
inline std::string peer_name(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    std::string name = "[";
    name += text;
    return name + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "local";
}

}  // namespace convoy::server::detail
