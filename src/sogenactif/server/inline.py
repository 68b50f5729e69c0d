"""Run the synchronous pipeline on the event loop, suspending only where it waits.

The pipeline and the operations are plain functions. Handing each request to a worker thread
costs two thread switches and a fight for the GIL with every other worker; for the services
whose only waits are the key read (microseconds on SQLite) and the durable commit, the
request runs instead in a greenlet on the event loop's own thread. When it must wait for the
commit, ``wait(awaitable)`` hands the awaitable to the loop and the greenlet is resumed with
its result, so the loop keeps serving other requests meanwhile.

The greenlets are reused: a new one per request would map and unmap a fresh frame stack
each time (two system calls and page faults per request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import greenlet

T = TypeVar("T")
MAX_IDLE = 256


class _Inline(greenlet.greenlet):  # type: ignore[misc]
    """A greenlet that runs one request after another for ``run_inline``."""


class _Await:
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


class _Done:
    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value = value
        self.error = error


def _serve(function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    while True:
        try:
            done = _Done(function(*args), None)
        except greenlet.GreenletExit:
            raise
        except BaseException as error:  # handed to run_inline's caller
            done = _Done(None, error)
        function = args = None  # type: ignore[assignment]  # nothing kept between requests
        function, args = greenlet.getcurrent().parent.switch(done)


_idle: list[_Inline] = []


def active() -> bool:
    """True inside ``run_inline``: waits must go through ``wait``, not block the loop."""
    return isinstance(greenlet.getcurrent(), _Inline)


async def run_inline(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the loop's thread; its ``wait`` calls are awaited here."""
    runner = _idle.pop() if _idle else _Inline(_serve)
    runner.parent = greenlet.getcurrent()
    outcome = runner.switch(function, args)
    while isinstance(outcome, _Await):
        try:
            value = await outcome.awaitable
        except BaseException as error:  # handed to the function, which decides
            outcome = runner.throw(error)
        else:
            outcome = runner.switch(value)
    if not runner.dead and len(_idle) < MAX_IDLE:
        _idle.append(runner)
    assert isinstance(outcome, _Done)
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[no-any-return]


def wait(awaitable: Awaitable[T]) -> T:
    """From inside ``run_inline``: suspend until ``awaitable`` is done; its result."""
    current = greenlet.getcurrent()
    if not isinstance(current, _Inline):
        raise RuntimeError("inline.wait outside run_inline")
    return current.parent.switch(_Await(awaitable))  # type: ignore[no-any-return]
