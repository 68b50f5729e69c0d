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
import mmap
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from sogenactif.server import inline

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


class KeysGeneration:
    """A counter every process of this host shares through an 8-byte memory-mapped file next
    to the SQLite database: bumped after each committed change to shops or keys, read (a
    memory access, no system call) before a cached key is used. A process that cannot map the
    file reads the key's row on every request instead (``read`` gives None)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._failed = False

    def _mapped(self) -> mmap.mmap | None:
        if self._map is None and not self._failed:
            try:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(descriptor).st_size < 8:
                        fcntl.flock(descriptor, fcntl.LOCK_EX)
                        if os.fstat(descriptor).st_size < 8:
                            os.ftruncate(descriptor, 8)
                        fcntl.flock(descriptor, fcntl.LOCK_UN)
                    self._map = mmap.mmap(descriptor, 8)
                finally:
                    os.close(descriptor)
            except (OSError, ValueError):
                self._failed = True
        return self._map

    def read(self) -> int | None:
        mapped = self._mapped()
        return None if mapped is None else int.from_bytes(mapped[:8], "little")

    def bump(self) -> None:
        mapped = self._mapped()
        if mapped is None:
            return
        with open(self.path, "rb") as handle:  # writers take turns; readers never wait
            fcntl.flock(handle, fcntl.LOCK_EX)
            value = (int.from_bytes(mapped[:8], "little") + 1) % (1 << 63)
            mapped[:8] = value.to_bytes(8, "little")
            fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class DatabaseUnavailable(Exception):
    """The driver failed on the fast path (the pipeline answers 90, as for SQLAlchemy's)."""


class _InlineCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def fetchone(self) -> Any:
        return inline.wait(self._cursor.fetchone())

    def fetchall(self) -> Any:
        return inline.wait(self._cursor.fetchall())


class InlineConnection:
    """psycopg's AsyncConnection with the synchronous face the repositories use
    (``execute(...).fetchone()``), for requests running inline: each wait suspends the
    request (inline.wait) and the loop serves others meanwhile."""

    __slots__ = ("aconn",)

    def __init__(self, aconn: Any) -> None:
        self.aconn = aconn

    def execute(self, query: str, params: Any = None) -> _InlineCursor:
        return _InlineCursor(inline.wait(self.aconn.execute(query, params)))


class InlinePostgresPool:
    """One event loop's asynchronous PostgreSQL connections (autocommit), at most ``limit``;
    a request finding none free waits for one without holding the loop."""

    def __init__(self, conninfo: str, limit: int) -> None:
        self._conninfo = conninfo
        self._limit = limit
        self._free: list[Any] = []
        self._count = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()

    async def acquire(self) -> Any:
        """A free connection, or a new one below the limit, or the next one given back."""
        import psycopg

        while not self._free and self._count >= self._limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        if self._free:
            return self._free.pop()
        self._count += 1
        try:
            return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except BaseException as error:
            self._count -= 1
            self._wake()
            if _is_driver_error(error):
                raise DatabaseUnavailable(str(error)) from error
            raise

    def release(self, aconn: Any, broken: bool = False) -> None:
        if broken:
            self._count -= 1
            task = asyncio.get_running_loop().create_task(_close_quietly(aconn))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        else:
            self._free.append(aconn)
        self._wake()

    @contextlib.contextmanager
    def lend(self) -> Iterator[InlineConnection]:
        """For a request running inline: the connection behind a synchronous face."""
        aconn = inline.wait(self.acquire())
        try:
            yield InlineConnection(aconn)
        except BaseException as error:
            self.release(aconn, broken=True)
            if _is_driver_error(error):
                raise DatabaseUnavailable(str(error)) from error
            raise
        self.release(aconn)

    async def close(self) -> None:
        free, self._free = self._free, []
        for aconn in free:
            with contextlib.suppress(Exception):
                await aconn.close()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


async def _close_quietly(aconn: Any) -> None:
    with contextlib.suppress(Exception):
        await aconn.close()


class PostgresBatcher:
    """PostgreSQL's counterpart of the group commit, for units that offer ``run_many``
    (repositories.OrderInsert): the units of requests running inline on one loop that
    arrive while a group is being written go together in the next group, one statement
    and one commit (synchronous_commit as the server has it: each request is answered after
    its group's commit). Each unit still gets its own outcome (a reused reference: 94).
    Up to ``writers`` groups are in flight at once, each on its own connection."""

    def __init__(self, pool: InlinePostgresPool, run_many: Any, *, max_group: int = 256,
                 writers: int = 4) -> None:
        self._pool = pool
        self._run_many = run_many
        self._max_group = max_group
        self._writers = writers  # groups in flight at once: one waits on its commit...
        self._pending: deque[tuple[Any, asyncio.Future[Any]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0
        self.units = 0

    def submit(self, unit: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((unit, future))
        if len(self._tasks) < self._writers:
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return inline.wait(future)

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # the requests ready in this turn of the loop join the group
        while self._pending:
            count = min(len(self._pending), self._max_group)
            group = [self._pending.popleft() for _ in range(count)]
            try:
                aconn = await self._pool.acquire()
            except BaseException as error:
                self._settle(group, [(None, error)] * len(group))
                continue
            broken = False
            try:
                outcomes = await self._run_many(aconn, [unit for unit, _f in group])
            except BaseException as error:
                broken = _is_driver_error(error)
                outcomes = [(None, error)] * len(group)
            finally:
                self._pool.release(aconn, broken)
            self.groups += 1
            self.units += len(group)
            self._settle(group, outcomes)

    @staticmethod
    def _settle(group: list[tuple[Any, asyncio.Future[Any]]],
                outcomes: list[tuple[Any, BaseException | None]]) -> None:
        for (_unit, future), (result, error) in zip(group, outcomes, strict=True):
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            elif _is_driver_error(error):
                wrapped = DatabaseUnavailable(str(error))
                wrapped.__cause__ = error
                future.set_exception(wrapped)
            else:
                future.set_exception(error)


class SharedReads:
    """Identical reads of requests running inline on one loop, made once for all of them
    (PostgreSQL, where each read is a round trip and psycopg's work): a request joins the
    next read of its (statement, parameters), never one already sent, so what it reads
    was committed after it arrived, as if it had read alone."""

    def __init__(self, pool: InlinePostgresPool) -> None:
        self._pool = pool
        self._waiting: dict[tuple[str, Any], list[asyncio.Future[Any]]] = {}
        self._busy: set[tuple[str, Any]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def fetchone(self, sql: str, params: tuple[Any, ...]) -> Any:
        key = (sql, params)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if key not in self._busy:
            self._start(loop, key)
        return inline.wait(future)

    def _start(self, loop: asyncio.AbstractEventLoop, key: tuple[str, Any]) -> None:
        self._busy.add(key)
        task = loop.create_task(self._read(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, key: tuple[str, Any]) -> None:
        await asyncio.sleep(0)  # the requests ready in this turn of the loop join in
        waiters = self._waiting.pop(key, [])
        try:
            aconn = await self._pool.acquire()
            broken = False
            try:
                cursor = await aconn.execute(key[0], key[1])
                row = await cursor.fetchone()
            except BaseException as error:
                broken = _is_driver_error(error)
                raise
            finally:
                self._pool.release(aconn, broken)
        except BaseException as error:
            failure: BaseException = error
            if _is_driver_error(error):
                failure = DatabaseUnavailable(str(error))
                failure.__cause__ = error
            for future in waiters:
                if not future.done():
                    future.set_exception(failure)
        else:
            for future in waiters:
                if not future.done():
                    future.set_result(row)
        finally:
            self._busy.discard(key)
            if self._waiting.get(key):
                self._start(asyncio.get_running_loop(), key)


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
            if _is_driver_error(error):
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


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # an answer is sent after a durable commit
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


def connect_sqlite(path: str, *, autocheckpoint: bool = True) -> sqlite3.Connection:
    """A driver connection with the server's settings; we issue BEGIN ourselves.

    The group committers' connections do not checkpoint the WAL when they commit (a
    checkpoint writes and fsyncs the database file: tens of milliseconds that every request
    of the group would wait for); the Checkpointer thread does it beside them. They also
    get a 32 MB page cache and a 256 MB memory map.
    """
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    if not autocheckpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        # The writer keeps the pages it keeps touching (index edges) and reads the others
        # through a memory map instead of a system call each.
        conn.execute("PRAGMA cache_size=-32768")
        conn.execute("PRAGMA mmap_size=268435456")
    return conn


class Checkpointer:
    """WAL checkpoints beside the commits, not inside them: after every ``every`` units the
    group committers signal this thread, which runs a PASSIVE checkpoint (it never blocks
    writers or readers) on its own connection."""

    def __init__(self, path: str, *, every: int = 1000) -> None:
        self._path = path
        self._every = every
        self._count = 0
        self._wanted = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                        daemon=True)
        self._thread.start()
        self.checkpoints = 0

    def committed(self, units: int) -> None:
        self._count += units
        if self._count >= self._every:
            self._count = 0
            self._wanted.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closed:
                break
            try:
                if conn is None:
                    conn = connect_sqlite(self._path)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints += 1
            except sqlite3.Error:  # busy or closing: the next signal tries again
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._closed = True
        self._wanted.set()
        self._thread.join(timeout=30)


def _is_driver_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        return not isinstance(error, sqlite3.IntegrityError)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg comes with the server extra
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


class _Waiter:
    __slots__ = ("done", "error", "result", "unit")

    def __init__(self, unit: Callable[[Any], Any]) -> None:
        self.unit = unit
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


def _raise_unit_error(error: BaseException) -> NoReturn:
    if _is_driver_error(error):
        raise DatabaseUnavailable(str(error)) from error
    raise error


def _run_units(conn: sqlite3.Connection, units: list[Callable[[Any], Any]],
               ) -> list[tuple[Any, BaseException | None]]:
    """Each unit inside its own savepoint of the open transaction: (result, error) each."""
    out: list[tuple[Any, BaseException | None]] = []
    for unit in units:
        conn.execute("SAVEPOINT unit")
        try:
            result = unit(conn)
        except Exception as error:
            conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
            out.append((None, error))
        else:
            conn.execute("RELEASE unit")
            out.append((result, None))
    return out


def _rollback_quietly(conn: sqlite3.Connection | None) -> None:
    if conn is not None and conn.in_transaction:
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")


class GroupCommit:
    """SQLite's group commit for callers on threads: one writer thread, one transaction and
    one fsync per group.

    Units queue up while the previous group commits; the writer takes them all (up to
    ``max_group``), runs each inside ``SAVEPOINT unit`` (released when it succeeds, rolled
    back alone when it raises), commits, and only after COMMIT has returned wakes the
    waiters. If BEGIN or COMMIT fails, nothing of the group is durable and every unit gets
    the error. The process's write lock is held for each group, so ``Database.write()``
    callers of the same process take turns with it; other processes wait on SQLite's lock.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], lock: threading.Lock,
                 committed: Callable[[int], None] = lambda _units: None, *,
                 max_group: int = 256) -> None:
        self._connect = connect
        self._lock = lock
        self._committed = committed
        self._max_group = max_group
        self._queue: deque[_Waiter] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="sqlite-group-commit",
                                        daemon=True)
        self._thread.start()
        self.groups = 0  # counters, for the curious (and the tests)
        self.units = 0

    def submit(self, unit: Callable[[Any], T]) -> T:
        waiter = _Waiter(unit)
        with self._ready:
            if self._closed:
                raise DatabaseUnavailable("the database is closing")
            self._queue.append(waiter)
            self._ready.notify()
        waiter.done.wait()
        if waiter.error is not None:
            _raise_unit_error(waiter.error)
        return waiter.result  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:  # closed and drained
                    break
                group = [self._queue.popleft()
                         for _ in range(min(len(self._queue), self._max_group))]
            try:
                if conn is None:
                    conn = self._connect()
                with self._lock:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        outcomes = _run_units(conn, [w.unit for w in group])
                        conn.execute("COMMIT")
                    except BaseException:
                        _rollback_quietly(conn)
                        raise
                for waiter, (result, error) in zip(group, outcomes, strict=True):
                    waiter.result, waiter.error = result, error
                self.groups += 1
                self.units += len(group)
                self._committed(len(group))
            except Exception as error:  # nothing of this group is durable
                failure = DatabaseUnavailable(str(error))
                failure.__cause__ = error
                for waiter in group:
                    waiter.error, waiter.result = failure, None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
            for waiter in group:
                waiter.done.set()
        if conn is not None:
            conn.close()


class LoopGroupCommit:
    """SQLite's group commit for requests running on an event loop (server.inline).

    The units run on the loop's own thread, each in its savepoint, so their Python work never
    competes for the GIL with another thread; only what waits runs on a helper thread: taking
    the process's write lock and BEGIN IMMEDIATE (which may wait for another process), then
    COMMIT (the fsync). Requests arriving while a group commits wait for the next group,
    which starts as soon as the commit is over. Every request of a group is answered after
    its COMMIT has returned; a failed unit is rolled back to its savepoint alone.
    """

    IDLE, OPENING, COMMITTING = "idle", "opening", "committing"

    def __init__(self, connect: Callable[[], sqlite3.Connection], lock: threading.Lock,
                 loop: asyncio.AbstractEventLoop,
                 committed: Callable[[int], None] = lambda _units: None, *,
                 max_group: int = 256) -> None:
        self._connect = connect
        self._lock = lock
        self._loop = loop
        self._committed = committed
        self._max_group = max_group
        self._conn: sqlite3.Connection | None = None
        self._pending: deque[tuple[Callable[[Any], Any], asyncio.Future[Any]]] = deque()
        self._state = self.IDLE
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        self.groups = 0
        self.units = 0

    def submit(self, unit: Callable[[Any], T]) -> T:
        """From a request running inline on this committer's loop."""
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending.append((unit, future))
        if self._state == self.IDLE:
            self._open()
        return inline.wait(future)  # type: ignore[no-any-return]

    def _open(self) -> None:
        self._state = self.OPENING
        self._loop.run_in_executor(self._executor, self._begin).add_done_callback(
            self._opened)

    def _begin(self) -> None:  # helper thread
        self._lock.acquire()
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def _opened(self, began: asyncio.Future[None]) -> None:  # loop thread
        count = min(len(self._pending), self._max_group)
        group = [self._pending.popleft() for _ in range(count)]
        error = began.exception()
        if error is not None:
            self._discard_connection()
            self._finish(group, None, error)
            return
        conn = self._conn
        assert conn is not None
        try:
            outcomes = _run_units(conn, [unit for unit, _future in group])
        except BaseException as failure:  # a savepoint statement failed: the group is lost
            lost: BaseException = failure
            self._state = self.COMMITTING
            self._loop.run_in_executor(self._executor, self._abort).add_done_callback(
                lambda _done: self._finish(group, None, lost))
            return
        self._state = self.COMMITTING
        self._loop.run_in_executor(self._executor, self._commit).add_done_callback(
            lambda committed: self._finish(group, outcomes, committed.exception()))

    def _commit(self) -> None:  # helper thread
        assert self._conn is not None
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            _rollback_quietly(self._conn)
            raise
        finally:
            self._lock.release()

    def _abort(self) -> None:  # helper thread
        try:
            _rollback_quietly(self._conn)
        finally:
            self._lock.release()

    def _discard_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

    def _finish(self, group: list[tuple[Callable[[Any], Any], asyncio.Future[Any]]],
                outcomes: list[tuple[Any, BaseException | None]] | None,
                error: BaseException | None) -> None:  # loop thread
        if error is not None or outcomes is None:
            failure = DatabaseUnavailable(str(error))
            failure.__cause__ = error
            for _unit, future in group:
                if not future.done():
                    future.set_exception(failure)
        else:
            self.groups += 1
            self.units += len(group)
            self._committed(len(group))
            for (_unit, future), (result, unit_error) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if unit_error is None:
                    future.set_result(result)
                elif _is_driver_error(unit_error):
                    wrapped = DatabaseUnavailable(str(unit_error))
                    wrapped.__cause__ = unit_error
                    future.set_exception(wrapped)
                else:
                    future.set_exception(unit_error)
        if self._pending:
            self._open()
        else:
            self._state = self.IDLE

    def close(self) -> None:
        """After the loop has stopped: nothing is pending any more."""
        self._executor.shutdown(wait=True)
        self._discard_connection()


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
