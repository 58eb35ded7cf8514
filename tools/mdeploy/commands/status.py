"""`mdeploy status` (being written)."""

import click


@click.command()
@click.argument("service")
def status(service: str) -> None:
    """Show the Argo CD and Kubernetes state of SERVICE (not implemented yet)."""
    raise click.ClickException("not implemented yet")
