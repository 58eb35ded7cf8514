"""`mdeploy diff [--base REF] [--format markdown|text|json]`."""

from __future__ import annotations

import click

from mdeploy.commands.validate import repo_option
from mdeploy.report import EXIT_FINDINGS, print_json


@click.command()
@click.option("--base", "base", default=None,
              help="Git revision to compare the working tree with (default: merge base with origin/main or main).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "text", "json"]), default="markdown",
              show_default=True, help="markdown for a PR comment (collapsible per Application), text, or json.")
@repo_option
def diff(base: str | None, fmt: str, repo: str | None) -> None:
    """Show which Applications a change affects, with their values and rendered-manifest diffs.

    A service file affects its Application; an environment file every Application of that
    environment; a chart change only Applications that render the working-tree chart. Exit 1 when
    a side fails to render or has invalid objects.
    """
    from mdeploy import diff as diffing
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    resolved, diffs = diffing.diff_repo(root, base)
    if fmt == "json":
        print_json(diffing.to_json(resolved, diffs))
    elif fmt == "text":
        click.echo(diffing.to_text(resolved, diffs), nl=False)
    else:
        click.echo(diffing.to_markdown(resolved, diffs), nl=False)
    if any(d.problems for d in diffs):
        raise SystemExit(EXIT_FINDINGS)
