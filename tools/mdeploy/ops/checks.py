"""Smoke checks: is the public route healthy, are the model servers serving what the service
file declares? Each check returns `Check` rows; a failure is a row with a plain reason, never
an exception, so one dead server does not hide the state of the others.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import requests

from mdeploy.ops.context import ModelServer, ServiceContext
from mdeploy.ops.loadgen import classify
from mdeploy.report import ToolError

PASS, FAIL, SKIP = "pass", "fail", "skip"
UNKNOWN_HOST = "unknown host: the name does not resolve from here (an in-cluster address? use --model-url/--base-url)"


@dataclasses.dataclass(frozen=True)
class Check:
    name: str  # what was checked, e.g. "model ocr_det ready"
    target: str  # where: a URL or host:port
    status: str  # pass | fail | skip
    detail: str  # the evidence (HTTP 200 in 3 ms) or the reason in plain words

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def plain_reason(err: BaseException) -> str:
    """One line a person can act on, for the errors a smoke test meets."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return "timed out connecting (is the address right and reachable from here?)"
    if isinstance(err, requests.exceptions.ReadTimeout):
        return "connected, but no answer before the timeout"
    if isinstance(err, requests.exceptions.SSLError):
        return f"TLS handshake failed: {err}"
    if isinstance(err, requests.exceptions.ConnectionError):
        text = str(err)
        if "refused" in text.lower():
            return "connection refused: nothing listens there (server down, wrong port, or no port-forward)"
        if "Name or service not known" in text or "getaddrinfo" in text or "resolve" in text.lower():
            return UNKNOWN_HOST
        return f"cannot connect: {text.splitlines()[0][:200]}"
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    lowered = text.lower()
    if "refused" in lowered or "failed to connect" in lowered or ("unavailable" in lowered and "connect" in lowered):
        return "connection refused: nothing listens there (server down, wrong port, or no port-forward)"
    if "deadline" in lowered or "timed out" in lowered or "timeout" in lowered:
        return "no answer before the timeout"
    if isinstance(err, socket.gaierror):
        return UNKNOWN_HOST
    if isinstance(err, OSError):
        return classify(err)
    return text[:300]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def check_http(name: str, url: str, timeout: float, *, expect: int = 200) -> Check:
    start = time.perf_counter()
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as err:
        return Check(name, url, FAIL, plain_reason(err))
    took = _ms(time.perf_counter() - start)
    if resp.status_code != expect:
        snippet = resp.text.strip().replace("\n", " ")[:120]
        return Check(name, url, FAIL, f"HTTP {resp.status_code} in {took} (expected {expect}){': ' + snippet if snippet else ''}")
    return Check(name, url, PASS, f"HTTP {resp.status_code} in {took}")


# --- Triton -------------------------------------------------------------------------------

def _netloc(url: str) -> str:
    """tritonclient wants host:port; accept http://host:port or grpc://host:port too."""
    if "://" in url:
        parts = urlsplit(url)
        return parts.netloc
    return url.rstrip("/")


def _triton_client(url: str, protocol: str, timeout: float):
    if protocol == "grpc":
        import tritonclient.grpc as grpcclient  # imported late: grpc costs ~0.3 s to import

        return grpcclient.InferenceServerClient(_netloc(url))
    import tritonclient.http as httpclient

    return httpclient.InferenceServerClient(_netloc(url), connection_timeout=timeout, network_timeout=timeout)


def _call(client, protocol: str, method: str, timeout: float, *args, **kwargs):
    if protocol == "grpc":
        kwargs["client_timeout"] = timeout
        if method in ("get_model_metadata", "get_model_repository_index"):
            kwargs["as_json"] = True
    return getattr(client, method)(*args, **kwargs)


def _not_ready_reason(client, protocol: str, timeout: float, model: str) -> str:
    """Triton's repository index says why a model is not ready (e.g. its initialize raised)."""
    try:
        index = _call(client, protocol, "get_model_repository_index", timeout)
    except Exception:  # noqa: BLE001 - the reason is a bonus; the check already failed
        return "model not ready"
    entries = index.get("models", []) if isinstance(index, dict) else index
    for entry in entries or []:
        if entry.get("name") == model:
            state = entry.get("state") or "not loaded"
            reason = (entry.get("reason") or "").strip().splitlines()
            return f"model not ready: {state}" + (f": {reason[0][:200]}" if reason else "")
    return "model not ready: the server does not know it (not in its model repository, or not loaded in explicit mode)"


def _describe_metadata(meta: dict[str, Any]) -> str:
    def tensors(items: Iterable[dict[str, Any]]) -> str:
        return ", ".join(f"{t['name']} {t['datatype']}{list(map(int, t.get('shape', [])))}" for t in items)

    return f"inputs {tensors(meta.get('inputs', []))}; outputs {tensors(meta.get('outputs', []))}"


