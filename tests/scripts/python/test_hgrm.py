import unittest

from convoy_data import hgrm
from support import HGRM, TempDirTest


class HgrmTest(TempDirTest):
    def test_rows_below_100_percent_and_the_maximum(self):
        rows, maximum = hgrm.read(self.write("a.hgrm", HGRM))
        self.assertEqual([r[0] for r in rows], [35.0, 40.0, 48.0, 90.0])
        self.assertEqual(rows[1], (40.0, 0.5, 700, 2.0))
        self.assertEqual(maximum, 400.0)

    def test_a_file_without_rows_is_refused(self):
        with self.assertRaisesRegex(ValueError, "no percentile rows"):
            hgrm.read(self.write("b.hgrm", "point,policy\n1,2\n"))


if __name__ == "__main__":
    unittest.main()
