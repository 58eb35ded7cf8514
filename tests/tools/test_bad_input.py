"""Bad input never produces a traceback: positioned problems and exit 1 (hypothesis + fixed cases)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdeploy.cli import main
from mdeploy.rules import ALL
from mdeploy.toolchain import repo_root
from mdeploy.validate import validate_repo
from mdeploy.yamlio import MAX_BYTES

KNOWN_RULES = {r.id for r in ALL} | {"schema", "duplicate-key", "yaml-syntax", "yaml-encoding", "yaml-empty",
                                     "yaml-too-deep", "yaml-too-large", "file-too-large", "file-unreadable",
                                     "unknown-file", "env-name", "environment-file"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad") / "repo"
    shutil.copytree(repo_root() / "schemas", root / "schemas")
    shutil.copytree(repo_root() / "environments", root / "environments")
    return root


def check_file(repo: Path, content: bytes | str):
    path = repo / "environments/gray/fuzz.yaml"
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    problems, count = validate_repo(repo, [path], jobs=1)
    assert count == 1
    for p in problems:
        assert p.rule in KNOWN_RULES, p
        assert p.line >= 1 and p.col >= 1, p
        assert "\n" not in p.message
    return problems


FIXED = {
    "syntax": ("service: [unclosed\n", (2, 1, "yaml-syntax")),
    "tab": ("service: x\n\tteam: y\n", (2, 1, "yaml-syntax")),
    "duplicate": ("service: fuzz\nservice: fuzz\n", (2, 1, "duplicate-key")),
    "wrong type": ("- a\n- b\n", (1, 1, "schema")),
    "scalar": ("just a string\n", (1, 1, "schema")),
    "deep": ("a: " + "[" * 500 + "]" * 500 + "\n", (1, 67, "yaml-too-deep")),
    "bomb": ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)),
        (6, 8, "yaml-too-large")),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", (1, 1, "yaml-encoding")),
    "latin1": (b"service: caf\xe9\n", (1, 13, "yaml-encoding")),
    "empty": ("", (1, 1, "yaml-empty")),
    "comments only": ("# nothing\n\n", (1, 1, "yaml-empty")),
    "two documents": ("service: a\n---\nservice: b\n", (2, 1, "yaml-syntax")),
    "python tag": ("service: !!python/object/apply:os.system [ls]\n", (1, 10, "yaml-syntax")),
    "recursive alias": ("a: &x {b: *x}\n", (1, 11, "yaml-syntax")),
}


@pytest.mark.parametrize("name", list(FIXED))
def test_fixed_bad_inputs_are_positioned(repo, name):
    content, expected = FIXED[name]
    problems = check_file(repo, content)
    assert (problems[0].line, problems[0].col, problems[0].rule) == expected


def test_huge_file_is_refused_without_reading_it(repo):
    problems = check_file(repo, "a: " + "x" * (MAX_BYTES + 10))
    assert [(p.line, p.col, p.rule) for p in problems] == [(1, 1, "file-too-large")]


def test_unreadable_paths_exit_1_with_one_line_each(repo):
    runner = CliRunner()
    dangling = repo / "environments/gray/dangling.yaml"
    if not dangling.is_symlink():
        dangling.symlink_to(repo / "nowhere.yaml")
    result = runner.invoke(main, ["validate", "--repo", str(repo), str(repo / "environments/gray/missing.yaml"),
                                  str(dangling)])
    dangling.unlink()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == "2 errors, 0 warnings in 2 files"
    assert all("(file-unreadable)" in line for line in lines[:-1])


def test_not_a_values_file(repo, tmp_path):
    other = tmp_path / "x.yaml"
    other.write_text("a: 1\n")
    result = CliRunner().invoke(main, ["validate", "--repo", str(repo), str(other)])
    assert result.exit_code == 1 and "(unknown-file)" in result.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzz_binary(repo, content):
    check_file(repo, content)


YAML_PIECES = st.sampled_from([
    "service:", " fuzz", "\n", "  ", "- ", "{", "}", "[", "]", ",", ": ", "&a ", "*a", "!!str ", "'", '"', "#",
    "? ", "---\n", "...\n", "cgi:", "models:", "image: x", "replicas: 1", "null", "~", "1e3", "0x1F", "<<: *a",
    "team: t", "chart: 1.0.0", "\t", "|\n", ">-\n", "%YAML 1.1\n", "é", "\u2028", "\ufeff",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_fuzz_yaml_like_text(repo, text):
    check_file(repo, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["service", "team", "chart", "cgi", "models", "image", "replicas",
                                         "resources", "requests", "limits", "cpu", "memory", "gpu", "runtime",
                                         "triton", "tfserving", "custom", "x"]), inner, max_size=5),
                    max_leaves=25))
def test_fuzz_wrong_types_in_the_right_places(repo, data):
    check_file(repo, yaml.safe_dump({"service": "fuzz", "team": "t", "chart": "1.0.0", "cgi": data,
                                     "models": {"m": data}}))
