"""The command line: serve, migrate, worker, keys, users, signing-keys, config and webhooks. Names and flags are a
contract other scripts call; each group lives in a module of its own."""

from __future__ import annotations

from typing import Annotated

import typer

from orderline import __version__
from orderline.cli import config, keys, serving, signing_keys, users, webhooks, worker

cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="orderline order service",
    context_settings={"help_option_names": ["-h", "--help"]},  # children inherit it: -h works everywhere
)
cli.command(epilog=serving.serve_epilog())(serving.serve)
cli.command()(serving.migrate)
cli.command()(worker.worker)
cli.add_typer(keys.group, name="keys")
cli.add_typer(users.group, name="users")
cli.add_typer(signing_keys.group, name="signing-keys")
cli.add_typer(config.group, name="config")
cli.add_typer(webhooks.group, name="webhooks")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"orderline {__version__}")
        raise typer.Exit


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """orderline order service"""


def main() -> None:
    cli(prog_name="orderline")


if __name__ == "__main__":
    main()
