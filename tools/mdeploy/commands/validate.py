"""`mdeploy validate [PATH...]`."""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy.cli import format_option
from mdeploy.report import exit_code_for, format_problems
from mdeploy.services import find_repo

repo_option = click.option(
    "--repo", "repo", type=click.Path(file_okay=False), default=None,
    help="Repository to work on (default: the checkout around the current directory).",
)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for large repositories (default: one per core).")
@click.option("--list-rules", is_flag=True, help="List the rules with their ids and levels, then exit.")
@format_option
def validate(paths: tuple[Path, ...], repo: str | None, jobs: int | None, list_rules: bool, fmt: str) -> None:
    """Check environment and service files: YAML, JSON Schema and platform rules.

    PATHS are files or directories under environments/ (default: the whole repository).
    Each problem is printed as `path:line:col: level: message (rule)`; exit 1 on errors.
    """
    from mdeploy.rules import ALL
    from mdeploy.validate import validate_repo

    if list_rules:
        from mdeploy.report import format_table, print_json
        if fmt == "json":
            print_json([{"id": r.id, "level": r.level, "summary": r.summary} for r in ALL])
        else:
            click.echo(format_table(["rule", "level", "summary"], [(r.id, r.level, r.summary) for r in ALL]))
        return
    root = find_repo(repo)
    problems, count = validate_repo(root, list(paths) if paths else None, jobs=jobs)
    click.echo(format_problems(problems, fmt, files_checked=count))
    raise SystemExit(exit_code_for(problems))
