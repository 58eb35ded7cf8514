"""What `mdeploy status` reads from the cluster, and the plain-words advice it derives.

Reads only (no writes): the Argo CD Application `<service>-<env>`, and the Deployments, Pods,
Warning events and crash logs in the service's namespace. The advice mirrors the failures
teams actually hit (DOMAIN.md): an image pushed where no pull secret reaches, a health path
that was removed, an environment out of GPUs, a model server killed for memory.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mdeploy.ops.context import ServiceContext
from mdeploy.report import ToolError

REQUEST_TIMEOUT = 15  # seconds per API call; a hung API server must not hang the command
LOG_LINES = 10
EVENT_LIMIT = 10
HISTORY_LIMIT = 5

IMAGE_PULL = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
INSUFFICIENT = re.compile(r"Insufficient ([\w./-]+)")


@dataclasses.dataclass
class PodProblem:
    pod: str
    container: str
    state: str  # the Kubernetes reason, e.g. CrashLoopBackOff
    advice: str
    logs: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Status:
    application: dict[str, Any] | None  # None when Argo CD has no such Application
    deployments: list[dict[str, Any]]
    pods: list[PodProblem]
    events: list[dict[str, Any]]
    attention: list[str]  # one plain line per thing that needs a person

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.attention,
            "attention": self.attention,
            "application": self.application,
            "deployments": self.deployments,
            "pods": [dataclasses.asdict(p) for p in self.pods],
            "events": self.events,
        }


# --- connecting ---------------------------------------------------------------------------

def api_client(kubeconfig: Path | None, context: str | None):
    """A client from --kubeconfig, $KUBECONFIG or ~/.kube/config, else the in-cluster account."""
    from kubernetes import client, config

    configuration = client.Configuration()
    configuration.retries = 1  # fail fast on a dead API server; status is read-only and cheap to rerun
    default = Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]).expanduser()
    try:
        if kubeconfig is not None or default.is_file() or context:
            config.load_kube_config(config_file=str(kubeconfig) if kubeconfig else None, context=context,
                                    client_configuration=configuration, persist_config=False)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)
        else:
            raise ToolError("no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, or run inside the cluster")
    except config.ConfigException as err:
        where = f"kubeconfig {kubeconfig or default}"
        raise ToolError(f"cannot use {where}: {str(err).splitlines()[0]}") from None
    return client.ApiClient(configuration)


def _api_error(err: Exception, what: str, host: str) -> ToolError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(err, ApiException):
        if err.status in (401, 403):
            return ToolError(f"the Kubernetes API refused to let you read {what} (HTTP {err.status} {err.reason}); "
                             "check the kubeconfig context and your RBAC permissions")
        return ToolError(f"the Kubernetes API failed reading {what}: HTTP {err.status} {err.reason}")
    reason = str(getattr(err, "reason", None) or err).splitlines()[0]
    if "refused" in reason.lower():
        reason = "connection refused"
    return ToolError(f"cannot reach the Kubernetes API at {host} ({reason}); is the kubeconfig context right?")


# --- reading ------------------------------------------------------------------------------

def collect(ctx: ServiceContext, api) -> Status:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    host = api.configuration.host
    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    attention: list[str] = []

    try:
        app = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", ctx.argocd_namespace, "applications",
                                                  ctx.application, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as err:
        if err.status != 404:
            raise _api_error(err, f"Application {ctx.application}", host) from None
        app = None
    except Exception as err:  # noqa: BLE001 - urllib3 errors: one line, not a traceback
        raise _api_error(err, f"Application {ctx.application}", host) from None
    application = summarize_application(app) if app is not None else None
    if application is None:
        attention.append(f"Argo CD has no Application {ctx.application} in namespace {ctx.argocd_namespace}: "
                         f"is environments/{ctx.env}/{ctx.service}.yaml merged to main and the ApplicationSet healthy?")
    else:
        attention.extend(application_attention(application))

    try:
        deployments = apps.list_namespaced_deployment(ctx.namespace, _request_timeout=REQUEST_TIMEOUT).items
        pods = core.list_namespaced_pod(ctx.namespace, _request_timeout=REQUEST_TIMEOUT).items
        events = core.list_namespaced_event(ctx.namespace, field_selector="type=Warning", _request_timeout=REQUEST_TIMEOUT).items
    except Exception as err:  # noqa: BLE001
        raise _api_error(err, f"namespace {ctx.namespace}", host) from None

    deployment_rows = [summarize_deployment(d) for d in sorted(deployments, key=lambda d: d.metadata.name)]
    for row in deployment_rows:
        if row["ready"] < row["desired"]:
            attention.append(f"Deployment {row['name']}: {row['ready']} of {row['desired']} replicas ready")
    if application is not None and not deployments:
        attention.append(f"no Deployments in namespace {ctx.namespace} yet")

    warnings = [e for e in events if (e.type or "") == "Warning"]
    problems: list[PodProblem] = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        for problem in diagnose_pod(pod, warnings, ctx.env):
            if problem.state == "CrashLoopBackOff":
                problem.logs = _last_logs(core, ctx.namespace, pod.metadata.name, problem.container)
            problems.append(problem)
    attention.extend(f"pod {p.pod}: {p.state}" for p in problems)
    return Status(application, deployment_rows, problems, summarize_events(warnings), attention)


def _last_logs(core, namespace: str, pod: str, container: str) -> list[str]:
    """The crashed run's last lines (previous=True); the running attempt has often said nothing yet."""
    for previous in (True, False):
        try:
            text = core.read_namespaced_pod_log(pod, namespace, container=container, tail_lines=LOG_LINES,
                                                previous=previous, _request_timeout=REQUEST_TIMEOUT)
        except Exception:  # noqa: BLE001 - no logs is an answer too; the advice still stands
            continue
        lines = [line for line in (text or "").splitlines() if line.strip()]
        if lines:
            return lines[-LOG_LINES:]
    return []


