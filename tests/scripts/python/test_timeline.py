import contextlib
import io
import json
import os
import unittest

from convoy_data import cli, timeline
from support import TempDirTest

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

PNG = b"\x89PNG\r\n\x1a\n"
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "trace-py3.json")


def fixture_text():
    with open(FIXTURE, encoding="utf-8") as f:
        return f.read()


class Builder:
    """A trace-event document made by hand, in the shape convoy-server --trace writes."""

    def __init__(self, title="py2 check-interval=100, 1 fib thread", policy="py2"):
        self.events = [{"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": title}}]
        self.other = {"policy": policy, "knobs": {}, "cpu_threads": 1, "io_model": "threads",
                      "title": title, "dropped_events": 0, "dropped_by_thread": {}}

    def thread(self, tid, name, sort_index=None):
        self.events.append({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid, "args": {"name": name}})
        if sort_index is not None:
            self.events.append({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": tid,
                                "args": {"sort_index": sort_index}})
        return self

    def span(self, tid, name, start, end, cat="lock", **args):
        self.events.append({"ph": "X", "name": name, "cat": cat, "pid": 1, "tid": tid, "ts": start,
                            "dur": end - start, **({"args": args} if args else {})})
        return self

    def instant(self, tid, name, ts, cat="lock"):
        self.events.append({"ph": "i", "s": "t", "name": name, "cat": cat, "pid": 1, "tid": tid, "ts": ts})
        return self

    def doc(self, **other):
        return {"traceEvents": self.events, "displayTimeUnit": "ns", "otherData": {**self.other, **other}}


def two_threads():
    """io-1 waits 100-400 µs and 600-1000 µs; fib-1 holds 0-600 and waits 600-700; window 0-1000."""
    return (Builder().thread(2, "fib-1", 2).thread(1, "io-1", 1)
            .span(1, "recv", 0, 100, cat="syscall")
            .instant(1, "message received", 100, cat="message")
            .span(1, "wants lock", 100, 400)
            .instant(1, "drop request", 150)
            .span(1, "holds lock", 400, 450, release="blocking")
            .span(1, "send", 450, 600, cat="syscall")
            .span(1, "wants lock", 600, 1000)
            .span(2, "holds lock", 0, 400, release="forced")
            .span(2, "wants lock", 400, 450)
            .span(2, "holds lock", 450, 1000, release="periodic"))


