"""rollback on a temporary git repository with real commits."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mdeploy.cli import main
from tests.tools.gitrepo import commit_all, git, make_model_repo


@pytest.fixture
def repo(tmp_path):
    return make_model_repo(tmp_path / "repo")


def bump(root, tag, message):
    path = root / "environments/prod/text-lang.yaml"
    text = path.read_text()
    old = text.split("text-lang-cgi:")[1].split("\n")[0]
    path.write_text(text.replace(f"text-lang-cgi:{old}", f"text-lang-cgi:{tag}"))
    return commit_all(root, message)


def invoke(root, *args):
    return CliRunner().invoke(main, ["rollback", "--repo", str(root), *args])


def test_restores_the_version_before_the_last_change(repo):
    path = repo / "environments/prod/text-lang.yaml"
    original = path.read_text()
    bump(repo, "bad-1", "release bad-1")
    result = invoke(repo, "text-lang", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert path.read_text() == original
    assert "-  image: registry.example.com/ai/text-lang-cgi:bad-1\n+  image: registry.example.com/ai/text-lang-cgi:" \
           "20261102-1200\n" in result.output
    assert "nothing was pushed" in result.output
    assert git(repo, "status", "--porcelain") == "M environments/prod/text-lang.yaml"
    assert git(repo, "log", "--format=%s", "-n", "1") == "release bad-1"  # no commit was made


def test_to_restores_a_named_revision_and_dry_run_writes_nothing(repo):
    good = bump(repo, "good-2", "release good-2")
    bump(repo, "bad-3", "release bad-3")
    path = repo / "environments/prod/text-lang.yaml"
    before = path.read_text()
    dry = invoke(repo, "text-lang", "--env", "prod", "--to", good, "--dry-run")
    assert dry.exit_code == 0 and "+  image: registry.example.com/ai/text-lang-cgi:good-2" in dry.output
    assert path.read_text() == before
    assert invoke(repo, "text-lang", "--env", "prod", "--to", good).exit_code == 0
    assert "text-lang-cgi:good-2" in path.read_text()


@pytest.mark.parametrize("args,message", [
    (("text-lang", "--env", "prod"), "environments/prod/text-lang.yaml was created by"),
    (("text-lang", "--env", "prod", "--to", "nope"), "unknown git revision 'nope'"),
    (("text-lang", "--env", "stage"), "unknown environment 'stage'"),
])
def test_refusals_are_one_line(repo, args, message):
    result = invoke(repo, *args)
    assert result.exit_code in (1, 2)
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_refuses_with_uncommitted_changes(repo):
    bump(repo, "bad-1", "release bad-1")
    path = repo / "environments/prod/text-lang.yaml"
    path.write_text(path.read_text() + "# local edit\n")
    result = invoke(repo, "text-lang", "--env", "prod")
    assert result.exit_code == 1 and "has uncommitted changes" in result.output
    assert path.read_text().endswith("# local edit\n")
