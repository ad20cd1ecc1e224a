"""The data side of convoy's scripts: point files, summaries, sweep CSVs, medians and plots.

The shell scripts start and stop the processes; everything that reads or writes their results is
here, run as ``python3 -m convoy_data COMMAND`` (``scripts/convoy-data`` sets the path). Only
Python's standard library and, for the pictures, matplotlib.

Modules:
  units     durations and the unit a set of values reads best in
  points    one measurement: point.json from the programs' files, its numbers, its knobs
  policies  what ``convoy-server --list-policies --json`` says
  machine   the machine a result was measured on (load average, CPUs)
  hgrm      HdrHistogram percentile files
  axes      the table of what a sweep can vary (one row per axis; the policies' knobs added)
  sweep     a sweep file's settings and the plan of its points
  rows      one CSV row per point: the sweep CSV
  reduce    grouping and medians over repetitions
  summary   the side-by-side tables (demo, reference)
  plots     every picture; a new kind (a timeline, say) is a module beside it that draws with
            plots.figure() and plots.save()
  bench     the client benchmark's report
  checks    the checks of the Docker smoke test
  apt       which Debian mirror the host uses
  cli       the command line
"""
