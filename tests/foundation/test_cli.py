"""The CLI conventions every command inherits: version, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from mdeploy import __version__
from mdeploy.cli import MdeployGroup
from mdeploy.report import Problem, ToolError, format_problems


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdeploy", *args], capture_output=True, text=True)


def test_version_via_python_m():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"mdeploy, version {__version__}"


def test_unknown_command_is_usage_exit_2():
    out = run("no-such-command")
    assert out.returncode == 2
    assert "No such command" in out.stderr


def _group_with(fn):
    @click.group(cls=MdeployGroup)
    def grp():
        pass

    grp.command("x")(fn)
    return grp


def test_tool_error_is_one_line_with_its_exit_code():
    def boom():
        raise ToolError("bad thing; fix it", path="environments/gray/a.yaml", line=3, col=5, rule="r1")

    result = CliRunner().invoke(_group_with(boom), ["x"])
    assert result.exit_code == 1
    assert result.output == "mdeploy: environments/gray/a.yaml:3:5: error: bad thing; fix it (r1)\n"


def test_unexpected_exception_exits_3_without_traceback(monkeypatch):
    monkeypatch.delenv("MDEPLOY_DEBUG", raising=False)

    def boom():
        raise KeyError("oops")

    result = CliRunner().invoke(_group_with(boom), ["x"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert result.output.startswith("mdeploy: internal error: KeyError: 'oops'")


def test_problem_formats():
    p = Problem("a.yaml", 2, 7, "error", "image tag missing, write repo:tag", "image-pinned")
    assert format_problems([p], "text") == "a.yaml:2:7: error: image tag missing, write repo:tag (image-pinned)\n1 error, 0 warnings"
    assert format_problems([p], "github").splitlines()[0] == (
        "::error file=a.yaml,line=2,col=7,title=image-pinned::image tag missing, write repo:tag"
    )
    data = json.loads(format_problems([p], "json", files_checked=1))
    assert data == {"problems": [p.to_dict()], "summary": {"errors": 1, "warnings": 0, "files": 1}}


def test_every_registered_command_loads_under_its_name():
    from mdeploy.cli import COMMANDS, main

    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert result.output.startswith(f"Usage: main {name}")


def test_plain_commands_do_not_import_the_operating_stack():
    """`mdeploy validate` runs on every keystroke (pre-commit): it must not pay for numpy,
    requests or the Kubernetes client, which only the operating commands use."""
    code = ("import sys; from mdeploy.cli import main; "
            "main(['validate', '--help'], standalone_mode=False); "
            "print(sorted(m for m in ('numpy', 'requests', 'kubernetes', 'tritonclient') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
