"""Engines for SQLite (WAL, durable commits) and PostgreSQL, migrations at start, the seed.

Writes on SQLite take the database lock up front (BEGIN IMMEDIATE) and queue on a process
lock, so concurrent requests wait their turn instead of spinning on SQLITE_BUSY.

The hot path (every request's key check, the insert of an order) does not go through
SQLAlchemy: ``Database.raw()`` lends a pooled driver connection in autocommit mode, and
``Database.submit(unit)`` runs a unit of work durably. On SQLite, ``submit`` is a group
commit: one writer thread runs the queued units, each inside its own SAVEPOINT of a single
transaction, commits once (one fsync for the whole group) and only then answers every
waiter; a unit that fails is rolled back to its savepoint alone. On PostgreSQL the server
already groups concurrent commits into one WAL flush, so a unit simply runs on its own
autocommit connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from sogenactif.server import inline
from sogenactif.server.store.errors import DatabaseUnavailable, is_driver_error
from sogenactif.server.store.generation import KeysGeneration
from sogenactif.server.store.postgres_inline import (
    InlinePostgresPool,
    PostgresBatcher,
    SharedReads,
)
from sogenactif.server.store.sqlite_commit import (
    SQLITE_PRAGMAS,
    Checkpointer,
    GroupCommit,
    LoopGroupCommit,
    connect_sqlite,
)

T = TypeVar("T")

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


#: Set on a connection by any INSERT, UPDATE or DELETE of shops or shop_keys (see write()).
SHOPS_CHANGED = "sogenactif_shops_changed"


class Database:
    """One engine and the way to run read and write transactions on it."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = normalise_url(url)
        self.sqlite = is_sqlite(self.url)
        self._write_lock = threading.Lock() if self.sqlite else None
        self._raw_pool: list[Any] = []
        self._raw_pool_lock = threading.Lock()
        self._raw_pool_size = max(pool_size, 64)  # one per worker thread, no churn
        # PostgreSQL connections are server processes: at most pool_size per process (the
        # requests beyond wait for one, as with SQLAlchemy's pool); SQLite's cost nothing.
        self._raw_slots = None if self.sqlite else threading.BoundedSemaphore(pool_size)
        self._raw_pool_limit = pool_size
        self._inline_pools: dict[asyncio.AbstractEventLoop, InlinePostgresPool] = {}
        self._batchers: dict[asyncio.AbstractEventLoop, PostgresBatcher] = {}
        self._shared_reads: dict[asyncio.AbstractEventLoop, SharedReads] = {}
        self._group: GroupCommit | None = None
        self._loop_groups: dict[asyncio.AbstractEventLoop, LoopGroupCommit] = {}
        self._checkpointer: Checkpointer | None = None
        self._path: str | None = None
        self._generation: KeysGeneration | None = None
        if self.sqlite:
            path = make_url(self.url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._path = path
                self._generation = KeysGeneration(f"{path}-keys")
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
        with lock:
            with self.engine.connect().execution_options(immediate=True) as conn, \
                    conn.begin():
                info = conn.info  # the pooled connection's, still there after the commit
                info.pop(SHOPS_CHANGED, None)
                yield conn
            if info.pop(SHOPS_CHANGED, False) and self._generation is not None:
                self._generation.bump()  # after the commit: cached keys are read again

    def keys_generation(self) -> int | None:
        """The shared counter of shop and key changes (SQLite files); None: not available,
        so a cached key must be checked against its row."""
        return None if self._generation is None else self._generation.read()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    async def close_inline(self) -> None:
        """Close the current loop's asynchronous connections (at the app's shutdown)."""
        self._batchers.pop(asyncio.get_running_loop(), None)
        self._shared_reads.pop(asyncio.get_running_loop(), None)
        pool = self._inline_pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def dispose(self) -> None:
        if self._group is not None:
            self._group.close()
            self._group = None
        for committer in self._loop_groups.values():
            committer.close()
        self._loop_groups.clear()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._generation is not None:
            self._generation.close()
        with self._raw_pool_lock:
            pooled, self._raw_pool = self._raw_pool, []
        for conn in pooled:
            with contextlib.suppress(Exception):
                conn.close()
        self.engine.dispose()

    # ------------------------------------------------------------ the hot path

    def _connect_raw(self) -> Any:
        if self.sqlite:
            if self._path is None:
                raise RuntimeError("the fast path needs a SQLite file, not :memory:")
            return connect_sqlite(self._path)
        import psycopg

        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        return psycopg.connect(conninfo, autocommit=True)

    @contextlib.contextmanager
    def raw(self) -> Iterator[Any]:
        """A pooled driver connection in autocommit mode (sqlite3 or psycopg).

        Each statement commits on its own; a connection that failed is closed, not pooled.
        On PostgreSQL, inside an inline request (server.inline), the connection is an
        asynchronous one of the loop's own pool behind the same synchronous face: its waits
        suspend the request, never the loop.
        """
        if not self.sqlite and inline.active():
            with self._inline_pool().lend() as conn:
                yield conn
            return
        slots = self._raw_slots
        if slots is not None and not slots.acquire(timeout=30):
            raise DatabaseUnavailable("no database connection became free within 30 s")
        try:
            with self._raw_pool_lock:
                conn = self._raw_pool.pop() if self._raw_pool else None
            yield from self._lend(conn)
        finally:
            if slots is not None:
                slots.release()

    def _lend(self, conn: Any) -> Iterator[Any]:
        try:
            if conn is None:
                conn = self._connect_raw()
            yield conn
        except Exception as error:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            if is_driver_error(error):
                raise DatabaseUnavailable(str(error)) from error
            raise
        else:
            with self._raw_pool_lock:
                if len(self._raw_pool) < self._raw_pool_size:
                    self._raw_pool.append(conn)
                    return
            conn.close()

    def _run_unit(self, unit: Callable[[Any], T]) -> T:  # PostgreSQL
        with self.raw() as conn:
            return unit(conn)

    def fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        """One row of a read (driver SQL); on PostgreSQL, requests running inline that read
        the same thing at the same time share one round trip (SharedReads)."""
        if not self.sqlite and inline.active():
            loop = asyncio.get_running_loop()
            reads = self._shared_reads.get(loop)
            if reads is None:
                reads = self._shared_reads[loop] = SharedReads(self._inline_pool())
            return reads.fetchone(sql, params)
        with self.raw() as conn:
            return conn.execute(sql, params).fetchone()

    def _inline_pool(self) -> InlinePostgresPool:
        loop = asyncio.get_running_loop()
        pool = self._inline_pools.get(loop)
        if pool is None:
            conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
                hide_password=False)
            pool = self._inline_pools[loop] = InlinePostgresPool(conninfo,
                                                                 self._raw_pool_limit)
        return pool

    def submit(self, unit: Callable[[Any], T]) -> T:
        """Run ``unit(driver connection)`` durably; its result once committed, or its error.

        SQLite: group commit (see the module's docstring); the unit's statements share the
        group's transaction, so a unit must not commit or roll back itself. PostgreSQL: the
        connection is in autocommit mode; a unit of several statements opens its own
        transaction (``with conn.transaction():``).
        """
        if not self.sqlite:
            run_many = getattr(unit, "run_many", None)
            if run_many is not None and inline.active():
                loop = asyncio.get_running_loop()
                batcher = self._batchers.get(loop)
                if batcher is None:
                    batcher = self._batchers[loop] = PostgresBatcher(self._inline_pool(),
                                                                     run_many)
                return batcher.submit(unit)  # type: ignore[no-any-return]
            return self._run_unit(unit)  # inline: on the loop's asynchronous pool
        assert self._write_lock is not None
        if self._path is None:  # :memory: has no second connection to commit on
            with self.write() as conn:
                return unit(conn.connection.dbapi_connection)
        if inline.active():
            loop = asyncio.get_running_loop()
            committer = self._loop_groups.get(loop)
            if committer is None:
                committer = self._loop_groups[loop] = LoopGroupCommit(
                    self._connect_committer, self._write_lock, loop, self._committed)
            return committer.submit(unit)
        group = self._group
        if group is None:
            with self._raw_pool_lock:
                if self._group is None:
                    self._group = GroupCommit(self._connect_committer, self._write_lock,
                                              self._committed)
                group = self._group
        return group.submit(unit)

    def _connect_committer(self) -> sqlite3.Connection:
        assert self._path is not None
        with self._raw_pool_lock:
            if self._checkpointer is None:
                self._checkpointer = Checkpointer(self._path)
        return connect_sqlite(self._path, autocheckpoint=False)

    def _committed(self, units: int) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed(units)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        # Writers take the lock up front; readers never wait for a writer (WAL), so a read
        # made while this thread holds a write transaction cannot deadlock on it.
        if conn.get_execution_options().get("immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def on_execute(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip()[:6].upper()
        lowered = statement.lower()
        # Shops, keys and shared settings (the sandbox clock) are cached per process.
        if head in ("INSERT", "UPDATE", "DELETE") and (" shop" in lowered
                                                        or " settings" in lowered):
            conn.info[SHOPS_CHANGED] = True


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
