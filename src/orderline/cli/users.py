"""`orderline users`: accounts made, listed and given a new password by the operator at the command line."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Annotated

import typer

from orderline.application.principal import PUBLIC, SYSTEM, Principal
from orderline.application.queries import UserQuery
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.cli.common import DatabaseOption, database_of, fail, settings_of, with_use_cases
from orderline.cli.keys import tenant_of
from orderline.domain.errors import DomainError
from orderline.domain.user import Role, User, UserStatus

group = typer.Typer(no_args_is_help=True, help="user accounts")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input (required)")
]
TenantOption = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="a tenant's id (a v4 or v7 UUID): its accounts, which sign in there (X-Tenant-ID, or the dashboard's "
        "Shop field); without it, the public pool's",
    ),
]
_PAGE = 100


def _password(password_stdin: bool) -> str:
    if not password_stdin:
        fail("pass --password-stdin and send the password on standard input (it must not appear in `ps`)")
    return sys.stdin.readline().rstrip("\r\n")


@group.command("create")
def create_user(
    username: Annotated[str, typer.Option(help="3 to 32 letters, digits, '.', '_' or '-'")],
    email: Annotated[str, typer.Option(help="the account's email address")],
    password_stdin: PasswordStdin = False,
    admin: Annotated[bool, typer.Option("--admin", help="an administrator (scope admin), e.g. the first one")] = False,
    role: Annotated[
        Role,
        typer.Option(case_sensitive=False, help="customer, support (every order; never erase, users, keys) or admin"),
    ] = Role.CUSTOMER,
    tenant: TenantOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account; the password comes from standard input, never from the command line."""
    if admin and role not in (Role.CUSTOMER, Role.ADMIN):
        fail(f"--admin and --role {role.value.lower()} ask for two roles: pass one")
    operator = _operator_in(tenant)
    password = _password(password_stdin)
    settings = settings_of(database_url=database_url)
    registration = Registration(username, email, password)
    role = Role.ADMIN if admin else role
    try:
        user = with_use_cases(settings, lambda s: s.users.register(operator, registration, role))
    except DomainError as exc:
        fail(str(exc))
    where = _of(operator)
    typer.echo(f"created {user.role.value.lower()} {user.username} ({user.id}){where} in {database_of(settings)}")


@group.command("list")
def list_users(
    role: Annotated[Role | None, typer.Option(case_sensitive=False, help="only this role")] = None,
    status: Annotated[UserStatus | None, typer.Option(case_sensitive=False, help="only this status")] = None,
    search: Annotated[str | None, typer.Option(help="a prefix of the username or the email")] = None,
    tenant: TenantOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """List accounts, oldest first (never their passwords): a tenant's, or without --tenant the public pool's."""
    operator = _operator_in(tenant)
    settings = settings_of(database_url=database_url)
    query = UserQuery(status=status, role=role, search=search, limit=_PAGE)
    found = with_use_cases(settings, lambda s: _every_user(s, operator, query))
    typer.echo(f"users{_of(operator)} in {database_of(settings)}:")
    typer.echo(f"{'id':36}  {'username':32}  {'role':8}  {'status':9}  {'created':20}  email")
    for user in found:
        created = f"{user.created_at:%Y-%m-%dT%H:%M:%SZ}"
        typer.echo(f"{user.id!s:36}  {user.username:32}  {user.role:8}  {user.status:9}  {created:20}  {user.email}")


async def _every_user(use_cases: UseCases, operator: Principal, query: UserQuery) -> list[User]:
    found: list[User] = []
    cursor: str | None = None
    while True:
        page = await use_cases.users.list(operator, query, cursor=cursor)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


@group.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="whose password")],
    password_stdin: PasswordStdin = False,
    tenant: TenantOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Give an account (of --tenant, if it has one) a new password, read from standard input (e.g. a locked-out
    administrator)."""
    operator = _operator_in(tenant)
    password = _password(password_stdin)
    settings = settings_of(database_url=database_url)
    try:
        user = with_use_cases(settings, lambda s: s.users.set_password(operator, username, password))
    except DomainError as exc:
        fail(str(exc))
    typer.echo(f"set a new password for {user.username} ({user.id}){_of(operator)} in {database_of(settings)}")


def _operator_in(tenant: str | None) -> Principal:
    """The operator at the command line, acting in the tenant ``--tenant`` names (the public pool without it)."""
    return replace(SYSTEM, tenant=tenant_of(tenant) or PUBLIC)


def _of(operator: Principal) -> str:
    return "" if operator.tenant == PUBLIC else f" of tenant {operator.tenant}"
