"""Run `mdeploy` in-process the way a user would, and hold it to the CLI's promises."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from mdeploy.cli import main


def mdeploy(*args: str, root: Path | None = None) -> Result:
    argv = list(args) + (["--root", str(root)] if root is not None else [])
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    # Whatever happens, never a traceback: failures are one line on stderr.
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    return result


def one_line_error(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mdeploy: ")
    return lines[0]


def as_json(result: Result) -> dict:
    return json.loads(result.stdout)
