"""`mdeploy toolchain`: show (and install if needed) the pinned tools."""

from __future__ import annotations

import click

from mdeploy.cli import format_option
from mdeploy.report import format_table, print_json
from mdeploy.toolchain import HELM, KUBE_VERSION, find_helm, helm_version_of


@click.command()
@click.option("--no-install", is_flag=True, help="Fail instead of downloading Helm when it is missing.")
@format_option
def toolchain(no_install: bool, fmt: str) -> None:
    """Locate the pinned Helm (installing it into .tools/bin when missing) and print versions."""
    helm = find_helm(install=not no_install)
    info = {"helm": helm, "helm_version": helm_version_of(helm), "helm_pin": HELM.version, "kube_version": KUBE_VERSION}
    if fmt == "json":
        print_json(info)
    else:
        click.echo(format_table(["tool", "value"], info.items()))
