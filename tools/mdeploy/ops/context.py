"""The few facts the operating commands need from a service file and its environment file.

The full validator lives elsewhere (`mdeploy validate`); this loader only reads the fields it
uses and fails with one line naming the file and the missing key, so an operator who points
`smoke` at a wrong service sees what to fix instead of a KeyError.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from mdeploy.report import ToolError, UsageError
from mdeploy.toolchain import repo_root

ENVIRONMENTS = ("gray", "prod")

# Ports fixed by the runtimes (DOMAIN.md): Triton HTTP/gRPC, TF-Serving gRPC/REST.
TRITON_HTTP, TRITON_GRPC = 8000, 8001
TFSERVING_GRPC, TFSERVING_REST = 8500, 8501


@dataclasses.dataclass(frozen=True)
class ModelServer:
    """One entry of the service file's `models:` map (one model-server Deployment)."""

    key: str  # the map key; the Kubernetes objects are named <service>-<key>
    runtime: str  # triton | tfserving | custom
    served: tuple[str, ...]  # the names a client asks the server for (Triton/custom)
    tfserving: tuple[dict[str, Any], ...] = ()  # tfserving.models entries (name, versionPolicy, versionLabels)
    custom_port: int | None = None
    custom_health: str = "/healthz"


@dataclasses.dataclass(frozen=True)
class ServiceContext:
    service: str
    env: str
    namespace: str
    argocd_namespace: str
    scheme: str
    host: str
    public_prefix: str
    health_path: str
    models: tuple[ModelServer, ...]
    service_file: Path
    env_file: Path

    def public_root(self, base_url: str | None = None) -> str:
        """`<scheme>://<host><publicPrefix>/<service>`; `base_url` replaces scheme and host
        (e.g. a port-forward to the gateway) and keeps the prefix, so gray stays gray."""
        base = (base_url or f"{self.scheme}://{self.host}").rstrip("/")
        return f"{base}{self.public_prefix.rstrip('/')}/{self.service}"

    def health_url(self, base_url: str | None = None) -> str:
        return self.public_root(base_url) + self.health_path

    @property
    def application(self) -> str:
        return f"{self.service}-{self.env}"

    def model(self, key: str) -> ModelServer:
        for model in self.models:
            if model.key == key:
                return model
        known = ", ".join(m.key for m in self.models) or "none"
        raise UsageError(f"service {self.service} has no model server {key!r} (models: {known})")

    def default_model_url(self, model: ModelServer, protocol: str = "http") -> str:
        """The in-cluster address the chart gives a model server; reachable from inside the
        cluster only (use `--model-url NAME=URL` with a port-forward from a laptop)."""
        host = f"{self.service}-{model.key}.{self.namespace}.svc.cluster.local"
        if model.runtime == "triton":
            return f"{host}:{TRITON_GRPC}" if protocol == "grpc" else f"http://{host}:{TRITON_HTTP}"
        if model.runtime == "tfserving":
            return f"http://{host}:{TFSERVING_REST}"
        return f"http://{host}:{model.custom_port or 80}"


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ToolError(f"{path}: file not found", path=str(path), rule="missing-file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ToolError(
            f"not valid YAML: {getattr(err, 'problem', None) or err}",
            path=str(path), line=(mark.line + 1) if mark else 0, col=(mark.column + 1) if mark else 0,
            rule="yaml",
        ) from None
    if not isinstance(data, dict):
        raise ToolError("expected a mapping at the top level", path=str(path), rule="yaml")
    return data


def _get(data: dict[str, Any], dotted: str, path: Path) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ToolError(f"missing `{dotted}` (run `mdeploy validate` for the full check)", path=str(path), rule="missing-key")
        node = node[part]
    return node


def _model_server(key: str, spec: Any, path: Path) -> ModelServer:
    if not isinstance(spec, dict) or "runtime" not in spec:
        raise ToolError(f"models.{key} needs a `runtime` (triton, tfserving or custom)", path=str(path), rule="missing-key")
    runtime = spec["runtime"]
    if runtime == "triton":
        served = tuple((spec.get("triton") or {}).get("models") or ())
        return ModelServer(key, runtime, tuple(str(m) for m in served))
    if runtime == "tfserving":
        entries = tuple((spec.get("tfserving") or {}).get("models") or ())
        return ModelServer(key, runtime, tuple(str(e.get("name")) for e in entries), tfserving=entries)
    if runtime == "custom":
        custom = spec.get("custom") or {}
        ports = custom.get("ports") or []
        http = next((p for p in ports if p.get("name") == "http"), ports[0] if ports else {})
        return ModelServer(
            key, runtime, tuple(str(m) for m in custom.get("models") or ()),
            custom_port=http.get("port"), custom_health=custom.get("healthPath", "/healthz"),
        )
    raise ToolError(f"models.{key}.runtime is {runtime!r}; expected triton, tfserving or custom", path=str(path), rule="bad-runtime")


def load_context(service: str, env: str, root: Path | None = None) -> ServiceContext:
    """Read `environments/<env>.yaml` and `environments/<env>/<service>.yaml`."""
    if env not in ENVIRONMENTS:
        raise UsageError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    envdir = (root or repo_root()) / "environments"
    service_file = envdir / env / f"{service}.yaml"
    env_file = envdir / f"{env}.yaml"
    if not service_file.is_file():
        known = sorted(p.stem for p in (envdir / env).glob("*.yaml"))
        raise UsageError(f"no service {service!r} in {env} ({service_file} not found; known: {', '.join(known) or 'none'})")
    svc = _load_yaml(service_file)
    environment = _load_yaml(env_file)
    route = _get(environment, "environment.route", env_file)
    cgi = svc.get("cgi") or {}
    models = svc.get("models") or {}
    if not isinstance(models, dict):
        raise ToolError("`models` must be a map of model servers", path=str(service_file), rule="bad-models")
    return ServiceContext(
        service=str(_get(svc, "service", service_file)),
        env=env,
        namespace=f"{_get(environment, 'environment.namespacePrefix', env_file)}{service}",
        argocd_namespace=str(((environment["environment"].get("argocd") or {}).get("namespace")) or "argocd"),
        scheme=str(route.get("scheme", "https")),
        host=str(_get(environment, "environment.route.host", env_file)),
        public_prefix=str(_get(environment, "environment.route.publicPrefix", env_file)),
        health_path=str(cgi.get("healthPath", "/api/ping")),
        models=tuple(_model_server(str(k), v, service_file) for k, v in models.items()),
        service_file=service_file,
        env_file=env_file,
    )


def parse_model_urls(pairs: tuple[str, ...] | list[str], ctx: ServiceContext) -> dict[str, str]:
    """`--model-url NAME=URL` options as a dict, NAME checked against the service's models."""
    urls: dict[str, str] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name or not url:
            raise UsageError(f"--model-url expects NAME=URL (e.g. ocr=http://127.0.0.1:8000), got {pair!r}")
        ctx.model(name)  # raises on an unknown model server
        urls[name] = url
    return urls
