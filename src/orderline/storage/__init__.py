"""Persistence: the schema, migrations, and repositories running SQL on asyncpg and aiosqlite."""
