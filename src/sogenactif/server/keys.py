"""Shops' secret keys, decrypted once per process and checked on every use.

Decrypting a key (AES-GCM under the master key) and reading the shop for every request is
wasted work; serving a key from memory without a check would keep a revoked key alive. So:

- SQLite (one host): every committed change to shops or keys, by any process, bumps a
  counter shared through a memory-mapped file (Database.keys_generation); a cached key is
  used while the counter is the one read before the key was loaded, and read again the
  request after a change.
- PostgreSQL (possibly several nodes): each use reads the key's row (one indexed read on a
  pooled driver connection, no decryption) and reuses the decrypted secret only while the
  row is exactly the one it was decrypted from.

Either way a revocation, a new secret or a shop change applies to the very next request.
"""

from __future__ import annotations

import threading
from typing import Any

from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database
from sogenactif.server.store.repositories import ShopKey
from sogenactif.server.vault import Vault, key_purpose

MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, db: Database, vault: Vault) -> None:
        self._db = db
        self._vault = vault
        self._entries: dict[tuple[str, int], tuple[int | None, tuple[Any, ...], ShopKey]] = {}
        self._lock = threading.Lock()

    def lookup(self, merchant_id: str, key_version: int | None) -> tuple[bool, ShopKey | None]:
        """(does the shop exist, its key of that version as it stands now, or None)."""
        generation = self._db.keys_generation()  # read before the row, never after
        if generation is not None and key_version is not None:
            entry = self._entries.get((merchant_id, key_version))
            if entry is not None and entry[0] == generation:
                return True, entry[2]
        state = repo.shop_key_state(self._db.fetchone, self._db.sqlite, merchant_id,
                                    key_version)
        if state is None:
            return False, None
        if key_version is None or state[3] is None:
            return True, None
        entry = self._entries.get((merchant_id, key_version))
        if entry is not None and entry[1] == state:
            key = entry[2]
        else:
            secret = self._vault.decrypt(state[3], key_purpose(merchant_id, key_version))
            key = repo.shop_key_from_state(merchant_id, key_version, state, secret)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[(merchant_id, key_version)] = (generation, state, key)
        return True, key

    def cached(self, merchant_id: str, key_version: int) -> ShopKey | None:
        """The key as last seen, without reading the database (the bench ceiling's use)."""
        entry = self._entries.get((merchant_id, key_version))
        if entry is not None:
            return entry[2]
        return self.lookup(merchant_id, key_version)[1]
