"""render: real Helm, naming contract, output directories, and the content-addressed cache."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mdeploy import chart_source, render
from mdeploy.cli import main
from mdeploy.services import Repo
from tests.tools.gitrepo import commit_all, git, write_tiny_chart


@pytest.fixture
def repo(model_repo):
    return Repo(model_repo)


def run(repo, *services, env=None):
    return render.render_apps(repo, repo.select(env, services), jobs=2)


def status(result):
    return {a.app: ("cached" if a.cached else "rendered") for a in result.apps}


def test_renders_each_application_with_its_release_namespace_and_values(repo):
    result = run(repo)
    assert [a.app for a in result.apps] == [
        "ocr-detect-gray", "rec-rank-gray", "text-lang-gray", "ocr-detect-prod", "rec-rank-prod", "text-lang-prod"]
    app = result.apps[0]
    assert (app.failed, app.problems, app.namespace) == (False, [], "ms-gray-ocr-detect")
    # The tiny chart echoes release name, chart version and a value from the service file.
    assert "name: ocr-detect-gray" in app.manifests and 'service: "ocr-detect"' in app.manifests
    assert app.summary["url"] == "https://ai.example.com/api/grey/content/ocr-detect/"
    assert app.chart.origin == "tag"


def test_second_run_is_served_from_the_cache(repo):
    first = run(repo)
    second = run(repo)
    assert (first.rendered, first.cached) == (6, 0)
    assert (second.rendered, second.cached) == (0, 6)
    assert [a.manifests for a in first.apps] == [a.manifests for a in second.apps]


def change_service_file(repo):
    path = repo.service_file("gray", "text-lang")
    path.write_text(path.read_text().replace("Identifies", "Detects"))


def change_env_file(repo):
    path = repo.env_file("gray")
    path.write_text(path.read_text() + "\n# a comment still changes the bytes\n")


def change_chart(repo):
    write_tiny_chart(repo.root, "1.0.0", marker="new-template")
    commit_all(repo.root, "chart edit")
    git(repo.root, "tag", "-f", "model-service-1.0.0")


@pytest.mark.parametrize("change,expected_rendered", [
    (change_service_file, {"text-lang-gray"}),
    (change_env_file, {"ocr-detect-gray", "rec-rank-gray", "text-lang-gray"}),
    (change_chart, {"ocr-detect-gray", "rec-rank-gray", "text-lang-gray",
                    "ocr-detect-prod", "rec-rank-prod", "text-lang-prod"}),
])
def test_cache_is_invalidated_by_each_input(repo, change, expected_rendered):
    run(repo)
    change(repo)
    chart_source.clear_resolution_cache()
    result = run(repo)
    assert {app for app, state in status(result).items() if state == "rendered"} == expected_rendered


@pytest.mark.parametrize("part", ["helm", "kube"])
def test_cache_key_depends_on_helm_and_kubernetes_versions(monkeypatch, part):
    before = render.render_key("tree", b"env", b"svc", "a-gray", "ns")
    if part == "helm":
        monkeypatch.setattr(render, "HELM", render.HELM.__class__("v9.9.9", "", ""))
    else:
        monkeypatch.setattr(render, "KUBE_VERSION", "1.99.0")
    assert render.render_key("tree", b"env", b"svc", "a-gray", "ns") != before


def test_unknown_chart_version_fails_that_application_only(repo):
    path = repo.service_file("gray", "rec-rank")
    path.write_text(path.read_text().replace("chart: 1.0.0", "chart: 7.0.0"))
    result = run(repo, env="gray")
    failed = {a.app: a.problems for a in result.apps if a.failed}
    assert list(failed) == ["rec-rank-gray"]
    assert "chart version 7.0.0 does not exist" in failed["rec-rank-gray"][0]


def test_helm_failure_is_reported_with_helms_message(repo):
    template = repo.root / "charts/model-service/templates/fail.yaml"
    template.write_text('{{ fail "service needs cgi.image" }}\n')
    result = run(repo, "text-lang", env="gray")
    assert result.apps[0].failed is False  # 1.0.0 is tagged: the tag is used, the working tree edit is not
    chart = repo.root / "charts/model-service/Chart.yaml"
    chart.write_text(chart.read_text().replace("1.0.0", "1.1.0"))
    svc = repo.service_file("gray", "text-lang")
    svc.write_text(svc.read_text().replace("chart: 1.0.0", "chart: 1.1.0"))
    chart_source.clear_resolution_cache()
    result = run(repo, "text-lang", env="gray")
    assert result.apps[0].failed and "service needs cgi.image" in result.apps[0].problems[0]


def test_invalid_objects_are_reported(repo):
    template = repo.root / "charts/model-service/templates/configmap.yaml"
    chart = repo.root / "charts/model-service/Chart.yaml"
    chart.write_text(chart.read_text().replace("1.0.0", "1.1.0"))
    template.write_text(template.read_text().replace("\ndata:", "\ndataa:"))
    svc = repo.service_file("gray", "text-lang")
    svc.write_text(svc.read_text().replace("chart: 1.0.0", "chart: 1.1.0"))
    result = run(repo, "text-lang", env="gray")
    assert result.apps[0].problems and result.apps[0].problems[0].startswith("text-lang-gray: ConfigMap/text-lang-gray: ")


def test_cli_writes_one_directory_per_application_and_prints_the_summary(repo, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(main, ["render", "--repo", str(repo.root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "ocr-detect-gray", "ocr-detect-prod", "rec-rank-gray", "rec-rank-prod", "text-lang-gray", "text-lang-prod"]
    assert sorted(p.name for p in (out / "text-lang-prod").iterdir()) == [".render-key", "configmap-text-lang-prod.yaml"]
    lines = result.output.splitlines()
    assert lines[0].split() == ["application", "service", "env", "chart", "url", "replicas", "gpus", "status"]
    assert lines[2].split()[:5] == ["ocr-detect-gray", "ocr-detect", "gray", "1.0.0",
                                     "https://ai.example.com/api/grey/content/ocr-detect/"]
    # JSON, filtered to one service and one environment.
    result = runner.invoke(main, ["render", "--repo", str(repo.root), "--out", str(out), "--env", "prod",
                                  "rec-rank", "--format", "json"])
    data = json.loads(result.output)
    assert [(a["application"], a["cached"], a["namespace"]) for a in data["applications"]] == [
        ("rec-rank-prod", True, "ms-prod-rec-rank")]


def test_cli_unknown_service_is_a_usage_error(repo):
    result = CliRunner().invoke(main, ["render", "--repo", str(repo.root), "--env", "gray", "nope"])
    assert result.exit_code == 2
    assert "no service nope in environment gray" in result.output
