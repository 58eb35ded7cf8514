"""`mdeploy render`: every Application's manifests, exactly as Argo CD would render them.

For each service file: the chart at the version the file pins (`chart_source`), the pinned Helm,
release = Application name `<service>-<env>`, namespace `<namespacePrefix><service>`, values
`environments/<env>.yaml` then `environments/<env>/<service>.yaml`. Helm runs in parallel
(one subprocess per Application, as many at once as there are cores), and every rendered
object is checked against its Kubernetes schema (`kube_schema`).

Content-addressed cache (`.cache/render/`): the key is a hash of everything a render depends on
(chart tree hash, both values files' bytes, Helm and Kubernetes versions, release, namespace).
An entry holds the manifests, their schema problems and the summary row, so an unchanged
Application costs a hash and one small file read; nothing is parsed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from mdeploy.chart_source import ChartSource, resolve_chart
from mdeploy.helm import HelmError, helm_template_text
from mdeploy.report import ToolError, progress, progress_done
from mdeploy.services import Repo, ServiceRef, env_tier, namespace_name
from mdeploy.toolchain import HELM, KUBE_VERSION, find_helm

CACHE_DIR = ".cache/render"
KEY_FILE = ".render-key"
CACHE_FORMAT = "1"  # bump when the entry layout or the summary changes
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def validate_objects(objs: Sequence[Any]) -> list[list[str]]:
    """The one switch point for Kubernetes schema checks of rendered objects.

    `kube_schema` (jsonschema) costs ~16 ms per Application, about a tenth of a cold render. Objects
    of built-in kinds first go through a compiled yes/no check of the very same schema
    (`fastschema`, proven equal to jsonschema in tests/tools/test_fastschema.py); only the objects
    it rejects, and every custom resource, go to `kube_schema`, which says what is wrong."""
    from mdeploy.kube_schema import validate_each

    fast = [_fast_builtin_check(obj) for obj in objs]
    slow = [obj for obj, check in zip(objs, fast) if check is None or not check(obj)]
    results = iter(validate_each(slow, KUBE_VERSION) if slow else [])
    return [[] if check is not None and check(obj) else next(results) for obj, check in zip(objs, fast)]


def _fast_builtin_check(obj: Any) -> Callable[[Any], bool] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return None
    return _compiled_kind(obj["apiVersion"], obj["kind"])


@lru_cache(maxsize=None)
def _compiled_kind(api_version: str, kind: str) -> Callable[[Any], bool] | None:
    """The compiled check of a built-in kind's schema as kube_schema loads it; None (use
    kube_schema) for custom resources, unknown kinds, or anything fastschema does not implement."""
    from mdeploy import fastschema, kube_schema

    try:
        if (api_version, kind) in kube_schema.crd_kinds():
            return None
        schema_dir = kube_schema._schema_dir(KUBE_VERSION)
        validator = kube_schema._builtin_validator(schema_dir, api_version, kind)
        if validator is None:
            return None
        definitions = kube_schema._registry(schema_dir).contents("https://kubernetes.io/api/_definitions.json")
    except (AttributeError, LookupError, TypeError, ValueError, ToolError):
        return None  # kube_schema changed shape: stay correct, just slower

    def resolve(ref: str) -> tuple[str, Any]:
        base, _, fragment = ref.partition("#")
        if base not in ("", "/api/_definitions.json") or not fragment.startswith("/$defs/"):
            raise fastschema.Unsupported(ref)
        name = fragment[len("/$defs/"):]
        return name, definitions["$defs"][name]

    try:
        return fastschema.compile_schema(validator.schema, resolve)
    except (fastschema.Unsupported, KeyError):
        return None


@dataclass
class AppRender:
    """One Application's render: inputs, key, outcome and summary."""

    ref: ServiceRef
    env_file: Path
    namespace: str
    chart_version: str
    chart: ChartSource | None
    key: str = ""
    _manifests: str | None = None
    cache_file: Path | None = None  # where the manifests are, when they came from the cache
    problems: list[str] = field(default_factory=list)  # schema problems, or the render failure
    failed: bool = False
    cached: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self) -> str:
        return self.ref.application

    @property
    def manifests(self) -> str:
        """Helm's output; read from the cache only when someone needs it (a warm run of 2,000
        Applications must not read 80 MB it does not use)."""
        if self._manifests is None:
            self._manifests = self.cache_file.read_text() if self.cache_file is not None else ""
        return self._manifests

    @manifests.setter
    def manifests(self, value: str) -> None:
        self._manifests = value


