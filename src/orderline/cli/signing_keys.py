"""`orderline signing-keys`: the keys that sign our tokens, in the key file — rotated and listed, never shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from orderline import bootstrap
from orderline.cli.common import DatabaseOption, fail, settings_of
from orderline.config import Settings
from orderline.security import key_file
from orderline.security.key_sources import token_key_file
from orderline.security.signing_keys import KeysUnavailable
from orderline.storage.database import DatabaseUrl

group = typer.Typer(
    no_args_is_help=True, help="the keys that sign our tokens, kept in a key file (never in the database)"
)


@group.command("rotate")
def rotate_signing_keys(
    database_url: DatabaseOption = None,
    drop_previous: Annotated[
        bool, typer.Option("--drop-previous", help="refuse every earlier key's tokens at once (a key leaked)")
    ] = False,
) -> None:
    """Sign with a new key from now on. Tokens of earlier keys stay valid until they expire; keys retired
    longer than the longest token lifetime (access or refresh) are removed. Creates the key file if there is none."""
    settings = settings_of(database_url=database_url)
    lifetime = timedelta(seconds=max(settings.token_lifetime_seconds, settings.refresh_token_lifetime_seconds))
    try:
        path = _token_key_file(settings)
        rotation = key_file.rotate(path, bootstrap.SystemClock().now(), lifetime, drop_previous=drop_previous)
    except KeysUnavailable as exc:
        fail(str(exc))
    typer.echo(f"{'created' if rotation.before is None else 'rotated'} the key file {path}")
    typer.echo(f"signing from now on: {rotation.after.current.kid}")
    for key in rotation.after.previous:
        typer.echo(f"still accepted until its tokens expire: {key.kid} (retired {_moment(key.retired_at)})")
    kept = {key.kid for key in rotation.after.keys}
    for key in rotation.before.keys if rotation.before else ():
        if key.kid not in kept:
            typer.echo(f"removed, its tokens are refused: {key.kid}")
    typer.echo("running processes sign with the new key from their next token; no restart is needed")


@group.command("list")
def list_signing_keys(database_url: DatabaseOption = None) -> None:
    """List the key file's keys by id (never their secrets), the current one first."""
    settings = settings_of(database_url=database_url)
    try:
        path = _token_key_file(settings)
        ring = key_file.read(path).ring
    except KeysUnavailable as exc:
        fail(str(exc))
    typer.echo(f"key file {path}")
    typer.echo(f"{'kid':16}  {'status':7}  {'created':20}  retired")
    for key in ring.keys:
        status = "current" if key is ring.current else "retired"
        typer.echo(f"{key.kid:16}  {status:7}  {_moment(key.created_at):20}  {_moment(key.retired_at)}")


def _token_key_file(settings: Settings) -> Path:
    return token_key_file(settings, bootstrap.default_key_file(DatabaseUrl.parse(settings.database_url)))


def _moment(at: datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
