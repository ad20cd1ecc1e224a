# Thread per connection (socketserver) against one event loop (asyncio) under none, py2 and py3,
# with 1, 10, 100 and 1000 connections, one fib thread, 100-byte echoes with 2 ms think time.
policies="none py2 py3"
cpu_threads="1"
io_models="threads eventloop"
connections="1 10 100 1000"
think="2ms"
duration="3s"
# A py3 server with many connections answers in tens to hundreds of milliseconds.
reply_timeout="30s"
