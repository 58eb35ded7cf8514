"""`mdeploy smoke`: does the deployed service answer through its public URL, and do its model
servers serve every model the service file declares?"""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy.cli import format_option
from mdeploy.ops.checks import FAIL, load_sample_request, run_smoke
from mdeploy.ops.context import ENVIRONMENTS, load_context, parse_model_urls
from mdeploy.report import EXIT_FINDINGS, EXIT_OK, format_table, print_json, progress, progress_done

env_option = click.option("--env", "env", required=True, type=click.Choice(ENVIRONMENTS), help="Environment the service runs in.")
root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Repository holding environments/ (default: this checkout).",
)
base_url_option = click.option(
    "--base-url", default=None, metavar="URL",
    help="Replaces <scheme>://<host> of the environment's route (e.g. a port-forward to the gateway); the public prefix is kept.",
)
model_url_option = click.option(
    "--model-url", "model_urls", multiple=True, metavar="NAME=URL",
    help="Address of model server NAME (a key of `models:`), e.g. ocr=http://127.0.0.1:8000. Default: its in-cluster Service.",
)


@click.command()
@click.argument("service")
@env_option
@base_url_option
@model_url_option
@click.option("--request", "request_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='Sample request, JSON: {"method", "path", "headers", "json"|"body", "expectStatus", "expectContains"}.')
@click.option("--protocol", type=click.Choice(["http", "grpc"]), default="http", show_default=True, help="How to talk to Triton servers.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds per check.")
@root_option
@format_option
def smoke(service, env, base_url, model_urls, request_file, protocol, timeout, root, fmt) -> int:
    """Check SERVICE in ENV: route health, model servers, models, optional sample request.

    Exit 0 when every check passes, 1 when any fails.
    """
    ctx = load_context(service, env, root)
    urls = parse_model_urls(model_urls, ctx)
    sample = load_sample_request(request_file) if request_file else None  # bad file fails before any traffic
    rows = run_smoke(ctx, base_url=base_url, model_urls=urls, sample=sample, protocol=protocol, timeout=timeout,
                     on_check=lambda key: progress(f"checking {key}..."))
    progress_done()
    failed = sum(1 for r in rows if r.status == FAIL)
    if fmt == "json":
        print_json({"service": ctx.service, "env": ctx.env, "ok": failed == 0, "checks": [r.to_dict() for r in rows]})
    else:
        click.echo(format_table(["check", "status", "detail", "target"], [(r.name, r.status.upper(), r.detail, r.target) for r in rows]))
        click.echo(f"{ctx.service} in {ctx.env}: {len(rows) - failed} of {len(rows)} checks passed")
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
