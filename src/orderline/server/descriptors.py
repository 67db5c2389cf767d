"""File descriptors: raise the process's limit where allowed, and how many connections it leaves room for."""

from __future__ import annotations

import resource

# What a soft limit of "unlimited" is taken to mean, and asked for when the hard limit is unlimited.
UNLIMITED = 1 << 20
# Descriptors kept for the process itself (listening socket, logs, imports, Redis, outbound HTTP), plus
# three per database connection (SQLite opens the file, its WAL and its shared memory; PostgreSQL one socket).
RESERVED = 64
PER_DATABASE_CONNECTION = 3


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit where the system allows; return the soft limit in force.

    Many systems start processes at a soft limit of 1024 under a much higher hard one: a server that keeps
    the soft one runs out of descriptors at about a thousand connections for no reason.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):  # e.g. macOS refuses more than OPEN_MAX: keep what we have
            return soft
        return wanted
    return UNLIMITED if soft == resource.RLIM_INFINITY else soft


def connections_room(open_files: int, database_connections: int) -> int:
    """How many client connections fit under ``open_files`` beside the process's own descriptors."""
    reserved = RESERVED + PER_DATABASE_CONNECTION * database_connections
    return max(open_files - reserved, open_files // 2, 1)
