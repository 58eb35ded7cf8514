"""`make bench`: the scale benchmark (issue 8). `python -m mdeploy.bench_scale [--services N] [--json]`.

Generates a synthetic repository in a temporary directory (N services x gray and prod, a mix of
Triton, TF-Serving and custom services with 1-4 model servers, GPU and CPU), commits it, tags
the chart, and measures in one run, each step as a real `mdeploy` process:

- validate of the whole repository;
- render cold (empty cache), warm (nothing changed), and after one service file changed;
- diff for a one-service change and for an environment-file change;
- promote --all-changed with 50 changed services;
- the naive baseline: one `helm template` per Application, sequential, no cache;
- from the ApplicationSets (`mdeploy apps`): how many Applications a one-service commit makes
  Argo CD refresh with the `manifest-generate-paths` annotation, and without it.

Prints a markdown table (wall time, items/s, peak RSS of the largest process, speed-up against
the naive loop) or JSON. Asserts nothing about speed; the figures are for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mdeploy.toolchain import KUBE_VERSION, find_helm, repo_root

TEAMS = ["content", "search", "vision", "speech", "ads", "risk", "feed", "nlp", "maps", "media"]
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


# --- the synthetic repository ------------------------------------------------------------------

def _model(rng: random.Random, service: str, name: str, runtime: str, tier: str) -> dict[str, Any]:
    prod_replicas = rng.choice([2, 2, 3, 4])  # drawn in both tiers, so gray and prod stay the same service
    replicas = 1 if tier == "gray" else prod_replicas
    gpu = rng.random() < 0.7 and runtime != "custom"
    cpu = rng.choice(["1", "2", "4"])
    mem = rng.choice(["2Gi", "4Gi", "8Gi"])
    model: dict[str, Any] = {"runtime": runtime}
    if runtime == "triton":
        model["image"] = "nvcr.io/nvidia/tritonserver:25.10-py3"
        names = [f"{name}_{i}" for i in range(rng.randint(1, 3))]
        repo = rng.choice([{"uri": f"s3://models/{service}/{name}"}, {"path": "/models"}])
        model["triton"] = {"repository": repo, "modelControlMode": "explicit", "models": names}
    elif runtime == "tfserving":
        model["image"] = "docker.io/tensorflow/serving:2.19.0" + ("-gpu" if gpu else "")
        model["tfserving"] = {"models": [{"name": name, "basePath": f"s3://models/{service}/{name}",
                                          "versionPolicy": {"specific": {"versions": [1, 2]}},
                                          "versionLabels": {"stable": 1, "canary": 2}}]}
    else:
        model["image"] = f"registry.example.com/ai/{service}-{name}:1.{rng.randint(0, 9)}.0"
        model["custom"] = {"ports": [{"name": "http", "port": 9000}], "models": [name]}
    model["replicas"] = replicas
    if gpu:
        model["gpu"] = rng.choice([{"count": 1}, {"count": 1}, {"count": 1, "mode": "timeslice"}])
    model["resources"] = {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}}
    return model


def service_doc(rng: random.Random, service: str, chart: str, tier: str, seed_state: int) -> dict[str, Any]:
    local = random.Random(seed_state)  # same service shape in gray and prod
    runtime = local.choices(["triton", "tfserving", "custom"], [5, 3, 2])[0]
    models = {}
    for i in range(local.choices([1, 2, 3, 4], [5, 3, 1, 1])[0]):
        name = f"m{i}"
        models[name] = _model(random.Random(seed_state * 10 + i), service, name, runtime, tier)
    return {
        "service": service, "team": local.choice(TEAMS), "chart": chart,
        "description": f"Synthetic service {service}.",
        "cgi": {"image": f"registry.example.com/ai/{service}-cgi:2026{local.randint(1000, 9999)}",
                "env": {"LOG_LEVEL": "info"}, "replicas": 1 if tier == "gray" else 2,
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}},
        "models": models,
    }


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                         env={**os.environ, **GIT_ENV}, check=True)
    return out.stdout.strip()


def make_repo(root: Path, services: int, seed: int = 8) -> str:
    """Write the synthetic repository, commit it and tag the chart; returns the chart version."""
    real = repo_root()
    shutil.copytree(real / "schemas", root / "schemas")
    shutil.copytree(real / "charts" / "model-service", root / "charts" / "model-service")
    chart = yaml.safe_load((root / "charts/model-service/Chart.yaml").read_text())["version"]
    for env in ("gray", "prod"):
        text = (real / "environments" / f"{env}.yaml").read_text()
        # Room for a thousand services, so capacity is not what the benchmark measures.
        text = re.sub(r"(\n  capacity:\n)(    .*\n)+", "\n", text)
        (root / "environments" / env).mkdir(parents=True)
        (root / "environments" / f"{env}.yaml").write_text(text)
    rng = random.Random(seed)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for i in range(services):
        name = f"svc-{i:04d}"
        for env in ("gray", "prod"):
            doc = service_doc(rng, name, chart, env, seed * 100_000 + i)
            (root / "environments" / env / f"{name}.yaml").write_text(
                yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False))
    (root / ".gitignore").write_text("/.cache/\n/out/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "synthetic repository")
    git(root, "tag", f"model-service-{chart}")
    return chart


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Step:
    name: str
    items: int
    seconds: float
    peak_mb: float
    note: str = ""
    exit_code: int = 0


def measure(name: str, cmd: list[str], items: int, cwd: Path, note: str = "", ok_codes=(0,)) -> Step:
    """Run `cmd` under a fresh Python that reports its children's peak RSS, so each step's peak is
    its own (getrusage(RUSAGE_CHILDREN) only ever grows within one process)."""
    probe = ("import json,resource,subprocess,sys,time;"
             "t=time.perf_counter();r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE);"
             "w=time.perf_counter()-t;"
             "print(json.dumps({'rc':r.returncode,'wall':w,'rss':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
             "'self':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,'err':r.stderr.decode()[-400:]}))")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, cwd=cwd, check=True)
    data = json.loads(out.stdout)
    if data["rc"] not in ok_codes:
        raise SystemExit(f"bench step {name!r} failed (exit {data['rc']}): {data['err']}")
    peak_kb = max(data["rss"], data["self"])  # ru_maxrss is in KiB on Linux
    return Step(name, items, data["wall"], peak_kb / 1024, note, data["rc"])


def naive_baseline(root: Path, chart: str) -> Step:
    """One `helm template` per Application, one after the other: what most CI loops do."""
    helm = find_helm()
    script = ("import subprocess,sys,pathlib\n"
              "helm,root,kube=sys.argv[1],pathlib.Path(sys.argv[2]),sys.argv[3]\n"
              "for env in ('gray','prod'):\n"
              "  for f in sorted((root/'environments'/env).glob('*.yaml')):\n"
              "    subprocess.run([helm,'template',f'{f.stem}-{env}',str(root/'charts/model-service'),"
              "'--namespace',f'ms-{env}-{f.stem}','--kube-version',kube,'-f',str(root/'environments'/f'{env}.yaml'),"
              "'-f',str(f)],stdout=subprocess.DEVNULL,check=True)\n")
    apps = sum(1 for env in ("gray", "prod") for _ in (root / "environments" / env).glob("*.yaml"))
    return measure("naive: sequential `helm template` per Application", [sys.executable, "-c", script, helm,
                   str(root), KUBE_VERSION], apps, root, "the baseline")


# --- Argo CD refresh count ---------------------------------------------------------------------

def _annotation_paths(appset: dict[str, Any], filename: str, service: str) -> list[str] | None:
    template = appset["spec"]["template"]
    value = ((template.get("metadata") or {}).get("annotations") or {}).get("argocd.argoproj.io/manifest-generate-paths")
    if value is None:
        return None
    value = re.sub(r"\{\{\s*\.path\.filename\s*\}\}", filename, value)
    value = re.sub(r"\{\{\s*\.path\.filenameNormalized\s*\}\}", filename, value)
    value = re.sub(r"\{\{\s*\.service\s*\}\}", service, value)
    if "{{" in value:
        raise SystemExit(f"bench: cannot evaluate manifest-generate-paths {value!r}")
    return [p for p in value.split(";") if p]


def _source_paths(appset: dict[str, Any]) -> list[str]:
    spec = appset["spec"]["template"]["spec"]
    sources = spec.get("sources") or [spec.get("source") or {}]
    return [s["path"] for s in sources if s.get("path")]


def refreshed(paths: list[str] | None, source_paths: list[str], changed: list[str]) -> bool:
    """Argo CD's rule: refresh when a changed file is under one of the annotation's paths
    (absolute from the repository root when starting with '/', else relative to each source's
    path); without the annotation, every commit refreshes every Application of the repository."""
    if paths is None:
        return True
    targets = []
    for path in paths:
        if path.startswith("/"):
            targets.append(path.strip("/"))
        else:
            targets.extend(os.path.normpath(os.path.join(src, path)) for src in source_paths)
    for file in changed:
        for target in targets:
            if target in ("", ".") or file == target or file.startswith(target.rstrip("/") + "/"):
                return True
    return False


def argo_refresh_counts(root: Path, changed: list[str]) -> tuple[int, int, int]:
    """(refreshed with the annotation, refreshed without it, total Applications)."""
    with_annotation = without = total = 0
    for env in ("gray", "prod"):
        appset = yaml.safe_load((root / "apps" / f"applicationset-{env}.yaml").read_text())
        for f in sorted((root / "environments" / env).glob("*.yaml")):
            total += 1
            without += 1
            if refreshed(_annotation_paths(appset, f.name, f.stem), _source_paths(appset), changed):
                with_annotation += 1
    return with_annotation, without, total


# --- the run -----------------------------------------------------------------------------------

def run(services: int, keep: bool) -> dict[str, Any]:
    mdeploy = [sys.executable, "-m", "mdeploy"]
    tmp = Path(tempfile.mkdtemp(prefix="mdeploy-bench-"))
    root = tmp / "repo"
    try:
        started = time.perf_counter()
        load_before = os.getloadavg()
        chart = make_repo(root, services)
        apps_count = 2 * services
        gen = subprocess.run([*mdeploy, "apps", "--repo", str(root)], capture_output=True, text=True)
        if gen.returncode != 0 or not (root / "apps" / "applicationset-gray.yaml").is_file():
            # Fall back to this repository's generated ApplicationSets (same environment files).
            shutil.copytree(repo_root() / "apps", root / "apps", dirs_exist_ok=True)
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", "apps")
        setup_seconds = time.perf_counter() - started
        r = ["--repo", str(root)]
        steps: list[Step] = []
        steps.append(measure(f"validate ({apps_count + 2} files)", [*mdeploy, "validate", *r], apps_count + 2, root))
        steps.append(measure("render cold (empty cache)", [*mdeploy, "render", *r, "--out", str(root / "out")],
                             apps_count, root))
        steps.append(measure("render warm (nothing changed)", [*mdeploy, "render", *r, "--out", str(root / "out")],
                             apps_count, root))
        one = root / "environments/gray/svc-0007.yaml"
        one.write_text(one.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
        steps.append(measure("render after one service file changed", [*mdeploy, "render", *r, "--out",
                                                                        str(root / "out")], apps_count, root))
        steps.append(measure("diff: one service file", [*mdeploy, "diff", *r, "--base", "HEAD"], 1, root))
        git(root, "checkout", "-q", "--", "environments")
        env_file = root / "environments/gray.yaml"
        env_file.write_text(env_file.read_text().replace("    cpu: \"4\"", "    cpu: \"3\"", 1))
        steps.append(measure("diff: environment file (every gray app)", [*mdeploy, "diff", *r, "--base", "HEAD"],
                             services, root))
        git(root, "checkout", "-q", "--", "environments")
        for i in range(0, min(50, services)):
            path = root / f"environments/gray/svc-{i * max(1, services // 50):04d}.yaml"
            path.write_text(re.sub(r"(-cgi:)(\S+)", r"\g<1>20991231", path.read_text(), count=1))
        steps.append(measure(f"promote --all-changed ({min(50, services)} services)",
                             [*mdeploy, "promote", *r, "--all-changed"], min(50, services), root))
        git(root, "checkout", "-q", "--", "environments")
        baseline = naive_baseline(root, chart)
        steps.append(baseline)
        with_ann, without_ann, total = argo_refresh_counts(root, ["environments/gray/svc-0007.yaml"])
        env_with, _, _ = argo_refresh_counts(root, ["environments/gray.yaml"])
        return {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                        "processor": platform.processor() or platform.machine(),
                        # Other work on the machine skews every figure: say how busy it was.
                        "load_average_before": [round(x, 2) for x in load_before],
                        "load_average_after": [round(x, 2) for x in os.getloadavg()]},
            "services": services, "applications": apps_count, "setup_seconds": round(setup_seconds, 2),
            "steps": [{"step": s.name, "items": s.items, "seconds": round(s.seconds, 3),
                       "items_per_second": round(s.items / s.seconds, 1) if s.seconds else None,
                       "peak_rss_mb": round(s.peak_mb, 1),
                       "speedup_vs_naive": round(baseline.seconds / s.seconds, 2) if s.seconds else None}
                      for s in steps],
            "argocd_refresh": {"one_service_commit_with_annotation": with_ann,
                               "one_service_commit_without_annotation": without_ann,
                               "environment_file_commit_with_annotation": env_with, "applications": total},
            "repository": str(root) if keep else None,
        }
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"Scale benchmark: {result['services']} services x 2 environments = {result['applications']} "
             f"Applications; {m['cpus']} CPUs, {m['processor']}, {m['platform']}, Python {m['python']}; "
             f"load average {m['load_average_before'][0]} before, {m['load_average_after'][0]} after.", "",
             "| step | items | wall time | items/s | peak RSS | vs naive loop |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in result["steps"]:
        lines.append(f"| {s['step']} | {s['items']} | {s['seconds']:.2f} s | {s['items_per_second']} | "
                     f"{s['peak_rss_mb']:.0f} MB | {s['speedup_vs_naive']}x |")
    a = result["argocd_refresh"]
    lines += ["", f"Argo CD refresh for a one-service commit: {a['one_service_commit_with_annotation']} of "
              f"{a['applications']} Applications with `manifest-generate-paths`, "
              f"{a['one_service_commit_without_annotation']} without it; an environment-file commit refreshes "
              f"{a['environment_file_commit_with_annotation']}.",
              "", "Peak RSS is the largest single process of the step (`getrusage`, children and self)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdeploy.bench_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000, help="services per environment (default 1000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the markdown table")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic repository and print its path")
    args = parser.parse_args(argv)
    if args.services < 1:
        parser.error("--services must be at least 1")
    result = run(args.services, args.keep)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
