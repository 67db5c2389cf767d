"""Account routes: /v1/users (register, read, change, close) and /v1/auth/tokens (log in)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Body, FromPath
from litestar.response import Response

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.application.users import ProfileChange, Registration
from orderline.domain.user import (
    EMAIL_PATTERN,
    MAX_EMAIL,
    MAX_PASSWORD,
    MIN_PASSWORD,
    PHONE_PATTERN,
    USERNAME_PATTERN,
    Role,
    User,
    UserStatus,
)
from orderline.http.access import needs, public
from orderline.http.api.examples import REGISTER_EXAMPLE, TOKEN_EXAMPLE, USER_EXAMPLE
from orderline.http.dependencies import Caller, Injected, Tenant
from orderline.http.openapi import body_examples, problems, success

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
# The domain checks usernames, emails, phones and passwords and refuses them with its own problem types
# (invalid-user, weak-password, naming the field) before storing or hashing anything; the document states the
# same rules, from the same constants.
Username = Annotated[
    str,
    msgspec.Meta(
        description="3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit; case-insensitive",
        extra_json_schema={"pattern": USERNAME_PATTERN, "maxLength": 32},
    ),
]
Email = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_EMAIL,
        description=f"an email address, at most {MAX_EMAIL} characters once in lower case (as it is stored)",
        extra_json_schema={"pattern": EMAIL_PATTERN},
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(
        description="a new password; common ones, and ones containing the username, are refused too",
        extra_json_schema={"minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD},
    ),
]
Phone = Annotated[
    str,
    msgspec.Meta(
        max_length=32, description="5 to 20 digits, spaces, ( ) or -", extra_json_schema={"pattern": PHONE_PATTERN}
    ),
]


class RegistrationIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    username: Username
    email: Email
    password: Password
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None

    def registration(self) -> Registration:
        return Registration(self.username, self.email, self.password, self.first_name, self.last_name, self.phone)


class ProfileIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Fields left out stay as they are. The username cannot change."""

    email: Email | None = None
    password: Password | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None


class UserOut(msgspec.Struct, rename="camel", kw_only=True):
    """An account. The password is never returned, in any form."""

    id: UUID
    username: str
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            phone=user.phone,
            role=user.role,
            status=user.status,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class CredentialsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Anything up to these lengths; a username or password that cannot exist is the same 401 as a wrong one."""

    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class TokenOut(msgspec.Struct, rename="camel", kw_only=True):
    token: str
    token_type: str
    expires_at: datetime


class UserController(Controller):
    path = "/users"
    tags = ("User",)

    @post(
        "/",
        **public(),
        operation_id="createUser",
        summary="Create User (register)",
        responses={
            **success(201, UserOut, USER_EXAMPLE, "the account was created"),
            **problems("invalid-user", "weak-password", "user-exists", "unauthorized", "unsupported-media-type"),
        },
    )
    async def register(
        self,
        data: Annotated[RegistrationIn, Body(examples=body_examples(customer=REGISTER_EXAMPLE))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[UserOut]:
        user = await use_cases.users.register(principal, data.registration())
        return Response(UserOut.of(user), status_code=201, headers={"Location": f"/v1/users/{user.id}"})

    @get(
        "/me",
        **needs(Scope.READ_USER),
        operation_id="getCurrentUser",
        summary="Get the caller's own account",
        responses=success(200, UserOut, USER_EXAMPLE, "the account") | problems("unauthorized", "not-found"),
    )
    async def me(self, use_cases: Injected[UseCases], principal: Caller) -> UserOut:
        return UserOut.of(await use_cases.users.me(principal))

    @get(
        "/{user_id:uuid}",
        **needs(Scope.READ_USER),
        operation_id="getUser",
        summary="Get User (oneself, or anyone for an admin)",
        responses=success(200, UserOut, USER_EXAMPLE, "the account")
        | problems("unauthorized", "forbidden", "not-found"),
    )
    async def read(self, user_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> UserOut:
        return UserOut.of(await use_cases.users.get(principal, user_id))

    @put(
        "/{user_id:uuid}",
        **needs(Scope.WRITE_USER),
        operation_id="updateUser",
        summary="Update User (oneself, or anyone for an admin)",
        responses={
            **success(200, UserOut, USER_EXAMPLE, "the changed account"),
            **problems("unauthorized", "forbidden", "not-found", "invalid-user", "weak-password",
                       "user-exists", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def update(
        self,
        user_id: FromPath[UUID],
        data: Annotated[ProfileIn, Body(examples=body_examples(new_phone={"phone": "+44 20 7946 0000"}))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> UserOut:
        change = ProfileChange(data.email, data.password, data.first_name, data.last_name, data.phone)
        return UserOut.of(await use_cases.users.update(principal, user_id, change))

    @delete(
        "/{user_id:uuid}",
        **needs(Scope.WRITE_USER),
        operation_id="deleteUser",
        summary="Delete User Account (oneself, or anyone for an admin)",
        description="Closes the account: its tokens stop working at once. Its orders are kept.",
        responses=problems("unauthorized", "forbidden", "not-found"),
    )
    async def close(self, user_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.users.delete(principal, user_id)


@post(
    "/auth/tokens",
    **public(),
    status_code=200,
    operation_id="createAuthToken",
    summary="Create Authentication Token",
    description="Exchanges a username and password for a bearer token (JWT). Wrong credentials, "
    "whether or not the user exists, get the same 401.",
    tags=["User"],
    responses=success(200, TokenOut, TOKEN_EXAMPLE, "the token") | problems("unauthorized", "unsupported-media-type"),
)
async def create_token(
    data: Annotated[
        CredentialsIn, Body(examples=body_examples(login={"username": "alice", "password": "correct horse battery"}))
    ],
    use_cases: Injected[UseCases],
    tenant: Tenant,
) -> TokenOut:
    issued = await use_cases.users.issue_token(tenant, data.username, data.password)
    return TokenOut(token=issued.token, token_type="Bearer", expires_at=issued.expires_at)  # noqa: S106
