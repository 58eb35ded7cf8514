"""validate's command line: formats, exit codes, default scope, rule listing."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from mdeploy.cli import main
from mdeploy.toolchain import repo_root
from tests.tools.gitrepo import make_model_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = make_model_repo(tmp_path_factory.mktemp("cli") / "repo")
    bad = root / "environments/gray/bad.yaml"
    bad.write_text((root / "environments/gray/text-lang.yaml").read_text()
                   .replace("service: text-lang", "service: bad").replace(":1.4.2", ":latest"))
    return root


def invoke(*args):
    return CliRunner().invoke(main, ["validate", *args])


def test_text_format_and_exit_1(repo):
    result = invoke("--repo", str(repo))
    assert result.exit_code == 1
    assert result.output == (
        "environments/gray/bad.yaml:17:12: error: image 'registry.example.com/ai/langid-server:latest' uses the "
        "tag latest; pin a version tag or a digest (image-pinned)\n"
        "1 error, 0 warnings in 9 files\n")


def test_json_format(repo):
    data = json.loads(invoke("--repo", str(repo), "--format", "json").output)
    assert data["summary"] == {"errors": 1, "warnings": 0, "files": 9}
    assert data["problems"][0] | {"message": ""} == {
        "path": "environments/gray/bad.yaml", "line": 17, "col": 12, "level": "error", "message": "",
        "rule": "image-pinned"}


def test_github_format(repo):
    out = invoke("--repo", str(repo), "--format", "github").output
    assert out.startswith("::error file=environments/gray/bad.yaml,line=17,col=12,title=image-pinned::image ")


def test_clean_paths_exit_0(repo):
    result = invoke("--repo", str(repo), str(repo / "environments/prod"))
    assert (result.exit_code, result.output) == (0, "0 errors, 0 warnings in 3 files\n")


def test_list_rules_names_every_rule():
    from mdeploy.rules import ALL

    out = invoke("--list-rules").output
    assert all(rule.id in out for rule in ALL)


def test_whole_repository_by_default_from_inside_it(monkeypatch):
    monkeypatch.chdir(repo_root() / "environments")
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.output.endswith("files\n")


def test_parallel_and_sequential_agree(repo, tmp_path):
    root = tmp_path / "many"
    shutil.copytree(repo, root)
    src = (root / "environments/gray/text-lang.yaml").read_text()
    for i in range(320):
        text = src.replace("service: text-lang", f"service: s{i}")
        if i % 7 == 0:
            text = text.replace(":1.4.2", ":latest")
        (root / f"environments/gray/s{i}.yaml").write_text(text)
    from mdeploy.validate import validate_repo

    assert validate_repo(root, jobs=2) == validate_repo(root, jobs=1)
