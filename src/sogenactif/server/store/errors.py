"""What the store raises when the database cannot be reached, and how to tell."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any


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


def as_seen_by_caller(error: BaseException) -> BaseException:
    """A driver failure becomes DatabaseUnavailable (cause kept); anything else, itself."""
    if not is_driver_error(error):
        return error
    wrapped = DatabaseUnavailable(str(error))
    wrapped.__cause__ = error
    return wrapped


def settle(group: list[tuple[Any, asyncio.Future[Any]]],
           outcomes: list[tuple[Any, BaseException | None]]) -> None:
    """Give each waiter of a committed group its own unit's result or error."""
    for (_unit, future), (result, error) in zip(group, outcomes, strict=True):
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(as_seen_by_caller(error))
