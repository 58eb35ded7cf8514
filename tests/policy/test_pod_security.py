"""Every workload the chart renders meets Pod Security Standards `restricted` (plus our extras).

Checked on every pod template of every kind that has one (Deployment, StatefulSet, DaemonSet,
Job, CronJob, Pod), in every scenario and example service, for every container: init and
ephemeral containers included. The rules follow the `restricted` profile of the Kubernetes Pod
Security Standards; readOnlyRootFilesystem and automountServiceAccountToken: false are this
chart's own stricter defaults.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest

from tests.chart.chartlib import EXAMPLES, SCENARIOS, example_files, render, render_scenario

# PSS restricted: the only volume types allowed.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(Kind/name, pod spec) of every object that runs pods."""
    for doc in docs:
        spec = doc.get("spec") or {}
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "Pod":
            yield name, spec
        elif "template" in spec and isinstance(spec["template"], dict) and "spec" in spec["template"]:
            yield name, spec["template"]["spec"]
        elif "jobTemplate" in spec:
            yield name, spec["jobTemplate"]["spec"]["template"]["spec"]


def violations(pod: dict[str, Any]) -> list[str]:
    out = []
    pod_sc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key) is True:
            out.append(f"{key} must not be true")
    if pod.get("automountServiceAccountToken") is not False:
        out.append("automountServiceAccountToken must be false")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            out.append(f"volume {volume['name']}: type {sorted(kinds)} not allowed")
    if pod_sc.get("runAsUser") == 0:
        out.append("pod runAsUser must not be 0")
    containers = [(key, c) for key in CONTAINER_KEYS for c in pod.get(key) or []]
    if not containers:
        out.append("no containers")
    for key, c in containers:
        where = f"{key}[{c['name']}]"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{where}: allowPrivilegeEscalation must be false")
        if sc.get("privileged") is True:
            out.append(f"{where}: privileged")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"{where}: capabilities.drop must include ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"{where}: capabilities.add {caps['add']} not allowed")
        if sc.get("readOnlyRootFilesystem") is not True:
            out.append(f"{where}: readOnlyRootFilesystem must be true")
        run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if run_as_non_root is not True:
            out.append(f"{where}: runAsNonRoot must be true (pod or container)")
        if sc.get("runAsUser") == 0:
            out.append(f"{where}: runAsUser must not be 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost (pod or container)")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                out.append(f"{where}: hostPort {port['hostPort']}")
    return out


def all_renders():
    for scenario in SCENARIOS:
        yield f"scenario:{scenario}", lambda s=scenario: render_scenario(s)
    for env, service in EXAMPLES:
        yield f"example:{env}/{service}", lambda e=env, s=service: render(example_files(e, s))


RENDERS = dict(all_renders())


@pytest.mark.parametrize("source", sorted(RENDERS))
def test_every_workload_is_restricted(source):
    docs = RENDERS[source]()
    pods = list(pod_specs(docs))
    assert pods, "no workload rendered"
    assert {name: violations(pod) for name, pod in pods} == {name: [] for name, _ in pods}


def test_init_containers_are_covered():
    # The initializer scenario has an init container: the check must have looked at it.
    docs = render_scenario("triton-initializer")
    inits = [c for _, pod in pod_specs(docs) for c in pod.get("initContainers") or []]
    assert inits
    assert all(c["securityContext"]["readOnlyRootFilesystem"] is True for c in inits)


@pytest.mark.parametrize("mutate, expected", [
    (lambda p: p["initContainers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
     "initContainers[model-initializer]: allowPrivilegeEscalation must be false"),
    (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
     "capabilities.drop must include ALL"),
    (lambda p: p["securityContext"].pop("seccompProfile"), "seccompProfile must be RuntimeDefault"),
    (lambda p: p["securityContext"].pop("runAsNonRoot"), "runAsNonRoot must be true"),
    (lambda p: p["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
     "readOnlyRootFilesystem must be true"),
    (lambda p: p.update(hostNetwork=True), "hostNetwork must not be true"),
    (lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "type ['hostPath'] not allowed"),
    (lambda p: p.pop("automountServiceAccountToken"), "automountServiceAccountToken must be false"),
])
def test_the_check_catches_each_violation(mutate, expected):
    docs = render_scenario("triton-initializer")
    name, pod = next((n, p) for n, p in pod_specs(docs) if p.get("initContainers"))
    bad = copy.deepcopy(pod)
    mutate(bad)
    assert violations(pod) == []
    assert any(expected in v for v in violations(bad)), violations(bad)
