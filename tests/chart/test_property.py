"""Property: any values the generated values schema accepts either render to objects that pass
the Kubernetes schemas, or are rejected by a chart guard whose message names the values key."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft7Validator

from mdeploy.helm import HelmError
from mdeploy.kube_schema import validate_manifests
from tests.harness import CHART, render_chart

VALUES_SCHEMA = json.loads((CHART / "values.schema.json").read_text())
RUNTIMES = ("triton", "tfserving", "custom")
# A guard message starts with the values key: `cgi.…`, `models.<name>.…`, `environment.…`.
GUARD = re.compile(r"execution error at \(model-service/templates/[^)]+\): (cgi|models|environment)(\.[A-Za-z0-9_<>\[\]-]+)*[: ]")


def yaml_json(values) -> str:
    """JSON that is also valid YAML for Helm: non-ASCII characters as \\u/\\U escapes (json's
    surrogate pairs for characters beyond the BMP are not valid YAML escapes)."""
    text = json.dumps(values, ensure_ascii=False)
    return "".join(c if 0x20 <= ord(c) < 0x7F else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
                   for c in text)


def _no_line_breaks(value) -> bool:
    """Python's `$` also matches before a trailing newline, Go's (Helm's) does not: such strings
    satisfy the schema for one validator only. No YAML author writes them, so they are skipped."""
    if isinstance(value, str):
        return "\n" not in value
    if isinstance(value, dict):
        return all(_no_line_breaks(k) and _no_line_breaks(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_line_breaks(v) for v in value)
    return True


def model_server_schema(runtime: str) -> dict:
    """The model-server schema with its `if runtime == X then ...` branches resolved for one
    runtime: the same set of documents, in a form hypothesis-jsonschema draws from quickly."""
    server = json.loads(json.dumps(VALUES_SCHEMA["properties"]["models"]["additionalProperties"]))
    server.pop("allOf")
    for other in RUNTIMES:
        if other != runtime:
            server["properties"].pop(other)
    server["properties"]["runtime"] = {"const": runtime}
    server["required"] = sorted(set(server["required"]) | {runtime})
    return server


def values_strategy() -> st.SearchStrategy:
    """Values drawn part by part from the generated values schema. Drawing the whole schema at
    once costs hypothesis-jsonschema ~10 s per example (it re-canonicalises the nested
    if/then branches on every draw); drawing each top-level key from its own sub-schema is
    ~100x faster. Every draw is re-checked against the whole schema below, so nothing outside
    the schema is ever tested."""
    props = VALUES_SCHEMA["properties"]
    names = props["models"]["propertyNames"]
    servers = st.one_of([from_schema(model_server_schema(r)) for r in RUNTIMES])
    required = {key: from_schema(props[key]) for key in VALUES_SCHEMA["required"] if key != "cgi"}
    required["cgi"] = from_schema(props["cgi"])
    optional = {
        "models": st.dictionaries(from_schema({"type": "string", **names}), servers, max_size=3),
        "networkPolicy": from_schema(props["networkPolicy"]),
        "description": from_schema(props["description"]),
    }
    return st.fixed_dictionaries(required, optional=optional)


WHOLE_SCHEMA = Draft7Validator(VALUES_SCHEMA)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(values_strategy().filter(_no_line_breaks).filter(WHOLE_SCHEMA.is_valid))
def test_every_schema_valid_draw_renders_or_fails_naming_the_key(values):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "values.json"  # JSON is YAML: Helm reads it as a values file
        path.write_text(yaml_json(values))
        try:
            docs = render_chart([path])
        except HelmError as err:
            assert GUARD.search(str(err)), str(err)
            return
    assert validate_manifests(docs) == []
    assert any(d["kind"] == "Deployment" for d in docs)
