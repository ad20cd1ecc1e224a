# Every lock policy convoy-server knows (its --list-policies) with 0, 1, 2 and 4 fib threads,
# 100-byte echoes with 2 ms think time: the catalogue in README.md.
policies="all"
cpu_threads="0 1 2 4"
think="2ms"
size="100"
duration="3s"
