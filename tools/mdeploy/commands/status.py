"""`mdeploy status`: is SERVICE deployed and healthy in ENV, and if not, why in plain words?"""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy.cli import format_option
from mdeploy.commands.smoke import env_option, root_option
from mdeploy.ops.context import load_context
from mdeploy.ops.kube import Status, api_client, collect
from mdeploy.report import EXIT_FINDINGS, EXIT_OK, format_table, print_json


@click.command()
@click.argument("service")
@env_option
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account).")
@click.option("--context", "kube_context", default=None, help="Kubeconfig context (default: the current one).")
@root_option
@format_option
def status(service, env, kubeconfig, kube_context, root, fmt) -> None:
    """Show the Argo CD Application, Deployments, pods needing attention and warning events.

    Exit 0 when everything is synced, healthy and ready; 1 when anything needs attention.
    """
    ctx = load_context(service, env, root)
    api = api_client(kubeconfig, kube_context)
    try:
        result = collect(ctx, api)
    finally:
        api.close()
    if fmt == "json":
        print_json({"service": ctx.service, "env": ctx.env, "namespace": ctx.namespace, **result.to_dict()})
    else:
        click.echo(render_text(ctx.service, ctx.env, ctx.namespace, result))
    raise SystemExit(EXIT_FINDINGS if result.attention else EXIT_OK)


def render_text(service: str, env: str, namespace: str, result: Status) -> str:
    out: list[str] = []
    app = result.application
    if app is not None:
        out.append(f"Argo CD Application {app['name']}")
        rows = [("sync", app["sync"]), ("health", app["health"] + (f" ({app['health_message']})" if app["health_message"] else "")),
                ("revision", app["revision"])]
        if app["operation"]:
            rows.append(("last operation", app["operation"] + (f": {app['operation_message']}" if app["operation_message"] else "")))
        out.append(format_table(["field", "value"], rows))
        if app["history"]:
            out += ["", "History (newest first)", format_table(["id", "revision", "deployed at"],
                                                              [(h["id"], h["revision"], h["deployedAt"]) for h in app["history"]])]
        out.append("")
    out.append(f"Deployments in {namespace}")
    out.append(format_table(["deployment", "ready", "desired", "up-to-date", "available"],
                            [(d["name"], d["ready"], d["desired"], d["updated"], d["available"]) for d in result.deployments]))
    if result.pods:
        out += ["", "Pods needing attention",
                format_table(["pod", "container", "state", "advice"], [(p.pod, p.container, p.state, p.advice) for p in result.pods])]
        for p in result.pods:
            if p.logs:
                out += ["", f"Last log lines of {p.pod}/{p.container}:"] + [f"  {line}" for line in p.logs]
    if result.events:
        out += ["", "Recent warning events",
                format_table(["time", "object", "reason", "count", "message"],
                             [(e["time"], e["object"], e["reason"], e["count"], e["message"]) for e in result.events])]
    out.append("")
    if result.attention:
        out.append(f"{service} in {env} needs attention:")
        out += [f"  - {line}" for line in result.attention]
    else:
        out.append(f"{service} in {env}: synced, healthy, all replicas ready")
    return "\n".join(out)
