import os
import unittest

from convoy_data import points, race
from support import TempDirTest

IO, FIB, MAIN = 100, 200, 300


def line(tid, at_us, text, cpu=1):
    return f"          python-{tid}   [{cpu:03d}] .....  {1000 + at_us / 1e6:.6f}: {text}\n"


def call(tid, name, enter_us, exit_us, result="0x0"):
    return [line(tid, enter_us, f"{name}(fd: 4, buff: 0x1, len: 0x64, flags: 0)"),
            line(tid, exit_us, f"{name} -> {result}")]


def trace():
    """Three sends of the connection thread:
    1. lost at send (a 5 ms futex wait), then the recv 2 us after taking the lock back, and the
       next send without a wait: the second race won; the fib thread woke 20 us after the take;
    2. lost at send, the recv 19 us after the take, then a 5 ms wait before the next send: the
       second race lost; the fib thread woke 9 us after the take;
    3. won at send (no long wait before its recv); no send follows, so no second race is read."""
    lines = ["# tracer: nop\n", "#\n"]
    lines += call(IO, "sys_sendto", 100, 110, "0x64")
    lines += call(IO, "sys_futex", 111, 5111, "0xffffffffffffff92")
    lines += call(IO, "sys_futex", 5112, 5113)
    lines += call(FIB, "sys_futex", 5000, 5133)
    lines += call(IO, "sys_recvfrom", 5115, 5120, "0x64")
    lines += call(IO, "sys_sendto", 5121, 5130, "0x64")
    lines += call(IO, "sys_futex", 5131, 10131)
    lines += call(FIB, "sys_futex", 10000, 10140)
    lines += call(IO, "sys_recvfrom", 10150, 10155, "0x64")
    lines += call(IO, "sys_futex", 10156, 15156)
    lines += call(IO, "sys_sendto", 15157, 15160, "0x64")
    lines += call(IO, "sys_futex", 15161, 15162)
    lines += call(IO, "sys_recvfrom", 15163, 15170, "0x64")
    lines += [line(0, 15171, "sched_switch: prev_comm=swapper/1 prev_pid=0 ==> next_pid=200", 0)]
    return lines


def futex(tid, op, enter_us, exit_us, result="0x0"):
    return [line(tid, enter_us, f"sys_futex(uaddr: 0x7f00, op: {op}, val: 0, utime: 0)"),
            line(tid, exit_us, f"sys_futex -> {result}")]


def semaphore_trace():
    """py2, three messages of the connection thread over 100 us:
    1. recv, the lock free (only a wake, op 0x81, before the send), send, then a wait (0x189)
       before the next recv: free after recv, not after send;
    2. recv, a wait (0x80) before the send, send, nothing before the next recv: the reverse;
    3. recv, a wait that failed at once (-EAGAIN still waited), send, no recv follows.
    The fib thread sleeps once for 30 us (0x189) and once fails at once (1 us: no sleep)."""
    lines = ["# tracer: nop\n"]
    lines += call(IO, "sys_recvfrom", 0, 2, "0x64")
    lines += futex(IO, "0x81", 3, 4, "0x1")
    lines += call(IO, "sys_sendto", 5, 10, "0x64")
    lines += futex(IO, "0x189", 11, 20)
    lines += call(IO, "sys_recvfrom", 21, 30, "0x64")
    lines += futex(IO, "0x80", 31, 40)
    lines += call(IO, "sys_sendto", 41, 45, "0x64")
    lines += call(IO, "sys_recvfrom", 46, 50, "0x64")
    lines += futex(IO, "0x189", 51, 51, "0xfffffffffffffff5")
    lines += call(IO, "sys_sendto", 52, 60, "0x64")
    lines += futex(FIB, "0x189", 5, 35)
    lines += futex(FIB, "0x189", 60, 61, "0xfffffffffffffff5")
    lines += futex(FIB, "0x81", 70, 100)
    return lines


class ParseTest(unittest.TestCase):
    def test_calls_pair_enter_and_exit_per_thread(self):
        events = race.parse(trace())
        io = race.calls(events, IO)
        name, enter, leave = io[0]
        self.assertEqual(name, "sys_sendto")
        self.assertAlmostEqual(leave - enter, 10.0, places=3)
        self.assertEqual(len([c for c in io if c[0] == "sys_recvfrom"]), 3)
        self.assertEqual([round(t - 1e9) for t in race.wakes(events, FIB)], [5133, 10140])
        self.assertEqual(len(race.calls(events, MAIN)), 0)

    def test_comment_and_foreign_lines_are_skipped(self):
        self.assertEqual(race.parse(["# tracer: nop\n", "garbage\n"]), [])


class RacesTest(unittest.TestCase):
    def test_each_send_and_its_second_race(self):
        events = race.parse(trace())
        found = race.races(race.calls(events, IO), race.wakes(events, FIB), long_wait_us=1000)
        self.assertEqual([f["lost_at_send"] for f in found], [True, True, False])
        first, second = found[0]["second"], found[1]["second"]
        self.assertAlmostEqual(first["way_us"], 2.0)
        self.assertAlmostEqual(first["fib_wake_us"], 20.0)
        self.assertFalse(first["lost"])
        self.assertAlmostEqual(second["way_us"], 19.0)
        self.assertAlmostEqual(second["fib_wake_us"], 9.0)
        self.assertTrue(second["lost"])
        self.assertIsNone(found[2]["second"])
        s = race.summary(found)
        self.assertEqual((s["sends"], s["lost_at_send"], s["second"], s["lost_second"]), (3, 2, 2, 1))
        self.assertAlmostEqual(s["way_10us_share"], 0.5)
        self.assertAlmostEqual(s["lost_way_p50_us"], 19.0)

    def test_a_short_wait_is_not_a_lost_race(self):
        events = race.parse(trace())
        found = race.races(race.calls(events, IO), race.wakes(events, FIB), long_wait_us=10_000)
        self.assertEqual(race.summary(found)["lost_at_send"], 0)