def check_triton(key: str, url: str, models: Iterable[str], *, protocol: str = "http", timeout: float = 5.0) -> list[Check]:
    where = _netloc(url)
    prefix = f"{key} ({protocol})"
    try:
        client = _triton_client(url, protocol, timeout)
    except Exception as err:  # noqa: BLE001 - a bad address is a failed row, not a crash
        return [Check(f"{prefix} server live", where, FAIL, plain_reason(err))]
    rows: list[Check] = []
    try:
        try:
            live = _call(client, protocol, "is_server_live", timeout)
        except Exception as err:  # noqa: BLE001
            return [Check(f"{prefix} server live", where, FAIL, plain_reason(err))]
        rows.append(Check(f"{prefix} server live", where, PASS if live else FAIL, "live" if live else "server says it is not live"))
        try:
            ready = _call(client, protocol, "is_server_ready", timeout)
            rows.append(Check(f"{prefix} server ready", where, PASS if ready else FAIL,
                              "ready" if ready else "server not ready (a model failed to load, or still loading)"))
        except Exception as err:  # noqa: BLE001
            rows.append(Check(f"{prefix} server ready", where, FAIL, plain_reason(err)))
        for model in models:
            try:
                model_ready = _call(client, protocol, "is_model_ready", timeout, model)
            except Exception as err:  # noqa: BLE001
                rows.append(Check(f"{prefix} model {model} ready", where, FAIL, plain_reason(err)))
                continue
            if not model_ready:
                rows.append(Check(f"{prefix} model {model} ready", where, FAIL, _not_ready_reason(client, protocol, timeout, model)))
                continue
            rows.append(Check(f"{prefix} model {model} ready", where, PASS, "ready"))
            try:
                meta = _call(client, protocol, "get_model_metadata", timeout, model)
                rows.append(Check(f"{prefix} model {model} metadata", where, PASS, _describe_metadata(meta)))
            except Exception as err:  # noqa: BLE001
                rows.append(Check(f"{prefix} model {model} metadata", where, FAIL, plain_reason(err)))
    finally:
        try:
            client.close()
        except Exception:  # noqa: BLE001,S110 - closing a broken client must not mask the rows
            pass
    return rows


# --- TF-Serving ---------------------------------------------------------------------------

def tfserving_verdict(entry: dict[str, Any], status: dict[str, Any]) -> tuple[bool, str]:
    """Does a `GET /v1/models/<name>` answer satisfy the file's version policy?

    latest{numVersions: N}: at least one and at most N versions AVAILABLE (TF-Serving serves
    fewer when fewer exist); all: every version it lists is AVAILABLE; specific: each listed
    version AVAILABLE. Every version named by a label must be AVAILABLE too.
    """
    states = {str(v.get("version")): v.get("state", "UNKNOWN") for v in status.get("model_version_status", [])}
    available = sorted((v for v, s in states.items() if s == "AVAILABLE"), key=int)
    policy = entry.get("versionPolicy") or {"latest": {"numVersions": 1}}
    wanted: list[str] = []
    if "specific" in policy:
        wanted = [str(v) for v in policy["specific"].get("versions", [])]
    elif "all" in policy:
        wanted = sorted(states, key=int)
    wanted += [str(v) for v in (entry.get("versionLabels") or {}).values() if str(v) not in wanted]
    missing = [v for v in wanted if states.get(v) != "AVAILABLE"]
    if missing:
        detail = ", ".join(f"{v} {states.get(v, 'not loaded')}" for v in missing)
        return False, f"versions not AVAILABLE: {detail} (AVAILABLE: {', '.join(available) or 'none'})"
    if not available:
        return False, "no version AVAILABLE" + (f" (states: {states})" if states else "")
    if "latest" in policy:
        limit = int(policy["latest"].get("numVersions", 1))
        if len(available) > limit:
            return False, f"{len(available)} versions AVAILABLE but policy latest keeps {limit}: {', '.join(available)}"
    return True, f"AVAILABLE: {', '.join(available)}"


def check_tfserving(key: str, url: str, entries: Iterable[dict[str, Any]], *, timeout: float = 5.0) -> list[Check]:
    base = url.rstrip("/")
    rows = []
    for entry in entries:
        name = entry.get("name")
        model_url = f"{base}/v1/models/{name}"
        try:
            resp = requests.get(model_url, timeout=timeout)
        except requests.RequestException as err:
            rows.append(Check(f"{key} model {name} versions", model_url, FAIL, plain_reason(err)))
            continue
        if resp.status_code != 200:
            rows.append(Check(f"{key} model {name} versions", model_url, FAIL, f"HTTP {resp.status_code}: {resp.text.strip()[:160]}"))
            continue
        try:
            ok, detail = tfserving_verdict(entry, resp.json())
        except (ValueError, TypeError, AttributeError):
            ok, detail = False, "answer is not TF-Serving's model status JSON"
        rows.append(Check(f"{key} model {name} versions", model_url, PASS if ok else FAIL, detail))
    return rows


