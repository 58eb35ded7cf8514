"""`mdeploy rollback SERVICE --env E [--to REV]`."""

from __future__ import annotations

import click

from mdeploy.cli import format_option
from mdeploy.commands.validate import repo_option
from mdeploy.report import print_json


@click.command()
@click.argument("service")
@click.option("--env", "env", required=True, help="Environment of the service file (gray, prod).")
@click.option("--to", "to", default=None, help="Git revision to restore (default: the version before the last change).")
@click.option("--dry-run", is_flag=True, help="Print the diff, write nothing.")
@repo_option
@format_option
def rollback(service: str, env: str, to: str | None, dry_run: bool, repo: str | None, fmt: str) -> None:
    """Restore environments/ENV/SERVICE.yaml from the revision before its last change (or REV).

    Writes the file (atomically) and prints what changes; never commits or pushes. Use it after
    an Argo CD rollback so that re-enabling auto-sync does not redeploy the bad version.
    """
    from mdeploy.rollback import apply, plan_rollback
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    plan = plan_rollback(root, service, env, to)
    changed = plan.old_text != plan.new_text
    if changed and not dry_run:
        apply(plan)
    if fmt == "json":
        print_json({"path": plan.rel, "revision": plan.revision, "from": plan.description, "changed": changed,
                    "dry_run": dry_run, "diff": plan.diff()})
        return
    click.echo(plan.diff(), nl=False)
    if not changed:
        click.echo(f"{plan.rel} already matches {plan.description}", err=True)
    elif dry_run:
        click.echo(f"would restore {plan.rel} from {plan.description}", err=True)
    else:
        click.echo(f"restored {plan.rel} from {plan.description}\nnext: git commit -m 'Roll back {service} in {env}' "
                   f"{plan.rel} and open a pull request (nothing was pushed)", err=True)
