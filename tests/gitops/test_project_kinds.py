"""The AppProjects allow exactly the namespaced kinds the chart renders: render the chart over
all its scenarios (charts/model-service/ci/) and the example services, collect (group, kind)."""

from __future__ import annotations


import pytest

from mdeploy.apps import CHART_KINDS
from tests.gitops.conftest import env_names
from tests.harness import CHART, REPO, render_chart

SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
EXAMPLES = [(REPO / "environments" / f"{env}.yaml", svc)
            for env in env_names() for svc in sorted((REPO / "environments" / env).glob("*.yaml"))]


def group_kind(obj: dict) -> tuple[str, str]:
    api_version = obj["apiVersion"]
    return (api_version.rpartition("/")[0] if "/" in api_version else "", obj["kind"])


@pytest.fixture(scope="module")
def rendered_kinds() -> set[tuple[str, str]]:
    kinds = set()
    for values in [[s] for s in SCENARIOS] + [list(pair) for pair in EXAMPLES]:
        kinds |= {group_kind(obj) for obj in render_chart(values)}
    return kinds


def test_scenarios_exist():
    assert SCENARIOS and EXAMPLES


def test_the_chart_renders_no_kind_the_projects_forbid(rendered_kinds):
    forbidden = rendered_kinds - set(CHART_KINDS)
    assert not forbidden, (f"chart renders {sorted(forbidden)} which the AppProjects forbid (the sync would "
                           "fail): add them to CHART_KINDS in tools/mdeploy/apps.py and run `mdeploy apps`")


def test_the_projects_allow_no_kind_the_chart_never_renders(rendered_kinds):
    unused = set(CHART_KINDS) - rendered_kinds
    assert not unused, f"projects allow {sorted(unused)} but no chart scenario renders them: remove from CHART_KINDS"
