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
])
def test_json_semantics_match(schema, doc, expected):
    assert compile_schema(schema)(doc) is expected
    assert jsonschema.Draft7Validator(schema).is_valid(doc) is expected


def test_unknown_keyword_is_refused_so_callers_fall_back():
    with pytest.raises(Unsupported):
        compile_schema({"$ref": "#/definitions/x"})
    with pytest.raises(Unsupported):
        compile_schema({"properties": {"a": {"dependencies": {}}}})
