"""`mdeploy bench` and `mdeploy warmup` against the real test CGI and the real Triton server.

Counts are checked against counters the servers keep themselves (the CGI's request counter,
Triton's per-model statistics); no assertion is about speed.
"""

from __future__ import annotations

import json

import pytest

from mdeploy.ops import loadgen
from mdeploy.ops.loadgen import LoadResult, Target, run_warmup

from .conftest import cgi_counter, closed_port
from .helpers import as_json, mdeploy, one_line_error

pytestmark = pytest.mark.slow


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps({"image": "https://cdn.example.com/a.jpg"}))
    return path


def bench(repo_root, *args, env="prod"):
    return mdeploy("bench", "demo", "--env", env, *args, "--format", "json", root=repo_root)


def test_request_count_matches_server_exactly_and_throughput_within_5_percent(cgi, repo_root, payload):
    cgi_counter(cgi, reset=True)
    result = bench(repo_root, "--base-url", cgi, "--path", "/predict", "--payload", str(payload),
                   "--requests", "3000", "--concurrency", "8")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    server = cgi_counter(cgi)
    assert doc["requests"] == doc["ok"] == server["count"] == 3000
    assert server["by_path"] == {"/api/content/demo/predict": 3000}
    server_rps = server["count"] / (server["last"] - server["first"])
    assert abs(doc["throughput_rps"] - server_rps) / server_rps < 0.05, (doc["throughput_rps"], server_rps)
    latency = doc["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert doc["errors"] == {} and doc["failed"] == 0 and doc["mode"] == "route" and doc["method"] == "POST"
    assert doc["url"] == f"{cgi}/api/content/demo/predict"


def test_duration_mode_counts_every_request_sent(cgi, repo_root):
    cgi_counter(cgi, reset=True)
    doc = as_json(bench(repo_root, "--base-url", cgi, "--path", "/predict", "--duration", "0.5", "--concurrency", "4"))
    assert doc["requests"] == cgi_counter(cgi)["count"] > 0
    assert doc["method"] == "GET"  # no payload: GET


def test_rate_paces_the_run(cgi, repo_root):
    cgi_counter(cgi, reset=True)
    doc = as_json(bench(repo_root, "--base-url", cgi, "--path", "/predict", "--requests", "100", "--rate", "400"))
    assert doc["requests"] == cgi_counter(cgi)["count"] == 100
    # Request i may not start before t0 + i/rate: the last one starts 99/400 s after the first
    # (less the few microseconds between handing out request 0 and sending it; 2 ms slack).
    assert doc["elapsed_s"] >= 99 / 400 - 0.002


def test_cgi_500s_are_counted_by_kind(cgi, repo_root, payload):
    cgi_counter(cgi, reset=True)
    result = bench(repo_root, "--base-url", cgi, "--path", "/broken", "--payload", str(payload), "--requests", "120")
    assert result.exit_code == 1
    doc = as_json(result)
    assert doc["errors"] == {"http 500": 120} and doc["ok"] == 0 and doc["failed"] == 120
    assert doc["latency_ms"]["p50"] is None
    assert cgi_counter(cgi)["count"] == 120


def test_server_down_is_counted_not_raised(repo_root):
    result = bench(repo_root, "--base-url", f"http://127.0.0.1:{closed_port()}", "--path", "/predict", "--requests", "20",
                   "--concurrency", "2")
    assert result.exit_code == 1
    assert as_json(result)["errors"] == {"connection refused": 20}


def test_gray_is_refused_without_force(cgi, repo_root):
    result = mdeploy("bench", "demo", "--env", "gray", "--base-url", cgi, "--path", "/predict", "--requests", "5", root=repo_root)
    assert result.exit_code == 1
    assert one_line_error(result).startswith("mdeploy: refusing to load-test gray: it runs one replica per Deployment")
    assert result.stdout == ""
    cgi_counter(cgi, reset=True)
    forced = bench(repo_root, "--base-url", cgi, "--path", "/predict", "--requests", "5", "--force", env="gray")
    assert forced.exit_code == 0
    assert cgi_counter(cgi)["by_path"] == {"/api/grey/content/demo/predict": 5}


def test_text_output_is_a_table(cgi, repo_root):
    result = mdeploy("bench", "demo", "--env", "prod", "--base-url", cgi, "--path", "/broken", "--requests", "10", root=repo_root)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert lines[4].split() == ["requests", "10"]
    assert ["http", "500", "10"] == lines[-1].split()


# --- direct Triton mode -------------------------------------------------------------------

def success_count(triton, model: str) -> int:
    return int(triton.stats(model)["inference_stats"]["success"]["count"])


def test_direct_triton_inputs_from_metadata_count_matches_triton_stats(triton, repo_root):
    before = success_count(triton, "add_one")
    result = bench(repo_root, "--model", "add_one", "--model-url", f"main={triton.http_url}", "--requests", "400", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["mode"] == "direct" and doc["url"] == f"{triton.http_url}/v2/models/add_one/infer"
    assert doc["requests"] == doc["ok"] == 400
    assert success_count(triton, "add_one") - before == 400


def test_direct_triton_payload_file(triton, repo_root, tmp_path):
    payload = tmp_path / "infer.json"
    payload.write_text(json.dumps({"inputs": [{"name": "INPUT0", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}))
    before = success_count(triton, "add_one")
    doc = as_json(bench(repo_root, "--model", "add_one", "--model-url", f"main={triton.http_url}", "--payload", str(payload),
                        "--requests", "50"))
    assert doc["ok"] == 50 and success_count(triton, "add_one") - before == 50
    payload.write_text(json.dumps({"inputs": [{"name": "WRONG", "shape": [1], "datatype": "FP32", "data": [1]}]}))
    result = bench(repo_root, "--model", "add_one", "--model-url", f"main={triton.http_url}", "--payload", str(payload), "--requests", "5")
    assert result.exit_code == 1 and as_json(result)["errors"] == {"http 400": 5}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"inputs": [', "payload is not JSON: Expecting value (payload)"),
        ('{"input": []}', 'payload must be a KServe v2 infer request: {"inputs": [{"name", "shape", "datatype", "data"}]} (payload)'),
        ('{"inputs": [{"name": "INPUT0"}]}', "inputs[0] lacks shape, datatype, data (payload)"),
    ],
)
def test_bad_payload_file_is_one_line_exit_1(repo_root, tmp_path, content, message):
    payload = tmp_path / "bad.json"
    payload.write_text(content)
    result = bench(repo_root, "--model", "add_one", "--model-url", "main=http://127.0.0.1:1", "--payload", str(payload), "--requests", "5")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert line.startswith(f"mdeploy: {payload}:") and line.endswith(message)
    assert result.stdout == ""


def test_direct_mode_refuses_a_model_that_is_not_ready(triton, repo_root):
    result = mdeploy("bench", "demo-bad", "--env", "prod", "--model", "broken", "--model-url", f"main={triton.http_url}",
                     "--requests", "5", root=repo_root)
    assert result.exit_code == 1
    assert one_line_error(result) == (
        f"mdeploy: model 'broken' is not ready on {triton.http_url.removeprefix('http://')}; run `mdeploy smoke` to see why"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--path", "/p", "--model", "add_one"], 2, "mdeploy: give either --path (through the public route) or --model (one Triton model directly)"),
        ([], 2, "mdeploy: give either --path (through the public route) or --model (one Triton model directly)"),
        (["--path", "/p", "--duration", "1", "--requests", "3"], 2, "mdeploy: give --duration or --requests, not both"),
        (["--path", "p"], 2, "mdeploy: --path must start with / (relative to the service root), got 'p'"),
        (["--model", "nope"], 2, "mdeploy: no Triton server of demo loads model 'nope' (Triton models: add_one)"),
        (["--path", "/p", "--payload", "/nonexistent/x.bin"], 1, "mdeploy: /nonexistent/x.bin:0:0: error: payload file not found (payload)"),
    ],
)
def test_usage_errors(repo_root, args, code, message):
    result = mdeploy("bench", "demo", "--env", "prod", *args, root=repo_root)
    assert result.exit_code == code
    assert one_line_error(result) == message


# --- warmup -------------------------------------------------------------------------------

def test_warmup_route_sends_bounded_windows_and_says_what_it_did(cgi, repo_root):
    cgi_counter(cgi, reset=True)
    result = mdeploy("warmup", "demo", "--env", "gray", "--base-url", cgi, "--path", "/predict", "--window", "25",
                     "--max-requests", "300", "--format", "json", root=repo_root)
    assert result.exit_code == 0, result.output  # warmup is allowed in gray: it is bounded
    doc = as_json(result)
    assert doc["requests"] == sum(w["requests"] for w in doc["windows"]) == cgi_counter(cgi)["count"] <= 300
    assert all(w["requests"] == 25 for w in doc["windows"])
    if doc["settled"]:
        assert doc["reason"] == "p50 settled within 10% of the previous window" and len(doc["windows"]) >= 2
    else:
        assert doc["reason"] == "stopped at the request budget (300) before latency settled" and doc["requests"] == 300


def test_warmup_direct_triton_text(triton, repo_root):
    before = success_count(triton, "add_one")
    result = mdeploy("warmup", "demo", "--env", "prod", "--model", "add_one", "--model-url", f"main={triton.http_url}",
                     "--window", "20", "--max-requests", "100", root=repo_root)
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    sent = int(last.split(": ", 1)[1].split(" requests")[0])
    assert last.startswith(f"warmup of demo in prod: {sent} requests, 0 failed; ")
    assert success_count(triton, "add_one") - before == sent


def fake_window(p50_ms: float, ok: bool = True) -> LoadResult:
    return LoadResult(10, 10 if ok else 0, 0.1, [p50_ms / 1000] * 10 if ok else [], {} if ok else {"timeout": 10}, 1)


@pytest.mark.parametrize(
    ("p50s", "windows", "settled", "reason"),
    [
        ([900, 40, 12, 11.5, 11], 4, True, "p50 settled within 10% of the previous window"),  # cold model: first calls slow
        ([50, 20, 10, 5, 2.5, 1.2], 5, False, "stopped at the request budget (50) before latency settled"),
        ([None], 1, False, "every request of the last window failed; is the service up?"),
    ],
)
def test_warmup_stops_when_p50_settles_or_budget_ends(monkeypatch, p50s, windows, settled, reason):
    results = iter(fake_window(p) if p is not None else fake_window(0, ok=False) for p in p50s)
    monkeypatch.setattr(loadgen, "run_load", lambda *a, **k: next(results))
    out = run_warmup(Target("http://127.0.0.1:1/x"), window=10, max_requests=50, tolerance=0.1)
    assert (len(out.windows), out.settled, out.reason) == (windows, settled, reason)


def test_nearest_rank_percentiles():
    result = LoadResult(100, 100, 1.0, [i / 1000 for i in range(1, 101)], {}, 1)
    assert [result.percentile(p) for p in (50, 90, 99, 100)] == [0.05, 0.09, 0.099, 0.1]
    assert result.to_dict()["latency_ms"] == {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
