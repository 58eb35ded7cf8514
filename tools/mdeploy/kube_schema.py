"""The one schema check for rendered manifests: built-in kinds and custom resources alike.

    validate_manifest(obj)      -> list[str]        problems of one object (empty = valid)
    validate_manifests(objs)    -> list[str]        problems of many objects, in order
    validate_each(objs)         -> list[list[str]]  problems per object, aligned with `objs`

Every message starts with `Kind/name: ` and then `path: what is wrong`, e.g.
`Deployment/ocr-detect-cgi: spec.template.spec.containers[0].imagePullPolicy: 'Sometimes' is
not one of ['Always', 'IfNotPresent', 'Never']`.

- Built-in kinds: the official Kubernetes OpenAPI schemas shipped by `kubernetes-validate`, in
  its strict variant (unknown fields are errors, as with `kubectl apply --validate=strict`).
  `kubernetes_validate.validate()` re-reads and re-parses its schema files (including the
  large `_definitions.json`) on every call, so we build one jsonschema validator per kind and
  keep it (see `make bench` / the policy report for the numbers).
- Custom resources: the published models of their CRDs (`@kubernetes-models/*` on npm, pinned
  in package.json, installed by `make setup`). Those ship compiled ajv validators rather than
  JSON Schema, so `tools/crd-schemas/validate.mjs` runs them: one `node` process per batch.
  The kinds it knows are listed in `tools/crd-schemas/kinds.json`.
- Anything else (no schema anywhere) is an error, never a silent pass.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from typing import Any, Iterable, Sequence

import jsonschema
import kubernetes_validate.utils as kv
from packaging.version import Version
from referencing import Registry, Resource

from mdeploy.report import ToolError
from mdeploy.toolchain import KUBE_VERSION, repo_root

CRD_DIR = repo_root() / "tools" / "crd-schemas"
CRD_KINDS_FILE = CRD_DIR / "kinds.json"
CRD_VALIDATOR = CRD_DIR / "validate.mjs"


@functools.lru_cache(maxsize=1)
def crd_kinds() -> frozenset[tuple[str, str]]:
    """(apiVersion, kind) of every custom resource with a published model."""
    data = json.loads(CRD_KINDS_FILE.read_text())
    return frozenset((k["apiVersion"], k["kind"]) for k in data["kinds"])


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _is_builtin_group(group: str) -> bool:
    # Core (""), the historical dot-less groups (apps, batch, policy, autoscaling) and *.k8s.io.
    # Custom groups such as gateway.networking.k8s.io that are listed in kinds.json are checked
    # before this, and a *.k8s.io kind kubernetes-validate does not know is still an error.
    return "." not in group or group.endswith(".k8s.io")


def _object_name(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "<not an object>"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return f"{obj.get('kind', '<no kind>')}/{meta.get('name', '<no name>')}"


def format_path(path: Iterable[Any]) -> str:
    """['spec', 'containers', 0, 'image'] -> 'spec.containers[0].image' ('<root>' if empty)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


# --- built-in kinds: kubernetes-validate's schemas, validators cached -------------------------

@functools.lru_cache(maxsize=None)
def _schema_dir(kube_version: str) -> str:
    """kubernetes-validate's strict schema directory for the newest version <= kube_version."""
    wanted = Version(kv.major_minor(kube_version.lstrip("v")))
    versions = [v for v in kv.all_versions() if Version(kv.major_minor(v)) <= wanted]
    if not versions:
        raise ToolError(f"kubernetes-validate has no schemas for Kubernetes {kube_version}",
                        rule="kube-schema")
    return f"v{versions[-1]}-local-strict"


@functools.lru_cache(maxsize=None)
def _registry(schema_dir: str) -> Registry:
    defs = kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir)
    return Resource.from_contents(defs) @ Registry()


@functools.lru_cache(maxsize=None)
def _builtin_validator(schema_dir: str, api_version: str, kind: str) -> jsonschema.Validator | None:
    """The validator of one built-in kind, or None when kubernetes-validate has no schema."""
    # kubernetes-validate names files <kind>-<first label of group>-<version>.json.
    stem = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{stem}.json",
                                    schema_dir)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _registry(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _builtin_problems(obj: dict, kube_version: str) -> list[str] | None:
    validator = _builtin_validator(_schema_dir(kube_version), obj["apiVersion"], obj["kind"])
    if validator is None:
        return None
    problems = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        # oneOf/anyOf (int-or-string, ...): the branch that came closest says what is wrong.
        best = jsonschema.exceptions.best_match(error.context) if error.context else error
        problems.append(f"{format_path(best.absolute_path)}: {best.message}")
    return problems


# --- custom resources: the published models, one node process per batch ----------------------

def _crd_problems(objs: Sequence[dict]) -> list[list[str]]:
    if not objs:
        return []
    node = shutil.which("node")
    if node is None:
        raise ToolError("node is not on PATH: custom resources are validated with their published "
                        "models (npm); install Node.js 20+ and run `make setup`", rule="kube-schema")
    out = subprocess.run([node, str(CRD_VALIDATOR)], input=json.dumps(objs), capture_output=True,
                         text=True, check=False, timeout=300)
    if out.returncode != 0:
        raise ToolError(out.stderr.strip().splitlines()[-1] if out.stderr.strip()
                        else f"{CRD_VALIDATOR} exited {out.returncode}", rule="kube-schema")
    return [[f"{format_path(p['path'])}: {p['message']}" for p in problems]
            for problems in json.loads(out.stdout)]


# --- the public API ---------------------------------------------------------------------------

def validate_each(objs: Sequence[Any], kube_version: str = KUBE_VERSION) -> list[list[str]]:
    """Problems of each object, aligned with `objs`; every message starts with `Kind/name: `."""
    results: list[list[str] | None] = [None] * len(objs)
    crd_index: list[int] = []
    for i, obj in enumerate(objs):
        if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) \
                or not isinstance(obj.get("kind"), str):
            results[i] = ["apiVersion and kind must be strings"]
            continue
        api_version, kind = obj["apiVersion"], obj["kind"]
        if (api_version, kind) in crd_kinds():
            crd_index.append(i)
            continue
        problems = _builtin_problems(obj, kube_version) if _is_builtin_group(_group(api_version)) else None
        results[i] = problems if problems is not None else [
            f"no schema for {api_version} {kind}: neither a Kubernetes {kv.major_minor(kube_version)} "
            f"built-in kind nor a custom resource listed in tools/crd-schemas/kinds.json "
            f"(add its published model there)"]
    for i, problems in zip(crd_index, _crd_problems([objs[i] for i in crd_index])):
        results[i] = problems
    return [[f"{_object_name(obj)}: {message}" for message in problems]
            for obj, problems in zip(objs, results)]


def validate_manifests(objs: Sequence[Any], kube_version: str = KUBE_VERSION) -> list[str]:
    """Problems of all objects, in order (empty = every object valid)."""
    return [message for problems in validate_each(objs, kube_version) for message in problems]


def validate_manifest(obj: Any, kube_version: str = KUBE_VERSION) -> list[str]:
    """Problems of one object (empty = valid)."""
    return validate_each([obj], kube_version)[0]
