"""The benchmark report, the smoke test's checks, the apt sources and the command line."""

import io
import os
import unittest
from contextlib import redirect_stderr, redirect_stdout

from convoy_data import apt, bench, checks, cli, points
from support import TempDirTest, client_results, server_stats


class BenchTest(TempDirTest):
    def test_floor_medians_ratio_and_pacing(self):
        for n, (sp, cv) in enumerate([(20.0, 22.0), (21.0, 30.0), (19.0, 23.0)], start=1):
            self.write(f"floor-{n}-sockperf.txt", f"sockperf: ---> percentile 50.000 = {sp:10.3f}\n")
            self.write_json(f"floor-{n}-convoy.json", {"results": {"latency": {"p50_us": cv}}})
        self.assertEqual(bench.sockperf_p50(self.path("floor-2-sockperf.txt")), 21.0)
        self.assertIn("round 2: sockperf    21.00   convoy-client    30.00", bench.round_line(self.dir, 2))
        self.assertIn("ratio 1.150 (target <= 1.25: within target)", bench.floor_summary(self.dir, 3))
        self.write_json("open.json", {"results": {"achieved_rate": 19500.0, "offered_rate": 20000,
                                                  "schedule_lag": {"p50_us": 3.0, "p99_us": 9.0}}})
        text = bench.pacing_summary(self.path("open.json"))
        self.assertIn("achieved 19500 req/s of 20000 offered (-2.500 %)", text)
        self.assertIn("OUTSIDE target", text)


class ChecksTest(TempDirTest):
    def test_cpu_sets(self):
        self.assertEqual(checks.cpu_set("0-2,4"), {0, 1, 2, 4})
        self.assertEqual(checks.cpu_set("3"), {3})

    def test_a_complete_point_passes_and_each_gap_is_named(self):
        self.write_json("p/server.json", server_stats())
        self.write_json("p/client.json", client_results())
        self.write("p/client.hgrm", "x\n")
        self.assertEqual(checks.point_files(self.path("p"), "0", "1"), [])
        problems = checks.point_files(self.path("p"), "0", "0-1")
        self.assertEqual(len(problems), 1)
        self.assertIn("runs on CPUs '1', not on the cpuset '0-1'", problems[0])
        os.remove(self.path("p/client.hgrm"))
        self.assertIn("client.hgrm is missing or empty", checks.point_files(self.path("p"), "", "")[0])

    def test_the_convoy(self):
        self.write_json("py3/client.json", client_results(p50=6000))
        self.write_json("py2/client.json", client_results(p50=150))
        self.assertEqual(checks.convoy(self.path("py3"), self.path("py2"))[0], [])
        problems, _ = checks.convoy(self.path("py2"), self.path("py3"))
        self.assertIn("no convoy", problems[0])


class AptTest(TempDirTest):
    def test_one_line_and_deb822_sources(self):
        self.write("sources.list", "# x\ndeb [arch=amd64] http://a/debian bookworm main\n"
                                   "deb-src http://b/debian bookworm main\n")
        self.write("sources.list.d/z.sources", "Types: deb\nURIs: http://c/debian\nSuites: bookworm "
                                               "bookworm-updates\nComponents: main\n\nTypes: deb\n"
                                               "URIs: http://d/sec\nSuites: bookworm-security\n"
                                               "Enabled: no\n")
        self.assertEqual(apt.sources("bookworm", root=self.dir), ["http://a/debian", "http://c/debian"])
        self.assertEqual(apt.sources("bookworm-security", root=self.dir), [])


class CliTest(TempDirTest):
    def run_cli(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = cli.main(list(args))
        return rc, out.getvalue(), err.getvalue()

    def test_bad_input_is_one_line_and_status_2(self):
        rc, _, err = self.run_cli("plan", "--check", "--set", "duration=1")
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"^convoy-data: duration: '1' is not a duration .*\n$")

    def test_get_and_seconds(self):
        path = self.write_json("a.json", {"a": {"b": 3, "s": "x"}})
        self.assertEqual(self.run_cli("get", path, "a.b")[:2], (0, "3\n"))
        self.assertEqual(self.run_cli("get", path, "a.s")[:2], (0, "x\n"))
        self.assertEqual(self.run_cli("get", path, "a.c")[0], 1)
        self.assertEqual(self.run_cli("seconds", "--ceil", "1.2s", "30s")[1], "32\n")

    def test_finish_prints_the_outcome(self):
        points.write_json(self.path("params.json"), {"id": "x"})
        rc, out, _ = self.run_cli("finish", self.dir, "--started", "0")
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("FAILED: server did not start"))


if __name__ == "__main__":
    unittest.main()
