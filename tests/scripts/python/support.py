"""What the convoy_data tests share: temporary directories, a policy list in the shape
convoy-server --list-policies --json prints, and point files in the shape the programs write."""

import json
import os
import shutil
import tempfile
import unittest

POLICIES = [
    {"name": "none", "summary": "no lock: threads run Python code in parallel",
     "emulates": "CPython's free-threaded build (PEP 703)", "exclusive": False, "knobs": [],
     "counters": []},
    {"name": "py2", "summary": "CPython 2.7 GIL: a semaphore released every 100 ticks",
     "emulates": "CPython 2.7's GIL", "exclusive": True, "counters": [],
     "knobs": [{"option": "check-interval", "type": "integer", "default": "100",
                "help": "ticks between two periodic releases", "json_key": "check_interval",
                "min": "1", "max": "1000000000"}]},
    {"name": "py3", "summary": "CPython 3.2-3.13 GIL: waiters ask the holder to drop",
     "emulates": "CPython's new GIL", "exclusive": True, "counters": [],
     "knobs": [{"option": "switch-interval", "type": "duration", "default": "5ms",
                "help": "how long a waiter waits", "json_key": "switch_interval_ns"},
               {"option": "force-switching", "type": "boolean", "default": "true",
                "help": "the dropper waits for the switch", "json_key": "force_switching"}]},
]


class TempDirTest(unittest.TestCase):
    """A test with self.dir, a fresh directory removed afterwards."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="convoy-data-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, relative, text):
        path = self.path(relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def write_json(self, relative, value):
        return self.write(relative, json.dumps(value))


def server_stats(policy="py3", knobs=None, fib=1000.0, switches=50, duration=2.0, cpu_threads=1):
    """server.json as convoy-server writes it (the parts the scripts read)."""
    lock = {"policy": policy, **(knobs or {})}
    return {"config": {"cpu_threads": cpu_threads, "io_release": "always", "fib_depth": 20,
                       "interpreter": {"bytecode_ns": 25, "lock": lock}},
            "fib": {"calls_per_s": fib},
            "lock": {"stats": {"total": {"holder_switches": switches, "drop_requests": 3,
                                         "futile_wakeups": 1}}},
            "run": {"duration_s": duration}, "context": {"host": "h", "cpu_affinity": "0"}}


def client_results(p50=100.0, p99=900.0, count=500, think="2ms", p999_key="p999_us"):
    """client.json as convoy-client writes it (the parts the scripts read)."""
    return {"config": {"think": think, "connections": 1, "mode": "closed", "size": 100},
            "context": {"host": "h", "cores_online": 2, "cpu_affinity": "1"},
            "results": {"status": "ok", "achieved_rate": 450.5, "errors": {"lost": 0, "timeouts": 0},
                        "latency": {"p50_us": p50, "p90_us": (p50 + p99) / 2, "p99_us": p99,
                                    p999_key: p99 * 1.5, "max_us": p99 * 2, "mean_us": p50 * 1.2,
                                    "count": count}}}


HGRM = """       Value     Percentile TotalCount 1/(1-Percentile)

      35.000 0.000000000000          1           1.00
      40.000 0.500000000000        700           2.00
      48.000 0.900000000000       1260          10.00
      90.000 0.990000000000       1386         100.00
     400.000 1.000000000000       1400
#[Mean    =       40.200, StdDeviation   =        8.000]
#[Max     =      400.000, Total count    =         1400]
"""
