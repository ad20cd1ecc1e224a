#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gilcore/trace.hpp"

namespace convoy::server {

/// What the timeline says about the run besides its events (its "otherData").
struct TimelineInfo {
  std::string policy;                               ///< "py3"
  nlohmann::json knobs = nlohmann::json::object();  ///< the stats file's lock block, less "policy"
  int cpu_threads = 0;
  std::string io_model;  ///< "threads", "eventloop"
  std::string title;     ///< "py3 switch-interval=5ms force-switching=true, 1 fib thread"
};

/// "main", "io-2", "fib-1": the thread's role and its ordinal.
std::string thread_name(const gilcore::ThreadTrace& thread);

/// Notes about the implementation
///
/// The Chrome trace-event JSON of a trace (docs/timeline.md has the format): metadata naming the
/// process and each thread (tids 1, 2, ... with main first, then io, then fib threads), complete
/// events for each wait, hold and blocking call, instants for drop requests, forced switches and
/// messages, and a flow from releaser to receiver for each hand-off. The holder a drop request
/// was addressed to is found from the holds: the other thread holding at that moment. Times are
/// microseconds with nanosecond decimals, from the trace's origin. Written by hand, not through
/// a JSON document: a trace has millions of events.
std::string timeline_json(const gilcore::Trace& trace, const TimelineInfo& info);

/// The summary printed and put into the stats file under "trace": the window, events and
/// dropped events, per thread the shares of the window spent holding, waiting and in blocking
/// calls, waits per message (the waits of a thread between a message's receipt and its echo),
/// and the longest wait.
nlohmann::json timeline_summary(const gilcore::Trace& trace);

/// The summary as lines for the end-of-run log: one for the whole trace, one per thread.
std::vector<std::string> summary_lines(const nlohmann::json& summary);

}  // namespace convoy::server
