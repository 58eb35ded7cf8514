"""Rendering helpers for the chart tests: scenarios, example services, overlays, lookups.

Every render goes through tests/harness.py (the real pinned Helm at the pinned Kubernetes
version); rendered objects are validated with mdeploy.kube_schema (built-in kinds strictly
against the official schemas, custom resources against their published models).
"""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any, Iterable

import yaml

from mdeploy.helm import HelmError
from tests.harness import CHART, REPO, render_chart

CI_DIR = CHART / "ci"
SCENARIOS = sorted(p.name.removesuffix("-values.yaml") for p in CI_DIR.glob("*-values.yaml"))
ENVIRONMENTS = ("gray", "prod")
EXAMPLES = sorted(
    (env, p.stem) for env in ENVIRONMENTS for p in (REPO / "environments" / env).glob("*.yaml")
)


def scenario_file(name: str) -> Path:
    return CI_DIR / f"{name}-values.yaml"


def example_files(env: str, service: str) -> tuple[Path, Path]:
    return REPO / "environments" / f"{env}.yaml", REPO / "environments" / env / f"{service}.yaml"


def merge(base: Any, overlay: Any) -> Any:
    """Deep-merge `overlay` into a copy of `base`; a None in the overlay deletes the key."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return copy.deepcopy(overlay)
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


@functools.lru_cache(maxsize=None)
def _render_cached(files: tuple[Path, ...], overlay_yaml: str) -> tuple[dict[str, Any], ...]:
    """Render `files`; with an overlay, the files are merged in Python (so None can delete a key,
    which Helm does not do between user values files) and rendered as one values file."""
    if not overlay_yaml:
        return tuple(render_chart(list(files)))
    values: dict[str, Any] = {}
    for path in files:
        values = merge(values, yaml.safe_load(path.read_text()) or {})
    values = merge(values, yaml.safe_load(overlay_yaml))
    with tempfile.TemporaryDirectory() as tmp:
        merged = Path(tmp) / "merged-values.yaml"
        merged.write_text(yaml.safe_dump(values))
        return tuple(render_chart([merged]))


def render(files: Iterable[Path], overlay: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render values files (plus an optional overlay, merged last); cached per input."""
    return [copy.deepcopy(d) for d in _render_cached(tuple(files), yaml.safe_dump(overlay) if overlay else "")]


def render_scenario(name: str, overlay: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return render([scenario_file(name)], overlay)


def render_error(files: Iterable[Path], overlay: dict[str, Any] | None = None) -> str:
    """Helm's error message for a render that must fail."""
    try:
        render(files, overlay)
    except HelmError as err:
        return str(err)
    raise AssertionError("the render succeeded but was expected to fail")


def load_scenario(name: str) -> dict[str, Any]:
    return yaml.safe_load(scenario_file(name).read_text())


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}: {[(d['kind'], d['metadata']['name']) for d in docs]}"
    return found[0]


def container(deployment: dict[str, Any], name: str, init: bool = False) -> dict[str, Any]:
    key = "initContainers" if init else "containers"
    for c in deployment["spec"]["template"]["spec"].get(key, []):
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name} in {deployment['metadata']['name']}")


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    """name -> value (plain) or the valueFrom dict."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return find(docs, "Deployment")
