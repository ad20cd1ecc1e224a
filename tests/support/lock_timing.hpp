#pragma once
// Helpers for the timing tests of the lock policies: a thread that blocks outside the lock and
// takes it again next to running fib threads, and the share of the lock each thread got.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "convoy/histogram.hpp"
#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"

namespace gilcore::testing {

/// The re-acquire waits of an I/O thread that blocks `blocked` outside the lock `rounds` times
/// and runs 20 bytecodes after each, next to `fib_threads` fib threads that hold the lock
/// otherwise. Printed (p50, p90, max) under `label`.
inline convoy::Histogram reacquire_waits_next_to_fib(
    const LockConfig& lock, int fib_threads, int rounds, const char* label,
    std::chrono::nanoseconds blocked = std::chrono::milliseconds(1)) {
  InterpreterConfig c;
  c.lock = lock;
  Interpreter interpreter(c);
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<FibWorkload>> fibs;
  std::vector<std::thread> cpus;
  for (int i = 0; i < fib_threads; ++i) {
    fibs.push_back(std::make_unique<FibWorkload>(25, c.bytecodes_per_call));
    cpus.emplace_back(
        [&, i] { interpreter.run(Role::cpu, [&](auto& t) { fibs[i]->run(t, stop); }); });
  }
  auto fib_calls = [&] {
    std::uint64_t n = 0;
    for (const auto& f : fibs) n += f->calls();
    return n;
  };
  while (fib_threads > 0 && fib_calls() == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(100));

  interpreter.run(Role::io, [&](auto& t) {
    for (int i = 0; i < rounds; ++i) {
      t.allow_threads([&] {
        const auto before = fib_calls();
        std::this_thread::sleep_for(blocked);
        // On a loaded machine the fib threads may not have run meanwhile; the experiment is
        // about a lock held by a running CPU thread, so wait until one has.
        const auto cap = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (fib_threads > 0 && fib_calls() == before && std::chrono::steady_clock::now() < cap)
          std::this_thread::yield();
      });
      t.bytecodes(20);
    }
  });
  stop = true;
  for (auto& th : cpus) th.join();
  const auto waits = interpreter.stats().of(Role::io).wait_ns;
  std::printf("%s: re-acquire wait p50 %.1f us, p90 %.1f us, max %.1f us\n", label,
              static_cast<double>(waits.percentile(50)) / 1e3,
              static_cast<double>(waits.percentile(90)) / 1e3,
              static_cast<double>(waits.max()) / 1e3);
  return waits;
}

}  // namespace gilcore::testing
