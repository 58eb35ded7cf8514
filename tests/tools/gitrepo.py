"""Temporary git repositories with real commits and tags, and a tiny chart to put in them."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent",
}


def git(root: Path, *args: str) -> str:
    import os
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def init_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


def write_tiny_chart(root: Path, version: str, marker: str = "v") -> Path:
    """A chart that renders one ConfigMap naming its version and `marker` (to tell trees apart)."""
    chart = root / "charts" / "model-service"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: model-service\nversion: {version}\n")
    (chart / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        f"data:\n  chart: \"{version}\"\n  marker: \"{marker}\"\n"
        "  service: {{ .Values.service | quote }}\n"
    )
    return chart


def make_model_repo(root: Path, *, chart: str = "tiny", tag: bool = True) -> Path:
    """A temporary model-deploy checkout: this repository's schemas and environments, a chart
    at version 1.0.0 (the tiny one, or `chart="real"` for charts/model-service), one commit, the tag."""
    import shutil

    from mdeploy.toolchain import repo_root

    real = repo_root()
    init_repo(root)
    shutil.copytree(real / "schemas", root / "schemas")
    shutil.copytree(real / "environments", root / "environments", ignore=shutil.ignore_patterns("README.md"))
    if chart == "real":
        shutil.copytree(real / "charts" / "model-service", root / "charts" / "model-service")
        chart_yaml = root / "charts" / "model-service" / "Chart.yaml"
        chart_yaml.write_text("\n".join(
            "version: 1.0.0" if line.startswith("version:") else line
            for line in chart_yaml.read_text().splitlines()) + "\n")
    else:
        write_tiny_chart(root, "1.0.0")
    (root / ".gitignore").write_text("/.cache/\n/out/\n")
    commit_all(root, "initial")
    if tag:
        git(root, "tag", "model-service-1.0.0")
    return root
