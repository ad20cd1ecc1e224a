#include "gilcore/interpreter.hpp"

#include "gilcore/catalogue.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace gilcore {

void to_json(nlohmann::json& j, const Calibration& c) {
  j = {{"clock", c.tsc_clock ? "tsc" : "steady_clock"},
       {"tsc_ticks_per_ns", c.tsc_ticks_per_ns},
       {"spin_ns_per_turn", c.spin_ns_per_turn},
       {"bytecode_turns", c.bytecode_turns}};
}

namespace {

InterpreterConfig validated(const InterpreterConfig& config) {
  config.validate();
  return config;
}

// Returns a prvalue, so the non-movable policy is built in place.
AnyPolicy make_policy(const LockConfig& lock) {
  return Policies::with_index(static_cast<std::size_t>(lock.policy), [&](auto tag) {
    using P = typename decltype(tag)::type;
    return AnyPolicy(std::in_place_type<P>, lock.of<P>());
  });
}

}  // namespace

Interpreter::Interpreter(const InterpreterConfig& config)
    : config_(validated(config)),
      policy_(make_policy(config_.lock)),
      tracer_(std::make_unique<Tracer>()) {
  calibration_.tsc_clock = Clock::uses_tsc();
  calibration_.tsc_ticks_per_ns = Clock::ticks_per_ns();
  calibration_.spin_ns_per_turn = Spinner::ns_per_turn();
  calibration_.bytecode_turns = Spinner::turns_for(config_.bytecode_cost);
}

void Interpreter::enable_tracing(std::size_t capacity) {
  tracer_ = std::make_unique<Tracer>(capacity);
}

void Interpreter::enter(ThreadState* state) {
  state->set_trace(tracer_->attach(state->role(), state->id()));
  std::lock_guard lock(registry_mutex_);
  live_.push_back(state);
  retired_.of(state->role()).threads += 1;
}

void Interpreter::leave(ThreadState* state) {
  tracer_->detach(state->trace());
  state->set_trace(nullptr);
  std::lock_guard lock(registry_mutex_);
  state->add_to(retired_.of(state->role()));
  live_.erase(std::find(live_.begin(), live_.end(), state));
}

StatsSnapshot Interpreter::stats() const {
  std::lock_guard lock(registry_mutex_);
  StatsSnapshot snapshot = retired_;
  for (const auto* state : live_) state->add_to(snapshot.of(state->role()));
  return snapshot;
}

nlohmann::json Interpreter::stats_json() const {
  nlohmann::json stats_block;
  to_json(stats_block, stats(), describe(config_.lock.policy).counters);
  return {{"policy", to_string(config_.lock.policy)},
          {"config", config_},
          {"calibration", calibration_},
          {"stats", std::move(stats_block)}};
}

}  // namespace gilcore
