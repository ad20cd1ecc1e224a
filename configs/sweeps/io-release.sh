# bpo-7946's proposed fix: release the lock only when a socket call would block
# (when-blocking) against CPython's release around every call (always), for py2 and py3.
policies="py2 py3"
cpu_threads="1"
io_releases="always when-blocking"
think="2ms"
duration="3s"
