import os
import unittest

from convoy_data import fidelity, points
from support import TempDirTest, client_results

PY3 = {"label": "python3.11.2", "family": "CPython 3", "path": "/usr/bin/python3", "policy": "py3"}
PY2 = {"label": "python2.7.18", "family": "CPython 2", "path": "/opt/py2/bin/python", "policy": "py2"}
RUBY = {"label": "ruby3.1.2", "family": "Ruby", "path": "/usr/bin/ruby", "policy": ""}


def histogram_point(buckets, mean_us, status="ok"):
    client = client_results()
    client["results"]["latency"].update(buckets=[list(b) for b in buckets],
                                        count=sum(b[2] for b in buckets), mean_us=mean_us)
    return {"status": status, "client": client}


class SettingsTest(unittest.TestCase):
    def test_defaults_and_sizes(self):
        values = fidelity.settings({"size": ["100", "16KiB"], "think": ["0ms", "2ms"]})
        self.assertEqual(values["size"], ["100", "16384"])
        self.assertEqual(values["cpu_threads"], ["1"])
        self.assertEqual(values["repetitions"], "2")
        self.assertEqual(len(fidelity.scenarios(values)), 4)

    def test_bad_settings_say_what_is_wrong(self):
        for raw, message in (({"thinks": ["2ms"]}, "unknown setting 'thinks'"),
                             ({"think": ["2"]}, "is not a duration"),
                             ({"size": ["8"]}, "outside 32 B"),
                             ({"size": ["1GB"]}, "is not a number of bytes"),
                             ({"repetitions": ["0"]}, "at least 1"),
                             ({"duration": ["1s", "2s"]}, "takes one value"),
                             ({"tolerance": ["x"]}, "is not a number"),
                             ({"tolerance": ["py2=0.5"]}, "has no default"),
                             ({"tolerance": ["0.25", "py2=0.5", "py2=0.4"]}, "py2 is given twice"),
                             ({"tolerance": ["0.25", "py2=x"]}, "is not a number"),
                             ({"tolerance": ["0.25", "Py2=0.5"]}, "not a policy name"),
                             ({"tolerance": ["0.25", "py2=0"]}, "must be above 0")):
            with self.assertRaisesRegex(ValueError, message):
                fidelity.settings(raw)


class PlanTest(TempDirTest):
    def test_sides_alternate_and_an_interpreter_without_interval_runs_once(self):
        values = fidelity.settings({"switch_interval": ["5ms", "1ms"], "repetitions": ["2"]})
        the_plan = fidelity.plan(values, [PY3, PY2, RUBY], "/src", "/bin/convoy-server", self.dir)
        runs = the_plan["runs"]
        # py3: 2 intervals x 2 sides x 2 reps; py2: 1 x 2 x 2; ruby has no policy: not measured.
        self.assertEqual(len([r for r in runs if r["params"]["interpreter"] == "python3.11.2"]), 8)
        self.assertEqual(len([r for r in runs if r["params"]["interpreter"] == "python2.7.18"]), 4)
        self.assertFalse([r for r in runs if r["params"]["interpreter"] == "ruby3.1.2"])
        self.assertEqual([r["params"]["side"] for r in runs[:2]], ["real", "emulated"])
        second = [r for r in runs if r["params"]["rep"] == 2]
        self.assertEqual([r["params"]["side"] for r in second[:2]], ["emulated", "real"])
        real = runs[0]
        self.assertEqual(real["server_cmd"][:2], ["/usr/bin/python3", "/src/scripts/reference/echo_server.py"])
        self.assertIn("0.005", real["server_cmd"])  # sys.setswitchinterval takes seconds
        emulated = runs[1]
        self.assertEqual(emulated["server_cmd"][0], "/bin/convoy-server")
        self.assertIn("--policy", emulated["server_cmd"])
        py2 = [r for r in runs if r["params"]["interpreter"] == "python2.7.18"][0]
        self.assertNotIn("--switch-interval", py2["server_cmd"])
        todo = fidelity.write_plan(self.dir, the_plan)
        self.assertEqual(len(todo), len(runs))
        first = os.path.join(self.dir, "points", runs[0]["id"])
        with open(os.path.join(first, "server.cmd"), encoding="utf-8") as f:
            self.assertEqual(f.read().split("\0")[:-1], runs[0]["server_cmd"])