@dataclass
class RenderRun:
    apps: list[AppRender]
    rendered: int  # helm invocations this run
    cached: int
    seconds: float

    @property
    def failed(self) -> list[AppRender]:
        return [a for a in self.apps if a.failed or a.problems]


def _quick_load(path: Path) -> Any:
    try:
        return yaml.load(path.read_bytes(), Loader=_Loader)
    except (OSError, yaml.YAMLError) as err:
        raise ToolError(f"cannot read {path}: {str(err).splitlines()[0]}; run `mdeploy validate {path}`",
                        path=str(path), rule="render") from err


def render_key(chart_hash: str, env_bytes: bytes, service_bytes: bytes, release: str, namespace: str) -> str:
    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, chart_hash, HELM.version, KUBE_VERSION, release, namespace):
        digest.update(part.encode() + b"\0")
    for blob in (env_bytes, service_bytes):
        digest.update(hashlib.sha256(blob).digest())
    return digest.hexdigest()


def plan(repo: Repo, refs: Sequence[ServiceRef], env_files: dict[str, Path] | None = None) -> list[AppRender]:
    """Resolve chart, namespace and cache key of every Application (no Helm yet). `env_files`
    overrides where an environment's file is read from (diff renders a base revision from a
    temporary copy)."""
    env_cache: dict[str, tuple[Path, bytes, dict[str, Any]]] = {}
    apps = []
    for ref in refs:
        if ref.env not in env_cache:
            env_path = (env_files or {}).get(ref.env) or repo.env_file(ref.env)
            if not env_path.is_file():
                raise ToolError(f"environment file {repo.rel(env_path)} is missing", rule="render")
            env_bytes = env_path.read_bytes()
            env_data = _quick_load(env_path)
            if not isinstance(env_data, dict) or not isinstance(env_data.get("environment"), dict):
                raise ToolError(f"{repo.rel(env_path)} has no `environment:` mapping; run `mdeploy validate`",
                                rule="render")
            env_cache[ref.env] = (env_path, env_bytes, env_data)
        env_path, env_bytes, env_data = env_cache[ref.env]
        environment = env_data["environment"]
        service_bytes = ref.path.read_bytes()
        data = _top_level(service_bytes)
        version = str(data.get("chart", "")) if isinstance(data, dict) else ""
        app = AppRender(ref, env_path, namespace_name(environment.get("namespacePrefix", ""), ref.service),
                        version, None)
        app.summary = _static_summary(ref, environment, data if isinstance(data, dict) else {})
        if not isinstance(data, dict):
            app.failed, app.problems = True, [f"{repo.rel(ref.path)}: not a YAML mapping; run `mdeploy validate`"]
            apps.append(app)
            continue
        try:
            app.chart = resolve_chart(version, root=repo.root, tier=env_tier(env_data, ref.env))
        except ToolError as err:
            app.failed, app.problems = True, [f"{repo.rel(ref.path)}: {err.message}"]
        else:
            app.key = render_key(app.chart.content_hash, env_bytes, service_bytes, ref.application, app.namespace)
        apps.append(app)
    return apps


_TOP_LEVEL = re.compile(rb"^(chart|team):[ \t]*['\"]?([A-Za-z0-9._-]+)['\"]?[ \t]*(?:#.*)?$", re.MULTILINE)


