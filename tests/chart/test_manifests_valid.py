"""Every object of every scenario and example service passes the Kubernetes schemas: built-in
kinds strictly against the official schema, custom resources (HTTPRoute, ScaledObject, ...)
against their published models. Nothing passes silently."""

from __future__ import annotations

import copy

import pytest

from mdeploy.kube_schema import validate_manifest, validate_manifests
from tests.chart.chartlib import EXAMPLES, SCENARIOS, example_files, one, render, render_scenario


def test_there_are_scenarios_and_examples():
    assert len(SCENARIOS) >= 9
    assert {svc for _, svc in EXAMPLES} >= {"ocr-detect", "rec-rank", "text-lang"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_objects_validate(scenario):
    docs = render_scenario(scenario)
    assert docs
    assert validate_manifests(docs) == []


@pytest.mark.parametrize(("env", "service"), EXAMPLES)
def test_example_service_objects_validate(env, service):
    docs = render(example_files(env, service))
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ServiceAccount", "HTTPRoute"} <= kinds
    assert validate_manifests(docs) == []


def test_custom_resources_are_validated_against_published_models():
    """A broken HTTPRoute is reported, not passed silently as an unknown custom resource."""
    route = copy.deepcopy(one(render_scenario("comics"), "HTTPRoute", "comics"))
    route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"  # Ingress spelling, invalid here
    problems = validate_manifest(route)
    assert problems and all(p.startswith("HTTPRoute/comics: ") for p in problems)


def test_builtin_kinds_are_validated_strictly():
    deployment = copy.deepcopy(one(render_scenario("comics"), "Deployment", "comics-cgi"))
    deployment["spec"]["template"]["spec"]["containers"][0]["hostPort"] = 80  # unknown field there
    assert any("hostPort" in p for p in validate_manifest(deployment))
