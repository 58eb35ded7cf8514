"""`mdeploy smoke` against a real Triton server and a real HTTP test CGI."""

from __future__ import annotations

import pytest

from mdeploy.ops.checks import load_sample_request, tfserving_verdict
from mdeploy.report import ToolError

from .conftest import closed_port
from .helpers import as_json, mdeploy, one_line_error

pytestmark = pytest.mark.slow


def rows_by_name(result) -> dict[str, dict]:
    return {row["name"]: row for row in as_json(result)["checks"]}


def test_all_green_over_http(triton, cgi, repo_root):
    result = mdeploy("smoke", "demo", "--env", "prod", "--base-url", cgi, "--model-url", f"main={triton.http_url}", root=repo_root)
    assert result.exit_code == 0, result.output
    names = [line.split()[0:6] for line in result.stdout.splitlines()[2:-1]]
    assert len(names) == 5  # route health, live, ready, model ready, model metadata
    assert "PASS" in result.stdout and "FAIL" not in result.stdout
    assert result.stdout.splitlines()[-1] == "demo in prod: 5 of 5 checks passed"


def test_all_green_over_grpc_json(triton, cgi, repo_root):
    result = mdeploy("smoke", "demo", "--env", "gray", "--base-url", cgi, "--protocol", "grpc",
                     "--model-url", f"main={triton.grpc_url}", "--format", "json", root=repo_root)
    assert result.exit_code == 0, result.output
    doc = as_json(result)
    assert doc["ok"] is True and doc["service"] == "demo" and doc["env"] == "gray"
    rows = rows_by_name(result)
    assert set(rows) == {"route health", "main (grpc) server live", "main (grpc) server ready",
                         "main (grpc) model add_one ready", "main (grpc) model add_one metadata"}
    # gray keeps its public prefix: the health URL is under /api/grey/content/<service>
    assert rows["route health"]["target"] == f"{cgi}/api/grey/content/demo/api/ping"
    assert rows["main (grpc) model add_one metadata"]["detail"] == "inputs INPUT0 FP32[-1]; outputs OUTPUT0 FP32[-1]"
    assert all(set(row) == {"name", "target", "status", "detail"} for row in doc["checks"])


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_model_not_ready_fails_with_triton_reason(triton, cgi, repo_root, protocol):
    url = triton.http_url if protocol == "http" else triton.grpc_url
    result = mdeploy("smoke", "demo-bad", "--env", "prod", "--base-url", cgi, "--protocol", protocol,
                     "--model-url", f"main={url}", "--format", "json", root=repo_root)
    assert result.exit_code == 1
    rows = rows_by_name(result)
    broken = rows[f"main ({protocol}) model broken ready"]
    assert broken["status"] == "fail"
    assert broken["detail"].startswith("model not ready: UNAVAILABLE")
    assert "this model is broken on purpose" in broken["detail"]
    assert rows[f"main ({protocol}) model add_one ready"]["status"] == "pass"


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_server_down_is_a_failed_row_in_plain_words(cgi, repo_root, protocol):
    port = closed_port()
    url = f"http://127.0.0.1:{port}" if protocol == "http" else f"127.0.0.1:{port}"
    result = mdeploy("smoke", "demo", "--env", "prod", "--base-url", cgi, "--protocol", protocol,
                     "--model-url", f"main={url}", "--timeout", "3", "--format", "json", root=repo_root)
    assert result.exit_code == 1
    rows = rows_by_name(result)
    assert rows["route health"]["status"] == "pass"
    live = rows[f"main ({protocol}) server live"]
    assert live["status"] == "fail"
    assert live["detail"].startswith("connection refused"), live["detail"]


def test_route_down_and_cgi_500(triton, cgi, repo_root, tmp_path):
    request = tmp_path / "request.json"
    request.write_text('{"method": "POST", "path": "/broken", "json": {"x": 1}}')
    result = mdeploy("smoke", "demo", "--env", "prod", "--base-url", cgi, "--model-url", f"main={triton.http_url}",
                     "--request", str(request), "--format", "json", root=repo_root)
    assert result.exit_code == 1
    sample = rows_by_name(result)["sample POST /broken"]
    assert sample["status"] == "fail"
    assert sample["detail"].startswith("HTTP 500 in ") and "expected 200" in sample["detail"]

    down = mdeploy("smoke", "demo", "--env", "prod", "--base-url", f"http://127.0.0.1:{closed_port()}",
                   "--model-url", f"main={triton.http_url}", "--format", "json", root=repo_root)
    assert down.exit_code == 1
    assert rows_by_name(down)["route health"]["detail"].startswith("connection refused")


