# py2 releases every check_interval ticks: 10, 100 and 1000 ticks with one fib thread.
policies="py2"
cpu_threads="1"
check_intervals="10 100 1000"
think="2ms"
duration="3s"
