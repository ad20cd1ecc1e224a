# py3's latency is set by its switch interval: 0.1, 0.5, 1, 5 and 10 ms with one fib thread, and
# what each costs the fib thread in throughput.
policies="py3"
cpu_threads="1"
switch_intervals="100us 500us 1ms 5ms 10ms"
think="2ms"
duration="3s"
