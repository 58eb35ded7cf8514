"""The `mdeploy` command line: a thin click layer with no logic of its own.

Each command lives in `mdeploy/commands/<name>.py`, calls pure functions, and either
returns an exit code or raises `ToolError`. This module turns any failure into one line on
stderr and the exit codes of `mdeploy.report` (0 ok, 1 findings, 2 usage, 3 unexpected).
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from mdeploy import __version__
from mdeploy.report import EXIT_UNEXPECTED, EXIT_USAGE, FORMATS, ToolError

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


@click.group(cls=MdeployGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mdeploy")
def main() -> None:
    """Author, check, render, promote and operate model services.

    Every command prints problems as `path:line:col: level: message (rule)` and exits
    0 when clean, 1 on findings, 2 on a usage error and 3 on an unexpected error.
    """


def _register() -> None:
    # Imported here, not at the top, so `mdeploy --help` stays fast and each command
    # module can import this one for `format_option`.
    from mdeploy.commands import toolchain_cmd
    from mdeploy.commands import validate as validate_cmd
    from mdeploy.commands import render as render_cmd
    from mdeploy.commands import apps as apps_cmd
    from mdeploy.commands import chart_release_cmd
    from mdeploy.commands import bench as bench_cmd
    from mdeploy.commands import smoke as smoke_cmd
    from mdeploy.commands import status as status_cmd
    from mdeploy.commands import promote as promote_cmd
    from mdeploy.commands import diff as diff_cmd
    from mdeploy.commands import rollback as rollback_cmd
    from mdeploy.commands import capacity as capacity_cmd
    from mdeploy.commands import new as new_cmd

    main.add_command(toolchain_cmd.toolchain)
    main.add_command(validate_cmd.validate)
    main.add_command(render_cmd.render)
    main.add_command(apps_cmd.apps)
    main.add_command(chart_release_cmd.chart_check)
    main.add_command(smoke_cmd.smoke)
    main.add_command(bench_cmd.bench)
    main.add_command(bench_cmd.warmup)
    main.add_command(status_cmd.status)
    main.add_command(promote_cmd.promote)
    main.add_command(diff_cmd.diff)
    main.add_command(rollback_cmd.rollback)
    main.add_command(capacity_cmd.capacity)
    main.add_command(new_cmd.new)


_register()

