"""Run the pinned Helm. Every render in tools and tests goes through `helm_template`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Sequence

import yaml

from mdeploy.report import ToolError
from mdeploy.toolchain import KUBE_VERSION, find_helm


class HelmError(ToolError):
    """`helm template` failed; the message is Helm's own stderr (it names the values key)."""


def helm_template_text(
    chart: Path,
    values_files: Sequence[Path] = (),
    *,
    release: str = "release",
    namespace: str = "default",
    kube_version: str = KUBE_VERSION,
    set_values: Sequence[str] = (),
    helm: str | None = None,
    api_versions: Sequence[str] = (),
) -> str:
    """Render `chart` exactly as Argo CD does (`helm template`) and return the YAML stream."""
    cmd = [helm or find_helm(), "template", release, str(chart), "--namespace", namespace,
           "--kube-version", kube_version]
    for api in api_versions:
        cmd += ["--api-versions", api]
    for path in values_files:
        cmd += ["--values", str(path)]
    for item in set_values:
        cmd += ["--set", item]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise HelmError(out.stderr.strip() or f"helm exited {out.returncode}", rule="helm-template")
    return out.stdout


def parse_manifests(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def helm_template(chart: Path, values_files: Sequence[Path] = (), **kwargs: Any) -> list[dict[str, Any]]:
    return parse_manifests(helm_template_text(chart, values_files, **kwargs))
