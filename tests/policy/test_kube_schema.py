"""mdeploy.kube_schema: one validator for every rendered object; nothing passes silently."""

from __future__ import annotations

import copy
import json

import pytest

from mdeploy import kube_schema
from mdeploy.kube_schema import validate_each, validate_manifest, validate_manifests

META = {"name": "ocr-detect", "namespace": "ms-gray-ocr-detect", "labels": {"app": "ocr-detect"}}

# A realistic, valid object of every custom resource kind in tools/crd-schemas/kinds.json.
VALID_CRS = {
    "HTTPRoute": {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": META,
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "gateway-system", "sectionName": "https"}],
            "hostnames": ["ai.example.com"],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": "/api/grey/content/ocr-detect"}}],
                "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {
                    "type": "ReplacePrefixMatch", "replacePrefixMatch": "/api/content/ocr-detect"}}}],
                "backendRefs": [{"name": "ocr-detect-cgi", "port": 8080}],
            }],
        },
    },
    "Gateway": {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": META,
        "spec": {"gatewayClassName": "envoy",
                 "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443,
                                "tls": {"certificateRefs": [{"name": "tls"}]}}]},
    },
    "ServiceMonitor": {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": META,
        "spec": {"selector": {"matchLabels": {"app": "ocr-detect"}},
                 "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}]},
    },
    "PodMonitor": {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": META,
        "spec": {"selector": {"matchLabels": {"app": "ocr-detect"}},
                 "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics"}]},
    },
    "PrometheusRule": {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": META,
        "spec": {"groups": [{"name": "ocr-detect", "rules": [{
            "alert": "PodCrashLooping", "expr": "rate(kube_pod_container_status_restarts_total[5m]) > 0",
            "for": "10m", "labels": {"severity": "warning"}, "annotations": {"summary": "crash"}}]}]},
    },
    "ScaledObject": {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": META,
        "spec": {"scaleTargetRef": {"name": "ocr-detect-ocr"}, "minReplicaCount": 2, "maxReplicaCount": 6,
                 "triggers": [{"type": "prometheus", "metadata": {
                     "serverAddress": "http://prometheus.monitoring:9090", "query": "sum(up)", "threshold": "5"}}]},
    },
    "Application": {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": META,
        "spec": {"project": "model-services-gray",
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": "ms-gray-ocr-detect"},
                 "sources": [{"repoURL": "https://github.com/model-deploy/model-deploy.git",
                              "targetRevision": "model-service-1.0.0", "path": "charts/model-service",
                              # valuesObject is free-form (preserve-unknown-fields): anything goes.
                              "helm": {"valueFiles": ["$values/environments/gray.yaml"],
                                       "valuesObject": {"any": {"thing": 1}}}},
                             {"repoURL": "https://github.com/model-deploy/model-deploy.git",
                              "targetRevision": "main", "ref": "values"}],
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                "syncOptions": ["CreateNamespace=true"]}},
    },
    "AppProject": {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": META,
        "spec": {"sourceRepos": ["https://github.com/model-deploy/model-deploy.git"],
                 "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "ms-gray-*"}],
                 "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]},
    },
    "ApplicationSet": {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "metadata": META,
        "spec": {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
                 "generators": [{"git": {"repoURL": "https://github.com/model-deploy/model-deploy.git",
                                         "revision": "main",
                                         "files": [{"path": "environments/gray/*.yaml"}]}}],
                 "template": {"metadata": {"name": "{{.service}}-gray"},
                              "spec": {"project": "model-services-gray",
                                       "destination": {"server": "https://kubernetes.default.svc",
                                                       "namespace": "ms-gray-{{.service}}"},
                                       "source": {"repoURL": "https://github.com/model-deploy/model-deploy.git",
                                                  "path": "charts/model-service"}}}},
    },
}

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": META,
    "spec": {"selector": {"matchLabels": {"app": "ocr-detect"}},
             "template": {"metadata": {"labels": {"app": "ocr-detect"}},
                          "spec": {"containers": [{"name": "cgi", "image": "registry.example.com/ai/x:1",
                                                   "ports": [{"containerPort": 8080, "name": "http"}]}]}}},
}


def test_every_listed_kind_has_a_valid_example_here():
    assert {kind for _, kind in kube_schema.crd_kinds()} == set(VALID_CRS)


@pytest.mark.parametrize("kind", sorted(VALID_CRS))
def test_valid_custom_resource_passes(kind):
    assert validate_manifest(VALID_CRS[kind]) == []


@pytest.mark.parametrize("kind", sorted(VALID_CRS))
def test_custom_resource_typo_field_fails(kind):
    obj = copy.deepcopy(VALID_CRS[kind])
    obj["spec"]["selectr"] = {}
    assert validate_manifest(obj) == [f"{kind}/ocr-detect: spec.selectr: unknown field \"selectr\""]


