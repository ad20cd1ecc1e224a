import os
import unittest

from convoy_data import points, rows, sweep
from support import POLICIES, TempDirTest, client_results, server_stats

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


class RowsTest(TempDirTest):
    def measured(self, **settings):
        the_plan = sweep.plan({k: v.split() for k, v in settings.items()}, POLICIES)
        sweep.write_plan(self.dir, the_plan)
        for p in the_plan["points"]:
            policy = p["params"]["policy"]
            knobs = {"switch_interval_ns": 5000000, "force_switching": True} if policy == "py3" else {}
            error = "client exit 1: a, b\nc" if policy == "none" else None
            points.write_json(os.path.join(sweep.point_dir(self.dir, p["id"]), "point.json"), {
                "point": p["params"], "status": "failed" if error else "ok", "error": error,
                "server": server_stats(policy, knobs), "client": client_results(),
                "machine": {"load_before": [0.25, 0.1, 0.1], "cpus_online": 2}})
        return the_plan

    def test_csv_columns_values_and_reported_defaults(self):
        self.measured(policies="none py3", switch_intervals="500us")
        ok, total = rows.write_csv(self.dir, self.path("sweep.csv"))
        self.assertEqual((ok, total), (1, 2))
        with open(self.path("sweep.csv"), "rb") as f:
            self.assertNotIn(b"\r", f.read())
        columns, found = rows.read_csv(self.path("sweep.csv"))
        self.assertEqual(columns[:5], ["policy", "cpu_threads", "check_interval", "switch_interval_us",
                                       "force_switching"])
        none, py3 = found
        self.assertEqual((none["switch_interval_us"], py3["switch_interval_us"]), ("-", "500"))
        self.assertEqual(py3["force_switching"], "true")  # not swept: as the server reports it
        self.assertEqual(py3["think_us"], "2000")
        self.assertEqual(py3["rate"], "-")
        self.assertEqual((py3["p50_us"], py3["load_1m"], py3["cpus_online"]), ("100.0", "0.25", "2"))
        self.assertEqual(none["error"], "client exit 1: a, b c")

    def test_a_point_never_measured_has_no_row(self):
        the_plan = self.measured(policies="none py3")
        os.remove(os.path.join(sweep.point_dir(self.dir, the_plan["points"][0]["id"]), "point.json"))
        header, found = rows.plan_rows(self.dir)
        self.assertEqual([r["point"] for r in found], ["py3"])
        self.assertEqual(rows.axis_columns(header)[0], "policy")

    def test_older_csvs_and_bad_files(self):
        columns, found = rows.read_csv(os.path.join(FIXTURES, "sweep.csv"))
        self.assertEqual(columns[:3], ["policy", "cpu_threads", "switch_interval_us"])
        self.assertGreater(len(found), 3)
        with self.assertRaisesRegex(ValueError, "not a sweep CSV"):
            rows.read_csv(self.write("x.csv", "x,y\n1,2\n"))
        with self.assertRaisesRegex(ValueError, "no such CSV file"):
            rows.read_csv(self.path("missing.csv"))


if __name__ == "__main__":
    unittest.main()
