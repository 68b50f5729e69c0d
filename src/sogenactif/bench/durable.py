"""The machine's durable-write rate: what any durable store on this disk can reach, one
writer, one commit at a time."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import psycopg


def fsync_rate(directory: Path, seconds: float = 2.0) -> float:
    """Appends of 100 bytes, each followed by fsync, per second."""
    path = directory / "fsync.probe"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            os.write(descriptor, b"x" * 100)
            os.fsync(descriptor)
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        os.close(descriptor)
        path.unlink()


def sqlite_commit_rate(directory: Path, seconds: float = 2.0) -> float:
    """Transactions of one small insert per second, WAL and synchronous=FULL (the server's)."""
    path = directory / "commit-probe.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT)")
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO probe (payload) VALUES (?)", ("x" * 100,))
            conn.execute("COMMIT")
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_commit_rate(url: str, seconds: float = 2.0) -> float:
    """The same on PostgreSQL (synchronous_commit as the server has it), one connection."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMPORARY TABLE probe (id serial PRIMARY KEY, payload text)")
        conn.commit()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute("INSERT INTO probe (payload) VALUES (%s)", ("x" * 100,))
            conn.commit()
            count += 1
        return count / (time.perf_counter() - start)
