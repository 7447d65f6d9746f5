#!/usr/bin/env python3
# The world, as tests/nat.bats sees it: run inside the test's "upstream" network namespace,
# an HTTP server on ADDR:80 whose page names the address the request came from, and a DNS
# responder on ADDR:53 (UDP) answering A queries for NAME=IP pairs. Prints "ready" when
# both listen.
#   upstream.py ADDR NAME=IP...
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

addr = sys.argv[1]
names = dict(a.split("=", 1) for a in sys.argv[2:])


class Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("upstream page for %s\n" % self.client_address[0]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def answer(query):
    ident, flags = query[:2], query[2:4]
    i, labels = 12, []
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode())
        i += 1 + query[i]
    question = query[12:i + 5]
    qtype = int.from_bytes(query[i + 1:i + 3], "big")
    ip = names.get(".".join(labels).lower())
    if ip is None or qtype != 1:
        rcode = 0 if ip is not None else 3  # NOERROR with no A record, or NXDOMAIN
        return ident + bytes([0x81, 0x80 | rcode]) + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question
    record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(ip)
    return ident + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + question + record


def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    ready.set()
    while True:
        q, peer = s.recvfrom(512)
        try:
            s.sendto(answer(q), peer)
        except (IndexError, UnicodeDecodeError):
            pass


ready = threading.Event()
threading.Thread(target=dns, daemon=True).start()
http = HTTPServer((addr, 80), Page)
ready.wait()
print("ready", flush=True)
http.serve_forever()