class ParseTest(TempDirTest):
    def test_lanes_spans_and_instants_of_the_fixture(self):
        trace = timeline.load(FIXTURE)
        self.assertEqual([l.name for l in trace.lanes], ["main", "io-1", "fib-1"])
        self.assertEqual(trace.policy, "py3")
        self.assertIn("switch-interval=5ms", trace.title)
        self.assertEqual((trace.start, trace.end), (700000.0, 712000.0))
        io = trace.lanes[1]
        self.assertEqual(len(io.spans[timeline.WAIT]), 4)
        self.assertEqual(io.syscall_names, ["recv", "send", "recv", "send"])
        self.assertEqual([k for _, k in io.instants].count("received"), 2)
        self.assertEqual([k for _, k in trace.lanes[2].instants], ["forced", "forced"])
        # The counter and the complete event of an unknown category are left out.
        self.assertEqual(trace.lanes[0].spans[timeline.SYSCALL], [(700000.0, 712000.0)])
        self.assertEqual(len(trace.flows), 1)
        self.assertEqual(trace.flows[0][1:4:2], (trace.lanes[2].key, trace.lanes[1].key))

    def test_lane_order_follows_the_sort_index_then_main_io_fib(self):
        b = Builder().thread(5, "fib-2", 4).thread(4, "fib-1", 3).thread(3, "io-1", 1).thread(9, "main", 0)
        for tid in (3, 4, 5, 9):
            b.span(tid, "wants lock", 0, 10)
        self.assertEqual([l.name for l in timeline.parse(b.doc()).lanes], ["main", "io-1", "fib-1", "fib-2"])
        # Without sort indexes: main, io-K, fib-K by number (10 after 2), unknown names last.
        b = Builder()
        for tid, name in enumerate(("fib-10", "helper", "fib-2", "io-1", "main"), start=1):
            b.thread(tid, name)
        for tid in range(1, 6):
            b.span(tid, "wants lock", 0, 10)
        self.assertEqual([l.name for l in timeline.parse(b.doc()).lanes],
                         ["main", "io-1", "fib-2", "fib-10", "helper"])

    def test_the_recorded_window_else_the_events_extent(self):
        trace = timeline.parse(two_threads().doc())
        self.assertEqual((trace.start, trace.end), (0.0, 1000.0))
        trace = timeline.parse(two_threads().doc(window_ns=[0, 2000000]))
        self.assertEqual((trace.start, trace.end), (0.0, 2000.0))
        # Events under way when the window opened are cut at its edge.
        trace = timeline.parse(two_threads().doc(window_ns=[200000, 900000]))
        self.assertEqual((trace.start, trace.end), (200.0, 900.0))
        self.assertAlmostEqual(timeline.summarize(trace, trace.start, trace.end)[1]["hold"], 650 / 700)
        # A recorded window that misses every event is not believed.
        trace = timeline.parse(two_threads().doc(window_ns=[5000000, 6000000]))
        self.assertEqual((trace.start, trace.end), (0.0, 1000.0))

    def test_bad_traces_are_one_line_errors(self):
        cases = {
            "not json": ("{nope", "is not JSON"),
            "no events": (json.dumps({"otherData": {}}), "has no traceEvents"),
            "no ph": (json.dumps({"traceEvents": [{"ts": 1, "pid": 1, "tid": 1}]}), "event 0 has no ph"),
            "no ts": (json.dumps({"traceEvents": [{"ph": "i", "pid": 1, "tid": 1}]}), "has no ts"),
            "no tid": (json.dumps({"traceEvents": [{"ph": "i", "ts": 1, "pid": 1}]}), "has no tid"),
            "no dur": (json.dumps({"traceEvents": [{"ph": "X", "ts": 1, "pid": 1, "tid": 1}]}),
                       "no duration"),
            "bad ts": (json.dumps({"traceEvents": [{"ph": "X", "ts": "1", "dur": 1, "pid": 1, "tid": 1}]}),
                       "not a number"),
            "empty": (json.dumps({"traceEvents": []}), "has no thread events"),
        }
        for name, (text, message) in cases.items():
            path = self.write(f"{name}.json", text)
            with self.subTest(name), self.assertRaises(ValueError) as e:
                timeline.load(path)
            self.assertIn(message, str(e.exception))
            self.assertNotIn("\n", str(e.exception))
        with self.assertRaisesRegex(ValueError, "no such trace file"):
            timeline.load(self.path("missing.json"))

    def test_a_named_thread_without_events_keeps_its_lane(self):
        b = two_threads().thread(7, "main", 0)
        trace = timeline.parse(b.doc())
        self.assertEqual([l.name for l in trace.lanes], ["main", "io-1", "fib-1"])
        self.assertEqual(timeline.summarize(trace, trace.start, trace.end)[0]["waits"], 0)
        self.assertEqual(timeline.parse(two_threads().doc(dropped_by_thread=[1])).dropped_by_thread, {})

    def test_unknown_names_and_categories_are_ignored(self):
        b = two_threads()
        b.events.append({"ph": "X", "name": "gc", "cat": "lock", "pid": 1, "tid": 1, "ts": 0, "dur": 5})
        b.events.append({"ph": "i", "s": "t", "name": "something new", "pid": 1, "tid": 1, "ts": 3})
        b.events.append({"ph": "b", "name": "async", "pid": 1, "tid": 1, "ts": 3, "id": 7})
        plain = timeline.parse(two_threads().doc())
        extra = timeline.parse(b.doc())
        self.assertEqual([l.spans for l in extra.lanes], [l.spans for l in plain.lanes])
        self.assertEqual([l.instants for l in extra.lanes], [l.instants for l in plain.lanes])


