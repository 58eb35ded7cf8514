"""fastschema answers exactly as jsonschema does (it only decides whether jsonschema must explain)."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mdeploy.fastschema import Unsupported, compile_schema
from mdeploy.toolchain import repo_root

ROOT = repo_root()
SCHEMAS = {name: json.loads((ROOT / "schemas" / name).read_text())
           for name in ("service.schema.json", "environment.schema.json")}
CHECKS = {name: compile_schema(schema) for name, schema in SCHEMAS.items()}
VALIDATORS = {name: jsonschema.Draft7Validator(schema) for name, schema in SCHEMAS.items()}
EXAMPLES = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "environments").glob("*/*.yaml"))]


def agree(name: str, doc) -> None:
    assert CHECKS[name](doc) == VALIDATORS[name].is_valid(doc), doc


def test_examples_are_valid_for_both():
    for doc in EXAMPLES:
        assert CHECKS["service.schema.json"](doc) and VALIDATORS["service.schema.json"].is_valid(doc)
    for env in ("gray", "prod"):
        doc = yaml.safe_load((ROOT / "environments" / f"{env}.yaml").read_text())
        assert CHECKS["environment.schema.json"](doc)


def paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, prefix + (index,))


REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "2", "500m", "16Gi", "latest", "explicit", "none", "triton", "custom", "mig", "s3://x",
                     "/models", "UPPER", "a" * 70, "1.0.0", "ocr_det"]),
    st.lists(st.sampled_from(["a", "a", 1, "b"]), max_size=3),
    st.dictionaries(st.sampled_from(["count", "mode", "path", "uri", "pvc", "initializer", "latest", "all",
                                     "specific", "versions", "name", "port", "x"]),
                    st.sampled_from([1, "whole", "/m", {}, [1, 1], "s3://b"]), max_size=3),
)


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_mutated_documents_agree(data):
    doc = copy.deepcopy(data.draw(st.sampled_from(EXAMPLES)))
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(list(paths(doc))))
        value = data.draw(REPLACEMENTS)
        if not target:
            doc = value
            continue
        parent = doc
        for part in target[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(target[-1], None)  # delete instead of replace
        else:
            parent[target[-1]] = value
    agree("service.schema.json", doc)


@pytest.mark.parametrize("schema,doc,expected", [
    ({"type": "integer"}, 1.0, True), ({"type": "integer"}, True, False), ({"enum": [1]}, True, False),
    ({"const": 1}, 1.0, True), ({"uniqueItems": True}, [1, True], True), ({"uniqueItems": True}, [1, 1.0], False),
    ({"pattern": "^a"}, 5, True), ({"minimum": 2}, "1", True),
    ({"if": {"const": 1}, "then": {"type": "string"}}, 1, False),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1, False),
    ({"multipleOf": 0.001}, 0.5, True), ({"multipleOf": 0.001}, 0.0005, False), ({"multipleOf": 2}, 3, False),
    ({"multipleOf": 2}, 4.0, True),
])
def test_json_semantics_match(schema, doc, expected):
    assert compile_schema(schema)(doc) is expected
    assert jsonschema.Draft7Validator(schema).is_valid(doc) is expected


def test_huge_integers_do_not_crash_the_fast_path():
    # Exact arithmetic, as jsonschema's own fallback: the float 0.001 is not exactly 1/1000.
    assert compile_schema({"multipleOf": 0.001})(10 ** 400) is False
    assert compile_schema({"multipleOf": 0.5})(10 ** 400) is True


def test_unknown_keyword_is_refused_so_callers_fall_back():
    with pytest.raises(Unsupported):
        compile_schema({"$ref": "#/definitions/x"})
    with pytest.raises(Unsupported):
        compile_schema({"properties": {"a": {"dependencies": {}}}})


# --- rendered Kubernetes objects: render's fast path agrees with kube_schema -------------------

def rendered_builtin_objects():
    from mdeploy import render
    from tests.harness import render_chart

    objs = []
    for env in ("gray", "prod"):
        for service in ("ocr-detect", "rec-rank", "text-lang"):
            docs = render_chart([ROOT / "environments" / f"{env}.yaml", ROOT / "environments" / env / f"{service}.yaml"],
                                release=f"{service}-{env}", namespace=f"ms-{env}-{service}")
            objs.extend(d for d in docs if not render._is_custom_resource(d))
    return objs


K8S_OBJECTS = rendered_builtin_objects()
K8S_REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 70000), st.sampled_from(["", "x", "Always", "TCP", "80", "1Gi", "IfNotPresent"]),
    st.lists(st.sampled_from(["a", 1]), max_size=2), st.dictionaries(st.sampled_from(["name", "port", "x"]),
                                                                     st.sampled_from([1, "a"]), max_size=2))


def test_every_rendered_builtin_kind_has_a_fast_check():
    from mdeploy import render

    kinds = {(o["apiVersion"], o["kind"]) for o in K8S_OBJECTS}
    assert {"Deployment", "Service", "ConfigMap"} <= {k for _, k in kinds}
    assert all(render._compiled_kind(*k) is not None for k in kinds)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_render_fast_path_agrees_with_kube_schema(data):
    from mdeploy import kube_schema, render

    obj = copy.deepcopy(data.draw(st.sampled_from(K8S_OBJECTS)))
    for _ in range(data.draw(st.integers(0, 2))):
        target = data.draw(st.sampled_from([p for p in paths(obj) if p]))
        parent = obj
        for part in target[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(target[-1], None)
        else:
            parent[target[-1]] = data.draw(K8S_REPLACEMENTS)
    check = render._compiled_kind(obj["apiVersion"], obj["kind"]) if isinstance(obj.get("kind"), str) \
        and isinstance(obj.get("apiVersion"), str) else None
    expected = kube_schema.validate_each([obj])[0] == []
    if check is not None:
        assert check(obj) == expected, obj
    assert (render.validate_objects([obj])[0] == []) == expected
