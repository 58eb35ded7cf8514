"""GPU sharing modes and autoscaling (prod only; one autoscaler per Deployment)."""

from __future__ import annotations

from tests.chart.chartlib import container, find, one, render_scenario


def resources(docs, name, container_name):
    return container(one(docs, "Deployment", name), container_name)["resources"]


def test_gpu_modes_render_their_resources():
    docs = render_scenario("gpu-sharing")
    sliced = resources(docs, "gpu-share-sliced", "tfserving")
    assert sliced["limits"]["nvidia.com/gpu.shared"] == 1 and "nvidia.com/gpu" not in sliced["limits"]
    mig = resources(docs, "gpu-share-mig", "triton")
    assert mig["requests"]["nvidia.com/mig-1g.10gb"] == mig["limits"]["nvidia.com/mig-1g.10gb"] == 1
    hami = resources(docs, "gpu-share-hamimem", "triton")["limits"]
    assert (hami["nvidia.com/gpu"], hami["nvidia.com/gpumem"], hami["nvidia.com/gpucores"]) == (1, 6144, 50)
    annotations = one(docs, "Deployment", "gpu-share-hami")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["nvidia.com/use-gputype"] == "A10"


def test_timeslice_resource_name_comes_from_environment():
    docs = render_scenario("gpu-sharing", {"environment": {"cluster": {"timesliceResource": "nvidia.com/gpu"}}})
    assert resources(docs, "gpu-share-sliced", "tfserving")["limits"]["nvidia.com/gpu"] == 1


def test_tfserving_memory_fraction_derived_from_the_share():
    docs = render_scenario("gpu-sharing")
    args = container(one(docs, "Deployment", "gpu-share-sliced"), "tfserving")["args"]
    assert "--per_process_gpu_memory_fraction=0.250" in args  # 1 / environment.cluster.timesliceReplicas (4)
    args = container(one(docs, "Deployment", "gpu-share-hami"), "tfserving")["args"]
    assert "--per_process_gpu_memory_fraction=0.30" in args  # coresPercent 30, no memory cap
    explicit = render_scenario("gpu-sharing", {"models": {"sliced": {"tfserving": {"gpuMemoryFraction": 0.4}}}})
    args = container(one(explicit, "Deployment", "gpu-share-sliced"), "tfserving")["args"]
    assert [a for a in args if "fraction" in a] == ["--per_process_gpu_memory_fraction=0.4"]


def test_whole_gpu_tfserving_takes_no_fraction():
    args = container(one(render_scenario("tfserving-policies"), "Deployment", "rec-multi-ranker"), "tfserving")["args"]
    assert not [a for a in args if "fraction" in a]


def test_hpa_scenario_owns_replicas():
    docs = render_scenario("autoscaling-hpa")
    for name in ("search-embed-cgi", "search-embed-embed", "search-embed-side"):
        assert "replicas" not in one(docs, "Deployment", name)["spec"]
        hpa = one(docs, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        pdb = one(docs, "PodDisruptionBudget", name)
        assert pdb["spec"]["maxUnavailable"] == 1  # holds whatever replica count the HPA picks
    cgi = one(docs, "HorizontalPodAutoscaler", "search-embed-cgi")["spec"]
    assert (cgi["minReplicas"], cgi["maxReplicas"]) == (3, 12)
    assert cgi["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    embed = one(docs, "HorizontalPodAutoscaler", "search-embed-embed")["spec"]["metrics"][0]
    assert embed["type"] == "Pods"
    assert embed["pods"]["metric"]["name"] == "nv_inference_queue_duration_us_per_request"
    assert embed["pods"]["target"]["averageValue"] == "20000"  # 20 ms in microseconds
    side = one(docs, "HorizontalPodAutoscaler", "search-embed-side")["spec"]
    assert side["minReplicas"] == 2 and side["metrics"][0]["resource"]["name"] == "cpu"
    assert not find(docs, "ScaledObject")


def test_keda_scaledobject_never_alongside_an_hpa():
    docs = render_scenario("autoscaling-keda")
    scaled = one(docs, "ScaledObject", "search-embed-embed")
    assert not find(docs, "HorizontalPodAutoscaler", "search-embed-embed")
    assert "replicas" not in one(docs, "Deployment", "search-embed-embed")["spec"]
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (2, 6)
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["metadata"]["serverAddress"] == "http://prometheus.monitoring.svc:9090"
    assert "nv_inference_queue_duration_us" in trigger["metadata"]["query"]
    assert "nv_inference_request_success" in trigger["metadata"]["query"]
    assert trigger["metadata"]["threshold"] == "20"
    one(docs, "HorizontalPodAutoscaler", "search-embed-cgi")  # CPU scaling stays an HPA
    targets = [d["spec"]["scaleTargetRef"]["name"] for d in find(docs, "HorizontalPodAutoscaler") + find(docs, "ScaledObject")]
    assert len(targets) == len(set(targets))


def test_autoscaling_is_ignored_in_gray():
    docs = render_scenario("autoscaling-hpa", {"environment": {"tier": "gray", "caps": {"replicas": 1}}})
    assert not find(docs, "HorizontalPodAutoscaler") and not find(docs, "PodDisruptionBudget")
    assert {d["spec"]["replicas"] for d in find(docs, "Deployment")} == {1}
