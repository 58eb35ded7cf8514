"""`mdeploy render [--env E] [SERVICE...] [--out DIR]`."""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy.cli import format_option
from mdeploy.commands.validate import repo_option
from mdeploy.report import EXIT_FINDINGS, ERROR, Problem, format_problems, format_table, print_json


@click.command()
@click.argument("services", nargs=-1)
@click.option("--env", "env", default=None, help="Only this environment (default: every environment).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one directory per Application here (default: out/ in the repository).")
@click.option("--no-cache", is_flag=True, help="Render everything again, ignoring .cache/render/.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Parallel Helm processes (default: cores).")
@repo_option
@format_option
def render(services: tuple[str, ...], env: str | None, out: Path | None, no_cache: bool, jobs: int | None,
           repo: str | None, fmt: str) -> None:
    """Render every Application (or SERVICE...) with the pinned Helm and chart version.

    Each Application `<service>-<env>` is rendered as Argo CD would (release `<service>-<env>`,
    namespace `<namespacePrefix><service>`, environment file then service file), every object is
    checked against its Kubernetes schema, and the manifests go to OUT/<application>/. Unchanged
    Applications come from the content-addressed cache. Exit 1 when a render fails or an object
    is invalid.
    """
    from mdeploy.render import progress_printer, render_apps, summary_rows, to_json, write_outputs
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    refs = root.select(env, services)
    run = render_apps(root, refs, jobs=jobs, use_cache=not no_cache, on_progress=progress_printer("rendering"))
    out_dir = out if out is not None else root.root / "out"
    write_outputs(out_dir, run.apps, prune=not services and env is None)
    if fmt == "json":
        print_json(to_json(run))
    elif fmt == "github":
        problems = [Problem(root.rel(a.ref.path), 0, 0, ERROR, message, "render")
                    for a in run.failed for message in a.problems]
        click.echo(format_problems(problems, "github"))
    else:
        click.echo(format_table(["application", "service", "env", "chart", "url", "replicas", "gpus", "status"],
                                summary_rows(run.apps)))
        for app in run.failed:
            for message in app.problems:
                click.echo(f"{root.rel(app.ref.path)}: error: {message} (render)", err=True)
        click.echo(f"{len(run.apps)} applications: {run.rendered} rendered, {run.cached} from cache, "
                   f"{len(run.failed)} failed, {run.seconds:.2f}s; manifests in {out_dir}")
    if run.failed:
        raise SystemExit(EXIT_FINDINGS)