# --- summarizing (pure: plain objects in, plain dicts out) --------------------------------

def _revisions(node: dict[str, Any]) -> str:
    revs = node.get("revisions") or ([node["revision"]] if node.get("revision") else [])
    # Commit SHAs shortened like git does; tags (the chart source) stay whole.
    return ", ".join(str(r)[:12] if re.fullmatch(r"[0-9a-f]{40}", str(r)) else str(r) for r in revs) or "-"


def summarize_application(app: dict[str, Any]) -> dict[str, Any]:
    status = app.get("status") or {}
    sync, health = status.get("sync") or {}, status.get("health") or {}
    operation = status.get("operationState") or {}
    history = sorted(status.get("history") or [], key=lambda h: h.get("id", 0), reverse=True)[:HISTORY_LIMIT]
    return {
        "name": (app.get("metadata") or {}).get("name"),
        "sync": sync.get("status", "Unknown"),
        "health": health.get("status", "Unknown"),
        "health_message": health.get("message", ""),
        "revision": _revisions(sync),
        "operation": operation.get("phase", ""),
        "operation_message": (operation.get("message") or "").splitlines()[0] if operation.get("message") else "",
        "conditions": [{"type": c.get("type"), "message": c.get("message", "")} for c in status.get("conditions") or []],
        "history": [{"id": h.get("id"), "revision": _revisions(h), "deployedAt": h.get("deployedAt", "")} for h in history],
    }


def application_attention(app: dict[str, Any]) -> list[str]:
    out = []
    if app["sync"] != "Synced":
        out.append(f"Argo CD: {app['name']} is {app['sync']} (the cluster differs from git)")
    if app["health"] != "Healthy":
        out.append(f"Argo CD: {app['name']} health is {app['health']}" + (f": {app['health_message']}" if app["health_message"] else ""))
    if app["operation"] in ("Failed", "Error"):
        out.append(f"Argo CD: last sync {app['operation']}: {app['operation_message']}")
    out.extend(f"Argo CD: {c['type']}: {c['message']}" for c in app["conditions"] if "Error" in (c["type"] or ""))
    return out


def summarize_deployment(dep) -> dict[str, Any]:
    spec_replicas = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
    status = dep.status
    return {
        "name": dep.metadata.name,
        "ready": (status.ready_replicas or 0) if status else 0,
        "desired": spec_replicas,
        "updated": (status.updated_replicas or 0) if status else 0,
        "available": (status.available_replicas or 0) if status else 0,
    }


