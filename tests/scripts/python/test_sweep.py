import os
import unittest
from unittest import mock

from convoy_data import points, sweep
from support import POLICIES, TempDirTest


def plan(policy_list=POLICIES, **settings):
    return sweep.plan({k: v.split() for k, v in settings.items()}, policy_list)


class SweepFileTest(TempDirTest):
    def test_lists_arrays_and_nothing_from_the_environment(self):
        path = self.write("s.sh", 'policies="none py3"\n_helper=x\nserver_extra=(--fib-depth "1 2")\n'
                                  'cpu_threads=$(echo 0 1)\nDURATION=9s\n')
        with mock.patch.dict(os.environ, {"think": "7ms"}):
            found = sweep.read_sweep_file(path)
        self.assertEqual(found, {"policies": ["none", "py3"], "server_extra": ["--fib-depth", "1 2"],
                                 "cpu_threads": ["0", "1"]})

    def test_a_file_that_fails_is_reported(self):
        with self.assertRaisesRegex(ValueError, "failed to load"):
            sweep.read_sweep_file(self.write("bad.sh", "false\n"))
        with self.assertRaisesRegex(ValueError, "no such sweep file"):
            sweep.read_sweep_file(self.path("missing.sh"))

    def test_the_repository_sweep_files_make_plans(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "configs", "sweeps")
        for name in sorted(os.listdir(root)):
            the_plan = sweep.plan(sweep.read_sweep_file(os.path.join(root, name)), POLICIES)
            self.assertGreater(len(the_plan["points"]), 1, name)


class CheckTest(unittest.TestCase):
    def check(self, policy_list=POLICIES, **settings):
        return sweep.check({k: v.split() for k, v in settings.items()}, policy_list)

    def test_bad_settings_are_named(self):
        cases = [
            (dict(polices="py3"), "unknown setting 'polices'"),
            (dict(switch_intervals="1ms", policies="none py2"), "switch_intervals is set, but none of the policies"),
            (dict(think="2"), "think: '2' is not a duration"),
            (dict(duration="1"), "duration: '1' is not a duration"),
            (dict(modes="half-open"), "modes: 'half-open' is not one of closed, open"),
            (dict(cpu_threads="1 x"), "cpu_threads: 'x' is not a whole number"),
            (dict(rates="0", modes="open"), "rates: '0' is not a positive number"),
            (dict(force_switching="maybe", policies="py3"), "force_switching: 'maybe' is not true or false"),
            (dict(repetitions="0"), "repetitions must be a positive whole number"),
            (dict(policies="py4"), "unknown policy 'py4'"),
            (dict(warmup="1s 2s"), "warmup takes one value"),
            (dict(check_intervals="0", policies="py2"), r"check_intervals: '0' is not in \[1, 1000000000\]"),
        ]
        for settings, message in cases:
            with self.assertRaisesRegex(ValueError, message, msg=settings):
                self.check(**settings)

    def test_without_the_list_only_the_form_is_checked(self):
        values = self.check(policy_list=None, policies="anything", timeslices="10ms")
        self.assertEqual(values["policy"], ["anything"])

    def test_all_and_commas(self):
        self.assertEqual(self.check(policies="all")["policy"], ["none", "py2", "py3"])
        self.assertEqual(self.check(cpu_threads="0,1 2")["cpu_threads"], ["0", "1", "2"])


class PlanTest(unittest.TestCase):
    def test_every_combination_with_knobs_only_where_they_apply(self):
        the_plan = plan(policies="none py3", cpu_threads="0 1", switch_intervals="1ms 5ms")
        ids = [p["id"] for p in the_plan["points"]]
        self.assertEqual(ids, ["none-c0", "none-c1", "py3-c0-si1ms", "py3-c0-si5ms", "py3-c1-si1ms",
                               "py3-c1-si5ms"])
        by_id = {p["id"]: p for p in the_plan["points"]}
        self.assertNotIn("--switch-interval", by_id["none-c1"]["server_args"])
        self.assertEqual(by_id["py3-c1-si5ms"]["server_args"],
                         ["--policy", "py3", "--cpu-threads", "1", "--switch-interval", "5ms"])
        self.assertEqual(by_id["py3-c1-si5ms"]["label"], "py3 cpu-threads=1 switch-interval=5ms")

    def test_think_for_closed_loops_and_rates_for_open_ones(self):
        the_plan = plan(policies="py3", modes="closed open", think="1ms 2ms", rates="100")
        args = {p["id"]: p["client_args"] for p in the_plan["points"]}
        self.assertEqual(sorted(args), ["py3-closed-think1ms", "py3-closed-think2ms", "py3-open"])
        self.assertIn("--rate", args["py3-open"])
        self.assertNotIn("--think", args["py3-open"])
        self.assertNotIn("--rate", args["py3-closed-think1ms"])
        self.assertEqual(args["py3-closed-think1ms"][-6:], ["--duration", "3s", "--warmup", "0.5s",
                                                            "--timeout", "2s"])

    def test_repetitions_are_outermost_and_extras_go_last(self):
        the_plan = plan(policies="none py2", repetitions="2", duration="1s", warmup="0.2s",
                        client_extra="--seed 7")
        self.assertEqual([p["id"] for p in the_plan["points"]],
                         ["none-r1", "py2-r1", "none-r2", "py2-r2"])
        self.assertEqual(the_plan["points"][0]["client_args"][-2:], ["--seed", "7"])
        # duration + warm-up + the reply timeout (2 s) + 30 s to start and stop, rounded up
        self.assertEqual(the_plan["points"][0]["timeout_s"], 34)
        self.assertEqual(the_plan["points"][3]["params"]["rep"], 2)

    def test_reply_timeout_reaches_the_client_and_the_point_timeout(self):
        the_plan = plan(policies="py3", duration="1s", warmup="0.2s", reply_timeout="30s")
        args = the_plan["points"][0]["client_args"]
        self.assertEqual(args[args.index("--timeout") + 1], "30s")
        self.assertEqual(the_plan["points"][0]["timeout_s"], 62)
        with self.assertRaises(ValueError):
            plan(policies="py3", reply_timeout="soon")

    def test_a_single_point_is_named_after_its_policy(self):
        self.assertEqual([p["id"] for p in plan(policies="py3")["points"]], ["py3"])


class WritePlanTest(TempDirTest):
    def test_the_runner_files_and_what_is_done(self):
        the_plan = plan(policies="none py3")
        sweep.write_plan(self.dir, the_plan)
        with open(self.path("points", "py3", "server.args"), encoding="utf-8") as f:
            self.assertEqual(f.read().split("\0"), ["--policy", "py3", "--cpu-threads", "1", ""])
        self.assertEqual([line.split("\t")[:2] for line in sweep.todo_lines(self.dir, the_plan)],
                         [["none", "todo"], ["py3", "todo"]])
        params = the_plan["points"][1]["params"]
        points.write_json(self.path("points", "py3", "point.json"), {"point": params, "status": "ok"})
        self.assertEqual(sweep.todo_lines(self.dir, the_plan)[1].split("\t")[1], "done")
        changed = plan(policies="none py3", duration="1s")
        self.assertEqual(sweep.todo_lines(self.dir, changed)[1].split("\t")[1], "todo")
        self.assertEqual(sweep.load_plan(self.dir)["points"][0]["id"], "none")


if __name__ == "__main__":
    unittest.main()
