"""diff on a temporary git repository with real commits."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mdeploy import chart_source, diff
from mdeploy.cli import main
from mdeploy.services import Repo
from tests.tools.gitrepo import commit_all, git, make_model_repo, write_tiny_chart


@pytest.fixture
def repo(tmp_path):
    chart_source.clear_resolution_cache()
    return Repo(make_model_repo(tmp_path / "repo"))


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def apps(result):
    return [(d.application, d.added, d.removed) for d in result[1]]


def test_no_change_affects_nothing(repo):
    assert diff.diff_repo(repo, "HEAD")[1] == []


def test_service_file_change_affects_one_application_with_values_and_manifest_diff(repo):
    edit(repo.service_file("gray", "text-lang"), "service: text-lang", "service: text-lang\n# tweak")
    edit(repo.root / "charts/model-service/templates/configmap.yaml", "", "")  # untouched chart
    commit_all(repo.root, "tweak")
    edit(repo.service_file("prod", "rec-rank"), "team: search", "team: ranking")
    base = git(repo.root, "rev-parse", "HEAD~1")
    result = diff.diff_repo(repo, base)
    assert apps(result) == [("text-lang-gray", False, False), ("rec-rank-prod", False, False)]
    by_app = {d.application: d for d in result[1]}
    assert by_app["text-lang-gray"].manifest_diff == ""  # a comment changes no manifest
    assert "-team: search\n+team: ranking\n" in by_app["rec-rank-prod"].values_diff


def test_manifest_diff_shows_the_changed_object(repo):
    edit(repo.service_file("gray", "text-lang"), "service: text-lang", "service: text-lang2")
    result = diff.diff_repo(repo, "HEAD")
    (item,) = result[1]
    assert item.manifest_diff.splitlines()[:2] == [
        "--- a/text-lang-gray/ConfigMap text-lang-gray", "+++ b/text-lang-gray/ConfigMap text-lang-gray"]
    assert "-  service: text-lang\n+  service: text-lang2\n" in item.manifest_diff
    assert item.counts() == (1, 1)


def test_environment_file_change_affects_every_application_of_that_environment(repo):
    edit(repo.env_file("prod"), "host: ai.example.com", "host: ai2.example.com")
    assert apps(diff.diff_repo(repo, "HEAD")) == [
        ("ocr-detect-prod", False, False), ("rec-rank-prod", False, False), ("text-lang-prod", False, False)]


def test_added_and_removed_services(repo):
    src = repo.service_file("gray", "text-lang")
    (repo.root / "environments/gray/new-svc.yaml").write_text(src.read_text().replace("text-lang", "new-svc"))
    repo.service_file("prod", "rec-rank").unlink()
    result = diff.diff_repo(repo, "HEAD")
    assert apps(result) == [("new-svc-gray", True, False), ("rec-rank-prod", False, True)]
    removed = result[1][1]
    assert removed.manifest_diff.startswith("--- a/rec-rank-prod/ConfigMap rec-rank-prod\n+++ /dev/null\n")


def test_released_chart_change_affects_nothing_until_a_service_pins_it(repo):
    write_tiny_chart(repo.root, "1.1.0", marker="next")
    assert apps(diff.diff_repo(repo, "HEAD")) == []
    edit(repo.service_file("gray", "text-lang"), "chart: 1.0.0", "chart: 1.1.0")
    result = diff.diff_repo(repo, "HEAD")
    assert apps(result) == [("text-lang-gray", False, False)]
    assert "-  chart: 1.0.0\n-  marker: v\n+  chart: 1.1.0\n+  marker: next\n" in result[1][0].manifest_diff


def test_working_tree_chart_edit_affects_the_gray_services_that_render_it(repo):
    write_tiny_chart(repo.root, "1.1.0", marker="next")
    for name in ("text-lang", "rec-rank"):
        edit(repo.service_file("gray", name), "chart: 1.0.0", "chart: 1.1.0")
    commit_all(repo.root, "chart 1.1.0, untagged, used by two gray services")
    write_tiny_chart(repo.root, "1.1.0", marker="next-fix")
    result = diff.diff_repo(repo, "HEAD")
    assert apps(result) == [("rec-rank-gray", False, False), ("text-lang-gray", False, False)]
    for item in result[1]:
        assert "-  marker: next\n+  marker: next-fix\n" in item.manifest_diff, item.manifest_diff


def test_cli_formats(repo):
    edit(repo.service_file("gray", "ocr-detect"), "service: ocr-detect", "service: ocr-detect2")
    runner = CliRunner()
    md = runner.invoke(main, ["diff", "--repo", str(repo.root), "--base", "HEAD"])
    assert md.exit_code == 0, md.output
    assert "| `ocr-detect-gray` | changed | +1 -1 |" in md.output
    assert "<details>" in md.output and "```mermaid\nflowchart LR\n" in md.output
    assert 'cgi --> ocr["ocr-detect-ocr<br/>triton x?<br/>1 GPU whole"]' in md.output
    data = json.loads(runner.invoke(main, ["diff", "--repo", str(repo.root), "--base", "HEAD", "--format", "json"]).output)
    assert [a["application"] for a in data["applications"]] == ["ocr-detect-gray"]
    text = runner.invoke(main, ["diff", "--repo", str(repo.root), "--base", "HEAD", "--format", "text"])
    assert text.output.startswith("=== ocr-detect-gray: +1 -1 (environments/gray/ocr-detect.yaml)\n")


def test_unknown_base_is_one_line_error(repo):
    result = CliRunner().invoke(main, ["diff", "--repo", str(repo.root), "--base", "nope"])
    assert result.exit_code == 1
    assert result.output.strip() == "mdeploy: unknown git revision 'nope'; pass a branch, tag or commit to --base"
