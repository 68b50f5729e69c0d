"""Engines for SQLite (WAL, durable commits) and PostgreSQL, migrations at start, the seed.

Writes on SQLite take the database lock up front (BEGIN IMMEDIATE) and queue on a process
lock, so concurrent requests wait their turn instead of spinning on SQLITE_BUSY.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 7311_2026  # advisory lock key while migrating


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for both."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def describe_url(url: str) -> str:
    """The URL without its password, for banners and logs."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


class Database:
    """One engine and the way to run read and write transactions on it."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        self._write_lock = threading.Lock() if self.sqlite else None
        if self.sqlite:
            path = make_url(self.url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url, poolclass=QueuePool, pool_size=pool_size, max_overflow=20,
                connect_args={"check_same_thread": False, "timeout": 30},
                hide_parameters=True,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
                hide_parameters=True,
            )

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed (durably) when the block ends without error."""
        lock = self._write_lock
        if lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with lock, self.engine.connect().execution_options(immediate=True) as conn, \
                conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an answer is sent after a durable commit
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        # Writers take the lock up front; readers never wait for a writer (WAL), so a read
        # made while this thread holds a write transaction cannot deadlock on it.
        if conn.get_execution_options().get("immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def migration_lock(db: Database) -> Iterator[None]:
    """One migrating process at a time, across processes (file lock) and hosts (advisory)."""
    if db.sqlite:
        path = make_url(db.url).database or ":memory:"
        if path == ":memory:":
            yield
            return
        with open(f"{path}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_MIGRATION_LOCK})
            conn.commit()


def migrate(db: Database) -> None:
    """Bring the schema to the head revision; safe when several nodes start together."""
    if current_revision(db) == head_revision():
        return
    with migration_lock(db):
        if current_revision(db) == head_revision():
            return
        with db.engine.begin() as conn:
            config = _alembic_config(db.url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
