import unittest

from convoy_data import reduce


class ReduceTest(unittest.TestCase):
    def test_median(self):
        self.assertEqual(reduce.median([3, 1, 2]), 2)
        self.assertEqual(reduce.median([4, 1, 3, 2]), 2.5)
        self.assertEqual(reduce.median([None, 5]), 5)
        self.assertIsNone(reduce.median([None]))

    def test_numbers_and_absent_values(self):
        self.assertEqual(reduce.as_number("5000"), 5000.0)
        for absent in ("-", "", None, "closed", "nan", "inf"):
            self.assertIsNone(reduce.as_number(absent))

    def test_fixed_columns_name_the_policies_that_have_them(self):
        rows = [{"policy": "py2", "think_us": "2000", "switch_interval_us": "-"},
                {"policy": "py3", "think_us": "2000", "switch_interval_us": "5000"},
                {"policy": "py3", "think_us": "2000", "switch_interval_us": "5000"}]
        fixed = reduce.fixed(["think_us", "switch_interval_us", "policy"], rows)
        self.assertEqual(fixed["think_us"], ("2000", None))
        self.assertEqual(fixed["switch_interval_us"], ("5000", ["py3"]))
        self.assertNotIn("policy", fixed)
        self.assertEqual(reduce.varying(["think_us", "policy"], rows), ["policy"])

    def test_series_reduce_repetitions_per_x_and_keep_the_runs(self):
        rows = [{"policy": "py3", "x": "2", "p50_us": "30"}, {"policy": "py3", "x": "1", "p50_us": "10"},
                {"policy": "py3", "x": "1", "p50_us": "20"}, {"policy": "py3", "x": "1", "p50_us": "90"},
                {"policy": "py2", "x": "-", "p50_us": "5"}]
        series = reduce.series(rows, "x", ["policy"], ["p50_us"])
        py3 = series[("py3",)]
        self.assertEqual([r.x for r in py3], [1.0, 2.0])
        self.assertEqual(py3[0].n, 3)
        self.assertEqual(py3[0].median("p50_us"), 20.0)
        self.assertEqual(py3[0].maximum("p50_us"), 90.0)
        self.assertEqual(py3[0].runs["p50_us"], [10.0, 20.0, 90.0])
        flat = series[("py2",)]
        self.assertEqual(len(flat), 1)
        self.assertIsNone(flat[0].x)


if __name__ == "__main__":
    unittest.main()
