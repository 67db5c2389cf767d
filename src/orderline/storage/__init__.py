"""Persistence: the schema, migrations, and repositories running SQL on asyncpg and the standard sqlite3 module."""
