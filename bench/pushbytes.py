#!/usr/bin/env python3
# pushbytes.py ADDR PORT MEGABYTES: one TCP connection that sends MEGABYTES of zeros, then
# waits for the receiver to close; prints the throughput in MB/s (bench.sh, section 7).
import socket, sys, time

addr, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunk = bytes(1 << 20)
for attempt in range(100):  # the receiver may not listen yet
    try:
        s = socket.create_connection((addr, port), timeout=30)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("pushbytes: cannot connect to %s:%d" % (addr, port))
start = time.monotonic()
for _ in range(mb):
    s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print("%.0f" % (mb / (time.monotonic() - start)))
