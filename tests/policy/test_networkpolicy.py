"""NetworkPolicy isolation of a rendered service, checked by evaluating the policies.

Who may talk to whom is decided by a small evaluator of NetworkPolicy semantics (netpol.py), so
these tests state intent ("the gateway reaches the CGI, nothing else reaches a model server")
instead of repeating the YAML.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mdeploy.helm import HelmError
from mdeploy.kube_schema import validate_manifests
from tests.harness import REPO, render_chart
from tests.policy.netpol import Cluster, External, Pod, pods_of, policies_of

ENVS = ("gray", "prod")
SERVICES = ("ocr-detect", "rec-rank", "text-lang")

GATEWAY = Pod("gateway-system", {"app": "envoy"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})


def render(env: str, service: str, tmp_path: Path | None = None, extra: dict | None = None):
    files = [REPO / "environments" / f"{env}.yaml", REPO / "environments" / env / f"{service}.yaml"]
    if extra is not None:
        overlay = tmp_path / "overlay.yaml"
        overlay.write_text(yaml.safe_dump(extra))
        files.append(overlay)
    return render_chart(files)


@pytest.fixture(scope="module", params=[(e, s) for e in ENVS for s in SERVICES], ids="-".join)
def rendered(request):
    env, service = request.param
    return env, service, render(env, service)


def test_policies_validate(rendered):
    _, _, docs = rendered
    assert validate_manifests(policies_of(docs)) == []


def test_every_pod_is_isolated_for_ingress(rendered):
    _, _, docs = rendered
    cluster = Cluster(policies_of(docs))
    stranger = Pod("default", {"app": "curl"})
    for pod in pods_of(docs).values():
        for port in pod.ports:
            assert not cluster.ingress_allowed(stranger, pod, port), (pod.name, port)
    # The default-deny also covers any other pod that lands in the namespace.
    namespace = next(iter(pods_of(docs).values())).namespace
    debug = Pod(namespace, {"run": "debug"}, frozenset({8080}))
    assert not cluster.ingress_allowed(stranger, debug, 8080)


def test_gateway_reaches_only_the_cgi(rendered):
    env, service, docs = rendered
    cluster = Cluster(policies_of(docs))
    pods = pods_of(docs)
    cgi = pods[f"{service}-cgi"]
    assert [p for p in cgi.ports if cluster.connects(GATEWAY, cgi, p)] == list(cgi.ports)
    for name, pod in pods.items():
        if name != f"{service}-cgi":
            assert not any(cluster.connects(GATEWAY, pod, p) for p in pod.ports), name
    # A namespace that is not the environment's gateway namespace gets nothing.
    other_ingress = Pod("ingress-nginx", {"app": "controller"})
    assert not any(cluster.connects(other_ingress, cgi, p) for p in cgi.ports)


def test_model_servers_accept_only_their_cgi_and_prometheus_on_metrics(rendered):
    env, service, docs = rendered
    cluster = Cluster(policies_of(docs))
    pods = pods_of(docs)
    cgi = pods[f"{service}-cgi"]
    servers = {n: p for n, p in pods.items() if n != f"{service}-cgi"}
    metrics_ports = {8002}  # Triton's dedicated metrics port; TF-Serving serves metrics on REST 8501
    for name, server in servers.items():
        runtime = server.labels["model-deploy.dev/runtime"]
        serving = server.ports - metrics_ports
        assert all(cluster.connects(cgi, server, p) for p in serving), name
        assert not any(cluster.connects(cgi, server, p) for p in server.ports & metrics_ports), name
        # Another service's CGI (its own namespace) and a model server of this service: denied.
        other_cgi = Pod(f"ms-{env}-other", {**cgi.labels, "app.kubernetes.io/name": "other"})
        assert not any(cluster.connects(other_cgi, server, p) for p in server.ports), name
        for peer_name, peer in servers.items():
            if peer_name != name:
                assert not any(cluster.connects(peer, server, p) for p in server.ports)
        expected_metrics = {"triton": {8002}, "tfserving": {8501}}.get(runtime, set())
        assert {p for p in server.ports if cluster.connects(PROMETHEUS, server, p)} == expected_metrics


def test_egress_is_open_by_default(rendered):
    _, service, docs = rendered
    cluster = Cluster(policies_of(docs))
    cgi = pods_of(docs)[f"{service}-cgi"]
    assert cluster.egress_allowed(cgi, External("8.8.8.8"), 443)


EGRESS = {"networkPolicy": {"egress": {"restricted": True, "allow": [
    {"cidr": "10.20.0.0/16", "ports": [8020, 9866], "components": ["ocr"], "description": "HDFS"},
    {"cidr": "203.0.113.0/24", "ports": [443], "components": ["cgi"], "description": "image CDN"},
    {"cidr": "198.51.100.7/32", "ports": [443], "description": "everyone: licence server"},
]}}}


@pytest.mark.parametrize("env", ENVS)
def test_restricted_egress(env, tmp_path):
    docs = render(env, "ocr-detect", tmp_path, EGRESS)
    assert validate_manifests(policies_of(docs)) == []
    cluster = Cluster(policies_of(docs))
    pods = pods_of(docs)
    cgi, ocr = pods["ocr-detect-cgi"], pods["ocr-detect-ocr"]
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    for pod in (cgi, ocr):
        assert cluster.egress_allowed(pod, dns, 53, "UDP")
        assert cluster.egress_allowed(pod, dns, 53, "TCP")
        assert not cluster.egress_allowed(pod, External("8.8.8.8"), 443)
        assert cluster.egress_allowed(pod, External("198.51.100.7"), 443)
        assert not cluster.egress_allowed(pod, External("198.51.100.8"), 443)
    assert cluster.connects(cgi, ocr, 8000) and cluster.connects(cgi, ocr, 8001)
    assert cluster.egress_allowed(ocr, External("10.20.3.4"), 8020)
    assert not cluster.egress_allowed(cgi, External("10.20.3.4"), 8020)
    assert cluster.egress_allowed(cgi, External("203.0.113.9"), 443)
    assert not cluster.egress_allowed(ocr, External("203.0.113.9"), 443)
    assert not cluster.egress_allowed(ocr, cgi, 8080)  # a model server never calls back


def test_unknown_component_in_egress_allow_fails(tmp_path):
    extra = {"networkPolicy": {"egress": {"restricted": True, "allow": [
        {"cidr": "10.0.0.0/8", "ports": [443], "components": ["orc"]}]}}}
    with pytest.raises(HelmError) as err:
        render("gray", "ocr-detect", tmp_path, extra)
    assert ('networkPolicy.egress.allow: component "orc" of 10.0.0.0/8 is neither cgi nor a model key (ocr)'
            in err.value.message)


def test_route_namespaces_default_to_the_gateway_namespace(tmp_path):
    env = yaml.safe_load((REPO / "environments" / "gray.yaml").read_text())
    del env["environment"]["route"]["namespaces"]
    env["environment"]["route"]["gateway"]["namespace"] = "edge"
    env_file = tmp_path / "gray.yaml"
    env_file.write_text(yaml.safe_dump(env))
    docs = render_chart([env_file, REPO / "environments" / "gray" / "text-lang.yaml"])
    cluster = Cluster(policies_of(docs))
    cgi = pods_of(docs)["text-lang-cgi"]
    assert cluster.connects(Pod("edge", {}), cgi, 8080)
    assert not cluster.connects(GATEWAY, cgi, 8080)


def test_no_route_namespace_at_all_fails(tmp_path):
    env = yaml.safe_load((REPO / "environments" / "gray.yaml").read_text())
    route = env["environment"]["route"]
    del route["namespaces"], route["gateway"]
    route["kind"] = "ingress"
    route["ingress"] = {"className": "nginx"}
    env_file = tmp_path / "gray.yaml"
    env_file.write_text(yaml.safe_dump(env))
    with pytest.raises(HelmError) as err:
        render_chart([env_file, REPO / "environments" / "gray" / "text-lang.yaml"])
    assert "environment.route.namespaces: list the gateway/ingress controller namespaces" in err.value.message


def test_network_isolation_scenario():
    from tests.chart.chartlib import render_scenario
    docs = render_scenario("network-isolation")
    assert validate_manifests(docs) == []
    cluster = Cluster(policies_of(docs))
    pods = pods_of(docs)
    cgi, ocr = pods["ocr-locked-cgi"], pods["ocr-locked-ocr"]
    for namespace in ("gateway-system", "edge-proxies"):
        assert cluster.connects(Pod(namespace, {}), cgi, 8080)
    assert not cluster.connects(Pod("monitoring", {}), cgi, 8080)  # the CGI declares no metrics
    assert cluster.connects(cgi, ocr, 8001)
    assert cluster.egress_allowed(ocr, External("10.20.0.5"), 9866)
    assert not cluster.egress_allowed(ocr, External("10.21.0.5"), 9866)
