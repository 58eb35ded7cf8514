"""Evaluate each ApplicationSet for every service file with a real Go template engine (Helm's
`tpl`, see goeval.py) and check what Argo CD would generate."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import pytest

from mdeploy.chart_source import resolve_chart
from mdeploy.kube_schema import validate_manifests
from tests.gitops.conftest import env_names
from tests.gitops.goeval import GoTemplateError, files_generator_params, generate_applications
from tests.harness import REPO

ENVS = env_names()


def generator_files(appset: dict[str, Any], repo: Path = REPO) -> list[str]:
    """The files the git files generator matches (Argo CD: glob relative to the repo root)."""
    (generator,) = appset["spec"]["generators"]
    paths = []
    for entry in generator["git"]["files"]:
        paths += [p.relative_to(repo).as_posix() for p in repo.glob(entry["path"]) if p.is_file()]
    return sorted(paths)


@pytest.fixture(scope="module")
def generated(appsets) -> dict[str, list[dict[str, Any]]]:
    """env -> the Applications its ApplicationSet generates from today's service files."""
    return {env: generate_applications(appsets[env], [files_generator_params(REPO, f)
                                                      for f in generator_files(appsets[env])])
            for env in ENVS}


def project_allows(project: dict[str, Any], server: str, namespace: str) -> bool:
    return any(d.get("server") in (server, "*") and fnmatch.fnmatchcase(namespace, d["namespace"])
               for d in project["spec"]["destinations"])


def test_generator_sees_exactly_the_service_files(appsets):
    for env in ENVS:
        expected = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "environments" / env).glob("*.yaml"))
        assert generator_files(appsets[env]) == expected
        assert f"environments/{env}.yaml" not in expected


@pytest.mark.parametrize("env", ENVS)
def test_one_application_per_service_file_with_unique_names(env, generated):
    files = sorted((REPO / "environments" / env).glob("*.yaml"))
    apps = generated[env]
    assert len(apps) == len(files) > 0
    names = [app["metadata"]["name"] for app in apps]
    assert names == [f"{f.stem}-{env}" for f in files]


def test_application_names_are_unique_across_environments(generated):
    names = [app["metadata"]["name"] for apps in generated.values() for app in apps]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("env", ENVS)
def test_labels_name_service_team_and_environment(env, generated):
    for app in generated[env]:
        service = app["metadata"]["name"].removesuffix(f"-{env}")
        labels = app["metadata"]["labels"]
        assert labels["model-deploy/service"] == service
        assert labels["model-deploy/environment"] == env
        assert labels["model-deploy/team"]  # from the service file's `team`


@pytest.mark.parametrize("env", ENVS)
def test_every_values_file_exists_and_manifest_generate_paths_names_exactly_them(env, generated):
    for app in generated[env]:
        chart_source, values_source = app["spec"]["sources"]
        assert values_source["ref"] == "values" and values_source["targetRevision"] == "main"
        value_files = chart_source["helm"]["valueFiles"]
        read = []
        for value_file in value_files:
            assert value_file.startswith("$values/"), value_file
            rel = value_file.removeprefix("$values/")
            assert (REPO / rel).is_file(), f"{app['metadata']['name']} reads missing {rel}"
            read.append("/" + rel)
        service = app["metadata"]["labels"]["model-deploy/service"]
        assert read == [f"/environments/{env}.yaml", f"/environments/{env}/{service}.yaml"]
        annotation = app["metadata"]["annotations"]["argocd.argoproj.io/manifest-generate-paths"]
        assert annotation.split(";") == read


@pytest.mark.parametrize("env", ENVS)
def test_chart_tag_is_resolvable(env, generated, environments):
    tier = environments[env]["tier"]
    for app in generated[env]:
        chart_source = app["spec"]["sources"][0]
        assert chart_source["path"] == "charts/model-service"
        tag = chart_source["targetRevision"]
        assert tag.startswith("model-service-")
        source = resolve_chart(tag.removeprefix("model-service-"), root=REPO, tier=tier, materialize=False)
        if tier == "prod":
            assert source.origin in ("tag", "commit"), "prod must pin a committed chart"


@pytest.mark.parametrize("env", ENVS)
def test_destination_is_inside_its_project(env, generated, projects, environments):
    project = projects[env]
    for app in generated[env]:
        spec = app["spec"]
        assert spec["project"] == project["metadata"]["name"]
        destination = spec["destination"]
        assert project_allows(project, destination["server"], destination["namespace"]), destination
        assert destination["namespace"] == environments[env]["namespacePrefix"] + \
            app["metadata"]["labels"]["model-deploy/service"]
        assert all(fnmatch.fnmatchcase(spec["sources"][0]["repoURL"], r) for r in project["spec"]["sourceRepos"])


