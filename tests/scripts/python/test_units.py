import unittest

from convoy_data import units


class UnitsTest(unittest.TestCase):
    def test_durations_need_a_unit_except_zero(self):
        self.assertEqual(units.parse_duration_ns("0"), 0.0)
        self.assertEqual(units.parse_duration_ns("500us"), 500e3)
        self.assertEqual(units.parse_duration_ns("1.5s"), 1.5e9)
        self.assertEqual(units.parse_duration_ns("2m"), 120e9)
        self.assertEqual(units.seconds("250ms"), 0.25)
        for bad in ("1", "00", "0.0", "1h", "1e3ms", "", "-1s", "ms", "1 s"):
            with self.assertRaisesRegex(ValueError, "a number and a unit"):
                units.parse_duration_ns(bad)

    def test_best_unit_is_the_largest_in_which_the_largest_value_is_one_or_more(self):
        self.assertEqual(units.best_time_unit([100e3, 10e6])[0], "ms")
        self.assertEqual(units.best_time_unit([500.0])[0], "ns")
        self.assertEqual(units.best_time_unit([2e9, 1.0])[0], "s")
        self.assertEqual(units.best_time_unit([999e3])[0], "µs")
        self.assertEqual(units.best_time_unit([])[0], "ns")

    def test_formatting(self):
        self.assertEqual(units.format_ns(5e6), "5 ms")
        self.assertEqual(units.format_ns(1.5e9), "1.5 s")
        self.assertEqual(units.format_ns(100e3), "100 µs")
        self.assertEqual(units.number(0.1), "0.1")
        self.assertEqual(units.number(5.0), "5")
        self.assertEqual(units.number(None), "-")
        self.assertEqual(units.grouped(1869186.2), "1\u2009869\u2009186")


if __name__ == "__main__":
    unittest.main()
