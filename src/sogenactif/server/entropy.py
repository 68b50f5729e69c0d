"""The system's CSPRNG, read 4 KiB at a time: AES-GCM nonces and authorisation ids.

``os.urandom`` is one system call per use, and a system call on the event loop's thread lets
go of the GIL: under load another thread (the commit's) takes it, and the loop waits for it
back. Reading the kernel's random bytes in blocks makes that one call per few hundred
values. The bytes are the kernel's own, each handed out once; a forked child drops what its
parent had read, so two processes never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import weakref

BLOCK = 4096


class RandomPool:
    """Unpredictable bytes from the kernel, each byte given out once, thread- and fork-safe."""

    def __init__(self, block: int = BLOCK) -> None:
        self._block = block
        self._buffer = b""
        self._offset = 0
        self._lock = threading.Lock()
        _POOLS.add(self)

    def take(self, size: int) -> bytes:
        if size > self._block:
            return os.urandom(size)
        with self._lock:
            offset = self._offset
            if offset + size > len(self._buffer):
                self._buffer, offset = os.urandom(self._block), 0
            self._offset = offset + size
            return self._buffer[offset:offset + size]

    def _forget(self) -> None:
        # After fork: the child holds a copy of the parent's unread bytes; never use them.
        self._buffer, self._offset = b"", 0
        self._lock = threading.Lock()


_POOLS: weakref.WeakSet[RandomPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)

#: The process's pool (vault nonces, authorisation ids).
POOL = RandomPool()
