import os
import unittest

from convoy_data import policies, seed
from support import POLICIES, TempDirTest, client_results


def _done(elapsed, completed, p50):
    client = client_results(p50=p50, p99=p50 * 2)
    client["results"]["elapsed_s"] = elapsed
    client["results"]["requests"] = {"completed": completed}
    return {"status": "ok", "client": client}


class SeedTest(TempDirTest):
    def put(self, name, params, point):
        self.write_json(os.path.join("points", name, "point.json"), {"point": params, **point})

    def test_done_in_per_row_beside_the_blog_in_run_order(self):
        self.put("emulated-py3", {"name": "py3", "kind": "emulated", "family": "CPython 3", "order": 1},
                 _done(5.0, 1000, 5100))
        self.put("real-python2.7.18", {"name": "python2.7.18", "kind": "real", "family": "CPython 2",
                                       "order": 3}, _done(0.25, 1000, 90))
        self.put("emulated-none", {"name": "none", "kind": "emulated", "family": "free-threaded",
                                   "order": 2}, {"status": "failed", "error": "client exit 1"})
        rows = seed.rows(self.dir)
        self.assertEqual([r["name"] for r in rows], ["py3", "none", "python2.7.18"])
        self.assertAlmostEqual(rows[0]["per_message_ms"], 5.0)
        self.assertEqual(rows[0]["blog_s"], 10.14)
        self.assertEqual(rows[2]["blog_s"], 2.21)
        self.assertIsNone(rows[1]["done_s"])
        lines = seed.table(self.dir, 1000).splitlines()
        # 5 ms a message is one switch interval: the connection thread won the race after send.
        self.assertRegex(lines[1], r"^py3 +emulated +5\.00 s +5\.000 ms +1\.00 +5\.100 ms .* 10\.14 s$")
        self.assertRegex(lines[2], r"^none +emulated +failed: client exit 1$")
        self.assertRegex(lines[3], r"^python2\.7\.18 +real +0\.25 s +0\.250 ms +- +0\.090 ms .* 2\.21 s$")
        text = "\n".join(lines)
        self.assertIn("10.0 s for 1000", text)
        self.assertIn("CPUs online", text)

    def test_the_family_a_policy_emulates(self):
        self.assertEqual(policies.family_of(POLICIES, "py3"), "CPython 3")
        self.assertEqual(policies.family_of(POLICIES, "py2"), "CPython 2")
        self.assertIsNone(policies.family_of(POLICIES, "nosuch"))


if __name__ == "__main__":
    unittest.main()
