"""`orderline keys`: API keys for machine clients — created (shown once), listed, revoked."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from uuid import UUID

import typer

from orderline.application.api_keys import parse_scopes
from orderline.application.errors import ApplicationError
from orderline.application.principal import SYSTEM, parse_tenant
from orderline.cli.common import DatabaseOption, database_of, fail, settings_of, with_use_cases

group = typer.Typer(no_args_is_help=True, help="API keys for machine clients")

TenantOption = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="a tenant's id (a v4 or v7 UUID): the key only ever acts in that tenant, whatever X-Tenant-ID says; "
        "without it, the key is the operator's and acts in the tenant each request names",
    ),
]


def tenant_of(text: str | None) -> UUID | None:
    """The tenant ``--tenant`` names (None without it); a clear one-line refusal for anything but a v4 or v7 UUID."""
    if text is None:
        return None
    try:
        return parse_tenant(text, "--tenant")
    except ApplicationError as exc:
        fail(str(exc))


@group.command("create")
def create_key(
    scopes: Annotated[
        str, typer.Option(help="comma-separated, e.g. read:orders,write:orders or read_order,write_order")
    ],
    name: Annotated[str, typer.Option(help="what the key is for")] = "unnamed",
    tenant: TenantOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create a key; the key itself is printed once, alone on the last line."""
    settings = settings_of(database_url=database_url)
    bound = tenant_of(tenant)
    try:
        wanted = parse_scopes(scopes.split(","))
    except ApplicationError as exc:
        fail(str(exc))
    key, secret = with_use_cases(settings, lambda s: s.api_keys.create(name, wanted, tenant=bound))
    where = "" if bound is None else f" bound to tenant {bound}"
    typer.echo(
        f"created API key {key.id} ({name}) with scopes {','.join(sorted(key.scopes))}{where}"
        f" in {database_of(settings)}"
    )
    typer.echo("store it now: it cannot be shown again")
    typer.echo(secret)


@group.command("list")
def list_keys(tenant: TenantOption = None, database_url: DatabaseOption = None) -> None:
    """List keys (never their secrets): a tenant's, or without --tenant the public pool's and the unbound ones."""
    settings = settings_of(database_url=database_url)
    bound = tenant_of(tenant)
    actor = SYSTEM if bound is None else replace(SYSTEM, tenant=bound)
    found = with_use_cases(settings, lambda s: s.api_keys.list(actor))
    typer.echo(f"API keys in {database_of(settings)}:")
    typer.echo(f"{'id':36}  {'prefix':10}  {'status':7}  {'name':20}  scopes")
    for key in found:
        status = "revoked" if key.revoked_at else "active"
        scopes = ",".join(sorted(key.scopes))
        typer.echo(f"{key.id!s:36}  {key.prefix:10}  {status:7}  {key.name:20}  {scopes}")


@group.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id")],
    tenant: TenantOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key (of --tenant, if it is bound to one); requests with it are refused from then on."""
    settings = settings_of(database_url=database_url)
    bound = tenant_of(tenant)
    actor = SYSTEM if bound is None else replace(SYSTEM, tenant=bound)
    try:
        parsed = UUID(key_id)
    except ValueError:
        fail(f"{key_id!r} is not a key id (a UUID; see `orderline keys list`)")
    with_use_cases(settings, lambda s: s.api_keys.revoke(parsed, actor))
    typer.echo(f"revoked API key {parsed} in {database_of(settings)}")