# --- the sample request -------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SampleRequest:
    """`--request FILE`: JSON {"method", "path", "headers", "json" | "body", "expectStatus",
    "expectContains"}. `path` is under the service's public root (e.g. "/predict")."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expect_status: int
    expect_contains: str | None


def load_sample_request(path: Path) -> SampleRequest:
    def bad(why: str) -> ToolError:
        return ToolError(f"bad request file: {why}", path=str(path), rule="request-file")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad("file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise bad(f"cannot read it ({err})") from None
    except json.JSONDecodeError as err:
        raise ToolError(f"bad request file: not JSON: {err.msg}", path=str(path), line=err.lineno, col=err.colno, rule="request-file") from None
    if not isinstance(data, dict):
        raise bad('expected a JSON object like {"method": "POST", "path": "/predict", "json": {...}, "expectStatus": 200}')
    unknown = set(data) - {"method", "path", "headers", "json", "body", "expectStatus", "expectContains"}
    if unknown:
        raise bad(f"unknown keys {sorted(unknown)}; allowed: method, path, headers, json, body, expectStatus, expectContains")
    if not isinstance(data.get("path"), str) or not data["path"].startswith("/"):
        raise bad('"path" must be a string starting with / (relative to the service root, e.g. "/predict")')
    if "json" in data and "body" in data:
        raise bad('give "json" or "body", not both')
    headers = {str(k): str(v) for k, v in (data.get("headers") or {}).items()}
    body: bytes | None = None
    if "json" in data:
        body = json.dumps(data["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body" in data:
        if not isinstance(data["body"], str):
            raise bad('"body" must be a string (use "json" for a JSON body)')
        body = data["body"].encode()
    status = data.get("expectStatus", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise bad('"expectStatus" must be an HTTP status code such as 200')
    method = str(data.get("method", "POST" if body is not None else "GET")).upper()
    return SampleRequest(method, data["path"], headers, body, status, data.get("expectContains"))


def check_sample(sample: SampleRequest, root_url: str, timeout: float) -> Check:
    url = root_url + sample.path
    name = f"sample {sample.method} {sample.path}"
    start = time.perf_counter()
    try:
        resp = requests.request(sample.method, url, data=sample.body, headers=sample.headers, timeout=timeout)
    except requests.RequestException as err:
        return Check(name, url, FAIL, plain_reason(err))
    took = _ms(time.perf_counter() - start)
    if resp.status_code != sample.expect_status:
        snippet = resp.text.strip().replace("\n", " ")[:120]
        return Check(name, url, FAIL, f"HTTP {resp.status_code} in {took}, expected {sample.expect_status}{': ' + snippet if snippet else ''}")
    if sample.expect_contains and sample.expect_contains not in resp.text:
        return Check(name, url, FAIL, f"HTTP {resp.status_code} but the answer lacks {sample.expect_contains!r}")
    return Check(name, url, PASS, f"HTTP {resp.status_code} in {took}")


# --- everything ---------------------------------------------------------------------------

def run_smoke(
    ctx: ServiceContext,
    *,
    base_url: str | None,
    model_urls: dict[str, str],
    sample: SampleRequest | None,
    protocol: str,
    timeout: float,
    on_check: Callable[[str], None] | None = None,
) -> list[Check]:
    rows = [check_http("route health", ctx.health_url(base_url), timeout)]
    for model in ctx.models:
        if on_check:
            on_check(model.key)
        rows.extend(_check_model(ctx, model, model_urls.get(model.key), protocol, timeout))
    if sample is not None:
        rows.append(check_sample(sample, ctx.public_root(base_url), timeout))
    return rows


def _check_model(ctx: ServiceContext, model: ModelServer, url: str | None, protocol: str, timeout: float) -> list[Check]:
    if model.runtime == "triton":
        return check_triton(model.key, url or ctx.default_model_url(model, protocol), model.served, protocol=protocol, timeout=timeout)
    if model.runtime == "tfserving":
        return check_tfserving(model.key, url or ctx.default_model_url(model), model.tfserving, timeout=timeout)
    base = (url or ctx.default_model_url(model)).rstrip("/")
    return [check_http(f"{model.key} health", base + model.custom_health, timeout)]