class WindowTest(unittest.TestCase):
    def setUp(self):
        self.trace = timeline.load(FIXTURE)

    def test_the_default_window_is_the_whole_trace(self):
        self.assertEqual(timeline.check_window(self.trace), (700000.0, 712000.0))
        self.assertEqual(timeline.check_window(self.trace, "705", None), (705000.0, 712000.0))
        self.assertEqual(timeline.check_window(self.trace, "705.5", "706"), (705500.0, 706000.0))

    def test_bad_windows(self):
        for start, end, message in (("x", "706", "not a number"), ("706", "705", "must be before"),
                                    ("699", "705", "outside the trace"), ("705", "713", "covers 700-712 ms"),
                                    ("nan", "706", "not a number")):
            with self.subTest(f"{start}-{end}"), self.assertRaisesRegex(ValueError, message):
                timeline.check_window(self.trace, start, end)

    def test_clipping(self):
        spans = [(0.0, 10.0), (20.0, 30.0), (40.0, 50.0)]
        self.assertEqual(timeline.clip(spans, 5.0, 45.0), [(5.0, 10.0), (20.0, 30.0), (40.0, 45.0)])
        self.assertEqual(timeline.clip(spans, 10.0, 20.0), [])


class SummaryTest(unittest.TestCase):
    def test_shares_waits_and_longest_over_the_whole_trace(self):
        trace = timeline.load(FIXTURE)
        rows = {r["thread"]: r for r in timeline.summarize(trace, trace.start, trace.end)}
        io, fib, main = rows["io-1"], rows["fib-1"], rows["main"]
        # io-1 over 12 ms: syscalls 500 + 20 + 2000 + 20 µs, waits 5000 + 20 + 3430 + 950, holds 60.
        self.assertAlmostEqual(io["syscall"], 2540 / 12000)
        self.assertAlmostEqual(io["wait"], 9400 / 12000)
        self.assertAlmostEqual(io["hold"], 60 / 12000)
        self.assertEqual((io["waits"], io["longest_wait_us"]), (4, 5000.0))
        self.assertAlmostEqual(fib["hold"], 10970 / 12000)
        self.assertEqual((fib["waits"], fib["longest_wait_us"]), (2, 1000.0))
        self.assertEqual((main["syscall"], main["waits"]), (1.0, 0))

    def test_a_window_clips_shares_and_keeps_waits_it_cuts_whole(self):
        trace = timeline.load(FIXTURE)
        rows = {r["thread"]: r for r in timeline.summarize(trace, 705000.0, 706000.0)}
        io = rows["io-1"]
        self.assertAlmostEqual(io["wait"], (500 + 20) / 1000)
        self.assertAlmostEqual(io["hold"], 30 / 1000)
        self.assertAlmostEqual(io["syscall"], (20 + 430) / 1000)
        # The 5 ms wait began before the window: counted, at its whole length.
        self.assertEqual((io["waits"], io["longest_wait_us"]), (2, 5000.0))
        self.assertAlmostEqual(rows["fib-1"]["hold"], 0.97)

    def test_overlapping_spans_are_counted_once(self):
        b = Builder().thread(1, "io-1").span(1, "wants lock", 0, 60).span(1, "wants lock", 40, 100)
        trace = timeline.parse(b.doc(window_ns=[0, 200000]))
        self.assertAlmostEqual(timeline.summarize(trace, 0.0, 200.0)[0]["wait"], 0.5)
        # One inside another.
        b.span(1, "wants lock", 10, 30).span(1, "wants lock", 150, 160)
        trace = timeline.parse(b.doc(window_ns=[0, 200000]))
        self.assertAlmostEqual(timeline.summarize(trace, 0.0, 200.0)[0]["wait"], 0.55)

    def test_summary_lines(self):
        trace = timeline.load(FIXTURE)
        lines = timeline.summary_lines(trace, trace.start, trace.end)
        self.assertEqual(len(lines), 3)
        self.assertRegex(lines[1],
                         r"^io-1 +holds +0\.5% +waits +78\.3% +syscalls +21\.2% +4 waits, longest 5 ms$")
        self.assertRegex(lines[0], r"^main +holds +0\.0% .* 0 waits$")

    def test_dropped_events_are_said(self):
        self.assertEqual(timeline.dropped_text(timeline.load(FIXTURE)), "")
        trace = timeline.parse(two_threads().doc(dropped_events=1500,
                                                 dropped_by_thread={"fib-1": 1500, "io-1": 0}))
        self.assertIn("1\u2009500 events dropped", timeline.dropped_text(trace))
        self.assertIn("fib-1 1\u2009500", timeline.dropped_text(trace))
        self.assertNotIn("io-1", timeline.dropped_text(trace))


