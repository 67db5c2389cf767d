"""`orderline config show`: every setting in effect, where it came from, secrets masked."""

from __future__ import annotations

import os

import typer

from orderline.cli.common import DatabaseOption, settings_of
from orderline.config import Settings, from_environment, shown, variable

group = typer.Typer(no_args_is_help=True, help="the settings in effect")


@group.command("show")
def show(database_url: DatabaseOption = None) -> None:
    """Print every ORDERLINE_* setting in effect and whether it came from the environment, a flag or the
    default. Secrets are masked; URLs are shown without their password."""
    settings = settings_of(database_url=database_url)
    from_env = from_environment(os.environ)
    lines = []
    for field in Settings.__struct_fields__:
        source = (
            "--database-url"
            if field == "database_url" and database_url
            else ("environment" if field in from_env else "default")
        )
        lines.append((f"{variable(field)}={shown(field, getattr(settings, field))}", source))
    width = max(len(line) for line, _ in lines)
    for line, source in lines:
        typer.echo(f"{line:{width}}  # {source}")