def _top_level(service_bytes: bytes) -> Any:
    """`chart` and `team` of a service file: a regex when both are plain top-level scalars (the
    common case, and 2,000 files must cost milliseconds), else a full parse."""
    found = {m.group(1).decode(): m.group(2).decode() for m in _TOP_LEVEL.finditer(service_bytes)}
    if len(found) == 2 and service_bytes.count(b"\nchart:") + service_bytes.startswith(b"chart:") == 1:
        return found
    try:
        return yaml.load(service_bytes, Loader=_Loader) if service_bytes else None
    except yaml.YAMLError:
        return None


def _static_summary(ref: ServiceRef, environment: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    route = environment.get("route") or {}
    url = f"{route.get('scheme', 'https')}://{route.get('host', '?')}{route.get('publicPrefix', '')}/{ref.service}/"
    return {"application": ref.application, "service": ref.service, "environment": ref.env,
            "chart": str(data.get("chart", "")), "url": url, "team": data.get("team", "")}


def summarize(objs: Sequence[dict[str, Any]], service: str) -> dict[str, Any]:
    """Replicas per Deployment (min-max when an HPA or ScaledObject drives it) and GPUs."""
    scaled: dict[str, str] = {}
    for obj in objs:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "HorizontalPodAutoscaler":
            target = (spec.get("scaleTargetRef") or {}).get("name")
            scaled[target] = f"{spec.get('minReplicas', 1)}-{spec.get('maxReplicas')}"
        elif obj.get("kind") == "ScaledObject":
            target = (spec.get("scaleTargetRef") or {}).get("name")
            scaled[target] = f"{spec.get('minReplicaCount', 0)}-{spec.get('maxReplicaCount', 100)}"
    replicas: dict[str, str] = {}
    gpus: dict[str, int] = {}
    for obj in objs:
        if obj.get("kind") != "Deployment":
            continue
        name = obj["metadata"]["name"]
        short = name[len(service) + 1:] if name.startswith(service + "-") else name
        spec = obj.get("spec") or {}
        replicas[short] = scaled.get(name, str(spec.get("replicas", 1)))
        count = int(replicas[short].split("-")[-1]) if replicas[short].split("-")[-1].isdigit() else 1
        pod = (spec.get("template") or {}).get("spec") or {}
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            for resource, amount in ((container.get("resources") or {}).get("limits") or {}).items():
                if "gpu" in resource or "/mig-" in resource:
                    try:
                        gpus[resource] = gpus.get(resource, 0) + int(amount) * count
                    except (TypeError, ValueError):
                        continue
    return {"replicas": replicas, "gpus": gpus}


# --- cache -----------------------------------------------------------------------------------

def _entry_path(root: Path, key: str) -> Path:
    return root / CACHE_DIR / key[:2] / f"{key}.json"


def _manifests_path(root: Path, key: str) -> Path:
    return root / CACHE_DIR / key[:2] / f"{key}.yaml"


def _cache_get(root: Path, key: str) -> dict[str, Any] | None:
    """The small part of an entry (problems, summary); the manifests stay on disk until needed."""
    try:
        entry = json.loads(_entry_path(root, key).read_text())
    except (OSError, ValueError):
        return None
    return entry if _manifests_path(root, key).is_file() else None


def _cache_put(root: Path, key: str, manifests: str, entry: dict[str, Any]) -> None:
    from mdeploy.files import write_atomic

    # Manifests first: an entry whose JSON exists is complete.
    write_atomic(_manifests_path(root, key), manifests, durable=False)
    write_atomic(_entry_path(root, key), json.dumps(entry), durable=False)


# --- the run ---------------------------------------------------------------------------------

def _helm(app: AppRender, helm: str) -> str:
    assert app.chart is not None
    return helm_template_text(app.chart.path, [app.env_file, app.ref.path], release=app.app,
                              namespace=app.namespace, helm=helm)


def _is_custom_resource(obj: Any) -> bool:
    from mdeploy.kube_schema import crd_kinds

    return isinstance(obj, dict) and (obj.get("apiVersion"), obj.get("kind")) in crd_kinds()


class _Checker:
    """Parses and schema-checks fresh renders. Built-in kinds are checked batch by batch while Helm
    keeps rendering; custom resources (validated by one `node` process per call, ~0.5 s to start)
    are all checked in one call at the end, so a cold render pays that start-up once. Only the
    custom resources are kept until then, not every parsed object (2,000 Applications)."""

    def __init__(self, root: Path, use_cache: bool) -> None:
        self.root, self.use_cache = root, use_cache
        self.waiting: list[tuple[AppRender, list[str], list[dict[str, Any]]]] = []

    def add(self, batch: list[AppRender]) -> None:
        parsed: list[list[dict[str, Any]]] = []
        for app in batch:
            try:
                parsed.append([d for d in yaml.load_all(app.manifests, Loader=_Loader) if d])
            except yaml.YAMLError as err:
                app.failed, app.problems = True, [f"{app.app}: rendered output is not YAML: {str(err).splitlines()[0]}"]
                parsed.append([])
        builtin = [obj for objs in parsed for obj in objs if not _is_custom_resource(obj)]
        results = iter(validate_objects(builtin) if builtin else [])
        for app, objs in zip(batch, parsed):
            problems = [m for obj in objs if not _is_custom_resource(obj) for m in next(results)]
            if not app.failed:
                app.summary.update(summarize(objs, app.ref.service))
            self.waiting.append((app, problems, [obj for obj in objs if _is_custom_resource(obj)]))

    def finish(self) -> None:
        custom = [obj for _, _, objs in self.waiting for obj in objs]
        results = iter(validate_objects(custom) if custom else [])
        for app, problems, objs in self.waiting:
            problems = problems + [m for _ in objs for m in next(results)]
            if app.failed:
                continue
            app.problems = [f"{app.app}: {message}" for message in problems]
            if self.use_cache:
                _cache_put(self.root, app.key, app.manifests, {"problems": app.problems, "summary": app.summary})
                # From here on the text is read back from the cache when needed (outputs, diff).
                app.cache_file, app._manifests = _manifests_path(self.root, app.key), None
        self.waiting = []


def render_apps(repo: Repo, refs: Sequence[ServiceRef], *, jobs: int | None = None, use_cache: bool = True,
                on_progress: Callable[[int, int], None] | None = None) -> RenderRun:
    started = time.perf_counter()
    return render_planned(repo, plan(repo, refs), jobs=jobs, use_cache=use_cache, on_progress=on_progress,
                          started=started)


def render_planned(repo: Repo, apps: list[AppRender], *, jobs: int | None = None, use_cache: bool = True,
                   on_progress: Callable[[int, int], None] | None = None, started: float | None = None
                   ) -> RenderRun:
    started = time.perf_counter() if started is None else started
    todo: list[AppRender] = []
    for app in apps:
        if app.failed:
            continue
        entry = _cache_get(repo.root, app.key) if use_cache else None
        if entry is not None:
            app.cache_file, app.problems, app.cached = _manifests_path(repo.root, app.key), entry["problems"], True
            app.summary.update(entry["summary"])
        else:
            todo.append(app)
    total, done = len(todo), 0
    if todo:
        helm = find_helm()
        # Helm is a short-lived Go process: its garbage collector only costs CPU (about a fifth of
        # a render here) and the output does not depend on it. Respect an explicit GOGC.
        os.environ.setdefault("GOGC", "off")
        jobs = jobs or os.cpu_count() or 1
        batch_size = max(4, min(50, total // 8 or 1))
        checker = _Checker(repo.root, use_cache)
        pending_batch: list[AppRender] = []
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_helm, app, helm): app for app in todo}
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in finished:
                    app = futures[future]
                    try:
                        app.manifests = future.result()
                        pending_batch.append(app)
                    except HelmError as err:
                        app.failed, app.problems = True, [f"{app.app}: helm template failed: {err.message}"]
                    done += 1
                    if on_progress:
                        on_progress(done, total)
                # Schema checks run here, in the main thread, while Helm keeps the cores busy.
                if len(pending_batch) >= batch_size:
                    checker.add(pending_batch)
                    pending_batch = []
        if pending_batch:
            checker.add(pending_batch)
        checker.finish()
    return RenderRun(apps, rendered=total, cached=sum(1 for a in apps if a.cached),
                     seconds=time.perf_counter() - started)


# --- output ----------------------------------------------------------------------------------

_DOC_SPLIT = re.compile(r"^---[ \t]*$\n?", re.MULTILINE)
_KIND = re.compile(r"^kind:[ \t]*['\"]?([^'\"\s#]+)", re.MULTILINE)
_NAME = re.compile(r"^metadata:[ \t]*\n(?:[ \t]+.*\n|[ \t]*#.*\n)*?[ \t]+name:[ \t]*['\"]?([^'\"\s#]+)", re.MULTILINE)


def split_documents(manifests: str) -> list[tuple[str, str, str]]:
    """(kind, name, text) of each non-empty document, from Helm's text as is: no parse and no
    re-dump, so the files are byte for byte what Helm printed (and writing 20,000 is cheap)."""
    docs = []
    for text in _DOC_SPLIT.split(manifests):
        body = "\n".join(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
        if not body:
            continue
        kind = _KIND.search(text)
        name = _NAME.search(text)
        docs.append((kind.group(1) if kind else "object", name.group(1) if name else "unnamed",
                     text if text.endswith("\n") else text + "\n"))
    return docs


def _object_file_name(kind: str, name: str, seen: set[str]) -> str:
    base = f"{kind.lower()}-{name}"
    candidate, n = base, 2
    while candidate in seen:
        candidate, n = f"{base}-{n}", n + 1
    seen.add(candidate)
    return candidate + ".yaml"


def write_outputs(out_dir: Path, apps: Sequence[AppRender], *, prune: bool) -> int:
    """One directory per Application, one file per object. A directory whose key file matches is
    left alone, so a warm run writes nothing. Returns the number of directories (re)written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    wanted = set()
    for app in apps:
        if app.failed or not app.key:
            continue
        wanted.add(app.app)
        target = out_dir / app.app
        try:
            if (target / KEY_FILE).read_text() == app.key:
                continue
        except OSError:
            pass
        tmp = out_dir / f".{app.app}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        seen: set[str] = set()
        for kind, name, text in split_documents(app.manifests):
            (tmp / _object_file_name(kind, name, seen)).write_text(text)
        (tmp / KEY_FILE).write_text(app.key)
        # Swap directories: readers never see a half-written Application.
        old = out_dir / f".{app.app}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        written += 1
    if prune:
        for child in out_dir.iterdir():
            if child.is_dir() and child.name not in wanted and (child / KEY_FILE).exists():
                shutil.rmtree(child)  # an Application that no longer exists
    return written


def summary_rows(apps: Sequence[AppRender]) -> list[list[str]]:
    rows = []
    for app in apps:
        s = app.summary
        replicas = " ".join(f"{name}={count}" for name, count in (s.get("replicas") or {}).items())
        gpus = ", ".join(f"{count}x {name}" for name, count in sorted((s.get("gpus") or {}).items())) or "-"
        status = "FAILED" if app.failed else ("INVALID" if app.problems else ("cached" if app.cached else "rendered"))
        rows.append([app.app, app.ref.service, app.ref.env, app.chart_version, s.get("url", ""),
                     replicas or "-", gpus, status])
    return rows


def to_json(run: RenderRun) -> dict[str, Any]:
    return {
        "applications": [{
            "application": a.app, "service": a.ref.service, "environment": a.ref.env, "chart": a.chart_version,
            "chart_origin": a.chart.origin if a.chart else None, "namespace": a.namespace, "key": a.key,
            "cached": a.cached, "failed": a.failed, "problems": a.problems,
            "url": a.summary.get("url"), "replicas": a.summary.get("replicas"), "gpus": a.summary.get("gpus"),
        } for a in run.apps],
        "rendered": run.rendered, "cached": run.cached, "seconds": round(run.seconds, 3),
    }


def progress_printer(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        progress(f"{label} {done}/{total}")
        if done == total:
            progress_done()
    return show

