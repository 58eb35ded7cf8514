"""Fixtures shared by the tools tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdeploy import chart_source
from tests.tools.gitrepo import make_model_repo


@pytest.fixture(scope="session")
def model_repo_template(tmp_path_factory) -> Path:
    """The example model repository with real git history, built once per session."""
    return make_model_repo(tmp_path_factory.mktemp("model-repo") / "repo")


@pytest.fixture
def model_repo(model_repo_template, tmp_path) -> Path:
    """A private copy of the example repository for one test (tests edit and commit in it)."""
    chart_source.clear_resolution_cache()
    root = tmp_path / "repo"
    shutil.copytree(model_repo_template, root, symlinks=True)
    return root
