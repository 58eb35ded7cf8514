"""new: every runtime's scaffold validates and renders as written; never overwrites."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mdeploy import chart_source
from mdeploy.cli import main
from mdeploy.render import render_apps
from mdeploy.services import Repo
from mdeploy.validate import validate_repo
from tests.tools.gitrepo import make_model_repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    chart_source.clear_resolution_cache()
    return make_model_repo(tmp_path_factory.mktemp("new") / "repo", chart="real")


@pytest.mark.parametrize("runtime,gpu,name", [
    ("triton", None, "new-triton"), ("tfserving", None, "new-tfs"), ("tfserving", 0, "new-tfs-cpu"),
    ("custom", None, "new-custom"), ("custom", 2, "new-custom-gpu"),
])
def test_scaffold_validates_and_renders_as_written(repo, runtime, gpu, name):
    args = ["new", name, "--runtime", runtime, "--team", "vision", "--repo", str(repo)]
    if gpu is not None:
        args += ["--gpu", str(gpu)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    path = repo / "environments/gray" / f"{name}.yaml"
    assert result.output.startswith(f"wrote environments/gray/{name}.yaml\n\nnext steps:\n")
    problems, _ = validate_repo(repo, [path], jobs=1)
    assert [p.to_text() for p in problems] == []
    text = path.read_text()
    expects_gpu = bool(gpu) if gpu is not None else runtime != "custom"
    assert ("gpu: {count:" in text) == expects_gpu
    rendered = render_apps(Repo(repo), Repo(repo).select("gray", [name]), jobs=1)
    assert [(a.failed, a.problems) for a in rendered.apps] == [(False, [])]


def test_refuses_to_overwrite(repo):
    path = repo / "environments/gray/text-lang.yaml"
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["new", "text-lang", "--runtime", "custom", "--repo", str(repo)])
    assert result.exit_code == 1
    assert "environments/gray/text-lang.yaml already exists" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["Bad_Name", "x", "-lead"])
def test_bad_names_are_usage_errors(repo, name):
    result = CliRunner().invoke(main, ["new", "--runtime", "custom", "--repo", str(repo), "--", name])
    assert result.exit_code == 2 and "must be a DNS label" in result.output
