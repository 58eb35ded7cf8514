"""`mdeploy new SERVICE --runtime triton|tfserving|custom [--gpu N] [--team T]`."""

from __future__ import annotations

import click

from mdeploy.commands.validate import repo_option


@click.command()
@click.argument("service")
@click.option("--runtime", type=click.Choice(["triton", "tfserving", "custom"]), required=True,
              help="Model server runtime.")
@click.option("--gpu", type=click.IntRange(0, 16), default=None,
              help="GPUs per model server pod (default: 1 for triton/tfserving, 0 for custom).")
@click.option("--team", default="ml-platform", show_default=True, help="Owning team.")
@click.option("--env", "env", default="gray", show_default=True, help="Environment to create the file in.")
@click.option("--chart", default=None, help="Chart version to pin (default: the newest available to gray).")
@repo_option
def new(service: str, runtime: str, gpu: int | None, team: str, env: str, chart: str | None, repo: str | None) -> None:
    """Write environments/gray/SERVICE.yaml from a commented template that validates as written.

    Refuses to overwrite an existing file. Fill in the TODOs, then validate, render and open a PR.
    """
    from mdeploy.scaffold import scaffold, write
    from mdeploy.services import Repo, find_repo

    root = Repo(find_repo(repo))
    result = scaffold(root, service, runtime, gpu=gpu, team=team, env=env, chart=chart)
    write(result)
    rel = root.rel(result.path)
    click.echo(f"wrote {rel}\n\nnext steps:\n"
               f"  1. fill in the TODOs in {rel} (images, model repository, resources)\n"
               f"  2. mdeploy validate {rel}\n"
               f"  3. mdeploy render --env {env} {service}   # see the manifests in out/{service}-{env}/\n"
               f"  4. git add {rel} && git commit, open a pull request; after testing in gray: mdeploy promote {service}")
