"""A small closed-loop HTTP load generator: N worker threads, one keep-alive connection each.

Why threads + `http.client` and not `requests`: the work per request is a socket write and
read, which releases the GIL, and `http.client` skips the per-request machinery of `requests`
(hooks, adapters, cookie jars, urllib3 pools). Measured on the 2-core CI box against the local
Triton and test CGI: ~180-250 us of bench CPU per request (4-5.5k requests per CPU-second)
against ~1.4 ms with one `requests.Session` per thread. Each worker owns its connection, so
nothing is shared but a ticket counter.

Every request that is sent gets exactly one record (answer or error), so the count printed
is the count the server saw: no retries, because a retried request may already have been
processed once.
"""

from __future__ import annotations

import dataclasses
import http.client
import math
import socket
import ssl
import threading
import time
from typing import Callable, Mapping
from urllib.parse import urlsplit

from mdeploy.report import UsageError

PERCENTILES = (50, 90, 95, 99)


@dataclasses.dataclass(frozen=True)
class Target:
    """What every request sends: one method, URL, body and header set."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"not an http(s) URL: {self.url!r} (expected e.g. http://127.0.0.1:8000/path)")


@dataclasses.dataclass
class LoadResult:
    requests: int  # sent (== answered + transport errors)
    ok: int  # answered with 2xx
    elapsed: float  # seconds from the first send to the last completion
    latencies: list[float]  # seconds, of 2xx answers, sorted
    errors: dict[str, int]  # kind -> count ("http 500", "connection refused", ...)
    concurrency: int

    @property
    def throughput(self) -> float:
        """Requests finished per second (answered or failed)."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok_throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, pct: float) -> float | None:
        """Nearest-rank percentile of successful latencies (seconds), None when none succeeded."""
        if not self.latencies:
            return None
        rank = max(1, math.ceil(pct / 100 * len(self.latencies)))
        return self.latencies[rank - 1]

    def to_dict(self) -> dict:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        latency = {f"p{p}": ms(self.percentile(p)) for p in PERCENTILES}
        latency["max"] = ms(self.latencies[-1] if self.latencies else None)
        return {
            "requests": self.requests,
            "ok": self.ok,
            "failed": self.requests - self.ok,
            "elapsed_s": round(self.elapsed, 4),
            "throughput_rps": round(self.throughput, 2),
            "ok_rps": round(self.ok_throughput, 2),
            "concurrency": self.concurrency,
            "latency_ms": latency,
            "errors": dict(sorted(self.errors.items())),
        }


def classify(err: BaseException) -> str:
    """An exception as a short, plain kind; these are the rows of `errors`."""
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(err, http.client.RemoteDisconnected):
        return "connection closed by server"
    if isinstance(err, (ConnectionResetError, BrokenPipeError)):
        return "connection reset"
    if isinstance(err, ssl.SSLError):
        return "tls error"
    if isinstance(err, socket.gaierror):
        return "unknown host"
    if isinstance(err, OSError):
        return f"network error ({err.strerror or type(err).__name__})"
    return f"error ({type(err).__name__})"


class _Tickets:
    """Hands out request numbers until the request budget or the deadline is used up."""

    def __init__(self, limit: int | None, deadline: float | None) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._limit = limit
        self._deadline = deadline
        # When ticket 0 was handed out: the origin of a paced schedule, so thread start-up
        # time is not paid back by a burst at the beginning.
        self.origin = 0.0

    def take(self) -> int | None:
        with self._lock:
            now = time.perf_counter()
            if self._limit is not None and self._next >= self._limit:
                return None
            if self._deadline is not None and now >= self._deadline:
                return None
            if self._next == 0:
                self.origin = now
            ticket = self._next
            self._next += 1
            return ticket


