"""Users in SQL: accounts by id or username, optimistic saves, keyset lists for the admin."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from orderline.application.errors import DuplicateUser
from orderline.application.ports import UserStanding
from orderline.application.queries import UserQuery
from orderline.domain.user import Role, User, UserStatus
from orderline.storage.driver import Connection, Row, UniqueViolation
from orderline.storage.keys import found, key_of
from orderline.storage.rows import as_datetime, as_uuid
from orderline.storage.versions import Seen

_COLUMNS = (
    "id, username, email, password_hash, first_name, last_name, phone, role, status, status_reason,"
    " version, created_at, updated_at"
)

_INSERT = f"""
INSERT INTO users ({_COLUMNS}, tenant_id)
VALUES (:id, :username, :email, :password_hash, :first_name, :last_name, :phone, :role, :status,
        :status_reason, :version, :created_at, :updated_at, :tenant)
"""  # noqa: S608

# One user by its key, its tenant compared outside (storage/keys.py, ADR 0045): (tenant_id, status, id) bound
# by the tenant and the key alone walks the tenant's users, and PostgreSQL took it even with no statistics.
_BY_ID = found("users", _COLUMNS)
STANDING = found("users", "role, status")  # on every signed-in request: never the tenant's users walked
_LOCKED = f"SELECT {_COLUMNS} FROM users WHERE id = {key_of('users')}"  # noqa: S608

_UPDATE = f"""
UPDATE users SET username = :username, email = :email, password_hash = :password_hash,
    first_name = :first_name, last_name = :last_name, phone = :phone, role = :role, status = :status,
    status_reason = :status_reason, version = :version, updated_at = :updated_at
WHERE id = {key_of("users")} AND version = :expected
"""  # noqa: S608


class SqlUserRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self._seen = Seen()

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        sql = _LOCKED + self._db.for_update() if for_update else _BY_ID
        row = await self._db.fetch_one(sql, {"id": user_id, "tenant": self._tenant})
        if row is None:
            return None
        user = _user(row)
        self._seen.remember(user.id, user.version)
        return user

    async def standing(self, user_id: UUID) -> UserStanding | None:
        row = await self._db.fetch_one(STANDING, {"id": user_id, "tenant": self._tenant})
        return None if row is None else UserStanding(Role(row["role"]), UserStatus(row["status"]))

    async def get_by_username(self, username: str) -> User | None:
        sql = f"SELECT {_COLUMNS} FROM users WHERE tenant_id = :tenant AND username = :username"  # noqa: S608
        row = await self._db.fetch_one(sql, {"username": username, "tenant": self._tenant})
        return None if row is None else _user(row)

    async def add(self, user: User) -> None:
        try:
            await self._db.execute(_INSERT, {**_params(user), "tenant": self._tenant})
        except UniqueViolation as taken:
            raise DuplicateUser("email" if "email" in taken.detail else "username") from None

    async def save(self, user: User) -> None:
        try:
            expected = self._seen.version_of(user.id)
            changed = await self._db.execute(_UPDATE, {**_params(user), "expected": expected, "tenant": self._tenant})
        except UniqueViolation as taken:
            raise DuplicateUser("email" if "email" in taken.detail else "username") from None
        self._seen.saved(user.id, user.version, changed=changed, what=f"user {user.id}")

    async def find(self, query: UserQuery) -> list[User]:
        conditions: list[str] = ["tenant_id = :tenant"]
        params: dict[str, Any] = {"limit": query.limit + 1, "tenant": self._tenant}
        if query.status is not None:
            conditions.append("status = :status")
            params["status"] = query.status.value
        if query.role is not None:
            conditions.append("role = :role")
            params["role"] = query.role.value
        if query.search:
            conditions.append("(username LIKE :prefix ESCAPE '\\' OR email LIKE :prefix ESCAPE '\\')")
            params["prefix"] = _like_prefix(query.search.lower())
        if query.after_id is not None:
            conditions.append("id > :after")
            params["after"] = query.after_id
        sql = f"SELECT {_COLUMNS} FROM users WHERE {' AND '.join(conditions)} ORDER BY id LIMIT :limit"  # noqa: S608
        return [_user(row) for row in await self._db.fetch_all(sql, params)]


def _like_prefix(text: str) -> str:
    # The search is a prefix, not a pattern: wildcards the caller typed match themselves.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _params(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "role": user.role.value,
        "status": user.status.value,
        "status_reason": user.status_reason,
        "version": user.version,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def _user(row: Row) -> User:
    return User(
        id=as_uuid(row["id"]),
        username=row["username"],
        email=row["email"],
        password_hash=row["password_hash"],
        role=Role(row["role"]),
        status=UserStatus(row["status"]),
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        first_name=row["first_name"],
        last_name=row["last_name"],
        phone=row["phone"],
        status_reason=row["status_reason"],
        version=row["version"],
    )
