"""The buffered CSPRNG behind AES-GCM nonces and authorisation ids never hands out the same
bytes twice: not within a process, not across threads, not to a forked child."""

from __future__ import annotations

import os
import threading

from sogenactif.server.entropy import RandomPool
from sogenactif.server.runtime import Ids
from sogenactif.server.vault import NONCE, Vault


def test_every_nonce_of_a_pool_is_new() -> None:
    pool = RandomPool(block=64)  # a small block: many refills
    nonces = [pool.take(NONCE) for _ in range(20_000)]
    assert len(set(nonces)) == len(nonces)
    assert all(len(n) == NONCE for n in nonces)
    assert len(pool.take(100)) == 100  # more than a block: straight from the kernel


def test_threads_share_a_pool_without_handing_out_the_same_bytes() -> None:
    pool = RandomPool(block=240)
    taken: list[list[bytes]] = [[] for _ in range(4)]

    def work(out: list[bytes]) -> None:
        out.extend(pool.take(NONCE) for _ in range(5_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [n for out in taken for n in out]
    assert len(set(every)) == len(every) == 20_000


def test_a_forked_child_never_reuses_its_parents_buffered_bytes() -> None:
    pool = RandomPool()
    pool.take(NONCE)  # the parent has a block with unread bytes in it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it takes next
        os.write(write, pool.take(NONCE))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, NONCE)
    os.close(read)
    os.close(write)
    assert child != pool.take(NONCE)


def test_vault_nonces_and_authorisation_ids_come_from_the_pool() -> None:
    vault = Vault(bytes(32))
    blobs = [vault.encrypt("4100000000000000", "pan") for _ in range(2_000)]
    assert len({blob[:NONCE] for blob in blobs}) == 2_000
    assert all(vault.decrypt(blob, "pan") == "4100000000000000" for blob in blobs)
    ids = [Ids().authorisation_id() for _ in range(2_000)]
    assert all(len(i) == 6 and i.isdigit() for i in ids)
    assert len(set(ids)) > 1_900  # uniform over a million values