class _NoDelay:
    """TCP_NODELAY on the client socket: a request written in pieces must not wait for the
    server's delayed ACK (Nagle), which would add ~40 ms to every latency measured."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]


class _HTTP(_NoDelay, http.client.HTTPConnection):
    pass


class _HTTPS(_NoDelay, http.client.HTTPSConnection):
    pass


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(target.url)
    cls = _HTTPS if parts.scheme == "https" else _HTTP
    return cls(parts.hostname, parts.port, timeout=timeout)


def run_load(
    target: Target,
    *,
    concurrency: int = 8,
    requests: int | None = None,
    duration: float | None = None,
    rate: float | None = None,
    timeout: float = 10.0,
    on_progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Send requests from `concurrency` threads until `requests` were sent or `duration` passed.

    `rate` paces the whole run at R requests/s (request i starts at t0 + i/R); latency is
    measured from the actual send, so a saturated server shows up as a lower throughput.
    """
    if requests is None and duration is None:
        raise UsageError("give --requests N or --duration S")
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(target.headers)
    start = time.perf_counter()
    tickets = _Tickets(requests, start + duration if duration is not None else None)
    lock = threading.Lock()
    first_send = [math.inf]
    last_done = [0.0]
    totals = {"requests": 0, "ok": 0}
    all_latencies: list[float] = []
    errors: dict[str, int] = {}

    def worker() -> None:
        conn = _connection(target, timeout)
        latencies: list[float] = []
        local_errors: dict[str, int] = {}
        sent = ok = 0
        first, last = math.inf, 0.0
        try:
            while (ticket := tickets.take()) is not None:
                if rate:
                    delay = tickets.origin + ticket / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                t0 = time.perf_counter()
                first = min(first, t0)
                sent += 1
                try:
                    conn.request(target.method, path, body=target.body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    t1 = time.perf_counter()
                    if 200 <= resp.status < 300:
                        ok += 1
                        latencies.append(t1 - t0)
                    else:
                        kind = f"http {resp.status}"
                        local_errors[kind] = local_errors.get(kind, 0) + 1
                except Exception as err:  # noqa: BLE001 - every failure is a counted result
                    t1 = time.perf_counter()
                    kind = classify(err)
                    local_errors[kind] = local_errors.get(kind, 0) + 1
                    conn.close()  # a fresh connection for the next request
                last = max(last, t1)
                if on_progress is not None and sent % 200 == 0:
                    on_progress(ticket)
        finally:
            conn.close()
            with lock:  # merge once per worker, not once per request
                totals["requests"] += sent
                totals["ok"] += ok
                all_latencies.extend(latencies)
                for kind, count in local_errors.items():
                    errors[kind] = errors.get(kind, 0) + count
                first_send[0] = min(first_send[0], first)
                last_done[0] = max(last_done[0], last)

    threads = [threading.Thread(target=worker, name=f"bench-{i}", daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = last_done[0] - first_send[0] if totals["requests"] else 0.0
    all_latencies.sort()
    return LoadResult(totals["requests"], totals["ok"], max(elapsed, 0.0), all_latencies, errors, concurrency)


def settled(previous: float | None, current: float | None, tolerance: float) -> bool:
    """Warm-up is over when a window's p50 is within `tolerance` (0.1 = 10%) of the last one."""
    if previous is None or current is None or previous <= 0:
        return False
    return abs(current - previous) / previous <= tolerance


@dataclasses.dataclass
class WarmupResult:
    windows: list[LoadResult]
    settled: bool
    reason: str

    @property
    def requests(self) -> int:
        return sum(w.requests for w in self.windows)


def run_warmup(
    target: Target,
    *,
    concurrency: int = 4,
    window: int = 50,
    tolerance: float = 0.1,
    max_requests: int = 2000,
    max_seconds: float = 60.0,
    timeout: float = 10.0,
    on_window: Callable[[int, LoadResult], None] | None = None,
) -> WarmupResult:
    """Send windows of `window` requests until p50 settles, or the request/time budget ends.

    A window with any failure never counts as settled: a cold model that times out must not
    look warm because its errors were fast.
    """
    if window < 1 or max_requests < 1:
        raise UsageError("--window and --max-requests must be at least 1")
    deadline = time.perf_counter() + max_seconds
    windows: list[LoadResult] = []
    previous: float | None = None
    while True:
        sent = sum(w.requests for w in windows)
        if sent >= max_requests:
            return WarmupResult(windows, False, f"stopped at the request budget ({max_requests}) before latency settled")
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return WarmupResult(windows, False, f"stopped at the time budget ({max_seconds:g}s) before latency settled")
        result = run_load(target, concurrency=concurrency, requests=min(window, max_requests - sent),
                          duration=remaining, timeout=timeout)
        windows.append(result)
        if on_window is not None:
            on_window(len(windows), result)
        current = result.percentile(50) if result.ok == result.requests else None
        if result.ok == 0:
            return WarmupResult(windows, False, "every request of the last window failed; is the service up?")
        if settled(previous, current, tolerance):
            return WarmupResult(windows, True, f"p50 settled within {tolerance:.0%} of the previous window")
        previous = current
