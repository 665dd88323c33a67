"""A JWKS URL that misbehaves on demand: serves, refuses, hangs, or trickles one byte at a time.

A real TCP server on 127.0.0.1 (raw sockets, so every fault is exactly what a client sees from a
broken key server), for the key-outage tests of forward-auth and the middleware.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from typing import Any

MODES = ("serve", "refuse", "hang", "trickle")


class KeyServer:
    """`url` serves `jwks` (a callable, so rotations show) while `mode` is "serve"."""

    def __init__(self, jwks: Any) -> None:
        self.jwks = jwks
        self.mode = "serve"
        self.requests = 0
        self._stop = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.requests += 1
                owner._answer(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(1)
        try:
            conn.recv(65536)  # the request; its content does not matter
            mode = self.mode
            if mode == "refuse":
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            elif mode == "hang":
                self._stop.wait(60)  # never a byte
            elif mode == "trickle":
                body = json.dumps(self.jwks()).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
                for byte in body:  # one byte every 0.5 s: each read succeeds, the whole never ends
                    if self._stop.wait(0.5):
                        return
                    conn.sendall(bytes([byte]))
            else:
                body = json.dumps(self.jwks()).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + str(len(body)).encode()
                             + b"\r\nConnection: close\r\n\r\n" + body)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> KeyServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
