"""What the chart renders for the CGI and each runtime, read from real renders."""

from __future__ import annotations

import pytest

from tests.chart.chartlib import (EXAMPLES, SCENARIOS, container, env_of, example_files, find, one,
                                  render, render_scenario)


# --- CGI ---------------------------------------------------------------------------------------

def test_cgi_gets_model_server_addresses():
    docs = render_scenario("prod-budgets")
    env = env_of(container(one(docs, "Deployment", "prod-ranker-cgi"), "cgi"))
    assert env["MODEL_SERVERS"] == "cpu-side,main"
    assert env["MODEL_MAIN_HOST"] == "prod-ranker-main"
    assert (env["MODEL_MAIN_HTTP_PORT"], env["MODEL_MAIN_GRPC_PORT"]) == ("8000", "8001")
    assert env["MODEL_CPU_SIDE_HOST"] == "prod-ranker-cpu-side"
    assert env["MODEL_CPU_SIDE_HTTP_PORT"] == "9000"
    assert "MODEL_CPU_SIDE_GRPC_PORT" not in env  # the custom server declares no grpc port


@pytest.mark.parametrize(("scenario", "key", "http", "grpc", "models"), [
    ("triton-initializer", "OCR", "8000", "8001", "ocr_det,ocr_rec,ocr_cls"),
    ("tfserving-policies", "RANKER", "8501", "8500", "ranker,embedder,scorer"),
    ("custom-cpu", "CLS", "9000", "9001", "bert-cls,fasttext-lid"),
])
def test_cgi_model_env_per_runtime(scenario, key, http, grpc, models):
    docs = render_scenario(scenario)
    cgi = [d for d in find(docs, "Deployment") if d["metadata"]["name"].endswith("-cgi")][0]
    env = env_of(container(cgi, "cgi"))
    assert env[f"MODEL_{key}_HTTP_PORT"] == http
    assert env[f"MODEL_{key}_GRPC_PORT"] == grpc
    assert env[f"MODEL_{key}_MODELS"] == models
    # The addressed Service exists and exposes those ports.
    service = one(docs, "Service", env[f"MODEL_{key}_HOST"])
    assert {str(p["port"]) for p in service["spec"]["ports"]} >= {http, grpc}


