import os
import unittest

from convoy_data import points, summary, sweep
from support import POLICIES, TempDirTest, client_results, server_stats


class PlanSummaryTest(TempDirTest):
    def test_a_table_row_per_point_and_the_reason_of_a_failure(self):
        the_plan = sweep.plan({"policies": ["none", "py3"]}, POLICIES)
        sweep.write_plan(self.dir, the_plan)
        points.write_json(os.path.join(sweep.point_dir(self.dir, "none"), "point.json"),
                          {"point": {}, "status": "failed", "error": "client exit 1: no", "server": None,
                           "client": None})
        points.write_json(os.path.join(sweep.point_dir(self.dir, "py3"), "point.json"),
                          {"point": {}, "status": "ok", "server": server_stats(),
                           "client": client_results(p50=5000, p99=9000)})
        lines = summary.write_plan_summary(self.dir).splitlines()
        self.assertRegex(lines[0], r"^point +p50 ms +p90 ms +p99 ms +max ms +requests/s +fib calls/s")
        self.assertRegex(lines[1], r"^none +failed: client exit 1: no \(see .*points/none/point.json\)")
        self.assertRegex(lines[2], r"^py3 +5\.000 +7\.000 +9\.000 +18\.000 +450 +1000 +25$")
        saved = points.load_json(self.path("summary.json"))
        self.assertEqual([(p["policy"], p["status"]) for p in saved["points"]],
                         [("none", "failed"), ("py3", "ok")])
        self.assertEqual(saved["context"]["cores_online"], 2)


class ReferenceTest(TempDirTest):
    def test_real_and_emulated_side_by_side(self):
        def put(name, params, point):
            self.write_json(os.path.join("points", name, "point.json"), {"point": params, **point})
        ok = {"status": "ok", "client": client_results(p50=8000, p99=16000)}
        put("real-ruby", {"kind": "real", "interpreter": "ruby", "version": "ruby 3.1", "order": 2,
                          "emulated_by": ""}, ok)
        put("real-python3", {"kind": "real", "interpreter": "python3", "version": "Python 3.11",
                             "order": 1, "emulated_by": "py3"}, ok)
        put("real-python2.7.18", {"kind": "real", "interpreter": "python2.7.18", "order": 3,
                                  "version": "CPython 2.7.18", "emulated_by": "py2"},
            {"status": "ok", "client": client_results(p50=100, p99=300)})
        put("emulated-py3", {"kind": "emulated", "policy": "py3"}, {"status": "failed", "error": "x"})
        put("emulated-py2", {"kind": "emulated", "policy": "py2"},
            {"status": "ok", "client": client_results(p50=150, p99=300)})
        lines = summary.write_reference_table(self.dir).splitlines()
        self.assertRegex(lines[1],
                         r"^python3 +Python 3.11 +8\.000 +12\.000 +16\.000 +9\.600 +py3 +failed")
        self.assertRegex(lines[2], r"^ruby .* \(none\) +- +- +- +- +-$")
        # Means 0.120 and 0.180 ms: the emulated one is 1.5 times the real one.
        self.assertRegex(lines[3], r"^python2\.7\.18 +CPython 2\.7\.18 .* py2 .* 0\.180 +1\.50$")
        with open(self.path("table.tsv"), encoding="utf-8") as f:
            tsv = [line.rstrip("\n").split("\t") for line in f]
        self.assertEqual(tsv[0][:3], ["interpreter", "version", "real_p50_ms"])
        self.assertEqual(tsv[1][5], "py3")


if __name__ == "__main__":
    unittest.main()