def test_nested_typo_and_wrong_type_in_custom_resource():
    obj = copy.deepcopy(VALID_CRS["HTTPRoute"])
    rule = obj["spec"]["rules"][0]
    rule["backendRefs"][0]["port"] = "8080"
    rule["matches"][0]["path"]["tpye"] = "PathPrefix"
    assert validate_manifest(obj) == [
        "HTTPRoute/ocr-detect: spec.rules[0].backendRefs[0].port: must be integer",
        'HTTPRoute/ocr-detect: spec.rules[0].matches[0].path.tpye: unknown field "tpye"',
    ]


def test_custom_resource_enum_and_required():
    obj = copy.deepcopy(VALID_CRS["ServiceMonitor"])
    del obj["spec"]["selector"]
    obj["spec"]["endpoints"][0]["scheme"] = "ftp"
    problems = validate_manifest(obj)
    assert "ServiceMonitor/ocr-detect: spec.selector: required field is missing" in problems
    assert any(p.startswith("ServiceMonitor/ocr-detect: spec.endpoints[0].scheme: must be")
               for p in problems), problems


def test_free_form_fields_stay_free():
    obj = copy.deepcopy(VALID_CRS["Application"])
    obj["spec"]["sources"][0]["helm"]["valuesObject"] = {"models": {"ocr": {"whatever": [1, 2]}}}
    assert validate_manifest(obj) == []


def test_metadata_is_checked_too():
    obj = copy.deepcopy(VALID_CRS["PrometheusRule"])
    obj["metadata"] = {**META, "lables": {"a": "b"}}
    assert validate_manifest(obj) == ['PrometheusRule/ocr-detect: metadata.lables: unknown field "lables"']


@pytest.mark.parametrize("api_version, kind", [
    ("example.com/v1", "Widget"),
    ("gateway.networking.k8s.io/v1", "GRPCRoute"),  # a real CRD we have no model for
    ("monitoring.coreos.com/v1", "Probe"),
    ("policy.example.com/v1", "PodDisruptionBudget"),  # built-in kind name, custom group
    ("apps/v1", "Deploymnet"),
])
def test_unknown_kind_is_an_error(api_version, kind):
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}}
    assert validate_manifest(obj) == [
        f"{kind}/x: no schema for {api_version} {kind}: neither a Kubernetes 1.34 built-in kind nor a "
        "custom resource listed in tools/crd-schemas/kinds.json (add its published model there)"]


def test_missing_kind_is_an_error():
    assert validate_manifest({"metadata": {"name": "x"}}) == ["<no kind>/x: apiVersion and kind must be strings"]


def test_valid_builtin_passes():
    assert validate_manifest(DEPLOYMENT) == []


def test_builtin_unknown_field_fails():
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert validate_manifest(obj) == [
        "Deployment/ocr-detect: spec.template.spec.containers[0]: Additional properties are not allowed "
        "('imagePullPolcy' was unexpected)"]


def test_builtin_wrong_type_fails():
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"]["replicas"] = "2"
    assert validate_manifest(obj) == ["Deployment/ocr-detect: spec.replicas: '2' is not of type 'integer', 'null'"]


def test_batch_keeps_order_and_mixes_builtin_and_custom():
    bad_route = copy.deepcopy(VALID_CRS["HTTPRoute"])
    bad_route["spec"]["hostname"] = ["x"]
    objs = [DEPLOYMENT, bad_route, VALID_CRS["ServiceMonitor"], {"apiVersion": "v1", "kind": "Servic",
                                                                 "metadata": {"name": "s"}}]
    each = validate_each(objs)
    assert [len(p) for p in each] == [0, 1, 0, 1]
    assert validate_manifests(objs) == each[1] + each[3]


def test_missing_models_are_a_clear_tool_error(monkeypatch, tmp_path):
    # A checkout where `make setup` has not installed node_modules: one line saying what to do.
    script = tmp_path / "crd-schemas" / "validate.mjs"
    script.parent.mkdir()
    script.write_text((kube_schema.CRD_VALIDATOR).read_text())
    (script.parent / "kinds.json").write_text(kube_schema.CRD_KINDS_FILE.read_text())
    monkeypatch.setattr(kube_schema, "CRD_VALIDATOR", script)
    with pytest.raises(kube_schema.ToolError) as err:
        validate_manifest(VALID_CRS["HTTPRoute"])
    assert "run `make setup`" in err.value.message
    assert "\n" not in err.value.message


def test_kinds_file_is_the_single_list():
    data = json.loads(kube_schema.CRD_KINDS_FILE.read_text())
    pairs = [(k["apiVersion"], k["kind"]) for k in data["kinds"]]
    assert len(pairs) == len(set(pairs))
    for entry in data["kinds"]:
        assert (kube_schema.repo_root() / "node_modules" / entry["package"] / entry["file"]).is_file(), entry
