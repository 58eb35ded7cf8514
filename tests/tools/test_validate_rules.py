"""Every rule: a valid example (no finding) and invalid ones with exact (line, col, rule)."""

from __future__ import annotations

import textwrap

import pytest

from mdeploy.validate import validate_repo


@pytest.fixture
def repo(model_repo):
    return model_repo


GRAY = """\
service: svc
team: content
chart: 1.0.0
cgi:
  image: registry.example.com/ai/svc-cgi:1.0
  replicas: 1
  resources:
    requests: {cpu: "1", memory: 1Gi}
    limits: {cpu: "1", memory: 1Gi}
models:
  m:
    runtime: triton
    image: nvcr.io/nvidia/tritonserver:25.10-py3
    triton:
      repository: {path: /models}
    replicas: 1
    gpu: {count: 1}
    resources:
      requests: {cpu: "1", memory: 1Gi}
      limits: {cpu: "1", memory: 1Gi}
"""


def run(root, env, name, text, *, also=()):
    path = root / "environments" / env / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    problems, _ = validate_repo(root, [path, *also], jobs=1)
    return [(p.line, p.col, p.rule) for p in problems]


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def test_valid_gray_service_has_no_findings(repo):
    assert run(repo, "gray", "svc", GRAY) == []


def test_valid_prod_service_has_no_findings(repo):
    (repo / "environments/gray/svc.yaml").write_text(GRAY)
    prod = GRAY.replace("replicas: 1", "replicas: 2")
    assert run(repo, "prod", "svc", prod) == []


@pytest.mark.parametrize("env,text,expected", [
    ("gray", edit(GRAY, "service: svc", "service: other"), [(1, 10, "file-name")]),
    ("gray", edit(GRAY, "chart: 1.0.0", "chart: 9.9.9"), [(3, 8, "chart-version")]),
    ("gray", edit(GRAY, "svc-cgi:1.0", "svc-cgi:latest"), [(5, 10, "image-pinned")]),
    ("gray", edit(GRAY, "svc-cgi:1.0", "svc-cgi"), [(5, 10, "image-pinned")]),
    ("gray", edit(GRAY, "svc-cgi:1.0", "svc-cgi@sha256:" + "a" * 64), []),
    ("gray", edit(GRAY, "svc-cgi:1.0", "svc-cgi@sha256:abc"), [(5, 10, "image-pinned")]),
    ("gray", edit(GRAY, "registry.example.com/ai/svc-cgi", "quay.io/x/svc-cgi"), [(5, 10, "image-registry")]),
    ("gray", edit(GRAY, 'requests: {cpu: "1", memory: 1Gi}', 'requests: {cpu: "1500m", memory: 1Gi}'),
     [(8, 21, "requests-limits")]),
    ("gray", edit(GRAY, "gpu: {count: 1}", "gpu: {count: 1, mode: mig, migProfile: 1g.10gb}"), [(17, 27, "gpu-mode")]),
    ("gray", edit(GRAY, "gpu: {count: 1}", "gpu: {count: 2, mode: timeslice}"), [(17, 18, "gpu-mode")]),
    ("gray", edit(GRAY, "repository: {path: /models}", "repository: {path: /models}\n      modelControlMode: explicit"),
     [(16, 25, "triton-explicit")]),
    ("gray", edit(GRAY, "  replicas: 1\n  resources", "  replicas: 1\n  env: {DB_PASSWORD: hunter2}\n  resources"),
     [(7, 22, "literal-secret")]),
    ("gray", edit(GRAY, "  replicas: 1\n  resources", "  replicas: 1\n  env: {DSN: 'postgres://u:pw@db/x'}\n  resources"),
     [(7, 14, "literal-secret")]),
    ("gray", edit(GRAY, "  replicas: 1\n  resources", "  replicas: 1\n  env: {TOKEN_FILE: /var/run/token}\n  resources"),
     []),
    ("gray", edit(GRAY, "models:\n  m:", "models:\n  a-very-long-model-name:"), [(11, 3, "schema")]),
    ("gray", "service: svc\nteam: t\nteam: u\nchart: 1.0.0\ncgi: {image: registry.example.com/ai/x:1, "
             "resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 1Gi}}}\n",
     [(3, 1, "duplicate-key")]),
])
def test_rule_findings(repo, env, text, expected):
    assert run(repo, env, "svc", text) == expected


def test_name_length_counts_the_release_name(repo):
    name = "s" * 40  # the schema's longest service name
    assert run(repo, "gray", name, GRAY.replace("service: svc", f"service: {name}")) == []
    # ... is too long for Helm's 53-character release name in an environment with a long name.
    env = repo / "environments/gray-canary-europe.yaml"
    env.write_text((repo / "environments/gray.yaml").read_text().replace("name: gray", "name: gray-canary-europe"))
    (repo / "environments/gray-canary-europe").mkdir()
    problems = run(repo, "gray-canary-europe", name, GRAY.replace("service: svc", f"service: {name}"))
    assert problems == [(1, 10, "name-length")]


def test_prod_replicas(repo):
    (repo / "environments/gray/svc.yaml").write_text(GRAY)
    prod = GRAY.replace("  replicas: 1\n  resources", "  replicas: 2\n  resources", 1)  # CGI fixed, model not
    assert run(repo, "prod", "svc", prod) == [(16, 15, "prod-replicas")]
    auto = prod.replace("    replicas: 1\n", "    replicas: 1\n    autoscaling: {enabled: true, minReplicas: 2}\n")
    assert run(repo, "prod", "svc", auto) == []


