"""Run the synchronous pipeline on the event loop, suspending only where it waits.

The pipeline and the operations are plain functions. Handing each request to a worker thread
costs two thread switches and a fight for the GIL with every other worker; for the services
whose only waits are the key read (microseconds on SQLite) and the durable commit, the
request runs instead in a greenlet on the event loop's own thread. When it must wait for the
commit, ``wait(awaitable)`` hands the awaitable to the loop and the greenlet is resumed with
its result, so the loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import greenlet

T = TypeVar("T")


class _Inline(greenlet.greenlet):  # type: ignore[misc]
    """A greenlet running one request for ``run_inline``."""


class _Await:
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


def active() -> bool:
    """True inside ``run_inline``: waits must go through ``wait``, not block the loop."""
    return isinstance(greenlet.getcurrent(), _Inline)


async def run_inline(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on the loop's thread; its ``wait`` calls are awaited here."""
    runner = _Inline(function, greenlet.getcurrent())
    outcome = runner.switch(*args)
    while isinstance(outcome, _Await) and not runner.dead:
        try:
            value = await outcome.awaitable
        except BaseException as error:  # handed to the function, which decides
            outcome = runner.throw(error)
        else:
            outcome = runner.switch(value)
    return outcome  # type: ignore[no-any-return]


def wait(awaitable: Awaitable[T]) -> T:
    """From inside ``run_inline``: suspend until ``awaitable`` is done; its result."""
    current = greenlet.getcurrent()
    if not isinstance(current, _Inline):
        raise RuntimeError("inline.wait outside run_inline")
    return current.parent.switch(_Await(awaitable))  # type: ignore[no-any-return]
