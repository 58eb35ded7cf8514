"""Evaluate an ApplicationSet's template the way Argo CD does, with a real Go template engine.

Argo CD (goTemplate: true) renders every string field of `spec.template` as a Go text/template
with the sprig functions, once per parameter set; the git files generator's parameters are the
service file's keys plus `path` ({path, basename, filename, basenameNormalized,
filenameNormalized, segments}). Helm's `tpl` is the same engine with the same sprig library, so
a throwaway chart feeds each string field through `tpl` with the parameters as its context.

`missingkey=error`: Helm always runs `tpl` with missingkey=zero (a missing key renders as an
empty string; not even `helm lint --strict` changes that), and no other Go template engine is
on this machine. So with the option on, every field chain (`.a.b`) in each template action is
looked up in the parameters first and a missing key raises, with Go's own message
("map has no entry for key"), before Helm renders. The field chains are the only place a
missing key can hide in these templates (pipelines of functions get their inputs from them).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from mdeploy.toolchain import find_helm

CHART_YAML = "apiVersion: v2\nname: goeval\nversion: 0.1.0\n"
# One document per parameter set holding {field key: rendered string}; shaped as a valid
# ConfigMap because `helm lint --strict` also checks that what it renders are sound objects.
TEMPLATE = """{{- range $i, $p := .Values.paramSets }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: goeval-{{ $i }}
data:
{{- range $key, $field := $.Values.fields }}
  {{ $key }}: {{ tpl $field $p | toJson }}
{{- end }}
{{- end }}
"""


class GoTemplateError(Exception):
    """Argo CD would refuse to generate the Applications (its message is Helm's stderr)."""


def _normalize(name: str) -> str:
    # Argo CD's normalize: anything but [a-z0-9.-] becomes '-', lower-cased.
    return re.sub(r"[^a-zA-Z0-9.-]", "-", name).lower()


def files_generator_params(repo: Path, rel_path: str) -> dict[str, Any]:
    """The parameters Argo CD's git files generator (goTemplate mode) makes for one file."""
    content = yaml.safe_load((repo / rel_path).read_text()) or {}
    # Argo CD converts YAML to JSON first (sigs.k8s.io/yaml): numbers become float64 and keys
    # strings; a round trip through JSON gives the same shapes.
    params = json.loads(json.dumps(content, default=str))
    path = PurePosixPath(rel_path)
    directory = path.parent
    params["path"] = {
        "path": str(directory),
        "basename": directory.name,
        "filename": path.name,
        "basenameNormalized": _normalize(directory.name),
        "filenameNormalized": _normalize(path.name),
        "segments": list(directory.parts),
    }
    return params


def _string_fields(node: Any, path: tuple = ()) -> dict[tuple, str]:
    """path (tuple of keys and indexes) -> value of every string leaf."""
    out: dict[tuple, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            if "{{" in str(key):
                raise GoTemplateError(f"templated map key {key!r} at {path}: keep templates in values")
            out.update(_string_fields(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.update(_string_fields(value, (*path, index)))
    elif isinstance(node, str):
        out[path] = node
    return out


def _set(node: Any, path: tuple, value: str) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


ACTION = re.compile(r"{{-?(.*?)-?}}", re.DOTALL)
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
FIELD_CHAIN = re.compile(r"(?<![\w.)$\]])((?:\.[A-Za-z_]\w*)+)")


def check_missing_keys(text: str, params: dict[str, Any], index: int = 0) -> None:
    """Raise like Go's missingkey=error when a field chain in `text` is not in `params`."""
    for action in ACTION.findall(text):
        for chain in FIELD_CHAIN.findall(STRING.sub('""', action)):
            node: Any = params
            for key in chain.strip(".").split("."):
                if not isinstance(node, dict) or key not in node:
                    raise GoTemplateError(f"parameter set {index}: template {text!r}: executing at <{chain}>: "
                                          f"map has no entry for key \"{key}\"")
                node = node[key]


def generate_applications(appset: dict[str, Any], param_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Application objects Argo CD would generate from `appset` for `param_sets`."""
    spec = appset["spec"]
    assert spec.get("goTemplate") is True, "only goTemplate ApplicationSets are evaluated"
    strict = "missingkey=error" in spec.get("goTemplateOptions", [])
    template = spec["template"]
    fields = _string_fields(template)
    helm = find_helm()
    with tempfile.TemporaryDirectory(prefix="goeval-") as tmp:
        chart = Path(tmp)
        (chart / "templates").mkdir()
        (chart / "Chart.yaml").write_text(CHART_YAML)
        (chart / "templates" / "apps.yaml").write_text(TEMPLATE)
        values = chart / "values.yaml"
        keys = {f"f{n}": pointer for n, pointer in enumerate(fields)}
        values.write_text(json.dumps({"fields": {key: fields[pointer] for key, pointer in keys.items()},
                                      "paramSets": param_sets}))
        if strict:
            for index, params in enumerate(param_sets):
                for text in fields.values():
                    check_missing_keys(text, params, index)
        out = subprocess.run([helm, "template", "goeval", str(chart)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise GoTemplateError(out.stderr.strip())
    rendered = [doc for doc in yaml.safe_load_all(out.stdout) if doc is not None]
    assert len(rendered) == len(param_sets), "one rendered document per parameter set"
    apps = []
    for doc in rendered:
        app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **copy.deepcopy(template)}
        app["metadata"].setdefault("namespace", appset["metadata"]["namespace"])
        for key, value in (doc.get("data") or {}).items():
            _set(app, keys[key], value)
        apps.append(app)
    return apps
