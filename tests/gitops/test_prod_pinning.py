"""A chart change in the working tree changes no prod render: prod renders the released chart
its service file pins (tag, else the last commit with that version), never the working tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mdeploy.files import extract_tar
from mdeploy.chart_source import clear_resolution_cache, resolve_chart
from tests.gitops.gitrepo import commit_all, git, init_repo
from tests.harness import REPO, render_chart

SERVICES = sorted(p.name for p in (REPO / "environments" / "prod").glob("*.yaml"))


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo")
    # The committed chart and services (not whatever is half-edited in this checkout).
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD", "charts/model-service",
                              "environments"], capture_output=True, check=True).stdout
    extract_tar(archive, repo)
    commit_all(repo, "chart and services")
    clear_resolution_cache()
    yield repo
    clear_resolution_cache()


def render(repo: Path, tier: str, service: str) -> list[dict]:
    env = "prod" if tier == "prod" else "gray"
    chart = resolve_chart("1.0.0", root=repo, tier=tier).path
    return render_chart([repo / "environments" / f"{env}.yaml", repo / "environments" / env / service], chart=chart)


def edit_chart_in_working_tree(repo: Path) -> None:
    """An unreleased change: every object gets a new label; Chart.yaml keeps its version."""
    helpers = repo / "charts" / "model-service" / "templates" / "_helpers.tpl"
    text = helpers.read_text()
    marker = "app.kubernetes.io/managed-by"
    assert marker in text, "the chart's labels helper names managed-by"
    helpers.write_text(text.replace(marker, "unreleased-change: \"yes\"\n" + marker, 1))


@pytest.mark.parametrize("tagged", [True, False], ids=["tag", "no-tags"])
@pytest.mark.parametrize("service", SERVICES)
def test_working_tree_chart_change_leaves_prod_render_unchanged(repo, tagged, service):
    if tagged:
        git(repo, "tag", "model-service-1.0.0")
    before = render(repo, "prod", service)
    edit_chart_in_working_tree(repo)
    clear_resolution_cache()
    source = resolve_chart("1.0.0", root=repo, tier="prod")
    assert source.origin == ("tag" if tagged else "commit")
    assert render(repo, "prod", service) == before
    # Control: the working-tree chart really renders differently.
    changed = render_chart([repo / "environments" / "prod.yaml", repo / "environments" / "prod" / service],
                           chart=repo / "charts" / "model-service")
    assert changed != before and any("unreleased-change" in str(obj["metadata"].get("labels", {})) for obj in changed)