def test_cgi_threads_follow_cpu_limit_rounded_up():
    docs = render_scenario("tfserving-policies")  # CGI limit 2 CPUs
    env = env_of(container(one(docs, "Deployment", "rec-multi-cgi"), "cgi"))
    for name in ("WEB_CONCURRENCY", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        assert env[name] == "2"
    docs = render_scenario("tfserving-policies", {"cgi": {"resources": {"limits": {"cpu": "1500m"}}}})
    env = env_of(container(one(docs, "Deployment", "rec-multi-cgi"), "cgi"))
    assert env["OMP_NUM_THREADS"] == "2" and env["WEB_CONCURRENCY"] == "2"


def test_cgi_concurrency_override_and_env_wins():
    env = env_of(container(one(render_scenario("custom-cpu"), "Deployment", "text-cls-cgi"), "cgi"))
    assert env["WEB_CONCURRENCY"] == "3"
    assert env["MKL_NUM_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "1"
    assert env["LOG_LEVEL"] == "debug"
    assert env["API_TOKEN"] == {"secretKeyRef": {"name": "text-cls-token", "key": "token"}}


def test_cgi_probes_are_separate_and_tolerant():
    cgi = container(one(render_scenario("custom-cpu"), "Deployment", "text-cls-cgi"), "cgi")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert cgi[probe]["httpGet"] == {"path": "/ready", "port": "http"}
    ready, live = cgi["readinessProbe"], cgi["livenessProbe"]
    assert ready["periodSeconds"] * ready["failureThreshold"] < live["periodSeconds"] * live["failureThreshold"]
    assert (live["failureThreshold"], live["timeoutSeconds"]) == (10, 10)  # overrides applied
    assert live["periodSeconds"] == 10  # unset fields keep the defaults


def test_cgi_default_health_path_prestop_and_grace():
    dep = one(render_scenario("comics"), "Deployment", "comics-cgi")
    cgi = container(dep, "cgi")
    assert cgi["readinessProbe"]["httpGet"]["path"] == "/api/ping"
    assert cgi["lifecycle"]["preStop"] == {"sleep": {"seconds": 10}}
    assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60


def test_cgi_prestop_zero_renders_no_hook():
    cgi = container(one(render_scenario("comics", {"cgi": {"preStopSeconds": 0}}), "Deployment", "comics-cgi"), "cgi")
    assert "lifecycle" not in cgi


# --- Triton ------------------------------------------------------------------------------------

def test_triton_initializer_fills_shared_volume():
    dep = one(render_scenario("triton-initializer"), "Deployment", "ocr-multi-ocr")
    init = container(dep, "model-initializer", init=True)
    triton = container(dep, "triton")
    assert init["image"] == "registry.example.com/ai/hdfs-fetch:3.4.1-1"
    assert env_of(init)["MODEL_REPOSITORY"] == "/models"
    assert env_of(init)["KRB5_KEYTAB_B64"] == {"secretKeyRef": {"name": "hdfs-keytab", "key": "keytab"}}
    assert {"name": "models", "mountPath": "/models"} in init["volumeMounts"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in triton["volumeMounts"]
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert volumes["models"]["emptyDir"] == {"sizeLimit": "20Gi"}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert {"name": "dshm", "mountPath": "/dev/shm"} in triton["volumeMounts"]


def test_triton_default_mode_none_strict_and_health_probes():
    triton = container(one(render_scenario("triton-initializer"), "Deployment", "ocr-multi-ocr"), "triton")
    assert triton["command"] == ["tritonserver"]
    args = triton["args"]
    assert "--model-repository=/models" in args
    assert "--model-control-mode=none" in args
    assert not [a for a in args if a.startswith("--load-model")]
    assert {"--strict-readiness=true", "--exit-on-error=true"} <= set(args)
    assert [p["containerPort"] for p in triton["ports"]] == [8000, 8001, 8002]
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    startup = triton["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 1200  # triton.startupSeconds


def test_triton_explicit_mode_loads_and_checks_each_model():
    docs = render_scenario("triton-explicit")
    triton = container(one(docs, "Deployment", "face-embed-embed"), "triton")
    args = triton["args"]
    assert "--model-control-mode=explicit" in args
    assert [a for a in args if a.startswith("--load-model")] == ["--load-model=face_detect", "--load-model=face_embed"]
    assert "--model-repository=s3://models/face" in args and args[-1] == "--log-verbose=1"
    assert triton["envFrom"] == [{"secretRef": {"name": "face-models-s3"}}]
    command = triton["readinessProbe"]["exec"]["command"]
    assert command[:4] == ["/bin/bash", "/etc/model-service/ready.sh", "8000", "200"]
    assert command[4:] == ["/v2/models/face_detect/ready", "/v2/models/face_embed/ready"]
    assert "ready.sh" in one(docs, "ConfigMap", "face-embed-embed")["data"]


def test_triton_pvc_repository_is_read_only():
    dep = one(render_scenario("prod-budgets"), "Deployment", "prod-ranker-main")
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"] == {"claimName": "ranker-models", "readOnly": True}
    assert {"name": "models", "mountPath": "/models", "readOnly": True, "subPath": "v7"} in container(dep, "triton")["volumeMounts"]


# --- TF-Serving --------------------------------------------------------------------------------

def test_tfserving_ports_and_flags():
    docs = render_scenario("tfserving-policies")
    tf = container(one(docs, "Deployment", "rec-multi-ranker"), "tfserving")
    args = tf["args"]
    assert {"--port=8500", "--rest_api_port=8501"} <= set(args)
    assert "--model_config_file=/etc/model-service/models.config" in args
    assert "--model_config_file_poll_wait_seconds=30" in args
    assert {"--enable_batching=true", "--batching_parameters_file=/etc/model-service/batching.config"} <= set(args)
    assert "--monitoring_config_file=/etc/model-service/monitoring.config" in args
    assert {p["name"]: p["containerPort"] for p in tf["ports"]} == {"grpc": 8500, "http": 8501}


def test_tfserving_model_config_has_every_policy_and_labels():
    config = one(render_scenario("tfserving-policies"), "ConfigMap", "rec-multi-ranker")["data"]["models.config"]
    assert config.startswith("# GENERATED")
    assert 'name: "ranker"' in config and 'base_path: "s3://models/rec/ranker"' in config
    assert config.count('model_platform: "tensorflow"') == 3
    assert "model_version_policy { specific { versions: 41 versions: 42 } }" in config
    assert "model_version_policy { latest { num_versions: 2 } }" in config
    assert "model_version_policy { all {} }" in config
    assert 'version_labels { key: "canary" value: 42 }' in config
    assert 'version_labels { key: "stable" value: 41 }' in config
    assert config.count("{") == config.count("}")


def test_tfserving_batching_and_monitoring_files():
    data = one(render_scenario("tfserving-policies"), "ConfigMap", "rec-multi-ranker")["data"]
    batching = data["batching.config"]
    assert "max_batch_size { value: 64 }" in batching
    assert "batch_timeout_micros { value: 2000 }" in batching
    assert "max_enqueued_batches { value: 50 }" in batching
    assert "num_batch_threads { value: 4 }" in batching  # follows the 4-CPU limit
    assert 'path: "/monitoring/prometheus/metrics"' in data["monitoring.config"]


def test_tfserving_readiness_requires_every_model_available():
    docs = render_scenario("tfserving-policies")
    tf = container(one(docs, "Deployment", "rec-multi-ranker"), "tfserving")
    for probe in ("readinessProbe", "startupProbe"):
        assert tf[probe]["exec"]["command"] == [
            "/bin/bash", "/etc/model-service/ready.sh", "8501", '"AVAILABLE"',
            "/v1/models/ranker", "/v1/models/embedder", "/v1/models/scorer"]
    startup = tf["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == 900
    assert tf["livenessProbe"]["tcpSocket"] == {"port": "grpc"}
    script = one(docs, "ConfigMap", "rec-multi-ranker")["data"]["ready.sh"]
    assert script.startswith("#!/bin/bash") and "/dev/tcp/127.0.0.1/" in script
    assert "curl" not in script.split("\n", 3)[3] and "wget" not in script


def test_tfserving_gpu_image_gets_driver_library_path_first():
    tf = container(one(render_scenario("tfserving-policies"), "Deployment", "rec-multi-ranker"), "tfserving")
    path = env_of(tf)["LD_LIBRARY_PATH"].split(":")
    assert path.index("/usr/local/nvidia/lib64") < path.index("/usr/local/cuda/lib64/stubs")


def test_tfserving_cpu_has_no_library_path_override():
    docs = render_scenario("tfserving-policies", {"models": {"ranker": {"gpu": {"count": 0}}}})
    tf = container(one(docs, "Deployment", "rec-multi-ranker"), "tfserving")
    assert "LD_LIBRARY_PATH" not in env_of(tf)


def test_config_change_rolls_the_pods():
    def checksum(docs):
        return one(docs, "Deployment", "rec-multi-ranker")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    before = checksum(render_scenario("tfserving-policies"))
    after = checksum(render_scenario("tfserving-policies", {"models": {"ranker": {"tfserving": {"pollSeconds": 5}}}}))
    batching = checksum(render_scenario("tfserving-policies", {"models": {"ranker": {"tfserving": {"batching": {"maxBatchSize": 8}}}}}))
    assert before == after  # poll interval is a flag, not a config file
    assert before != batching


# --- custom ------------------------------------------------------------------------------------

def test_custom_server_ports_probes_and_threads():
    dep = one(render_scenario("custom-cpu"), "Deployment", "text-cls-cls")
    server = container(dep, "server")
    assert [(p["name"], p["containerPort"]) for p in server["ports"]] == [("http", 9000), ("grpc", 9001)]
    assert server["args"] == ["--workers", "2"]
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 9000}
    assert server["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 9000}
    assert env_of(server)["OMP_NUM_THREADS"] == "2"
    assert "nvidia.com/gpu" not in server["resources"]["limits"]
    assert "tolerations" not in dep["spec"]["template"]["spec"]


# --- GPU and rollout ---------------------------------------------------------------------------

def test_gpu_requests_equal_limits_with_toleration_and_product():
    dep = one(render_scenario("triton-explicit"), "Deployment", "face-embed-embed")
    resources = container(dep, "triton")["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == 1
    pod = dep["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A10"}


def test_rollout_gpu_never_surges_cpu_never_drops():
    docs = render_scenario("prod-budgets")
    gpu = one(docs, "Deployment", "prod-ranker-main")["spec"]["strategy"]["rollingUpdate"]
    cpu = one(docs, "Deployment", "prod-ranker-cpu-side")["spec"]["strategy"]["rollingUpdate"]
    assert gpu == {"maxSurge": 0, "maxUnavailable": 1}
    assert cpu["maxUnavailable"] == 0 and cpu["maxSurge"] not in (0, "0", "0%")


# --- gray and prod -----------------------------------------------------------------------------

def test_gray_caps_clamp_replicas_resources_and_gpus():
    docs = render_scenario("gray-caps")
    for dep in find(docs, "Deployment"):
        assert dep["spec"]["replicas"] == 1
        assert "topologySpreadConstraints" not in dep["spec"]["template"]["spec"]
    cgi = container(one(docs, "Deployment", "big-model-cgi"), "cgi")["resources"]
    assert cgi == {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}}
    llm = container(one(docs, "Deployment", "big-model-llm"), "triton")["resources"]
    assert llm["requests"] == {"cpu": "2500m", "memory": "8Gi", "nvidia.com/gpu": 1}  # under the caps: kept
    assert llm["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1}
    assert env_of(container(one(docs, "Deployment", "big-model-cgi"), "cgi"))["OMP_NUM_THREADS"] == "4"
    assert not find(docs, "PodDisruptionBudget")
    assert not find(docs, "HorizontalPodAutoscaler")  # autoscaling.enabled is ignored in gray


def test_prod_budgets_and_spread_for_every_deployment():
    docs = render_scenario("prod-budgets")
    deployments = find(docs, "Deployment")
    assert len(deployments) == 3
    for dep in deployments:
        name = dep["metadata"]["name"]
        selector = dep["spec"]["selector"]["matchLabels"]
        pdb = one(docs, "PodDisruptionBudget", name)
        assert pdb["spec"]["maxUnavailable"] == 1
        assert pdb["spec"]["selector"]["matchLabels"] == selector
        (spread,) = dep["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        assert spread["labelSelector"]["matchLabels"] == selector
    assert one(docs, "Deployment", "prod-ranker-cgi")["spec"]["replicas"] == 4


@pytest.mark.parametrize(("env", "service"), EXAMPLES)
def test_examples_follow_their_environment_rules(env, service):
    docs = render(example_files(env, service))
    for dep in find(docs, "Deployment"):
        if env == "gray":
            assert dep["spec"]["replicas"] == 1
        else:
            assert dep["spec"]["replicas"] >= 2
            one(docs, "PodDisruptionBudget", dep["metadata"]["name"])
    if env == "gray":
        assert not find(docs, "PodDisruptionBudget")


# --- names, services, security -------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
def test_names_namespace_and_selectors(scenario):
    docs = render_scenario(scenario)
    service = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]["name"]
    env = "gray" if "grey" in str(docs) or any(d["metadata"]["namespace"].startswith("ms-gray-") for d in docs) else "prod"
    for doc in docs:
        assert doc["metadata"]["namespace"] == f"ms-{env}-{service}"
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == f"{service}-{env}"
    for dep in find(docs, "Deployment"):
        name = dep["metadata"]["name"]
        assert name.startswith(f"{service}-")
        selector = dep["spec"]["selector"]["matchLabels"]
        assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
        svc = one(docs, "Service", name)
        assert svc["spec"]["type"] == "ClusterIP"
        assert svc["spec"]["selector"] == selector
    one(docs, "Deployment", f"{service}-cgi")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_workload_is_pod_security_restricted(scenario):
    docs = render_scenario(scenario)
    for dep in find(docs, "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert "hostNetwork" not in pod and "hostPID" not in pod
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["readOnlyRootFilesystem"] is True
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]  # writable scratch space
            assert not any("hostPort" in p for p in c.get("ports", []))
            assert c["resources"]["requests"] and c["resources"]["limits"]
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    for dep in find(docs, "Deployment"):
        assert dep["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]


def test_pull_secrets_follow_image_registries():
    docs = render_scenario("triton-explicit")
    cgi = one(docs, "Deployment", "face-embed-cgi")["spec"]["template"]["spec"]
    triton = one(docs, "Deployment", "face-embed-embed")["spec"]["template"]["spec"]
    assert cgi["imagePullSecrets"] == [{"name": "regcred-ai"}]
    assert triton["imagePullSecrets"] == [{"name": "regcred-ngc"}]
    tf = one(render_scenario("tfserving-policies"), "Deployment", "rec-multi-ranker")["spec"]["template"]["spec"]
    assert "imagePullSecrets" not in tf  # docker.io/tensorflow/ is public
