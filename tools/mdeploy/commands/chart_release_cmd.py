"""`mdeploy chart-check`: a changed chart must bump its version (checked against the merge base)."""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy import chart_release
from mdeploy.cli import format_option
from mdeploy.report import exit_code_for, format_problems, print_json
from mdeploy.toolchain import repo_root


@click.command("chart-check")
@click.option("--base", "base_ref", metavar="REF", default=None,
              help=f"Compare with the merge base of REF and HEAD (default: ${chart_release.BASE_ENV}, "
                   f"else {chart_release.DEFAULT_BASE} when it exists, else nothing to compare).")
@click.option("--repo", "root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Repository to work on (default: the repository mdeploy runs from).")
@format_option
@click.pass_context
def chart_check(ctx: click.Context, base_ref: str | None, root: Path | None, fmt: str) -> None:
    """Fail when charts/model-service changed since the merge base without a version bump.

    Released chart versions are immutable: services pin them and prod renders them, so
    every chart change needs a new, higher, unreleased `version:` in Chart.yaml.
    """
    result = chart_release.check_version_bump((root or repo_root()).resolve(), base_ref)
    if fmt == "json":
        print_json({"base": result.base, "mergeBase": result.merge_base, "changed": result.changed,
                    "baseVersion": result.base_version, "version": result.version,
                    "problems": [p.to_dict() for p in result.problems]})
    elif result.problems:
        click.echo(format_problems(result.problems, fmt))
    elif fmt == "text":
        if result.base is None:
            click.echo("chart-check: no base to compare with (no origin/main); nothing to check")
        elif result.changed:
            click.echo(f"chart-check: chart changed since {result.base}; version {result.base_version} -> "
                       f"{result.version}: ok")
        else:
            click.echo(f"chart-check: chart unchanged since {result.base}")
    ctx.exit(exit_code_for(result.problems))
