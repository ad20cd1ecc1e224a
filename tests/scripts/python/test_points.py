import os
import unittest

from convoy_data import points
from support import TempDirTest, client_results, server_stats


class MetricsTest(unittest.TestCase):
    def test_numbers_of_a_point_whatever_the_spelling_of_the_999th_percentile(self):
        for key in ("p99_9_us", "p999_us"):
            m = points.metrics({"status": "ok", "server": server_stats(switches=50, duration=2.0),
                                "client": client_results(p50=100, p99=900, p999_key=key)})
            self.assertEqual(m["p999_us"], 1350.0)
            self.assertEqual((m["p50_us"], m["max_us"], m["count"]), (100.0, 1800.0, 500))
            self.assertEqual(m["switches_per_s"], 25.0)
            self.assertEqual(m["fib_calls_per_s"], 1000.0)

    def test_a_point_without_results_has_no_numbers(self):
        m = points.metrics({"status": "failed", "error": "x", "server": None, "client": None})
        self.assertIsNone(m["p50_us"])
        self.assertIsNone(m["switches_per_s"])
        self.assertEqual(m["error"], "x")

    def test_knobs_are_read_generically_from_the_lock_block(self):
        stats = server_stats(knobs={"switch_interval_ns": 5000000, "force_switching": True})
        knobs = points.knobs(stats)
        self.assertEqual(knobs, {"switch_interval_ns": 5000000, "force_switching": True})
        self.assertEqual(points.knobs_text(knobs), "force switching on, switch interval 5 ms")
        self.assertEqual(points.knob_text("check_interval", 100), "check interval 100")
        older = {"lock": {"config": {"lock": {"policy": "py2", "check_interval": 10}}}}
        self.assertEqual(points.knobs(older), {"check_interval": 10})


class FinishTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.write_json("params.json", {"id": "py3", "policy": "py3"})
        self.write("loadavg-before", "0.50 0.40 0.30 1/100 42\n")

    def finish(self, **kw):
        args = dict(started=True, client_rc=0, server_rc=0, timeout_s=31, expect_stats=True) | kw
        return points.finish(self.dir, args.pop("started"), args.pop("client_rc"),
                             args.pop("server_rc"), args.pop("timeout_s"), **args)

    def test_a_good_run_makes_a_point_with_its_params_and_the_load_before(self):
        self.write_json("server.json", server_stats())
        self.write_json("client.json", client_results())
        point = self.finish()
        self.assertEqual(point["status"], "ok")
        self.assertIsNone(point["error"])
        self.assertEqual(point["point"], {"id": "py3", "policy": "py3"})
        self.assertEqual(point["machine"]["load_before"], [0.5, 0.4, 0.3])
        self.assertEqual(points.load_json(self.path("point.json"))["status"], "ok")
        self.assertTrue(points.is_done(self.dir, {"id": "py3", "policy": "py3"}))
        self.assertFalse(points.is_done(self.dir, {"id": "py3", "policy": "py3", "rep": 2}))
        self.assertRegex(points.outcome_line(point), r"^p50 0.1 ms, p99 0.9 ms, fib 1\u2009000 calls/s$")

    def test_each_way_of_failing_has_its_own_reason(self):
        self.write("server.err", "first\nconvoy-server: error: bind: in use\n\n")
        self.write("client.err", "convoy-client: error: connection refused\n")
        cases = [
            (dict(started=False), "server did not start: convoy-server: error: bind: in use"),
            (dict(client_rc=124), "client did not finish within 31 s"),
            (dict(client_rc=3), "client exit 3: convoy-client: error: connection refused"),
            (dict(server_rc=1), "server exit 1: convoy-server: error: bind: in use"),
            (dict(server_rc="?"), "server exit ?: "),
            (dict(), "server wrote no valid stats file"),
        ]
        for kw, reason in cases:
            point = self.finish(**kw)
            self.assertEqual(point["status"], "failed", kw)
            self.assertTrue(point["error"].startswith(reason), (kw, point["error"]))
            self.assertFalse(points.is_done(self.dir, {"id": "py3", "policy": "py3"}))
            self.assertEqual(points.outcome_line(point), f"FAILED: {point['error']}")

    def test_a_server_that_writes_no_stats_needs_only_the_client_file(self):
        self.write_json("client.json", client_results())
        self.assertEqual(self.finish(expect_stats=False)["status"], "ok")
        os.remove(self.path("client.json"))
        self.assertEqual(self.finish(expect_stats=False)["error"], "client wrote no valid result file")


class GetTest(unittest.TestCase):
    def test_dotted_paths(self):
        value = {"a": {"b": [1, {"c": 2}]}}
        self.assertEqual(points.get(value, "a.b.1.c"), 2)
        self.assertIsNone(points.get(value, "a.x"))
        self.assertEqual(points.get(None, "a", 7), 7)


if __name__ == "__main__":
    unittest.main()
