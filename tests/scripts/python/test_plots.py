import csv
import os
import unittest

from convoy_data import plots, points, rows, sweep
from support import HGRM, POLICIES, TempDirTest, client_results, server_stats

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

PNG = b"\x89PNG\r\n\x1a\n"
HEADER = ["point", "policy", "cpu_threads", "switch_interval_us", "think_us", "connections", "rep",
          "status", "p50_us", "p99_us", "max_us", "count", "fib_calls_per_s", "load_1m", "cpus_online"]


def row(policy, cpu, si, rep, p50, status="ok"):
    return [f"{policy}-{cpu}-{rep}", policy, cpu, si, "2000", "1", rep, status, p50, p50 * 10, p50 * 20,
            "900", "1000", "0.5", "2"]


class ConditionsTest(unittest.TestCase):
    def test_the_subtitle_says_what_stayed_fixed(self):
        found = [dict(zip(HEADER, map(str, r))) for r in
                 (row("py2", 1, "-", 1, 100), row("py3", 1, 5000, 1, 5000))]
        text = plots.conditions(found, HEADER[1:6], exclude=["policy"])
        self.assertIn("fib threads 1", text)
        self.assertIn("switch interval 5 ms (py3)", text)
        self.assertIn("think 2 ms", text)
        self.assertIn("connections 1", text)
        self.assertIn("900 samples per run", text)
        self.assertIn("load 0.50 on 2 CPUs", text)
        self.assertNotIn("policy", text)

    def test_repetitions_are_called_a_median_only_when_there_are_several(self):
        from convoy_data.reduce import Reduced
        one = [[Reduced(1.0, {"p50_us": [1.0]})]]
        three = [[Reduced(1.0, {"p50_us": [1.0, 2.0, 3.0]})]]
        self.assertEqual(plots._runs_text(one), "one run per point")
        self.assertTrue(plots._runs_text(three).startswith("median of 3 runs"))
        self.assertEqual(plots._percent_label(3), "99.9%")
        self.assertEqual(plots._percent_label(0), "0%")

    def test_times_are_shown_in_the_unit_that_reads_best(self):
        scale = plots._Scale([100.0, 10000.0])
        self.assertEqual((scale.label, scale(5000.0)), ("ms", 5.0))
        self.assertEqual(scale.axis_label("switch interval"), "switch interval (ms)")
        self.assertEqual(plots._Scale([1.0, 2.0], is_time=False)(2.0), 2.0)


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed")
class SweepPlotsTest(TempDirTest):
    def csv(self, lines):
        path = self.path("sweep.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([HEADER] + lines)
        return path

    def assert_png(self, path):
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG, path)

    def test_one_pair_of_plots_per_numeric_axis_that_varied(self):
        lines = [row(p, c, "-" if p == "py2" else si, r, 100 * c + r)
                 for p in ("py2", "py3") for c in (0, 1) for si in (1000, 5000) for r in (1, 2)]
        written = plots.sweep_plots(self.csv(lines), self.dir)
        self.assertEqual(sorted(os.path.basename(p) for p in written),
                         ["fib-vs-cpu-threads.png", "fib-vs-switch-interval.png",
                          "latency-vs-cpu-threads.png", "latency-vs-switch-interval.png"])
        for path in written:
            self.assert_png(path)

    def test_without_a_varying_number_it_plots_against_fib_threads(self):
        written = plots.sweep_plots(self.csv([row("py2", 1, "-", 1, 100), row("py3", 1, "-", 1, 200)]),
                                    self.dir)
        self.assertEqual(sorted(map(os.path.basename, written)),
                         ["fib-vs-cpu-threads.png", "latency-vs-cpu-threads.png"])

    def test_nothing_to_plot_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no successful points"):
            plots.sweep_plots(self.csv([row("py3", 1, "-", 1, 100, status="failed")]), self.dir)

    def test_the_old_csv_format_still_plots(self):
        fixture = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sweep.csv")
        for path in plots.sweep_plots(fixture, self.dir):
            self.assert_png(path)


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed")
class PercentilesTest(TempDirTest):
    def test_percentile_files(self):
        a, b = self.write("a.hgrm", HGRM), self.write("b.hgrm", HGRM.replace("35.000", "3500.000"))
        png = plots.percentiles(self.path("p.png"), [{"label": "a", "path": a},
                                                     {"label": "b", "path": b, "marks": [("x", 5e6)]}])
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), PNG)

    def test_a_demo_labels_each_policy_with_its_own_knobs(self):
        the_plan = sweep.plan({"policies": ["none", "py3"]}, POLICIES)
        sweep.write_plan(self.dir, the_plan)
        for p in the_plan["points"]:
            d = sweep.point_dir(self.dir, p["id"])
            # The server's lock block of an older build lists every knob; a policy shows its own.
            knobs = {"switch_interval_ns": 5000000, "check_interval": 100}
            points.write_json(os.path.join(d, "point.json"), {
                "point": p["params"], "status": "ok", "server": server_stats(p["params"]["policy"], knobs),
                "client": client_results(), "machine": {"load_before": [1.0, 1.0, 1.0], "cpus_online": 2}})
            self.write(os.path.join(d, "client.hgrm"), HGRM)
        none_point = points.load_json(os.path.join(sweep.point_dir(self.dir, "none"), "point.json"))
        py3_point = points.load_json(os.path.join(sweep.point_dir(self.dir, "py3"), "point.json"))
        axis_list = [__import__("convoy_data.axes").axes.from_dict(a) for a in the_plan["axes"]]
        self.assertEqual(plots._point_knobs(none_point, axis_list), {})
        self.assertEqual(plots._point_knobs(py3_point, axis_list), {"switch_interval_ns": 5000000})
        png = plots.demo_percentiles(self.dir, self.path("demo.png"))
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), PNG)
        header, found = rows.plan_rows(self.dir)
        self.assertEqual(len(found), 2)


if __name__ == "__main__":
    unittest.main()
