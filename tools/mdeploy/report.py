"""Errors, exit codes and output formats shared by every `mdeploy` command.

One convention for the whole CLI (see DESIGN.md):
- a finding is a `Problem`, printed as `path:line:col: level: message (rule)`;
- an expected failure (bad input, missing file, a refused action) is a `ToolError`;
- exit 0 clean, 1 findings or a refused action, 2 usage, 3 unexpected;
- `--format text|json|github` selects how problems and results are printed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any, Iterable, Sequence

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3

FORMATS = ("text", "json", "github")

ERROR = "error"
WARNING = "warning"


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One finding about one place in one file. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    line: int
    col: int
    level: str
    message: str
    rule: str

    def to_text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.level}: {self.message} ({self.rule})"

    def to_github(self) -> str:
        # GitHub workflow commands: commas and newlines in properties must be escaped.
        def prop(value: str) -> str:
            return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")

        def data(value: str) -> str:
            return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

        level = "error" if self.level == ERROR else "warning"
        where = f"file={prop(self.path)}"
        if self.line:
            where += f",line={self.line}"
        if self.col:
            where += f",col={self.col}"
        return f"::{level} {where},title={prop(self.rule)}::{data(self.message)}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ToolError(Exception):
    """An expected failure: the message says what is wrong and how to fix it, in one line.

    `path`, `line` and `col` locate the cause when it is in a file; `exit_code` is
    EXIT_FINDINGS for bad input or a refused action and EXIT_USAGE for a wrong invocation.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int = 0,
        col: int = 0,
        rule: str = "tool-error",
        exit_code: int = EXIT_FINDINGS,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col
        self.rule = rule
        self.exit_code = exit_code

    def to_problem(self) -> Problem:
        return Problem(self.path or "-", self.line, self.col, ERROR, self.message, self.rule)

    def __str__(self) -> str:
        if self.path:
            return self.to_problem().to_text()
        return self.message


class UsageError(ToolError):
    """The command was called wrongly (unknown service, conflicting flags): exit 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, rule="usage", exit_code=EXIT_USAGE)


def count_levels(problems: Iterable[Problem]) -> tuple[int, int]:
    problems = list(problems)
    errors = sum(1 for p in problems if p.level == ERROR)
    return errors, len(problems) - errors


def exit_code_for(problems: Iterable[Problem]) -> int:
    """Findings of level error fail the command; warnings alone do not."""
    errors, _ = count_levels(problems)
    return EXIT_FINDINGS if errors else EXIT_OK


def format_problems(problems: Sequence[Problem], fmt: str, *, files_checked: int | None = None) -> str:
    """Render problems in one of FORMATS. Text and github end with a one-line summary."""
    ordered = sorted(problems)
    errors, warnings = count_levels(ordered)
    if fmt == "json":
        summary: dict[str, Any] = {"errors": errors, "warnings": warnings}
        if files_checked is not None:
            summary["files"] = files_checked
        return json.dumps({"problems": [p.to_dict() for p in ordered], "summary": summary}, indent=2)
    lines = [p.to_github() if fmt == "github" else p.to_text() for p in ordered]
    checked = f" in {files_checked} file{'s' if files_checked != 1 else ''}" if files_checked is not None else ""
    lines.append(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}{checked}")
    return "\n".join(lines)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain left-aligned text table; every command that prints a table uses this."""
    body = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in body)
    return "\n".join(out)


def print_json(data: Any) -> None:
    """Machine output goes to stdout, one JSON document, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def progress(message: str) -> None:
    """Progress for people goes to stderr, and only when stderr is a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()


def progress_done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
