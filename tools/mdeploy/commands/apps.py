"""`mdeploy apps`: (re)generate apps/ from environments/, check it, or list the Applications."""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy import apps as apps_lib
from mdeploy.cli import format_option
from mdeploy.report import EXIT_FINDINGS, ERROR, Problem, format_problems, format_table, print_json
from mdeploy.toolchain import repo_root


@click.command("apps")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing every generated file that is stale (for CI and pre-commit).")
@click.option("--list", "list_apps", is_flag=True,
              help="Print the Argo CD Applications the ApplicationSets generate (one per service file).")
@click.option("--repo", "root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Repository to work on (default: the repository mdeploy runs from).")
@format_option
@click.pass_context
def apps(ctx: click.Context, check: bool, list_apps: bool, root: Path | None, fmt: str) -> None:
    """Generate apps/ (root Application, AppProjects, ApplicationSets) from environments/.

    The environment files hold the cluster, namespace prefix, sync windows and notification
    channels; the service files decide the per-team roles. Run this after changing either;
    `--check` fails when apps/ is out of date.
    """
    root = (root or repo_root()).resolve()
    if list_apps:
        rows = apps_lib.applications(root)
        if fmt == "json":
            print_json(rows)
        else:
            click.echo(format_table(["application", "environment", "team", "chart", "namespace"],
                                    [[r["application"], r["environment"], r["team"], r["chart"], r["namespace"]]
                                     for r in rows]))
        return
    if check:
        stale = apps_lib.stale_files(root)
        problems = [Problem(path, 1, 1, ERROR, "generated file is stale (or missing, or left over); "
                            f"run `{apps_lib.GENERATOR}` and commit the result", "apps-stale") for path in stale]
        if fmt == "text" and not problems:
            click.echo("apps/ is up to date")
        else:
            click.echo(format_problems(problems, fmt))
        ctx.exit(EXIT_FINDINGS if problems else 0)
    written, removed = apps_lib.write(root)
    if fmt == "json":
        print_json({"written": written, "removed": removed})
        return
    for path in written:
        click.echo(f"wrote {path}")
    for path in removed:
        click.echo(f"removed {path}")
    if not written and not removed:
        click.echo("apps/ is up to date")
