"""capacity: pods, clamps, GPU resource names, teams, and exit 1 when an environment is over."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from mdeploy.capacity import service_usage
from mdeploy.cli import main
from mdeploy.toolchain import repo_root

GRAY_ENV = {"tier": "gray", "caps": {"replicas": 1, "cpu": "4", "memory": "16Gi", "gpus": 1},
            "cluster": {"timesliceResource": "nvidia.com/gpu.shared"}}
PROD_ENV = {"tier": "prod", "cluster": {}}


def svc(**model):
    return {"cgi": {"replicas": 3, "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
            "models": {"m": {"replicas": 3, "resources": {"requests": {"cpu": "8", "memory": "32Gi"}}, **model}}}


def test_gray_clamps_replicas_resources_and_gpus():
    usage = service_usage(svc(gpu={"count": 4}), GRAY_ENV)
    assert (usage.cpu_m, usage.memory, usage.gpus) == (4500, 17 * 1024 ** 3, {"nvidia.com/gpu": 1})


def test_prod_counts_replicas_and_autoscaling_maximum():
    usage = service_usage(svc(gpu={"count": 2}, autoscaling={"enabled": True, "maxReplicas": 5}), PROD_ENV)
    assert (usage.cpu_m, usage.gpus) == (3 * 500 + 5 * 8000, {"nvidia.com/gpu": 10})


@pytest.mark.parametrize("gpu,expected", [
    ({"count": 1, "mode": "timeslice"}, {"nvidia.com/gpu.shared": 1}),
    ({"count": 2, "mode": "mig", "migProfile": "1g.10gb"}, {"nvidia.com/mig-1g.10gb": 6}),
    ({"count": 1, "mode": "hami", "memoryMiB": 4096}, {"nvidia.com/gpu": 3}),
    ({"count": 0}, {}),
])
def test_gpu_resource_names(gpu, expected):
    env = {"tier": "prod", "cluster": {"timesliceResource": "nvidia.com/gpu.shared"}}
    usage = service_usage(svc(gpu=gpu), env)
    assert usage.gpus == (expected if gpu.get("mode") != "timeslice" else {"nvidia.com/gpu.shared": 3})


def test_initializer_counts_when_larger_than_the_server():
    data = svc()
    data["models"]["m"]["triton"] = {"repository": {"initializer": {
        "image": "x:1", "resources": {"requests": {"cpu": "16", "memory": "1Gi"}}}}}
    assert service_usage(data, PROD_ENV).cpu_m == 3 * 500 + 3 * 16000


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(repo_root() / "environments", root / "environments")
    shutil.copytree(repo_root() / "schemas", root / "schemas")
    return root


def test_cli_reports_teams_and_exits_1_when_over(repo):
    runner = CliRunner()
    ok = runner.invoke(main, ["capacity", "--repo", str(repo), "--env", "prod", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    rows = {r["resource"]: r for r in data["environments"][0]["resources"]}
    assert (rows["cpu"]["requested"], rows["nvidia.com/gpu"]["requested"]) == ("25", "4")
    assert {t["team"] for t in data["environments"][0]["teams"]} == {"content", "search"}
    env = repo / "environments/prod.yaml"
    env.write_text(env.read_text().replace("nvidia.com/gpu: 32", "nvidia.com/gpu: 3"))
    over = runner.invoke(main, ["capacity", "--repo", str(repo), "--env", "prod"])
    assert over.exit_code == 1
    assert "prod  nvidia.com/gpu          4          3         133.3%  OVER" in over.output
