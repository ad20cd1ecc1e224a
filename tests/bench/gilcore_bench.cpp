// Cost of the lock's fast paths, for every policy on the list. Targets on a 2-core KVM guest:
// check point <= 2 ns; uncontended acquire+release <= 60 ns (py3), <= 40 ns (py2), and at most
// twice py3's for any other exclusive policy. With the timeline on, at most 20 ns more per event.
#include <atomic>
#include <string>

#include <benchmark/benchmark.h>

#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

template <class Policy>
void BM_UncontendedAcquireRelease(benchmark::State& state) {
  Policy policy(typename Policy::Config{});
  ThreadState t(Role::io, 1);
  for (auto _ : state) {
    policy.acquire(t);
    policy.release(t);
  }
}

// The same with the timeline on: each acquire+release records one event (the hold).
template <class Policy>
void BM_UncontendedAcquireReleaseTraced(benchmark::State& state) {
  Policy policy(typename Policy::Config{});
  Tracer tracer(1 << 16);
  tracer.start(Clock::now(), std::chrono::nanoseconds(0), std::chrono::nanoseconds(0));
  ThreadState t(Role::io, 1);
  t.set_trace(tracer.attach(Role::io, 1));
  for (auto _ : state) {
    policy.acquire(t);
    policy.release(t);
  }
  state.counters["events"] = static_cast<double>(t.trace()->written());
}

template <class Policy>
void BM_CheckPoint(benchmark::State& state) {
  Policy policy(typename Policy::Config{});
  ThreadState t(Role::cpu, 1);
  policy.acquire(t);
  for (auto _ : state) {
    policy.check_point(t);
    benchmark::ClobberMemory();
  }
  policy.release(t);
}

template <class Policy>
void BM_BlockingRegion(benchmark::State& state) {
  InterpreterConfig c;
  c.lock = LockConfig::for_policy<Policy>();
  Interpreter interpreter(c);
  interpreter.run(Role::io, [&](auto& t) {
    for (auto _ : state) t.allow_threads([] { benchmark::ClobberMemory(); });
  });
}

// One emulated bytecode at the default 25 ns, in runs of `range(0)` as fib calls make them.
void BM_Bytecode25ns(benchmark::State& state) {
  InterpreterConfig c;
  c.lock = LockConfig::for_policy<Py3Gil>();
  Interpreter interpreter(c);
  const auto n = static_cast<std::uint64_t>(state.range(0));
  interpreter.run(Role::cpu, [&](auto& t) {
    for (auto _ : state) t.bytecodes(n);
  });
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["ns_per_bytecode"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The same through bytecodes(n, stop), which looks at a stop flag before every bytecode, as
// the fib and handler loops do so that shutdown never waits for their work.
void BM_Bytecode25nsStoppable(benchmark::State& state) {
  InterpreterConfig c;
  c.lock = LockConfig::for_policy<Py3Gil>();
  Interpreter interpreter(c);
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const std::atomic<bool> stop{false};
  interpreter.run(Role::cpu, [&](auto& t) {
    for (auto _ : state) benchmark::DoNotOptimize(t.bytecodes(n, stop));
  });
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["ns_per_bytecode"] =
      benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One event into a ring that wraps, what every traced hook adds to its clock read.
void BM_TraceRecord(benchmark::State& state) {
  TraceWindow window;
  window.open(0, TraceWindow::kNever);
  TraceRing ring(1 << 12, window);
  std::uint64_t at = 1;
  for (auto _ : state) {
    ring.record(TraceKind::hold, at, at + 1);
    ++at;
    benchmark::ClobberMemory();
  }
}

void BM_ClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Clock::now());
  state.SetLabel(Clock::uses_tsc() ? "tsc" : "steady_clock");
}

// One row per policy and fast path, named after the policy: BM_CheckPoint/py3.
const bool kRegistered = [] {
  Policies::for_each([](auto tag) {
    using P = typename decltype(tag)::type;
    const std::string name(P::kInfo.name);
    benchmark::RegisterBenchmark(("BM_UncontendedAcquireRelease/" + name).c_str(),
                                 BM_UncontendedAcquireRelease<P>);
    benchmark::RegisterBenchmark(("BM_UncontendedAcquireReleaseTraced/" + name).c_str(),
                                 BM_UncontendedAcquireReleaseTraced<P>);
    benchmark::RegisterBenchmark(("BM_CheckPoint/" + name).c_str(), BM_CheckPoint<P>);
    benchmark::RegisterBenchmark(("BM_BlockingRegion/" + name).c_str(), BM_BlockingRegion<P>);
  });
  return true;
}();

BENCHMARK(BM_Bytecode25ns)->Arg(1)->Arg(10)->Arg(1000);
BENCHMARK(BM_Bytecode25nsStoppable)->Arg(1)->Arg(10)->Arg(1000);
BENCHMARK(BM_TraceRecord);
BENCHMARK(BM_ClockNow);

}  // namespace
}  // namespace gilcore

BENCHMARK_MAIN();
