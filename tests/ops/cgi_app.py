"""A tiny test CGI: a real threaded HTTP/1.1 server (stdlib) on 127.0.0.1, run as a subprocess.

It answers on any prefix, like a CGI behind the gateway would after prefix mapping:
  .../api/ping  -> 200 ok            (health)
  .../predict   -> 200 JSON          (counted: the independent request counter for bench)
  .../broken    -> 500               (counted too)
  /__counter    -> {"count", "first", "last", "by_path"}; not counted
  /__reset      -> zero the counter
`first`/`last` are the server's own clock (time.monotonic) at the start of the first counted
request and the end of the last one, so the server-side throughput is count/(last-first),
computed without trusting anything the client reports.

Run: python cgi_app.py  -> prints the port on stdout, serves until killed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self.by_path: dict[str, int] = {}

    def record(self, path: str, started: float, ended: float) -> None:
        with self.lock:
            self.count += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            self.first = started if self.first is None else min(self.first, started)
            self.last = ended if self.last is None else max(self.last, ended)


COUNTER = Counter()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like gunicorn behind a gateway
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add
    # ~40 ms to every answer (real servers such as gunicorn set it too).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - silence per-request stderr lines
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/__counter":
            with COUNTER.lock:
                data = {"count": COUNTER.count, "first": COUNTER.first, "last": COUNTER.last, "by_path": COUNTER.by_path}
            return self._send(200, json.dumps(data).encode())
        if path == "/__reset":
            with COUNTER.lock:
                COUNTER.reset()
            return self._send(200, b"{}")
        if path.endswith("/api/ping"):
            return self._send(200, b"ok", "text/plain")
        if path.endswith("/predict"):
            self._send(200, json.dumps({"ok": True, "received": len(body)}).encode())
            COUNTER.record(path, started, time.monotonic())
            return None
        if path.endswith("/broken"):
            self._send(500, b'{"error": "model exploded"}')
            COUNTER.record(path, started, time.monotonic())
            return None
        return self._send(404, b'{"error": "no such path"}')

    do_GET = _handle
    do_POST = _handle


class Server(ThreadingHTTPServer):
    # A deep accept backlog: bench opens many connections at once, and the default of 5
    # would make some wait for a SYN retransmit (1 s) and skew the latency tail.
    request_queue_size = 128
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
