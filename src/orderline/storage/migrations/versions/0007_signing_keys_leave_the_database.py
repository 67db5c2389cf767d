"""Signing keys leave the database: drop `signing_keys`, whose plaintext secrets let a backup mint tokens.

The keys now come from ORDERLINE_JWT_SECRET or a key file beside the database (see ADR 0015). Tokens
signed with the secret this table held stop working; downgrading brings back an empty table, not the secret.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("signing_keys")


def downgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_signing_keys")),
    )
