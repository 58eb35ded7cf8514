"""`mdeploy status` against the local Kubernetes/Argo CD API stand-in (no cluster runs here)."""

from __future__ import annotations

import pytest

from .conftest import closed_port
from .fake_kube import FakeKube, application, deployment, event, pod
from .helpers import as_json, mdeploy, one_line_error

NS = "ms-prod-demo"
CGI_IMAGE = "registry.example.com/ai/demo-cgi:20261121-1530"
TRITON_IMAGE = "nvcr.io/nvidia/tritonserver:25.10-py3"


@pytest.fixture
def kube(tmp_path):
    with FakeKube() as fake:
        fake.config = fake.kubeconfig(tmp_path / "kubeconfig")
        yield fake


def status(kube, repo_root, *extra):
    return mdeploy("status", "demo", "--env", "prod", "--kubeconfig", str(kube.config), *extra, root=repo_root)


def healthy(kube, *, pods=None, events=(), logs=None, desired_model=2, ready_model=2):
    kube.serve_application(application("demo-prod"))
    kube.serve_namespace(
        NS,
        deployments=[deployment(NS, "demo-cgi", desired=2, ready=2, image=CGI_IMAGE),
                     deployment(NS, "demo-main", desired=desired_model, ready=ready_model, image=TRITON_IMAGE)],
        pods=pods if pods is not None else [pod(NS, f"demo-cgi-7d9f8c6b5-{s}", image=CGI_IMAGE) for s in ("abcde", "fghij")]
        + [pod(NS, f"demo-main-5c4b3a291-{s}", image=TRITON_IMAGE) for s in ("klmno", "pqrst")],
        events=events, logs=logs,
    )


def test_healthy_service_exits_0(kube, repo_root):
    healthy(kube)
    result = status(kube, repo_root)
    assert result.exit_code == 0, result.output + result.stderr
    out = result.stdout
    assert "Argo CD Application demo-prod" in out
    assert "revision        model-service-1.0.0, 4b0c1d2e3f4a\n" in out  # multi-source: chart tag + values commit
    assert "demo-main   2      2        2           2" in out
    assert "Pods needing attention" not in out
    assert out.splitlines()[-1] == "demo in prod: synced, healthy, all replicas ready"
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert doc["ok"] is True and doc["attention"] == [] and doc["namespace"] == NS
    assert [h["id"] for h in doc["application"]["history"]] == [2, 1]
    assert doc["application"]["sync"] == "Synced" and doc["application"]["health"] == "Healthy"


def test_image_pull_backoff_names_registry_and_pull_secret(kube, repo_root):
    bad_image = "registry.example.com/private/demo-main:20261121"
    waiting = {"waiting": {"reason": "ImagePullBackOff",
                           "message": f'Back-off pulling image "{bad_image}": ErrImagePull: pull access denied, repository does not exist or may require authorization'}}
    healthy(kube, ready_model=1, pods=[pod(NS, "demo-main-5c4b3a291-klmno", image=bad_image, phase="Pending", ready=False, state=waiting)])
    kube.serve_application(application("demo-prod", health="Degraded", message="Deployment demo-main exceeded its progress deadline"))
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert doc["ok"] is False
    (problem,) = doc["pods"]
    assert problem["state"] == "ImagePullBackOff" and problem["container"] == "main"
    assert problem["advice"].startswith(f"cannot pull image {bad_image}: check that this tag exists at that registry path "
                                        "and that the namespace has the registry's pull secret")
    assert doc["attention"] == [
        "Argo CD: demo-prod health is Degraded: Deployment demo-main exceeded its progress deadline",
        "Deployment demo-main: 1 of 2 replicas ready",
        "pod demo-main-5c4b3a291-klmno: ImagePullBackOff",
    ]
    assert status(kube, repo_root).exit_code == 1


