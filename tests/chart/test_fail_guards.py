"""Every `fail`/`required` guard of the chart, each with the message it must print. Guards cover
what the schema cannot express; each message starts with the values key to fix."""

from __future__ import annotations

import pytest

from tests.chart.chartlib import render_error, scenario_file

GUARDS = [
    ("comics", {"models": {"cgi": {"runtime": "custom", "image": "registry.example.com/ai/x:1",
                                   "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                                   "custom": {"ports": [{"name": "http", "port": 9000}]}}}},
     "models.cgi: the model server name cgi is reserved"),
    ("comics", {"cgi": {"resources": {"requests": {"cpu": "3"}}}},
     "cgi.resources.requests.cpu (3) must not exceed cgi.resources.limits.cpu (1)"),
    ("comics", {"cgi": {"resources": {"requests": {"memory": "1025Mi"}}}},
     "cgi.resources.requests.memory (1025Mi) must not exceed cgi.resources.limits.memory (1Gi)"),
    ("triton-initializer", {"models": {"ocr": {"gpu": {"mode": "mig", "migProfile": "1g.10gb"}}}},
     "models.ocr.gpu.mode: mig is not offered by environment gray (it offers whole, timeslice)"),
    ("gpu-sharing", {"models": {"sliced": {"gpu": {"count": 2}}}},
     "models.sliced.gpu.count: time-sliced GPUs are shared per pod, so count must be 1 (got 2)"),
    ("gpu-sharing", {"models": {"mig": {"gpu": {"migProfile": None}}}},
     "models.mig.gpu.migProfile: required when mode is mig"),
    ("gpu-sharing", {"models": {"hami": {"gpu": {"coresPercent": None}}}},
     "models.hami.gpu: mode hami needs memoryMiB and/or coresPercent"),
    ("gpu-sharing", {"models": {"mig": {"gpu": {"mode": "whole"}}}},
     "models.mig.gpu.migProfile: only valid with mode mig (mode is whole)"),
    ("gpu-sharing", {"models": {"hamimem": {"gpu": {"mode": "whole"}}}},
     "models.hamimem.gpu: memoryMiB, coresPercent and type are HAMi settings; set mode hami or remove them"),
    ("autoscaling-hpa", {"cgi": {"autoscaling": {"minReplicas": 8, "maxReplicas": 4}}},
     "cgi.autoscaling.maxReplicas (4) must be >= cgi.autoscaling.minReplicas (8)"),
    ("autoscaling-hpa", {"environment": {"cluster": {"metricsAdapter": False}}},
     "models.embed.autoscaling.metric: queue-time needs environment.cluster.metricsAdapter or environment.cluster.keda in environment prod"),
    ("autoscaling-hpa", {"models": {"side": {"autoscaling": {"metric": "queue-time"}}}},
     "models.side.autoscaling.metric: queue-time is a Triton metric; runtime custom scales on cpu"),
    ("comics", {"cgi": {"replicas": 1}},
     "cgi.replicas: prod needs at least 2 replicas so a node failure or rollout never drops requests (got 1)"),
    ("custom-cpu", {"models": {"cls": {"custom": {"ports": [{"name": "http", "port": 9000}, {"name": "grpc", "port": 9000}]}}}},
     "models.cls.custom.ports: port names and numbers must be unique (grpc/9000 repeats)"),
    ("tfserving-policies", {"models": {"ranker": {"tfserving": {"models": [{"name": "a", "basePath": "/m/a"}, {"name": "a", "basePath": "/m/b"}]}}}},
     "models.ranker.tfserving.models[1].name: model a is declared twice"),
    ("tfserving-policies", {"models": {"ranker": {"tfserving": {"models": [
        {"name": "a", "basePath": "/m/a", "versionPolicy": {"specific": {"versions": [1, 2]}}, "versionLabels": {"stable": 3}}]}}}},
     "models.ranker.tfserving.models[0].versionLabels.stable: version 3 is not among versionPolicy.specific.versions"),
    ("comics", {"cgi": {"preStopSeconds": 30, "terminationGracePeriodSeconds": 30}},
     "cgi.terminationGracePeriodSeconds (30) must be greater than cgi.preStopSeconds (30)"),
    ("triton-explicit", {"models": {"embed": {"triton": {"models": None}}}},
     "models.embed.triton.models: explicit model control mode loads only the listed models, so list at least one"),
    ("comics", {"environment": {"route": {"gateway": None}}},
     "environment.route.gateway: route kind gateway needs the parent Gateway (name, namespace)"),
    ("comics", {"cgi": {"env": {"GREETING": "hello\x9fworld"}}},
     "cgi: a value holds characters YAML cannot encode (C1 control characters U+0080-U+009F); remove them"),
    ("triton-initializer", {"models": {"ocr": {"triton": {"repository": {"initializer": {"args": ["\x9f"]}}}}}},
     "models.ocr: a value holds characters YAML cannot encode"),
    ("comics", {"environment": {"route": {"kind": "ingress"}}},
     "environment.route.ingress: route kind ingress needs ingress.className"),
]

# The same guards reached through other values paths.
MORE_CASES = [
    ("triton-initializer", {"models": {"ocr": {"triton": {"repository": {"initializer": {"resources": {"requests": {"cpu": "2"}}}}}}}},
     "models.ocr.triton.repository.initializer.resources.requests.cpu (2) must not exceed models.ocr.triton.repository.initializer.resources.limits.cpu (1)"),
    ("prod-budgets", {"models": {"main": {"resources": {"requests": {"memory": "33Gi"}}}}},
     "models.main.resources.requests.memory (33Gi) must not exceed models.main.resources.limits.memory (32Gi)"),
    ("triton-explicit", {"models": {"embed": {"replicas": 1}}},
     "models.embed.replicas: prod needs at least 2 replicas"),
]


@pytest.mark.parametrize(("scenario", "overlay", "message"), GUARDS + MORE_CASES, ids=[g[2].split(":")[0] + f"-{i}" for i, g in enumerate(GUARDS + MORE_CASES)])
def test_guard_fails_the_render_naming_the_key(scenario, overlay, message):
    error = render_error([scenario_file(scenario)], overlay)
    assert "execution error at (model-service/templates/" in error
    assert message in error


def test_every_guard_in_the_templates_has_a_test():
    """Counts the guards in the chart's own templates against GUARDS, so a new guard needs a test."""
    from tests.harness import CHART
    mine = ["_helpers.tpl", "_workloads.tpl", "_pod.tpl", "_containers.tpl", "_serverconfig.tpl",
            "deployment.yaml", "service.yaml", "configmap.yaml", "httproute.yaml", "ingress.yaml",
            "poddisruptionbudget.yaml", "horizontalpodautoscaler.yaml", "scaledobject.yaml",
            "serviceaccount.yaml"]
    text = "".join((CHART / "templates" / name).read_text() for name in mine)
    guards = text.count("fail (") + text.count('fail "') + text.count("required (") + text.count('required "')
    assert guards == len(GUARDS)


def test_schema_rejects_what_it_can_express():
    """Helm's own schema check (values.schema.json) rejects bad values before any template runs."""
    error = render_error([scenario_file("comics")], {"cgi": {"replicas": 0, "hostNetwork": True},
                                                      "models": {"x": {"runtime": "onnx"}}})
    assert "values don't meet the specifications of the schema" in error
    assert "/cgi/replicas" in error and "/cgi" in error and "hostNetwork" in error
