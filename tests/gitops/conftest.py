"""Shared fixtures for the GitOps tests: the generated apps/ files, parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import REPO


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def env_names(repo: Path = REPO) -> list[str]:
    return sorted(p.stem for p in (repo / "environments").glob("*.yaml"))


@pytest.fixture(scope="session")
def environments() -> dict[str, dict[str, Any]]:
    return {name: yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text())["environment"]
            for name in env_names()}


@pytest.fixture(scope="session")
def appsets() -> dict[str, dict[str, Any]]:
    return {name: load_docs(REPO / "apps" / f"applicationset-{name}.yaml")[0] for name in env_names()}


@pytest.fixture(scope="session")
def projects() -> dict[str, dict[str, Any]]:
    return {name: load_docs(REPO / "apps" / f"project-{name}.yaml")[0] for name in env_names()}