def test_autoscaling_range(repo):
    (repo / "environments/gray/svc.yaml").write_text(GRAY)
    prod = GRAY.replace("replicas: 1", "replicas: 2").replace(
        "    replicas: 2\n", "    replicas: 2\n    autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 3}\n")
    assert run(repo, "prod", "svc", prod) == [(17, 63, "autoscaling-range")]


def test_prod_service_must_exist_in_gray(repo):
    assert run(repo, "prod", "svc", GRAY.replace("replicas: 1", "replicas: 2")) == [(1, 10, "prod-in-gray")]


def test_prod_must_not_pin_a_working_tree_only_chart(repo):
    chart = repo / "charts/model-service/Chart.yaml"
    chart.write_text(chart.read_text().replace("1.0.0", "1.1.0"))
    gray = GRAY.replace("chart: 1.0.0", "chart: 1.1.0")
    assert run(repo, "gray", "svc", gray) == []
    assert run(repo, "prod", "svc", gray.replace("replicas: 1", "replicas: 2")) == [(3, 8, "chart-version")]


def test_tfserving_version_labels(repo):
    text = edit(GRAY, """    triton:
      repository: {path: /models}
""", """    tfserving:
      models:
        - name: a
          basePath: s3://m/a
          versionPolicy: {specific: {versions: [41]}}
          versionLabels: {stable: 41, canary: 42}
        - name: a
          basePath: s3://m/b
          versionLabels: {stable: 1}
""").replace("runtime: triton", "runtime: tfserving").replace(
        "nvcr.io/nvidia/tritonserver:25.10-py3", "docker.io/tensorflow/serving:2.19.0-gpu")
    assert run(repo, "gray", "svc", text) == [
        (19, 39, "tfserving-versions"), (20, 17, "tfserving-versions"), (22, 26, "tfserving-versions")]


def test_route_prefix_warns_only_for_string_matching(repo):
    (repo / "environments/gray/comics.yaml").write_text(GRAY.replace("service: svc", "service: comics"))
    bg = GRAY.replace("service: svc", "service: comics-bg")
    (repo / "environments/gray/comics-bg.yaml").write_text(bg)
    comics = repo / "environments/gray/comics.yaml"
    assert validate_repo(repo, [comics], jobs=1)[0] == []
    env = repo / "environments/gray.yaml"
    env.write_text(env.read_text().replace("matching: segment", "matching: string"))
    problems, _ = validate_repo(repo, [comics], jobs=1)
    assert [(p.line, p.col, p.rule, p.level) for p in problems] == [(1, 10, "route-prefix", "warning")]
    assert problems[0].message == (
        "/api/grey/content/comics is a string prefix of /comics-bg and gray matches routes by string prefix: "
        "requests for comics-bg may reach comics; rename one of them")


def test_environment_name_must_match_its_file(repo):
    env = repo / "environments/gray.yaml"
    env.write_text(env.read_text().replace("  name: gray", "  name: grey"))
    problems, _ = validate_repo(repo, [env], jobs=1)
    assert [(p.line, p.col, p.rule) for p in problems] == [(4, 9, "env-name")]


def test_broken_environment_file_is_named_on_its_services(repo):
    env = repo / "environments/gray.yaml"
    env.write_text(env.read_text().replace("  tier: gray", "  tier: canary"))
    problems, _ = validate_repo(repo, [repo / "environments/gray/text-lang.yaml"], jobs=1)
    assert [p.to_text() for p in problems] == [
        "environments/gray/text-lang.yaml:1:1: error: environment file environments/gray.yaml has errors; rules "
        "that need the environment were skipped (run `mdeploy validate` on it) (environment-file)"]


SCHEMA_CASES = [
    # (edit, expected text)
    (("  replicas: 1\n  resources", "  replica: 1\n  resources"),
     "6:3: error: unknown key 'replica' in cgi; did you mean 'replicas'? (schema)"),
    (("runtime: triton", "runtime: onnx"),
     "12:14: error: models.m.runtime: 'onnx' is not one of triton, tfserving, custom (schema)"),
    (("team: content\n", ""), "1:1: error: the file: missing required key 'team' (Owning team (labels, alert "
     "routing, Argo CD project role)) (schema)"),
    (("replicas: 1\n  resources", "replicas: two\n  resources"),
     "6:13: error: cgi.replicas: expected integer, got a string 'two' (schema)"),
    (("repository: {path: /models}", "repository: {uri: 'http://x'}"),
     "15:25: error: models.m.triton.repository.uri: 'http://x' does not match ^(s3|gs|as)://[^\\s]+$ "
     "(s3://, gs:// or as:// URI of the repository) (schema)"),
]


@pytest.mark.parametrize("change,expected", SCHEMA_CASES)
def test_schema_messages(repo, change, expected):
    path = repo / "environments/gray/svc.yaml"
    path.write_text(edit(GRAY, *change))
    problems, _ = validate_repo(repo, [path], jobs=1)
    assert [p.to_text() for p in problems] == [f"environments/gray/svc.yaml:{expected}"]


def test_examples_in_this_repository_are_valid():
    from mdeploy.toolchain import repo_root

    problems, count = validate_repo(repo_root(), jobs=1)
    assert [p.to_text() for p in problems if p.level == "error"] == []
    assert count >= 8
