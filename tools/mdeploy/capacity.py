"""`mdeploy capacity`: what each environment requests (per team too) against what it may use.

Computed from the values files the way the chart computes pods (so no render is needed):
- pods per Deployment: `replicas` (default 2) clamped to the environment's `caps.replicas`;
  with prod autoscaling, `maxReplicas` (the most the environment must be able to hold);
- per pod: CPU and memory requests clamped to `caps.cpu`/`caps.memory`, the larger of the
  containers and the initializer (init containers run before, not beside, the server);
- GPUs by resource name: `whole`/`hami` -> nvidia.com/gpu, `timeslice` -> the cluster's
  `timesliceResource`, `mig` -> nvidia.com/mig-<profile>; count clamped to `caps.gpus`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from mdeploy.quantity import cpu_millicores, format_cpu, format_memory, memory_bytes
from mdeploy.report import ToolError
from mdeploy.services import Repo

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Usage:
    cpu_m: int = 0
    memory: int = 0
    gpus: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Usage") -> None:
        self.cpu_m += other.cpu_m
        self.memory += other.memory
        for name, count in other.gpus.items():
            self.gpus[name] = self.gpus.get(name, 0) + count


def _gpu_resource(gpu: dict[str, Any], cluster: dict[str, Any]) -> str:
    mode = gpu.get("mode", "whole")
    if mode == "timeslice":
        return cluster.get("timesliceResource", "nvidia.com/gpu.shared")
    if mode == "mig":
        return f"nvidia.com/mig-{gpu.get('migProfile', '?')}"
    return "nvidia.com/gpu"


def _pods(section: dict[str, Any], environment: dict[str, Any]) -> int:
    caps = environment.get("caps") or {}
    auto = section.get("autoscaling") or {}
    if environment.get("tier") == "prod" and auto.get("enabled"):
        return int(auto.get("maxReplicas", 10))
    replicas = int(section.get("replicas", 2))
    return min(replicas, int(caps["replicas"])) if "replicas" in caps else replicas


def _requests(resources: dict[str, Any] | None, caps: dict[str, Any]) -> tuple[int, int]:
    requests = (resources or {}).get("requests") or {}
    cpu = cpu_millicores(requests.get("cpu", 0))
    mem = memory_bytes(requests.get("memory", 0))
    if "cpu" in caps:
        cpu = min(cpu, cpu_millicores(caps["cpu"]))
    if "memory" in caps:
        mem = min(mem, memory_bytes(caps["memory"]))
    return cpu, mem


def service_usage(data: dict[str, Any], environment: dict[str, Any]) -> Usage:
    caps = environment.get("caps") or {}
    cluster = environment.get("cluster") or {}
    usage = Usage()
    sections = [("cgi", data.get("cgi") or {})] + list((data.get("models") or {}).items())
    for _, section in sections:
        pods = _pods(section, environment)
        cpu, mem = _requests(section.get("resources"), caps)
        init = ((section.get("triton") or {}).get("repository") or {}).get("initializer") or {}
        if init.get("resources"):
            init_cpu, init_mem = _requests(init["resources"], caps)
            cpu, mem = max(cpu, init_cpu), max(mem, init_mem)
        usage.cpu_m += cpu * pods
        usage.memory += mem * pods
        gpu = section.get("gpu") or {}
        count = int(gpu.get("count", 0))
        if "gpus" in caps:
            count = min(count, int(caps["gpus"]))
        if count:
            name = _gpu_resource(gpu, cluster)
            per_pod = 1 if gpu.get("mode") == "timeslice" else count
            usage.gpus[name] = usage.gpus.get(name, 0) + per_pod * pods
    return usage


@dataclass
class EnvCapacity:
    env: str
    total: Usage
    teams: dict[str, Usage]
    capacity: dict[str, Any]

    def rows(self) -> list[dict[str, Any]]:
        """One row per resource: requested, capacity, percentage, over."""
        cap = self.capacity
        rows = []
        limits = {"cpu": cpu_millicores(cap["cpu"]) if "cpu" in cap else None,
                  "memory": memory_bytes(cap["memory"]) if "memory" in cap else None}
        rows.append(self._row("cpu", self.total.cpu_m, limits["cpu"], format_cpu))
        rows.append(self._row("memory", self.total.memory, limits["memory"], format_memory))
        gpu_caps = cap.get("gpus") or {}
        for name in sorted(set(self.total.gpus) | set(gpu_caps)):
            rows.append(self._row(name, self.total.gpus.get(name, 0), gpu_caps.get(name, 0) if gpu_caps else None, str))
        return rows

    def _row(self, resource: str, used: int, limit: int | None, fmt) -> dict[str, Any]:
        return {"environment": self.env, "resource": resource, "requested": fmt(used),
                "capacity": fmt(limit) if limit is not None else "-",
                "percent": round(100 * used / limit, 1) if limit else None,
                "over": limit is not None and used > limit}

    @property
    def over(self) -> bool:
        return any(row["over"] for row in self.rows())


def environment_capacity(repo: Repo, env: str) -> EnvCapacity:
    env_path = repo.env_file(env)
    try:
        environment = (yaml.load(env_path.read_bytes(), Loader=_Loader) or {})["environment"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise ToolError(f"cannot read {repo.rel(env_path)}: {err}; run `mdeploy validate`", rule="capacity") from err
    total, teams = Usage(), {}
    for ref in repo.services(env):
        try:
            data = yaml.load(ref.path.read_bytes(), Loader=_Loader)
            usage = service_usage(data, environment)
        except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError) as err:
            raise ToolError(f"cannot compute the capacity of {repo.rel(ref.path)} ({err}); run `mdeploy validate`",
                            path=repo.rel(ref.path), rule="capacity") from err
        total.add(usage)
        teams.setdefault(str(data.get("team", "?")), Usage()).add(usage)
    return EnvCapacity(env, total, teams, environment.get("capacity") or {})


def team_rows(report: EnvCapacity) -> list[list[str]]:
    rows = []
    for team, usage in sorted(report.teams.items()):
        gpus = ", ".join(f"{n} {k}" for k, n in sorted(usage.gpus.items())) or "-"
        rows.append([report.env, team, format_cpu(usage.cpu_m), format_memory(usage.memory), gpus])
    return rows
