"""The one stand-in: a local HTTP server answering the Kubernetes and Argo CD API paths that
`mdeploy status` reads, because no cluster runs here. Every built-in object it serves is
validated against the official Kubernetes 1.34 schema (strict) before it is served, so the
client is tested against objects shaped like the real ones.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import kubernetes_validate

from mdeploy.toolchain import KUBE_VERSION

T0 = "2026-11-21T10:00:00Z"
T1 = "2026-11-21T10:05:00Z"


def validated(obj: dict) -> dict:
    kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
    return obj


def deployment(ns: str, name: str, *, desired: int, ready: int, image: str) -> dict:
    labels = {"app.kubernetes.io/name": "model-service", "app.kubernetes.io/instance": name}
    status: dict = {"observedGeneration": 1, "replicas": desired, "updatedReplicas": desired,
                    "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                                    "lastUpdateTime": T0, "lastTransitionTime": T0}]}
    if ready:  # the API server omits zero counters
        status.update(readyReplicas=ready, availableReplicas=ready)
    return validated({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "generation": 1, "uid": f"uid-{name}"},
        "spec": {"replicas": desired, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}]}}},
        "status": status,
    })


def pod(ns: str, name: str, *, image: str, phase: str = "Running", ready: bool = True, state: dict | None = None,
        last_state: dict | None = None, restarts: int = 0, conditions: list | None = None, scheduled: bool = True) -> dict:
    container_status = {
        "name": "main", "image": image, "imageID": "" if not ready else f"{image.split(':')[0]}@sha256:{'0' * 64}",
        "ready": ready, "restartCount": restarts, "started": ready,
        "state": state or {"running": {"startedAt": T0}},
        "lastState": last_state or {},
    }
    status: dict = {"phase": phase, "conditions": conditions or [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": T0},
    ], "qosClass": "Guaranteed"}
    if scheduled:
        status["containerStatuses"] = [container_status]
    spec: dict = {"containers": [{"name": "main", "image": image}]}
    if scheduled:
        spec["nodeName"] = "node-1"
    return validated({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/instance": name.rsplit("-", 2)[0]}},
        "spec": spec,
        "status": status,
    })


def event(ns: str, name: str, *, obj: str, reason: str, message: str, count: int = 1, when: str = T1) -> dict:
    return validated({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": "Pod", "name": obj, "namespace": ns, "apiVersion": "v1"},
        "reason": reason, "message": message, "type": "Warning", "count": count,
        "firstTimestamp": T0, "lastTimestamp": when, "source": {"component": "kubelet"},
    })


def application(name: str, *, sync: str = "Synced", health: str = "Healthy", message: str = "") -> dict:
    """An Argo CD Application as the API returns it (multi-source: chart tag + $values)."""
    revisions = ["model-service-1.0.0", "4b0c1d2e3f4a5b6c7d8e9f0011223344556677ab"]
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "model-services-prod", "destination": {"server": "https://kubernetes.default.svc"},
                 "sources": [{"repoURL": "https://github.com/model-deploy/model-deploy.git", "path": "charts/model-service",
                              "targetRevision": "model-service-1.0.0"},
                             {"repoURL": "https://github.com/model-deploy/model-deploy.git", "targetRevision": "main", "ref": "values"}]},
        "status": {
            "sync": {"status": sync, "revisions": revisions},
            "health": {"status": health, **({"message": message} if message else {})},
            "history": [
                {"id": 1, "revisions": ["model-service-1.0.0", "aaaaaaaaaaaa1111"], "deployedAt": T0, "deployStartedAt": T0},
                {"id": 2, "revisions": revisions, "deployedAt": T1, "deployStartedAt": T1},
            ],
            "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)", "startedAt": T1, "finishedAt": T1},
        },
    }


def as_list(kind: str, api_version: str, items: list[dict]) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items}


class FakeKube:
    """Serves `routes` (path -> JSON object, or str for text such as pod logs); records requests."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002
                pass

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                fake.requests.append((parts.path, parse_qs(parts.query)))
                body = fake.routes.get(parts.path)
                if body is None:
                    status, ctype = 404, "application/json"
                    data = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                       "message": f"{parts.path} not found", "reason": "NotFound", "code": 404}).encode()
                elif isinstance(body, str):
                    status, ctype, data = 200, "text/plain", body.encode()
                else:
                    status, ctype, data = 200, "application/json", json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeKube":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, path: Path) -> Path:
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester", "namespace": "default"}}],
        }))
        return path

    def serve_namespace(self, ns: str, *, deployments=(), pods=(), events=(), logs: dict[str, str] | None = None) -> None:
        self.routes[f"/apis/apps/v1/namespaces/{ns}/deployments"] = as_list("DeploymentList", "apps/v1", list(deployments))
        self.routes[f"/api/v1/namespaces/{ns}/pods"] = as_list("PodList", "v1", list(pods))
        self.routes[f"/api/v1/namespaces/{ns}/events"] = as_list("EventList", "v1", list(events))
        for pod_name, text in (logs or {}).items():
            self.routes[f"/api/v1/namespaces/{ns}/pods/{pod_name}/log"] = text

    def serve_application(self, app: dict) -> None:
        self.routes[f"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/{app['metadata']['name']}"] = app
