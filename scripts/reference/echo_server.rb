#!/usr/bin/env ruby
# A threaded TCP echo server next to N threads computing fib, under Ruby's real GVL.
#
# The Ruby twin of convoy-server's `threads` model: one thread per connection looping
# readpartial -> write, and the fib threads keep the GVL busy. Prints `listening 127.0.0.1:PORT`
# once it accepts connections; SIGTERM/SIGINT end it.
require 'optparse'
require 'socket'

options = { bind: '127.0.0.1', port: 0, cpu_threads: 1, fib_depth: 20, duration: 0.0 }
OptionParser.new do |o|
  o.banner = 'usage: echo_server.rb [options]'
  o.on('--bind ADDR') { |v| options[:bind] = v }
  o.on('--port PORT', Integer) { |v| options[:port] = v }
  o.on('--cpu-threads N', Integer) { |v| options[:cpu_threads] = v }
  o.on('--fib-depth N', Integer) { |v| options[:fib_depth] = v }
  o.on('--duration SECONDS', Float) { |v| options[:duration] = v }
end.parse!

def fib(n)
  n < 2 ? n : fib(n - 1) + fib(n - 2)
end

server = TCPServer.new(options[:bind], options[:port])
calls = 0
options[:cpu_threads].times do
  Thread.new do
    loop do
      fib(options[:fib_depth])
      calls += 1
    end
  end
end

%w[TERM INT].each { |sig| Signal.trap(sig) { exit!(0) } }
if options[:duration].positive?
  Thread.new do
    sleep options[:duration]
    exit!(0)
  end
end

$stdout.puts "listening #{options[:bind]}:#{server.addr[1]}"
$stdout.flush
loop do
  client = server.accept
  Thread.new(client) do |sock|
    sock.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
    begin
      loop { sock.write(sock.readpartial(65_536)) }
    rescue EOFError, IOError, SystemCallError
      nil
    ensure
      sock.close
    end
  end
end
