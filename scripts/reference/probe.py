"""Prints what this Python is, as one line: FAMILY<TAB>VERSION<TAB>LABEL.

FAMILY is 'CPython 2', 'CPython 3', 'CPython free-threaded' (a 3.13t+ build running without its
GIL) or 'PyPy'; LABEL names the interpreter exactly ('python3.11.7', 'python3.13.0t',
'pypy3.9-7.3.11'). Runs under every Python from 2.7 on, so that scripts/reference.sh can ask each
executable it finds what it is before measuring it."""
import platform
import sys

implementation = platform.python_implementation()
version = platform.python_version()
gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
if implementation == "PyPy":
    pypy = "%d.%d.%d" % sys.pypy_version_info[:3]
    family, label = "PyPy", "pypy%d.%d-%s" % (sys.version_info[0], sys.version_info[1], pypy)
    version = "PyPy %s (Python %s)" % (pypy, version)
elif implementation == "CPython" and not gil_enabled:
    family, label = "CPython free-threaded", "python%st" % version
    version = "CPython %s free-threaded" % version
elif implementation == "CPython":
    family, label = "CPython %d" % sys.version_info[0], "python%s" % version
    version = "CPython %s" % version
else:
    family, label = implementation, "%s%s" % (implementation.lower(), version)
    version = "%s %s" % (implementation, version)
sys.stdout.write("%s\t%s\t%s\n" % (family, version, label))
