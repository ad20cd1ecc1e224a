# How the convoy grows with CPU-bound threads: none, py2 and py3 with 0, 1, 2 and 4 fib threads,
# 100-byte echoes with 2 ms think time.
policies="none py2 py3"
cpu_threads="0 1 2 4"
think="2ms"
duration="3s"
