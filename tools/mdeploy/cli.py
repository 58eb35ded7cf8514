"""The `mdeploy` command line: a thin click layer with no logic of its own.

Each command lives in `mdeploy/commands/<name>.py` (registered in COMMANDS), calls pure
functions, and either returns an exit code or raises `ToolError`. This module turns any
failure into one line on stderr and the exit codes of `mdeploy.report` (0 ok, 1 findings,
2 usage, 3 unexpected).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from mdeploy import __version__
from mdeploy.report import EXIT_UNEXPECTED, FORMATS, ToolError

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output for people (text), machines (json) or GitHub annotations (github).",
)


class MdeployGroup(click.Group):
    """Maps exceptions to one-line messages and exit codes; never prints a traceback
    unless MDEPLOY_DEBUG=1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ToolError as err:
            click.echo(f"mdeploy: {err}", err=True)
            sys.exit(err.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("mdeploy: interrupted", err=True)
            sys.exit(130)
        except Exception as err:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("MDEPLOY_DEBUG") == "1":
                traceback.print_exc()
            click.echo(
                f"mdeploy: internal error: {type(err).__name__}: {err} "
                "(this is a bug; rerun with MDEPLOY_DEBUG=1 for a traceback and report it)",
                err=True,
            )
            sys.exit(EXIT_UNEXPECTED)


# Command name -> "module:function". Modules are imported only when their command runs (or
# for --help), so `mdeploy validate` does not pay for numpy and requests, which the operating
# commands need. Each module imports `format_option` from here.
COMMANDS = {
    "new": "mdeploy.commands.new:new",
    "validate": "mdeploy.commands.validate:validate",
    "render": "mdeploy.commands.render:render",
    "diff": "mdeploy.commands.diff:diff",
    "promote": "mdeploy.commands.promote:promote",
    "rollback": "mdeploy.commands.rollback:rollback",
    "capacity": "mdeploy.commands.capacity:capacity",
    "apps": "mdeploy.commands.apps:apps",
    "chart-check": "mdeploy.commands.chart_release_cmd:chart_check",
    "smoke": "mdeploy.commands.smoke:smoke",
    "bench": "mdeploy.commands.bench:bench",
    "warmup": "mdeploy.commands.bench:warmup",
    "status": "mdeploy.commands.status:status",
    "toolchain": "mdeploy.commands.toolchain_cmd:toolchain",
}


class LazyMdeployGroup(MdeployGroup):
    """Resolves COMMANDS on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if command.name != cmd_name:
            raise RuntimeError(f"{target} is named {command.name!r}, registered as {cmd_name!r}")
        return command


@click.group(cls=LazyMdeployGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mdeploy")
def main() -> None:
    """Author, check, render, promote and operate model services.

    Every command prints problems as `path:line:col: level: message (rule)` and exits
    0 when clean, 1 on findings, 2 on a usage error and 3 on an unexpected error.
    """
