"""What the store raises when the database cannot be reached, and how to tell."""

from __future__ import annotations

import sqlite3


class DatabaseUnavailable(Exception):
    """The driver failed on the fast path (the pipeline answers 90, as for SQLAlchemy's)."""


def is_driver_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        return not isinstance(error, sqlite3.IntegrityError)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg comes with the server extra
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
