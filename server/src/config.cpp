#include "convoy/server/config.hpp"

#include <array>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

namespace convoy::server {
namespace {

constexpr std::array kLogLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};

constexpr std::size_t kMaxMessageLimit = std::size_t{256} << 20;

// A socket call's C work is microseconds; a millisecond is already far beyond any interpreter.
constexpr std::chrono::nanoseconds kMaxCallCost = std::chrono::milliseconds(10);

// 24 bytes an event: 64 Mi events are 1.5 GiB for one thread.
constexpr std::size_t kMaxTraceBuffer = std::size_t{64} << 20;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

// The external names of an enum's values (options, config files, the stats JSON).
template <class Enum>
using Names = std::array<std::pair<Enum, std::string_view>, 2>;

constexpr Names<IoRelease> kIoReleaseNames{
    {{IoRelease::always, "always"}, {IoRelease::when_blocking, "when-blocking"}}};
constexpr Names<IoModel> kIoModelNames{
    {{IoModel::threads, "threads"}, {IoModel::eventloop, "eventloop"}}};

template <class Enum>
std::string name_of(const Names<Enum>& names, Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return std::string(name);
  }
  return "?";
}

template <class Enum>
std::optional<Enum> value_named(const Names<Enum>& names, std::string_view name) noexcept {
  for (const auto& [v, n] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string to_string(IoRelease release) { return name_of(kIoReleaseNames, release); }

std::optional<IoRelease> parse_io_release(std::string_view name) noexcept {
  return value_named(kIoReleaseNames, name);
}

std::string to_string(IoModel model) { return name_of(kIoModelNames, model); }

std::optional<IoModel> parse_io_model(std::string_view name) noexcept {
  return value_named(kIoModelNames, name);
}

std::string log_level_names() {
  std::string out;
  for (const auto* name : kLogLevels) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

void ServerConfig::validate() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(bind, ec);
  if (ec) bad("bind: not an IPv4 or IPv6 address: '" + bind + "'");
  if (cpu_threads < 0 || cpu_threads > 1024) {
    bad("cpu-threads must be in [0, 1024], got " + std::to_string(cpu_threads));
  }
  if (fib_depth < 1 || fib_depth > 64) {
    bad("fib-depth must be in [1, 64], got " + std::to_string(fib_depth));
  }
  if (max_connections < 1 || max_connections > 100000) {
    bad("max-connections must be in [1, 100000], got " + std::to_string(max_connections));
  }
  if (max_message < 1 || max_message > kMaxMessageLimit) {
    bad("max-message must be in [1, " + std::to_string(kMaxMessageLimit) + "] bytes, got " +
        std::to_string(max_message));
  }
  if (io.idle_timeout.count() < 0) bad("idle-timeout must not be negative");
  if (io.call_cost.count() < 0 || io.call_cost > kMaxCallCost) {
    bad("socket-call-ns must be in [0, " + std::to_string(kMaxCallCost.count()) + "] ns, got " +
        std::to_string(io.call_cost.count()));
  }
  if (io_model == IoModel::eventloop && io.timeout_socket) {
    bad("timeout-socket applies to io-model threads only: an event loop's sockets are "
        "non-blocking");
  }
  if (duration.count() < 0) bad("duration must not be negative");
  if (trace.buffer < 1 || trace.buffer > kMaxTraceBuffer) {
    bad("trace-buffer must be in [1, " + std::to_string(kMaxTraceBuffer) + "] events, got " +
        std::to_string(trace.buffer));
  }
  if (trace.after.count() < 0) bad("trace-after must not be negative");
  if (trace.span.count() < 0) bad("trace-for must not be negative");
  if (trace.enabled() && trace.path == stats_path) {
    bad("trace and stats name the same file: '" + trace.path + "'");
  }
  bool known_level = false;
  for (const auto* name : kLogLevels) known_level = known_level || log_level == name;
  if (!known_level)
    bad("log-level must be one of " + log_level_names() + ", got '" + log_level + "'");
  interpreter.validate();
}

void to_json(nlohmann::json& j, const ServerConfig& c) {
  j = {{"bind", c.bind},
       {"port", c.port},
       {"interpreter", c.interpreter},
       {"io_model", to_string(c.io_model)},
       {"loop_bytecodes", c.loop_bytecodes},
       {"io_release", to_string(c.io.release)},
       {"timeout_socket", c.io.timeout_socket},
       {"idle_timeout_ns", c.io.idle_timeout.count()},
       {"socket_call_ns", c.io.call_cost.count()},
       {"cpu_threads", c.cpu_threads},
       {"fib_depth", c.fib_depth},
       {"handler_bytecodes", c.handler_bytecodes},
       {"max_connections", c.max_connections},
       {"max_message", c.max_message},
       {"duration_ns", c.duration.count()},
       {"stats", c.stats_path},
       {"trace", c.trace.path},
       {"trace_buffer", c.trace.buffer},
       {"trace_after_ns", c.trace.after.count()},
       {"trace_for_ns", c.trace.span.count()},
       {"log_level", c.log_level}};
}

}  // namespace convoy::server
