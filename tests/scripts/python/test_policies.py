import unittest

from convoy_data import policies
from support import POLICIES


class PoliciesTest(unittest.TestCase):
    def test_all_is_every_listed_policy_and_names_are_checked(self):
        self.assertEqual(policies.expand(["all"], POLICIES), ["none", "py2", "py3"])
        self.assertEqual(policies.expand(["py3", "all"], POLICIES), ["py3", "none", "py2"])
        with self.assertRaisesRegex(ValueError, r"unknown policy 'py4' \(convoy-server lists: none, py2, py3\)"):
            policies.expand(["py2", "py4"], POLICIES)

    def test_knobs_are_read_from_the_list(self):
        knobs = {policies.option(k): k for k in policies.knobs(POLICIES)}
        self.assertEqual(sorted(knobs), ["check-interval", "force-switching", "switch-interval"])
        self.assertEqual(knobs["switch-interval"]["policies"], ["py3"])
        self.assertEqual(policies.stats_key(knobs["switch-interval"]), "switch_interval_ns")
        self.assertEqual(policies.stats_key({"option": "--time-slice", "type": "duration"}), "time_slice_ns")
        self.assertEqual(policies.stats_key({"option": "ticks", "type": "integer"}), "ticks")

    def test_the_emulating_policy_is_found_by_the_interpreter_it_names(self):
        self.assertEqual(policies.emulating(POLICIES, "CPython 3"), "py3")
        self.assertEqual(policies.emulating(POLICIES, "CPython 2"), "py2")
        self.assertIsNone(policies.emulating(POLICIES, "Ruby"))
        self.assertIsNone(policies.emulating(POLICIES, "CPython 30"))

    def test_ruby_and_pypy_are_found_by_their_families_and_take_nothing_from_cpython(self):
        # As convoy-server --list-policies --json describes them.
        listed = POLICIES + [
            {"name": "ruby", "summary": "Ruby 3.3+ GVL: FIFO hand-off, a 10 ms timer, the holder yields "
                                        "after a 100 ms quantum",
             "emulates": "Ruby MRI's GVL (thread_pthread.c: thread_sched_to_running, thread_sched_yield, "
                         "thread_sched_wakeup_next_thread, the timer thread; 2.6-3.2: gvl_acquire_common, "
                         "do_gvl_timer, gvl_yield)", "exclusive": True, "knobs": [], "counters": []},
            {"name": "pypy", "summary": "PyPy GIL: a fast word released around I/O, a stealer polling every "
                                        "100 us, a yield every 10000 ticks",
             "emulates": "PyPy's GIL (rpython/translator/c/src/thread_gil.c: RPyGilAcquireSlowPath, "
                         "RPyGilYieldThread; pypy/module/thread/gil.py: GILReleaseAction)",
             "exclusive": True, "knobs": [], "counters": []},
        ]
        self.assertEqual(policies.emulating(listed, "Ruby"), "ruby")
        self.assertEqual(policies.emulating(listed, "PyPy"), "pypy")
        self.assertEqual(policies.emulating(listed, "CPython 3"), "py3")
        self.assertEqual(policies.emulating(listed, "CPython 2"), "py2")
        self.assertEqual(policies.family_of(listed, "ruby"), "Ruby")
        self.assertEqual(policies.family_of(listed, "pypy"), "PyPy")
        self.assertEqual(policies.family_of(listed, "py3"), "CPython 3")
        # A word, not a part of one: "PyPy" does not name "PyPyX", nor "Ruby" "Rubyist".
        self.assertIsNone(policies.emulating([dict(listed[-1], summary="", emulates="PyPyX's GIL")], "PyPy"))
        self.assertIsNone(policies.emulating([dict(listed[-2], summary="", emulates="a Rubyist's GVL")], "Ruby"))

    def test_a_file_that_is_not_a_list_of_policies_is_refused(self):
        import json
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"name": "py3"}, f)
            f.flush()
            with self.assertRaisesRegex(ValueError, "not a list of policies"):
                policies.load(f.name)


if __name__ == "__main__":
    unittest.main()