class PanelWindowTest(unittest.TestCase):
    def test_every_panel_is_as_long_as_the_longest_trace(self):
        long = timeline.parse(two_threads().doc(window_ns=[0, 2000000]))
        short = timeline.parse(two_threads().doc())
        windows = timeline.panel_windows([long, short])
        self.assertEqual([w[:2] for w in windows], [(0.0, 2000.0), (0.0, 2000.0)])
        self.assertEqual(windows[0][2], "")
        self.assertIn("covers only 1 of these 2 ms", windows[1][2])

    def test_a_given_span_is_the_same_for_every_panel(self):
        a = timeline.parse(two_threads().doc())
        windows = timeline.panel_windows([a, a], "0.2", "0.8")
        self.assertEqual([w for w in windows], [(200.0, 800.0, "")] * 2)
        self.assertIn("covers only", timeline.panel_windows([a], "0.5", "1.5")[0][2])
        with self.assertRaisesRegex(ValueError, "has nothing in 2-3 ms"):
            timeline.panel_windows([a], "2", "3")
        with self.assertRaisesRegex(ValueError, "both --from and --to"):
            timeline.panel_windows([a], "2", None)


@unittest.skipUnless(HAVE_MATPLOTLIB, "matplotlib is not installed")
class DrawTest(TempDirTest):
    def assert_png(self, path):
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG)
        self.assertGreater(os.path.getsize(path), 10000)
        self.assertFalse([n for n in os.listdir(os.path.dirname(path)) if ".tmp" in n])

    def test_one_trace_default_png_and_summary(self):
        path = self.write("trace-py3.json", fixture_text())
        lines, notes = timeline.timeline_command(path)
        self.assert_png(self.path("trace-py3.png"))
        self.assertEqual(lines[-1], f"wrote {self.path('trace-py3.png')}")
        self.assertEqual(len(lines), 4)
        self.assertEqual(notes, [])

    def test_a_window_and_dropped_events(self):
        path = self.write_json("t.json", two_threads().doc(dropped_events=7, dropped_by_thread={"fib-1": 7}))
        lines, notes = timeline.timeline_command(path, self.path("w.png"), "0.1", "0.5", summary=False)
        self.assert_png(self.path("w.png"))
        self.assertEqual(lines, [f"wrote {self.path('w.png')}"])
        self.assertEqual(len(notes), 1)
        self.assertIn("7 events dropped", notes[0])

    def test_stacked_panels(self):
        a = self.write_json("py2.json", two_threads().doc(window_ns=[0, 2000000]))
        b = self.write("py3.json", fixture_text())
        lines, notes = timeline.timelines_command(self.path("both.png"), [a, b])
        self.assert_png(self.path("both.png"))
        self.assertTrue(lines[0].startswith("py2 (0-2 ms):"))
        self.assertIn("py3 (700-712 ms):", lines)
        self.assertEqual(len([l for l in lines if l.startswith("  ")]), 5)
        # Each panel is 12 ms long (the fixture's); py2's 2 ms are pointed out.
        self.assertEqual(len(notes), 1)
        self.assertIn("py2: the trace covers only 2 of these 12 ms", notes[0])
        short = self.write_json("short.json", two_threads().doc())
        lines, notes = timeline.timelines_command(self.path("span.png"), [a, short], "0", "2", summary=False)
        self.assert_png(self.path("span.png"))
        self.assertEqual(len(notes), 1)
        self.assertIn("covers only 1 of these 2 ms (0-1 ms of the run)", notes[0])

    def test_the_command_line(self):
        path = self.write("t.json", fixture_text())
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            self.assertEqual(cli.main(["timeline", path, "--out", self.path("c.png"), "--no-summary"]), 0)
            self.assertEqual(cli.main(["timeline", path, "--from", "1", "--to", "2"]), 2)
            self.assertEqual(cli.main(["timelines", self.path("s.png"), path, path, "--from", "701",
                                       "--to", "703"]), 0)
        self.assert_png(self.path("c.png"))
        self.assert_png(self.path("s.png"))
        self.assertIn("1-2 ms is outside the trace", err.getvalue())
        self.assertEqual(out.getvalue().count("io-1 "), 2)


if __name__ == "__main__":
    unittest.main()
