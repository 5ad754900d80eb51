#!/usr/bin/python3
"""refusing_proxy.py - an HTTP proxy on 127.0.0.1 that refuses every
CONNECT with "403 Forbidden", as a corporate proxy does for a host it does
not allow. Prints its port on stdout, then serves until killed.

usage: refusing_proxy.py
"""
import socketserver


class Refuse(socketserver.StreamRequestHandler):
    def handle(self):
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass                        # the request and its header lines
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Refuse)
print(srv.server_address[1], flush=True)
srv.serve_forever()