def test_crash_loop_shows_probe_advice_and_last_log_lines(kube, repo_root):
    name = "demo-cgi-7d9f8c6b5-abcde"
    crash = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=main"}}
    last = {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": "2026-11-21T10:04:00Z", "finishedAt": "2026-11-21T10:04:40Z"}}
    log = "\n".join([f"line {i}" for i in range(1, 15)] + ["GET /api/ping -> 404 Not Found", "worker exiting (pid: 7)"]) + "\n"
    healthy(kube, pods=[pod(NS, name, image=CGI_IMAGE, ready=False, state=crash, last_state=last, restarts=12)],
            events=[event(NS, "demo-cgi.1", obj=name, reason="Unhealthy", message="Liveness probe failed: HTTP probe failed with statuscode: 404", count=36),
                    event(NS, "demo-cgi.2", obj=name, reason="BackOff", message="Back-off restarting failed container main in pod", count=40,
                          when="2026-11-21T10:06:00Z")],
            logs={name: log})
    result = status(kube, repo_root)
    assert result.exit_code == 1
    out = result.stdout
    assert "keeps crashing (12 restarts, last exit code 137): if it is killed by its probes, check that the health path (cgi.healthPath) still answers 200" in out
    tail = out.split(f"Last log lines of {name}/main:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert tail == ["  line 7", "  line 8", "  line 9", "  line 10", "  line 11", "  line 12", "  line 13", "  line 14",
                    "  GET /api/ping -> 404 Not Found", "  worker exiting (pid: 7)"]
    # The crashed run's log was asked for (previous=true), the last 10 lines of it.
    log_requests = [q for path, q in kube.requests if path.endswith(f"/pods/{name}/log")]
    assert log_requests and log_requests[0]["previous"] == ["true"] and log_requests[0]["tailLines"] == ["10"]
    events = out.split("Recent warning events\n", 1)[1]
    assert events.index("BackOff") < events.index("Unhealthy")  # newest first
    assert "Liveness probe failed: HTTP probe failed with statuscode: 404" in events


def test_pending_on_gpus_points_at_capacity(kube, repo_root):
    name = "demo-main-5c4b3a291-klmno"
    message = "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    unscheduled = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message, "lastTransitionTime": "2026-11-21T10:01:00Z"}]
    healthy(kube, ready_model=1,
            pods=[pod(NS, "demo-main-5c4b3a291-pqrst", image=TRITON_IMAGE),
                  pod(NS, name, image=TRITON_IMAGE, phase="Pending", ready=False, conditions=unscheduled, scheduled=False)],
            events=[event(NS, "demo-main.1", obj=name, reason="FailedScheduling", message=message, count=7)])
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert doc["ok"] is False
    (problem,) = doc["pods"]
    assert (problem["pod"], problem["state"]) == (name, "Pending")
    assert problem["advice"].startswith("cannot be scheduled: the prod environment is out of GPUs (nvidia.com/gpu) on every node; "
                                        "free some or lower the request (see `mdeploy capacity --env prod`)")
    assert doc["events"][0]["reason"] == "FailedScheduling" and doc["events"][0]["count"] == 7


def test_pending_on_cpu_and_memory_from_the_event_alone(kube, repo_root):
    name = "demo-cgi-7d9f8c6b5-abcde"
    message = "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."
    healthy(kube, pods=[pod(NS, name, image=CGI_IMAGE, phase="Pending", ready=False, scheduled=False,
                            conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": "2026-11-21T10:01:00Z"}])],
            events=[event(NS, "demo-cgi.1", obj=name, reason="FailedScheduling", message=message)])
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert doc["pods"][0]["advice"].startswith("cannot be scheduled: the prod environment is out of CPU and memory on every node")


def test_missing_application_and_out_of_sync(kube, repo_root):
    healthy(kube)
    kube.routes.clear()
    kube.serve_namespace(NS)
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert doc["application"] is None
    assert doc["attention"] == ["Argo CD has no Application demo-prod in namespace argocd: is environments/prod/demo.yaml "
                                "merged to main and the ApplicationSet healthy?"]
    kube.serve_application(application("demo-prod", sync="OutOfSync"))
    doc = as_json(status(kube, repo_root, "--format", "json"))
    assert "Argo CD: demo-prod is OutOfSync (the cluster differs from git)" in doc["attention"]


def test_unreachable_api_and_bad_kubeconfig_are_one_line(repo_root, tmp_path):
    with FakeKube() as fake:
        config = fake.kubeconfig(tmp_path / "kubeconfig")
    config.write_text(config.read_text().replace(fake.url, f"http://127.0.0.1:{closed_port()}"))
    result = mdeploy("status", "demo", "--env", "prod", "--kubeconfig", str(config), root=repo_root)
    assert result.exit_code == 1
    assert "cannot reach the Kubernetes API at http://127.0.0.1:" in one_line_error(result)
    assert "(connection refused); is the kubeconfig context right?" in result.stderr

    result = mdeploy("status", "demo", "--env", "prod", "--kubeconfig", str(config), "--context", "nope", root=repo_root)
    assert result.exit_code == 1
    assert one_line_error(result).startswith(f"mdeploy: cannot use kubeconfig {config}: ")
