"""Route isolation: `comics` and `comics-bg` each reach only their own CGI, in gray and prod,
through an HTTPRoute and through an Ingress. The matchers below implement the documented
semantics: Gateway API `PathPrefix` and Ingress `pathType: Prefix` both match element-wise on
`/`-separated path segments (a trailing slash is ignored), the longest match wins, and
`ReplacePrefixMatch` swaps the matched prefix for the replacement."""

from __future__ import annotations

import re

import pytest

from tests.chart.chartlib import find, render_scenario

SERVICES = ("comics", "comics-bg")
PUBLIC = {"gray": "/api/grey/content", "prod": "/api/content"}
UPSTREAM = "/api/content"
# A generic prefix-replacing rewrite annotation (each controller names its own; the environment
# file supplies it): the matched prefix is replaced by its value.
REWRITE_ANNOTATION = "example.com/replace-prefix"


def segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def prefix_matches(prefix: str, path: str) -> bool:
    """Gateway API PathPrefix / Ingress Prefix: element-wise segment prefix."""
    want = segments(prefix)
    return segments(path)[: len(want)] == want


def replace_prefix(prefix: str, replacement: str, path: str) -> str:
    rest = segments(path)[len(segments(prefix)):]
    return "/".join([replacement.rstrip("/")] + rest) if rest else replacement


def overlay(env: str, kind: str) -> dict:
    route: dict = {"kind": kind, "publicPrefix": PUBLIC[env]}
    if kind == "ingress":
        route["ingress"] = {"className": "haproxy", "pathType": "Prefix",
                            "annotations": {REWRITE_ANNOTATION: "{{ .upstream }}"}}
        route["namespaces"] = ["ingress-system"]
    environment: dict = {"name": env, "tier": env, "namespacePrefix": f"ms-{env}-", "route": route}
    if env == "gray":
        environment["caps"] = {"replicas": 1}
    return {"environment": environment}


def routing_table(env: str, kind: str) -> list[tuple[str, str, str | None]]:
    """(matched prefix, backend Service, rewrite replacement) of every route of both services."""
    table = []
    for service in SERVICES:
        docs = render_scenario(service, overlay(env, kind))
        if kind == "gateway":
            (route,) = find(docs, "HTTPRoute")
            assert not find(docs, "Ingress")
            for rule in route["spec"]["rules"]:
                rewrite = None
                for f in rule.get("filters", []):
                    assert f["urlRewrite"]["path"]["type"] == "ReplacePrefixMatch"
                    rewrite = f["urlRewrite"]["path"]["replacePrefixMatch"]
                for match in rule["matches"]:
                    assert match["path"]["type"] == "PathPrefix"
                    for backend in rule["backendRefs"]:
                        table.append((match["path"]["value"], backend["name"], rewrite))
        else:
            (ingress,) = find(docs, "Ingress")
            assert not find(docs, "HTTPRoute")
            rewrite = ingress["metadata"].get("annotations", {}).get(REWRITE_ANNOTATION)
            for rule in ingress["spec"]["rules"]:
                for p in rule["http"]["paths"]:
                    assert p["pathType"] == "Prefix"
                    table.append((p["path"], p["backend"]["service"]["name"], rewrite))
    return table


def route(table, path: str) -> tuple[str, str] | None:
    """(backend, path the backend receives) for a request, or None when nothing matches."""
    matches = [entry for entry in table if prefix_matches(entry[0], path)]
    if not matches:
        return None
    prefix, backend, rewrite = max(matches, key=lambda e: len(segments(e[0])))
    return backend, replace_prefix(prefix, rewrite, path) if rewrite else path


@pytest.mark.parametrize("kind", ["gateway", "ingress"])
@pytest.mark.parametrize("env", ["gray", "prod"])
def test_each_service_reaches_only_its_own_cgi(env, kind):
    table = routing_table(env, kind)
    public = PUBLIC[env]
    for service in SERVICES:
        for suffix in ("", "/", "/v1/draw", "/v1/draw?x=1"):
            got = route(table, f"{public}/{service}{suffix}")
            assert got is not None
            backend, upstream = got
            assert backend == f"{service}-cgi"
            assert upstream.rstrip("/") == f"{UPSTREAM}/{service}{suffix}".rstrip("/")
    for stray in (f"{public}/comicsx/a", f"{public}/comic", f"{public}/comics-bgx", f"{public}"):
        assert route(table, stray) is None, stray


@pytest.mark.parametrize("kind", ["gateway", "ingress"])
@pytest.mark.parametrize("env", ["gray", "prod"])
def test_comics_route_never_captures_comics_bg(env, kind):
    comics_only = [e for e in routing_table(env, kind) if e[1] == "comics-cgi"]
    assert comics_only
    path = f"{PUBLIC[env]}/comics-bg/api/content/comics-bg/x"
    assert route(comics_only, path) is None
    # The same prefix under plain string matching would have captured it (the field failure).
    assert any(path.startswith(prefix) for prefix, _, _ in comics_only)


def test_prod_route_needs_no_rewrite_gray_rewrites_to_upstream():
    prod = routing_table("prod", "gateway")
    gray = routing_table("gray", "gateway")
    assert {rewrite for _, _, rewrite in prod} == {None}
    assert {rewrite for _, _, rewrite in gray} == {f"{UPSTREAM}/comics", f"{UPSTREAM}/comics-bg"}


def test_httproute_parent_and_hostname_come_from_environment():
    (route_doc,) = find(render_scenario("comics"), "HTTPRoute")
    assert route_doc["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                                "name": "public", "namespace": "gateway-system",
                                                "sectionName": "https"}]
    assert route_doc["spec"]["hostnames"] == ["ai.example.com"]
    assert route_doc["spec"]["rules"][0]["backendRefs"] == [{"name": "comics-cgi", "port": 8080}]


def test_ingress_scenario_templates_path_and_annotations():
    (ingress,) = find(render_scenario("ingress"), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/rewrite-target"] == "/api/content/text-lang/$2"
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/api/grey/content/text-lang(/|$)(.*)"
    assert path["pathType"] == "ImplementationSpecific"
    assert ingress["spec"]["tls"] == [{"hosts": ["ai.example.com"], "secretName": "ai-example-com-tls"}]
    # The regex (ingress-nginx matches it anchored at the start) is segment-safe as well.
    pattern = re.compile(path["path"])
    assert pattern.match("/api/grey/content/text-lang/v1/x")
    assert pattern.match("/api/grey/content/text-lang")
    assert not pattern.match("/api/grey/content/text-langs/v1")
