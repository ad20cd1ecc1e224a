// pypy's fast path and its periodic yield, which do not depend on time.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"
#include "lock_threads.hpp"
#include "sanitizer.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

using testing::own;

// Runs f in a child process that may make no system call but exit: a seccomp filter kills it
// with SIGSYS at any other. (Strict mode would do, but it also disables rdtsc, which the lock's
// clock reads.) Returns the child's wait status.
template <class F>
int run_without_syscalls(F&& f) {
  const pid_t pid = fork();
  if (pid == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      _exit(2);
    }
    f();
    syscall(SYS_exit, 0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(PyPyGilTest, AnUncontendedBlockingRegionMakesNoSystemCall) {
  if (convoy::testing::kSanitized)
    GTEST_SKIP() << "a sanitizer's runtime makes system calls of its own";
  PyPyGil gil(PyPyGil::Config{});
  ThreadState t(Role::io, 1);
  auto regions = [&] {
    gil.acquire(t);
    for (int i = 0; i < 1000; ++i) {
      gil.release(t);  // around recv: a store
      gil.acquire(t);  // back: one exchange
      gil.check_point(t);
    }
    gil.release(t);
  };
  const int status = run_without_syscalls(regions);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the fast path made a system call (wait status " << status << ")";
  // The harness does catch one.
  const int control = run_without_syscalls([] { syscall(SYS_getpid); });
  EXPECT_TRUE(WIFSIGNALED(control) && WTERMSIG(control) == SIGSYS) << control;

  regions();  // here too, for the counters
  EXPECT_EQ(own(t, PyPyGil::kFastAcquisitions), 1001u);
  EXPECT_EQ(t.counters().get(Counter::contended_acquisitions), 0u);
  EXPECT_EQ(own(t, PyPyGil::kSteals), 0u);
}

TEST(PyPyGilTest, TheHolderYieldsEveryCheckIntervalTicksOnlyIfSomebodyWaits) {
  constexpr int kInterval = 50, kPerTick = 3, kPeriod = kInterval * kPerTick;
  PyPyGil gil({.check_interval = kInterval, .bytecodes_per_tick = kPerTick, .steal_poll = 100us});
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);

  // Nobody waits: the countdown runs out and nothing happens.
  constexpr int kAlone = 1000;
  for (int i = 0; i < kAlone; ++i) gil.check_point(holder);
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 0u);
  EXPECT_EQ(own(holder, PyPyGil::kIdleYieldPoints), static_cast<std::uint64_t>(kAlone / kPeriod));

  testing::WaiterThread w(gil, waiter);
  testing::wait_until([&] { return gil.has_stealer(); });
  // The countdown goes on from where it was: the yield comes at its end, not a period later.
  int calls = 0;
  while (holder.counters().get(Counter::periodic_releases) == 0 && calls < 10 * kPeriod) {
    gil.check_point(holder);
    ++calls;
  }
  EXPECT_EQ(calls, kPeriod - kAlone % kPeriod);
  EXPECT_TRUE(w.held()) << "the yield came back before the waiter had the GIL";
  EXPECT_EQ(holder.counters().get(Counter::handoffs), 1u);
  EXPECT_EQ(own(waiter, PyPyGil::kSteals), 0u) << "the waiter got it by the hand-off";
  EXPECT_EQ(own(holder, PyPyGil::kSteals), 1u) << "the holder got it back by a steal";
  gil.release(holder);
  w.join();
  EXPECT_EQ(gil.waiting(), 0);
}

}  // namespace
}  // namespace gilcore
