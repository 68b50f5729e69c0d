"""The change counter processes of one host share to keep their caches honest."""

from __future__ import annotations

import fcntl
import mmap
import os


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
