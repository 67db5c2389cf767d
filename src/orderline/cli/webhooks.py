"""`orderline webhooks`: what receivers of our webhooks need from the operator — the order-callback secret."""

from __future__ import annotations

import typer

from orderline import bootstrap
from orderline.cli.common import DatabaseOption, fail, settings_of
from orderline.security.callback_secret import callback_secret
from orderline.security.key_sources import load_keys
from orderline.security.signing_keys import KeysUnavailable
from orderline.storage.database import DatabaseUrl

group = typer.Typer(no_args_is_help=True, help="webhooks and order callbacks")


@group.command("callback-secret")
def show_callback_secret(database_url: DatabaseOption = None) -> None:
    """Print the secret (whsec_...) that signs order callbacks (POST /v1/orders/{id}), for their receivers to
    verify them with: ORDERLINE_CALLBACK_SECRET, or the one derived from the key file's test gateway secret."""
    settings = settings_of(database_url=database_url)
    url = DatabaseUrl.parse(settings.database_url)
    try:
        keys = load_keys(settings, bootstrap.default_key_file(url), bootstrap.SystemClock().now())
    except KeysUnavailable as exc:
        fail(str(exc))
    typer.echo(callback_secret(settings.callback_secret, keys.test_gateway_secret))