class ReportTest(TempDirTest):
    def test_quantiles_and_distance_of_merged_histograms(self):
        a = fidelity.merged([histogram_point([(0, 10, 50), (10, 20, 50)], 10.0)])
        self.assertAlmostEqual(fidelity.quantile(a, 0.5), 10.0)
        self.assertAlmostEqual(fidelity.quantile(a, 0.75), 15.0)
        self.assertEqual(fidelity.ks_distance(a, a), 0)
        b = fidelity.merged([histogram_point([(10, 20, 100)], 15.0)])
        self.assertAlmostEqual(fidelity.ks_distance(a, b), 0.5)
        both = fidelity.merged([histogram_point([(0, 10, 50)], 5.0), histogram_point([(0, 10, 150)], 7.0)])
        self.assertEqual(both["buckets"], [((0.0, 10.0), 200)])
        self.assertAlmostEqual(both["mean_us"], 6.5)

    def test_a_row_per_scenario_and_interpreter_with_a_verdict(self):
        values = fidelity.settings({"think": ["0ms", "2ms"], "repetitions": ["1"]})
        the_plan = fidelity.plan(values, [PY3], "/src", "/bin/convoy-server", self.dir)
        fidelity.write_plan(self.dir, the_plan)
        numbers = {("real", "0ms"): 1000.0, ("emulated", "0ms"): 1100.0,
                   ("real", "2ms"): 5000.0, ("emulated", "2ms"): 9000.0}
        for run in the_plan["runs"]:
            p = run["params"]
            mean = numbers[(p["side"], p["think"])]
            point = histogram_point([(mean * 0.9, mean * 1.1, 100)], mean)
            points.write_json(os.path.join(self.dir, "points", run["id"], "point.json"), point)
        rows, tolerance = fidelity.report_rows(self.dir)
        self.assertEqual(tolerance, "0.25")
        by_think = {r["think"]: r for r in rows}
        self.assertEqual(by_think["0ms"]["verdict"], "ok")
        self.assertAlmostEqual(by_think["0ms"]["mean_ratio"], 1.1)
        self.assertEqual(by_think["2ms"]["verdict"], "miss")
        self.assertEqual(by_think["2ms"]["ks"], 1.0)
        text = fidelity.write_report(self.dir)
        self.assertIn("1 ok, 1 missed, 0 failed of 2", text)
        with open(self.path("fidelity.csv"), encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        self.assertEqual(tuple(header), fidelity.COLUMNS)

    def test_a_policy_of_its_own_tolerance_is_judged_by_it(self):
        values = fidelity.settings({"tolerance": ["0.25", "py2=0.5"], "repetitions": ["1"]})
        self.assertEqual(fidelity.tolerances(values["tolerance"]), {"": 0.25, "py2": 0.5})
        the_plan = fidelity.plan(values, [PY3, PY2], "/src", "/bin/convoy-server", self.dir)
        fidelity.write_plan(self.dir, the_plan)
        for run in the_plan["runs"]:
            mean = 1000.0 if run["params"]["side"] == "real" else 1400.0  # 40 % slower
            points.write_json(os.path.join(self.dir, "points", run["id"], "point.json"),
                              histogram_point([(mean * 0.9, mean * 1.1, 100)], mean))
        rows, _ = fidelity.report_rows(self.dir)
        by_policy = {r["policy"]: r for r in rows}
        self.assertEqual(by_policy["py3"]["verdict"], "miss")
        self.assertEqual(by_policy["py2"]["verdict"], "ok")
        self.assertEqual(by_policy["py2"]["tolerance"], 0.5)
        self.assertIn("within ±25% (py2 ±50%) is ok", fidelity.write_report(self.dir))
        fidelity.check_tolerance_policies(values, ["py2", "py3"])
        with self.assertRaisesRegex(ValueError, "no policy 'py2'"):
            fidelity.check_tolerance_policies(values, ["py3"])

    def test_a_side_without_a_good_run_fails_the_row(self):
        values = fidelity.settings({"repetitions": ["1"]})
        the_plan = fidelity.plan(values, [PY3], "/src", "/bin/convoy-server", self.dir)
        fidelity.write_plan(self.dir, the_plan)
        for run in the_plan["runs"]:
            status = "ok" if run["params"]["side"] == "real" else "failed"
            points.write_json(os.path.join(self.dir, "points", run["id"], "point.json"),
                              histogram_point([(1, 2, 10)], 1.5, status))
        rows, _ = fidelity.report_rows(self.dir)
        self.assertEqual(rows[0]["verdict"], "failed")
        self.assertIsNone(rows[0]["emulated_mean_ms"])



class EmulationArgsTest(unittest.TestCase):
    def test_each_family_gets_what_its_interpreter_would_be_set_to(self):
        scenario = {"switch_interval": "1ms"}
        cpython = {"family": "CPython 3", "version": "CPython 3.11.7"}
        self.assertEqual(fidelity.emulation_args(cpython, scenario), ["--switch-interval", "1ms"])
        pypy = {"family": "PyPy", "version": "PyPy 7.3.11 (Python 3.9.16)"}
        self.assertEqual(fidelity.emulation_args(pypy, scenario), ["--pypy-check-interval", "2000"])
        old_ruby = {"family": "Ruby", "version": "Ruby 3.1.2"}
        self.assertEqual(fidelity.emulation_args(old_ruby, scenario), ["--gvl-timer", "waiter"])
        new_ruby = {"family": "Ruby", "version": "Ruby 3.4.1"}
        self.assertEqual(fidelity.emulation_args(new_ruby, scenario), [])
        self.assertEqual(fidelity.emulation_args({"family": "CPython 2", "version": "CPython 2.7.18"},
                                                 scenario), [])


if __name__ == "__main__":
    unittest.main()
