"""The observability bundle: monitors, alert rules and the Grafana dashboard.

Every PromQL expression the chart ships (alerts and dashboard panels) is parsed with
Prometheus' own grammar; every object validates against its published model.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from mdeploy.kube_schema import validate_manifests
from mdeploy.toolchain import repo_root
from tests.chart.chartlib import EXAMPLES, example_files, find, one, render, render_scenario

PROMQL_CHECK = repo_root() / "tools" / "crd-schemas" / "promql.mjs"


def promql_problems(exprs: list[str]) -> list[list[str]]:
    out = subprocess.run(["node", str(PROMQL_CHECK)], input=json.dumps(exprs), capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def rule_exprs(docs) -> list[str]:
    return [r["expr"] for rule in find(docs, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"]]


def dashboard(docs) -> dict:
    cms = [d for d in find(docs, "ConfigMap") if d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(cms) == 1
    (text,) = cms[0]["data"].values()
    return json.loads(text)


def dashboard_exprs(board: dict) -> list[str]:
    # Grafana's $__rate_interval / $namespace are substituted by Grafana before Prometheus sees them.
    return [t["expr"].replace("$__rate_interval", "5m").replace("$namespace", "ns")
            for p in board["panels"] for t in p.get("targets", [])]


def alerts(docs) -> dict[str, dict]:
    return {r["alert"]: r for rule in find(docs, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"]}


@pytest.fixture(scope="module")
def scenario():
    return render_scenario("observability")


def test_promql_checker_rejects_bad_syntax():
    assert promql_problems(["sum(rate(x[5m])", "rate(x[5m])", "nosuchfunction(x)"])[1] == []
    problems = promql_problems(["sum(rate(x[5m])", "nosuchfunction(x)"])
    assert all(problems), problems


def test_scenario_validates(scenario):
    assert validate_manifests(scenario) == []


def test_pod_monitors_for_every_component_with_metrics(scenario):
    assert not find(scenario, "ServiceMonitor")
    monitors = {m["metadata"]["name"]: m for m in find(scenario, "PodMonitor")}
    # `quiet` is TF-Serving with monitoring off: nothing to scrape.
    assert sorted(monitors) == ["vision-suite-cgi", "vision-suite-detect", "vision-suite-embed", "vision-suite-tagger"]
    endpoints = {name: m["spec"]["podMetricsEndpoints"][0] for name, m in monitors.items()}
    assert {n: (e["port"], e["path"]) for n, e in endpoints.items()} == {
        "vision-suite-cgi": ("http", "/api/metrics"),
        "vision-suite-detect": ("metrics", "/metrics"),
        "vision-suite-embed": ("http", "/monitoring/prometheus/metrics"),
        "vision-suite-tagger": ("http", "/stats/prometheus"),
    }
    for name, monitor in monitors.items():
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        deployment = one(scenario, "Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        port_names = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        assert endpoints[name]["port"] in port_names
        stamped = {r["targetLabel"]: r["replacement"] for r in endpoints[name]["relabelings"]}
        assert stamped == {"model_service": "vision-suite", "environment": "prod", "team": "vision",
                           "component": name.removeprefix("vision-suite-")}


@pytest.mark.parametrize("env, service", EXAMPLES)
def test_examples_get_service_monitors_matching_their_services(env, service):
    docs = render(example_files(env, service))
    assert validate_manifests([d for d in docs if d["kind"] in ("ServiceMonitor", "PrometheusRule", "ConfigMap")]) == []
    for monitor in find(docs, "ServiceMonitor"):
        svc = one(docs, "Service", monitor["metadata"]["name"])
        assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in svc["spec"]["ports"]}
    runtimes = {d["metadata"]["name"]: d["metadata"]["labels"]["model-deploy.dev/runtime"] for d in find(docs, "Deployment")}
    expected = {n for n, r in runtimes.items() if r in ("triton", "tfserving")}
    assert {m["metadata"]["name"] for m in find(docs, "ServiceMonitor")} == expected


def test_no_operator_no_monitors_or_rules():
    docs = render_scenario("observability", {"environment": {"cluster": {"prometheusOperator": False, "grafanaDashboards": False}}})
    assert not [d for d in docs if d["kind"] in ("ServiceMonitor", "PodMonitor", "PrometheusRule")]
    assert not [d for d in find(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"].get("labels", {})]


def test_service_monitor_kind_is_the_default():
    docs = render_scenario("observability", {"environment": {"cluster": {"monitorKind": None}}})
    assert not find(docs, "PodMonitor")
    assert len(find(docs, "ServiceMonitor")) == 4


def test_alerts_name_service_environment_team_and_routing(scenario):
    rules = alerts(scenario)
    assert set(rules) == {"ModelServicePodCrashLooping", "ModelServiceReplicasUnavailable", "ModelServiceDown",
                          "ModelServiceTritonInferenceFailures", "ModelServiceTritonQueueTimeHigh",
                          "ModelServiceTFServingRequestFailures", "ModelServiceGPUMemoryNearFull"}
    for name, rule in rules.items():
        labels = rule["labels"]
        assert {k: labels[k] for k in ("service", "environment", "team", "routing")} == {
            "service": "vision-suite", "environment": "prod", "team": "vision", "routing": "vision-chat"}, name
        assert labels["severity"] in ("warning", "critical")
        assert "vision-suite in environment prod (team vision)" in rule["annotations"]["summary"]
        assert 'namespace="ms-prod-vision-suite"' in rule["expr"]
    assert "DCGM_FI_DEV_FB_USED" in rules["ModelServiceGPUMemoryNearFull"]["expr"]
    assert 'component=~"detect"' in rules["ModelServiceTritonQueueTimeHigh"]["expr"]
    # Only servers that expose metrics are alerted on (quiet has monitoring off).
    assert 'component=~"embed"' in rules["ModelServiceTFServingRequestFailures"]["expr"]


def test_alert_annotations_keep_prometheus_templates(scenario):
    # Helm must leave Prometheus' own {{ $labels.x }} for Alertmanager to fill.
    description = alerts(scenario)["ModelServicePodCrashLooping"]["annotations"]["description"]
    assert "{{ $labels.pod }}" in description and "{{ $labels.container }}" in description


def test_cpu_only_service_gets_workload_alerts_only():
    docs = render(example_files("prod", "text-lang"))
    assert set(alerts(docs)) == {"ModelServicePodCrashLooping", "ModelServiceReplicasUnavailable", "ModelServiceDown"}


def test_gpu_alert_without_dcgm_uses_triton_metrics():
    docs = render(example_files("prod", "ocr-detect"))
    assert "nv_gpu_memory_used_bytes" in alerts(docs)["ModelServiceGPUMemoryNearFull"]["expr"]
    docs = render(example_files("prod", "rec-rank"))  # TF-Serving GPU, no DCGM: no GPU metric exists
    assert "ModelServiceGPUMemoryNearFull" not in alerts(docs)


@pytest.mark.parametrize("source", ["scenario", *[f"{e}/{s}" for e, s in EXAMPLES]])
def test_every_promql_expression_parses(source, scenario):
    docs = scenario if source == "scenario" else render(example_files(*source.split("/")))
    exprs = rule_exprs(docs) + dashboard_exprs(dashboard(docs))
    assert exprs
    assert dict(zip(exprs, promql_problems(exprs))) == {e: [] for e in exprs}


def test_dashboard(scenario):
    cm = [d for d in find(scenario, "ConfigMap") if d["metadata"]["name"] == "vision-suite-dashboard"][0]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"]["grafana_folder"] == "Vision"
    board = dashboard(scenario)
    assert board["uid"] == "ms-prod-vision-suite" and len(board["uid"]) <= 40
    assert board["title"] == "Model service: vision-suite (prod)"
    assert not re.search(r"__[A-Z]+__", json.dumps(board)), "a placeholder was left in"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["service"]["current"]["value"] == "vision-suite"
    assert variables["environment"]["current"]["value"] == "prod"
    assert variables["namespace"]["current"]["value"] == "ms-prod-vision-suite"
    titles = {p["title"] for p in board["panels"]}
    assert {"Request rate", "Latency", "Errors", "Queue time per request (Triton)", "GPU utilisation",
            "GPU memory used", "Replicas available / desired"} <= titles
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


def test_long_names_get_a_unique_short_dashboard_uid():
    docs = render_scenario("observability", {"service": "a-very-long-service-name-for-uids"})
    uid = dashboard(docs)["uid"]
    assert len(uid) == 40 and uid.startswith("ms-prod-a-very-long-service-nam-")