def test_no_application_can_reach_another_environment(generated, projects):
    for env, apps in generated.items():
        for other in ENVS:
            if other == env:
                continue
            for app in apps:
                dest = app["spec"]["destination"]
                assert not project_allows(projects[other], dest["server"], dest["namespace"]), \
                    f"{app['metadata']['name']} could deploy into {other}'s namespaces"


def test_project_namespace_globs_do_not_overlap(environments):
    prefixes = [env["namespacePrefix"] for env in environments.values()]
    for a in prefixes:
        for b in prefixes:
            assert a == b or not b.startswith(a), f"{a}* also matches {b}*"


@pytest.mark.parametrize("env", ENVS)
def test_sync_policy_per_tier(env, generated, appsets, environments):
    prod = environments[env]["tier"] == "prod"
    for app in generated[env]:
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": not prod}
        assert policy["syncOptions"] == ["CreateNamespace=true", "ServerSideApply=true", "PruneLast=true"]
        assert policy["managedNamespaceMetadata"]["labels"]["pod-security.kubernetes.io/enforce"] == \
            environments[env]["podSecurity"]
        assert policy["retry"]["limit"] > 0 and policy["retry"]["backoff"]["factor"] >= 2
        assert app["spec"]["revisionHistoryLimit"] > 0
    spec = appsets[env]["spec"]
    assert spec["goTemplateOptions"] == ["missingkey=error"]
    assert {"jsonPointers": ["/spec/syncPolicy"]} in spec["ignoreApplicationDifferences"]
    appset_policy = spec.get("syncPolicy", {})
    if prod:
        assert appset_policy == {"applicationsSync": "create-update", "preserveResourcesOnDeletion": True}
    else:
        assert appset_policy == {}


@pytest.mark.parametrize("env", ENVS)
def test_notifications_go_to_the_team_channel(env, generated, environments):
    channels = environments[env]["alerts"]["notifications"]
    for app in generated[env]:
        team = app["metadata"]["labels"]["model-deploy/team"]
        expected = channels.get(team, channels["default"])
        annotations = app["metadata"]["annotations"]
        for trigger in ("on-sync-failed", "on-health-degraded"):
            assert annotations[f"notifications.argoproj.io/subscribe.{trigger}.slack"] == expected


def test_generated_applications_match_the_published_argo_cd_model(generated):
    apps = [app for env_apps in generated.values() for app in env_apps]
    assert validate_manifests(apps) == []


def test_unknown_team_gets_the_default_channel(appsets, tmp_path):
    params = files_generator_params(REPO, "environments/prod/rec-rank.yaml")
    params["team"] = "nobody"
    (app,) = generate_applications(appsets["prod"], [params])
    assert app["metadata"]["annotations"]["notifications.argoproj.io/subscribe.on-sync-failed.slack"] == \
        "ml-platform-alerts"


@pytest.mark.parametrize("missing", ["service", "chart", "team"])
def test_missingkey_error_rejects_a_service_file_without_a_key(appsets, missing):
    params = files_generator_params(REPO, "environments/gray/text-lang.yaml")
    del params[missing]
    with pytest.raises(GoTemplateError, match=missing):
        generate_applications(appsets["gray"], [params])


def test_without_missingkey_error_a_missing_key_would_render_silently(appsets):
    """The control for the test above: the option is what makes the difference."""
    appset = {**appsets["gray"], "spec": {**appsets["gray"]["spec"], "goTemplateOptions": []}}
    params = files_generator_params(REPO, "environments/gray/text-lang.yaml")
    del params["chart"]
    (app,) = generate_applications(appset, [params])
    assert app["spec"]["sources"][0]["targetRevision"] == "model-service-"


def test_missing_key_check_follows_field_chains_not_string_literals():
    from tests.gitops.goeval import check_missing_keys

    params = {"service": "a", "path": {"filename": "a.yaml"}}
    check_missing_keys('{{ .service }}/{{ .path.filename }} {{ "x.nope" | default .service }}', params)
    with pytest.raises(GoTemplateError, match='no entry for key "filenam"'):
        check_missing_keys("{{ .path.filenam }}", params)
