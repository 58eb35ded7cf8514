"""`mdeploy capacity [--env E]`."""

from __future__ import annotations

import click

from mdeploy.cli import format_option
from mdeploy.commands.validate import repo_option
from mdeploy.report import EXIT_FINDINGS, ERROR, Problem, format_problems, format_table, print_json


@click.command()
@click.option("--env", "env", default=None, help="Only this environment (default: every environment).")
@repo_option
@format_option
def capacity(env: str | None, repo: str | None, fmt: str) -> None:
    """CPU, memory and GPUs (by resource name) requested per environment and team, against the
    environment's `capacity:`. Autoscaled Deployments count at maxReplicas. Exit 1 when over."""
    from mdeploy.capacity import environment_capacity, team_rows
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    if env:
        root.require_env(env)
    reports = [environment_capacity(root, name) for name in ([env] if env else root.env_names())]
    over = [r for report in reports for r in report.rows() if r["over"]]
    if fmt == "json":
        print_json({"environments": [{"environment": r.env, "resources": r.rows(), "teams": [
            dict(zip(["environment", "team", "cpu", "memory", "gpus"], row)) for row in team_rows(r)]}
            for r in reports], "over": bool(over)})
    elif fmt == "github":
        click.echo(format_problems([Problem(f"environments/{r['environment']}.yaml", 0, 0, ERROR,
                                            f"{r['resource']}: {r['requested']} requested, capacity {r['capacity']}",
                                            "capacity") for r in over], "github"))
    else:
        rows = [[r["environment"], r["resource"], r["requested"], r["capacity"],
                 f"{r['percent']}%" if r["percent"] is not None else "-", "OVER" if r["over"] else "ok"]
                for report in reports for r in report.rows()]
        click.echo(format_table(["env", "resource", "requested", "capacity", "used", "status"], rows))
        click.echo()
        click.echo(format_table(["env", "team", "cpu", "memory", "gpus"],
                                [row for report in reports for row in team_rows(report)]))
    if over:
        raise SystemExit(EXIT_FINDINGS)
