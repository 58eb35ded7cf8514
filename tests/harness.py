"""The one way tests render a chart: the real pinned Helm at the pinned Kubernetes version.

`render_chart` raises `HelmError` with Helm's stderr when the render fails, and returns the
parsed documents otherwise. Chart tests add schema validation on top of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from mdeploy.helm import helm_template
from mdeploy.toolchain import KUBE_VERSION, repo_root

REPO = repo_root()
CHART = REPO / "charts" / "model-service"


def render_chart(
    values_files: Sequence[Path] = (),
    *,
    chart: Path = CHART,
    release: str = "test",
    namespace: str = "default",
    set_values: Sequence[str] = (),
    kube_version: str = KUBE_VERSION,
) -> list[dict[str, Any]]:
    return helm_template(
        chart, values_files, release=release, namespace=namespace,
        set_values=set_values, kube_version=kube_version,
    )