def test_sample_request_passes(triton, cgi, repo_root, tmp_path):
    request = tmp_path / "request.json"
    request.write_text('{"path": "/predict", "json": {"image": "x"}, "expectStatus": 200, "expectContains": "received"}')
    result = mdeploy("smoke", "demo", "--env", "prod", "--base-url", cgi, "--model-url", f"main={triton.http_url}",
                     "--request", str(request), root=repo_root)
    assert result.exit_code == 0, result.output
    assert "sample POST /predict" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "bad request file: not JSON: Expecting property name enclosed in double quotes"),
        ('["/predict"]', "bad request file: expected a JSON object"),
        ('{"path": "predict"}', 'bad request file: "path" must be a string starting with /'),
        ('{"path": "/p", "bogus": 1}', "bad request file: unknown keys ['bogus']"),
    ],
)
def test_bad_request_file_is_one_line_exit_1(repo_root, tmp_path, content, message):
    request = tmp_path / "request.json"
    request.write_text(content)
    result = mdeploy("smoke", "demo", "--env", "prod", "--request", str(request), root=repo_root)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert str(request) in line and message in line
    assert result.stdout == ""  # refused before any traffic or table


def test_unknown_service_and_model_are_usage_errors(repo_root):
    result = mdeploy("smoke", "nope", "--env", "prod", root=repo_root)
    assert result.exit_code == 2
    assert one_line_error(result) == (
        f"mdeploy: no service 'nope' in prod ({repo_root}/environments/prod/nope.yaml not found; known: demo, demo-bad)"
    )
    result = mdeploy("smoke", "demo", "--env", "prod", "--model-url", "ocr=http://127.0.0.1:1", root=repo_root)
    assert result.exit_code == 2
    assert one_line_error(result) == "mdeploy: service demo has no model server 'ocr' (models: main)"


def test_missing_request_file(repo_root, tmp_path):
    result = mdeploy("smoke", "demo", "--env", "prod", "--request", str(tmp_path / "none.json"), root=repo_root)
    assert result.exit_code == 1
    assert one_line_error(result).endswith("bad request file: file not found (request-file)")


# --- TF-Serving policies: the verdict on the documented GET /v1/models/<name> answer ------

def status(*pairs: tuple[int, str]) -> dict:
    return {"model_version_status": [{"version": str(v), "state": s, "status": {"error_code": "OK", "error_message": ""}} for v, s in pairs]}


@pytest.mark.parametrize(
    ("entry", "answer", "ok", "detail"),
    [
        ({"name": "m"}, status((3, "AVAILABLE")), True, "AVAILABLE: 3"),
        ({"name": "m", "versionPolicy": {"latest": {"numVersions": 1}}}, status((3, "AVAILABLE"), (2, "AVAILABLE")), False,
         "2 versions AVAILABLE but policy latest keeps 1: 2, 3"),
        ({"name": "m", "versionPolicy": {"specific": {"versions": [41, 42]}}}, status((41, "AVAILABLE"), (42, "LOADING")), False,
         "versions not AVAILABLE: 42 LOADING (AVAILABLE: 41)"),
        ({"name": "m", "versionPolicy": {"specific": {"versions": [41, 42]}}, "versionLabels": {"stable": 41, "canary": 43}},
         status((41, "AVAILABLE"), (42, "AVAILABLE")), False, "versions not AVAILABLE: 43 not loaded (AVAILABLE: 41, 42)"),
        ({"name": "m", "versionPolicy": {"all": {}}}, status((1, "AVAILABLE"), (2, "AVAILABLE")), True, "AVAILABLE: 1, 2"),
        ({"name": "m", "versionPolicy": {"all": {}}}, status((1, "AVAILABLE"), (2, "END")), False, "versions not AVAILABLE: 2 END (AVAILABLE: 1)"),
        ({"name": "m"}, status(), False, "no version AVAILABLE"),
    ],
)
def test_tfserving_version_policy_verdict(entry, answer, ok, detail):
    assert tfserving_verdict(entry, answer) == (ok, detail)


def test_sample_request_defaults(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"path": "/api/ping"}')
    sample = load_sample_request(path)
    assert (sample.method, sample.body, sample.expect_status) == ("GET", None, 200)
    path.write_text('{"path": "/x", "json": "a", "body": "b"}')
    with pytest.raises(ToolError, match='give "json" or "body", not both'):
        load_sample_request(path)
