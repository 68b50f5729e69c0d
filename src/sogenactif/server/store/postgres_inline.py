"""PostgreSQL for requests running on the event loop (server.inline): the loop's own
asynchronous connections behind a synchronous face, grouped order inserts, shared key reads."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from typing import Any, TypeVar

from sogenactif.server import inline
from sogenactif.server.store.errors import DatabaseUnavailable, is_driver_error, settle

T = TypeVar("T")


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
            if is_driver_error(error):
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
            if is_driver_error(error):
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
                settle(group, [(None, error)] * len(group))
                continue
            broken = False
            try:
                outcomes = await self._run_many(aconn, [unit for unit, _f in group])
            except BaseException as error:
                broken = is_driver_error(error)
                outcomes = [(None, error)] * len(group)
            finally:
                self._pool.release(aconn, broken)
            self.groups += 1
            self.units += len(group)
            settle(group, outcomes)


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
                broken = is_driver_error(error)
                raise
            finally:
                self._pool.release(aconn, broken)
        except BaseException as error:
            failure: BaseException = error
            if is_driver_error(error):
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
