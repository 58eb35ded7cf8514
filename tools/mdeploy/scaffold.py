"""`mdeploy new`: a commented service file that validates as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from mdeploy.chart_source import available_versions
from mdeploy.report import ToolError, UsageError
from mdeploy.services import Repo
from mdeploy.files import write_atomic

TEMPLATES = Path(__file__).parent / "templates" / "new"
RUNTIMES = ("triton", "tfserving", "custom")
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Scaffold:
    path: Path
    text: str


def _first_registry(repo: Repo, env: str) -> str:
    """The first registry with a pull secret (the team's own registry), else the first one."""
    try:
        registries = yaml.load(repo.env_file(env).read_bytes(), Loader=_Loader)["environment"]["registries"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return "registry.example.com/"
    private = [r["prefix"] for r in registries if r.get("pullSecret")]
    return (private or [r["prefix"] for r in registries] or ["registry.example.com/"])[0]


def scaffold(repo: Repo, service: str, runtime: str, *, gpu: int | None, team: str, env: str = "gray",
             chart: str | None = None) -> Scaffold:
    if not _NAME.match(service) or not 2 <= len(service) <= 40:
        raise UsageError(f"service name {service!r} must be a DNS label of 2-40 characters: lower-case letters, "
                         "digits and '-', starting with a letter")
    if not _NAME.match(team):
        raise UsageError(f"team {team!r} must be lower-case letters, digits and '-'")
    if runtime not in RUNTIMES:
        raise UsageError(f"runtime must be one of {', '.join(RUNTIMES)}")
    repo.require_env(env)
    path = repo.service_file(env, service)
    if path.exists():
        raise ToolError(f"{repo.rel(path)} already exists; edit it, or pick another name (new never overwrites)",
                        rule="new")
    if chart is None:
        versions = available_versions(repo.root, tier="gray")
        if not versions:
            raise ToolError("no chart version found (no tag model-service-*, no charts/model-service/Chart.yaml); "
                            "pass --chart", rule="new")
        chart = versions[-1]
    gpu = (1 if runtime in ("triton", "tfserving") else 0) if gpu is None else gpu
    model = "model" if runtime == "custom" else runtime.replace("tfserving", "tfs")
    cpu, memory = ("4", "16Gi") if gpu else ("1", "2Gi")
    env_jinja = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                                   keep_trailing_newline=True, autoescape=False)
    text = env_jinja.get_template("service.yaml.j2").render(
        service=service, team=team, chart=chart, runtime=runtime, gpu=gpu, model=model, cpu=cpu, memory=memory,
        registry=_first_registry(repo, env), path=repo.rel(path))
    return Scaffold(path, text)


def write(result: Scaffold) -> None:
    if result.path.exists():  # checked again right before writing: never overwrite
        raise ToolError(f"{result.path} appeared meanwhile; not overwriting it", rule="new")
    write_atomic(result.path, result.text)