class SemaphoreTest(unittest.TestCase):
    def test_futex_waits_are_the_waiting_ops_only(self):
        events = race.parse(semaphore_trace())
        self.assertEqual([(round(a - 1e9), round(b - 1e9)) for a, b in race.futex_waits(events, IO)],
                         [(11, 20), (31, 40), (51, 51)])
        self.assertEqual(len(race.futex_waits(events, FIB)), 2)  # not the wake at 70
        self.assertEqual(race.futex_waits(race.parse(trace()), IO), [])  # calls without an op

    def test_free_after_recv_and_send_and_the_fib_threads_sleeps(self):
        events = race.parse(semaphore_trace())
        turns = race.semaphore_turns(race.calls(events, IO), race.futex_waits(events, IO),
                                     race.futex_waits(events, FIB), span_us=100)
        self.assertEqual(turns["messages"], 3)
        self.assertAlmostEqual(turns["free_after_recv"], 1 / 3)
        self.assertAlmostEqual(turns["free_after_send"], 1 / 2)  # the last send has no recv after
        self.assertAlmostEqual(turns["recv_to_send_p50_us"], 3.0)  # of 3, 11 and 2 us
        self.assertAlmostEqual(turns["fib_sleeps_per_s"], 10_000)  # one sleep in 100 us
        self.assertAlmostEqual(turns["fib_asleep"], 0.3)

    def test_nothing_traced_gives_no_shares(self):
        turns = race.semaphore_turns([], [], [], span_us=0)
        self.assertEqual(turns["messages"], 0)
        self.assertIsNone(turns["free_after_recv"])
        self.assertIsNone(turns["fib_sleeps_per_s"])


class ThreadsTest(unittest.TestCase):
    def test_the_sender_and_the_busiest_other_thread(self):
        events = race.parse(trace())
        self.assertEqual(race.threads_of(events, {IO: 50, FIB: 900, MAIN: 1}), (IO, FIB))
        with self.assertRaisesRegex(ValueError, "no send"):
            race.threads_of(events, {FIB: 900, MAIN: 1})
        with self.assertRaisesRegex(ValueError, "no thread besides"):
            race.threads_of(events, {IO: 50})


class ReportTest(TempDirTest):
    def point(self, name, order, with_trace=True, policy="py3"):
        d = self.path(os.path.join("points", name))
        os.makedirs(d)
        points.write_json(os.path.join(d, "params.json"),
                          {"name": name.split("-", 1)[1], "kind": name.split("-", 1)[0],
                           "order": order, "switch_interval": "5ms", "server_cpus": "0",
                           "client_cpus": "1", "policy": policy})
        if with_trace:
            with open(os.path.join(d, "trace.txt"), "w", encoding="utf-8") as f:
                f.writelines(semaphore_trace() if policy == "py2" else trace())
            with open(os.path.join(d, "threads.tsv"), "w", encoding="utf-8") as f:
                f.write(f"{IO}\t50\n{FIB}\t900\n{MAIN}\t1\n")
        # 3 of 4 round trips near one interval, 1 near two.
        points.write_json(os.path.join(d, "client.json"), {
            "context": {"cpu_model": "AMD EPYC", "cores_online": 2},
            "results": {"latency": {"buckets": [[5000, 5100, 3], [9800, 9900, 1]]}}})

    def test_a_row_per_server_in_run_order_and_the_csv(self):
        self.point("real-python3.11", 1)
        self.point("emulated-py3", 2)
        self.point("real-broken", 3, with_trace=False)
        text = race.report(self.dir)
        rows = text.splitlines()
        self.assertTrue(rows[0].startswith("machine: AMD EPYC, 2 CPUs; server on CPUs 0, client on 1"), rows[0])
        self.assertTrue(rows[2].startswith("python3.11"))
        self.assertTrue(rows[3].startswith("py3"))
        self.assertIn("25.0%", rows[2])
        self.assertIn("no analysis:", rows[4])
        with open(self.path("race.csv"), encoding="utf-8") as f:
            header = f.readline().strip().split(",")
            body = f.read().splitlines()
        self.assertEqual(tuple(header), race.COLUMNS)
        self.assertEqual(len(body), 3)

    def test_py2_servers_get_the_semaphore_table(self):
        self.point("real-python2.7", 1, policy="py2")
        self.point("emulated-py2", 2, policy="py2")
        rows = race.report(self.dir).splitlines()
        self.assertIn("fib sleeps/s", rows[1])
        self.assertRegex(rows[3], r"^python2\.7 +real +3 +33% +3 +11 +50% +10,000 +30% ")
        self.assertTrue(rows[4].startswith("py2"))
        with open(self.path("race.csv"), encoding="utf-8") as f:
            self.assertEqual(tuple(f.readline().strip().split(",")), race.COLUMNS_PY2)

    def test_servers_traced_as_different_policies_are_not_mixed(self):
        self.point("real-python2.7", 1, policy="py2")
        self.point("emulated-py3", 2)
        with self.assertRaisesRegex(ValueError, "mixes servers traced as py2 and py3"):
            race.report(self.dir)

    def test_no_server_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no traced server"):
            race.report(self.dir)


if __name__ == "__main__":
    unittest.main()
