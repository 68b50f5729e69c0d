"""SQLite's durable writes: the connection settings, the checkpointer, and the group commit
(one transaction, one fsync, every waiter answered after it; each unit in its savepoint)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, TypeVar

from sogenactif.server import inline
from sogenactif.server.store.errors import DatabaseUnavailable, is_driver_error, settle

T = TypeVar("T")


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


class _Waiter:
    __slots__ = ("done", "error", "result", "unit")

    def __init__(self, unit: Callable[[Any], Any]) -> None:
        self.unit = unit
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


def _raise_unit_error(error: BaseException) -> NoReturn:
    if is_driver_error(error):
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
            settle(group, outcomes)
        if self._pending:
            self._open()
        else:
            self._state = self.IDLE

    def close(self) -> None:
        """After the loop has stopped: nothing is pending any more."""
        self._executor.shutdown(wait=True)
        self._discard_connection()