def _scheduling_message(pod, warnings) -> str:
    for cond in (pod.status.conditions or []) if pod.status else []:
        if cond.type == "PodScheduled" and cond.status == "False" and cond.message:
            return cond.message
    for event in warnings:
        obj = event.involved_object
        if event.reason == "FailedScheduling" and obj is not None and obj.kind == "Pod" and obj.name == pod.metadata.name:
            return event.message or ""
    return ""


def scheduling_advice(message: str, env: str) -> str:
    """Turn `0/3 nodes are available: 3 Insufficient nvidia.com/gpu.` into what to do."""
    short = {"nvidia.com/gpu": "GPUs (nvidia.com/gpu)", "cpu": "CPU", "memory": "memory"}
    resources = list(dict.fromkeys(m.rstrip(".") for m in INSUFFICIENT.findall(message)))
    if resources:
        names = " and ".join(short.get(r, r) for r in resources)
        return (f"cannot be scheduled: the {env} environment is out of {names} on every node; "
                f"free some or lower the request (see `mdeploy capacity --env {env}`). Scheduler: {message.strip()}")
    if message:
        return f"cannot be scheduled: {message.strip()}"
    return "waiting to be scheduled"


def diagnose_pod(pod, warnings, env: str) -> list[PodProblem]:
    """Zero or more problems for one pod, most specific first; a healthy pod gives none."""
    name = pod.metadata.name
    status = pod.status
    statuses = list((status.init_container_statuses or []) + (status.container_statuses or [])) if status else []
    problems: list[PodProblem] = []
    for cs in statuses:
        waiting = cs.state.waiting if cs.state else None
        last = cs.last_state.terminated if cs.last_state else None
        if waiting and waiting.reason in IMAGE_PULL:
            problems.append(PodProblem(name, cs.name, waiting.reason,
                f"cannot pull image {cs.image}: check that this tag exists at that registry path and that the "
                f"namespace has the registry's pull secret (environment `registries`). Kubelet: {(waiting.message or '').strip()}"))
        elif waiting and waiting.reason == "CrashLoopBackOff":
            exit_info = f", last exit code {last.exit_code}" if last and last.exit_code is not None else ""
            if last and last.reason == "OOMKilled":
                advice = (f"killed for using more memory than its limit ({cs.restart_count} restarts): raise "
                          "resources.limits.memory or load fewer models into this server")
            else:
                advice = (f"keeps crashing ({cs.restart_count} restarts{exit_info}): if it is killed by its probes, check "
                          "that the health path (cgi.healthPath) still answers 200 and the probe timeouts fit startup "
                          "and load; otherwise the last log lines below say why it exits")
            problems.append(PodProblem(name, cs.name, "CrashLoopBackOff", advice))
        elif waiting and waiting.reason in ("CreateContainerConfigError", "CreateContainerError", "RunContainerError"):
            problems.append(PodProblem(name, cs.name, waiting.reason,
                f"cannot start the container: {(waiting.message or '').strip()} (a missing Secret/ConfigMap or a bad command?)"))
        elif cs.state and cs.state.running and not cs.ready and status.phase == "Running":
            problems.append(PodProblem(name, cs.name, "NotReady",
                "running but not ready: its readiness probe fails (health path, or the model is still loading)"))
    if not problems and status and status.phase == "Pending":
        message = _scheduling_message(pod, warnings)
        if message or not statuses:
            problems.append(PodProblem(name, "-", "Pending", scheduling_advice(message, env)))
    if not problems and status and status.phase == "Failed":
        problems.append(PodProblem(name, "-", "Failed", (status.message or status.reason or "the pod failed").strip()))
    return problems


def _event_time(event) -> datetime:
    stamp = event.last_timestamp or event.event_time or event.first_timestamp or event.metadata.creation_timestamp
    return stamp or datetime.min.replace(tzinfo=timezone.utc)


def summarize_events(warnings) -> list[dict[str, Any]]:
    newest = sorted(warnings, key=_event_time, reverse=True)[:EVENT_LIMIT]
    return [{
        "time": _event_time(e).isoformat() if _event_time(e).year > 1 else "",
        "object": f"{e.involved_object.kind}/{e.involved_object.name}" if e.involved_object else "",
        "reason": e.reason or "",
        "count": e.count or 1,
        "message": (e.message or "").strip().splitlines()[0] if e.message else "",
    } for e in newest]
