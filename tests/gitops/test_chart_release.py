"""The chart-version-bump check, on temporary git repositories with real commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mdeploy.chart_release import check_version_bump
from mdeploy.cli import main
from tests.gitops.gitrepo import commit_all, git, init_repo, write
from tests.harness import REPO

CHART = "charts/model-service"


def chart_yaml(version: str) -> str:
    return f"apiVersion: v2\nname: model-service\ndescription: test\nversion: {version}\n"


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch) -> Path:
    """main with chart 1.0.0 (tagged), pushed as origin/main; HEAD on a feature branch."""
    monkeypatch.delenv("MDEPLOY_BASE_REF", raising=False)
    repo = init_repo(tmp_path / "repo")
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("1.0.0"))
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n")
    write(repo, "environments/gray/a.yaml", "service: a\n")
    commit_all(repo, "chart 1.0.0")
    git(repo, "tag", "model-service-1.0.0")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def problems_of(repo: Path, base: str | None = None) -> list[str]:
    return [p.to_text() for p in check_version_bump(repo, base).problems]


def test_no_chart_change_passes(repo):
    write(repo, "environments/gray/a.yaml", "service: a\nteam: x\n")
    commit_all(repo, "values only")
    result = check_version_bump(repo)
    assert result.base == "origin/main" and result.changed == [] and result.problems == []


def test_committed_change_without_bump_fails_at_the_version_line(repo):
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\nmetadata: {}\n")
    commit_all(repo, "edit chart")
    assert problems_of(repo) == [
        "charts/model-service/Chart.yaml:4:1: error: the chart changed since origin/main "
        "(charts/model-service/templates/cm.yaml) but its version is still 1.0.0; bump `version:` "
        "(e.g. 1.0.1) so released versions stay immutable (chart-version-bump)"]


@pytest.mark.parametrize("kind", ["unstaged", "untracked"])
def test_uncommitted_changes_count_too(repo, kind):
    rel = f"{CHART}/templates/cm.yaml" if kind == "unstaged" else f"{CHART}/templates/new.yaml"
    write(repo, rel, "kind: ConfigMap\n# changed\n")
    assert check_version_bump(repo).changed == [rel]
    assert len(problems_of(repo)) == 1


def test_change_with_bump_passes(repo):
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\nmetadata: {}\n")
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("1.1.0"))
    commit_all(repo, "chart 1.1.0")
    result = check_version_bump(repo)
    assert (result.base_version, result.version, result.problems) == ("1.0.0", "1.1.0", [])


def test_version_going_down_fails(repo):
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("0.9.0"))
    assert "lower than 1.0.0" in problems_of(repo)[0]


def test_bump_to_an_already_released_version_fails(repo):
    git(repo, "checkout", "-q", "main")
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("1.2.0"))
    commit_all(repo, "1.2.0")
    git(repo, "tag", "model-service-1.2.0")
    git(repo, "checkout", "-q", "feature")
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n# x\n")
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("1.2.0"))
    assert "already released as tag model-service-1.2.0" in problems_of(repo)[0]


def test_merge_base_not_the_tip_of_main_is_the_reference(repo):
    """main moves on after the branch point: the branch is judged against where it started."""
    git(repo, "checkout", "-q", "main")
    write(repo, f"{CHART}/Chart.yaml", chart_yaml("1.0.1"))
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n# main moved\n")
    commit_all(repo, "1.0.1 on main")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "feature")
    result = check_version_bump(repo)
    assert result.changed == [] and result.base_version == "1.0.0"


def test_without_origin_main_there_is_nothing_to_compare(repo):
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n# x\n")
    result = check_version_bump(repo)
    assert (result.base, result.problems) == (None, [])


def test_base_ref_from_the_environment(repo, monkeypatch):
    git(repo, "branch", "release", "main")
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    monkeypatch.setenv("MDEPLOY_BASE_REF", "release")
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n# x\n")
    assert check_version_bump(repo).base == "release"
    assert len(problems_of(repo)) == 1


def test_unknown_explicit_base_is_a_one_line_error(repo):
    runner = CliRunner()
    result = runner.invoke(main, ["chart-check", "--repo", str(repo), "--base", "nope/main"])
    assert result.exit_code == 1
    assert "base ref 'nope/main' does not exist" in result.output
    assert "Traceback" not in result.output


def test_cli_exit_codes_and_json(repo):
    runner = CliRunner()
    ok = runner.invoke(main, ["chart-check", "--repo", str(repo)])
    assert (ok.exit_code, ok.output) == (0, "chart-check: chart unchanged since origin/main\n")
    write(repo, f"{CHART}/templates/cm.yaml", "kind: ConfigMap\n# x\n")
    bad = runner.invoke(main, ["chart-check", "--repo", str(repo), "--format", "json"])
    assert bad.exit_code == 1 and '"chart-version-bump"' in bad.output


def test_this_repository_bumped_its_chart_when_it_changed():
    """`make test` runs the check on the real checkout (passes on a fresh clone of main)."""
    assert problems_of(REPO) == []
