"""`mdeploy promote SERVICE... | --all-changed [--dry-run]`."""

from __future__ import annotations

import click

from mdeploy.cli import format_option
from mdeploy.commands.validate import repo_option
from mdeploy.report import UsageError, print_json


@click.command()
@click.argument("services", nargs=-1)
@click.option("--all-changed", is_flag=True, help="Every gray service whose promoted fields differ from prod.")
@click.option("--dry-run", is_flag=True, help="Print the diff, write nothing.")
@click.option("--from", "source", default="gray", show_default=True, help="Environment to promote from.")
@click.option("--to", "target", default="prod", show_default=True, help="Environment to promote to.")
@repo_option
@format_option
def promote(services: tuple[str, ...], all_changed: bool, dry_run: bool, source: str, target: str,
            repo: str | None, fmt: str) -> None:
    """Rewrite environments/prod/SERVICE.yaml from gray (the release of a service).

    Fields the schema marks `x-promote: true` (images, model versions, chart, settings) are copied
    from gray; capacity (`x-promote: false`: replicas, resources, GPUs, autoscaling) stays as prod
    has it; prod's comments and key order are kept. Refuses when gray does not validate. A new prod
    file gets gray's content with every replica count raised to at least 2. Prints the diff; the
    write is atomic. Open a pull request with the result: merging it is the release.
    """
    from mdeploy.promote import apply, pending_services, plan_promotion
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    root.require_env(source)
    root.require_env(target)
    if all_changed and services:
        raise UsageError("give SERVICE names or --all-changed, not both")
    if not all_changed and not services:
        raise UsageError("name at least one SERVICE to promote, or use --all-changed")
    names = pending_services(root, source=source, target=target) if all_changed else list(services)
    promotions = [plan_promotion(root, name, source=source, target=target) for name in names]
    if not dry_run:
        for promotion in promotions:
            if promotion.changed:
                apply(promotion)
    changed = [p for p in promotions if p.changed]
    if fmt == "json":
        print_json({"dry_run": dry_run, "promoted": [
            {"service": p.service, "path": root.rel(p.prod_path), "changed": p.changed, "new_file": p.old_text is None,
             "fields": p.changed_fields, "notes": p.notes, "diff": p.diff(root)} for p in promotions]})
        return
    for promotion in changed:
        click.echo(promotion.diff(root), nl=False)
    for promotion in promotions:
        for note in promotion.notes:
            click.echo(f"{root.rel(promotion.prod_path)}: warning: {note} (promote)", err=True)
    verb = "would change" if dry_run else "changed"
    unchanged = [p.service for p in promotions if not p.changed]
    click.echo(f"{len(changed)} prod file{'s' if len(changed) != 1 else ''} {verb}"
               + (f"; already up to date: {', '.join(unchanged)}" if unchanged else ""), err=fmt == "text")
    if changed and not dry_run:
        click.echo("next: review the diff, run `mdeploy validate`, commit and open a pull request", err=True)
