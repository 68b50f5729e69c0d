"""Settings and the objects one server process shares: database, vault, clock, acquirer."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sogenactif.server import entropy
from sogenactif.server.acquirer.simulator import Acquirer, load_table
from sogenactif.server.domain.clock import Clock, OffsetClock, SystemClock
from sogenactif.server.keys import KeyCache
from sogenactif.server.store import db as dbmod
from sogenactif.server.store.db import Database
from sogenactif.server.store.repositories import setting_value
from sogenactif.server.store.seed import seed_test_shops
from sogenactif.server.vault import Vault

DEFAULT_DATABASE = "sqlite:///sogenactif.db"
DEFAULT_KEY_FILE = "sogenactif.masterkey"
SANDBOX_OFFSET = "sandbox_clock_offset_seconds"


class Mode(StrEnum):
    """Test mode adds integrator help (seal data on 34, sandbox clock, seeded test shops)."""

    TEST = "test"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Settings:
    """Everything a server process needs; read from SOGENACTIF_* variables by workers."""

    database_url: str = DEFAULT_DATABASE
    mode: Mode = Mode.TEST
    master_key_file: str = DEFAULT_KEY_FILE
    test_cards: str | None = None
    public_url: str = "http://127.0.0.1:7400"
    max_body_bytes: int = 64 * 1024
    redirection_minutes: int = 15
    seed: bool = True
    #: Local (Europe/Paris) time of the daily capture batch inside the server; None: off.
    #: Default: SOGENACTIF_BATCH_CUTOFF ("HH:MM" or "off"), else 22:00.
    batch_cutoff: str | None = field(default_factory=lambda: _cutoff(
        os.environ.get("SOGENACTIF_BATCH_CUTOFF", "22:00")))
    #: Serve the no-database ceiling route of `sogenactif bench` (never in production use).
    bench_ceiling: bool = False

    def to_environment(self) -> dict[str, str]:
        env = {
            "SOGENACTIF_DATABASE_URL": self.database_url,
            "SOGENACTIF_MODE": self.mode.value,
            "SOGENACTIF_MASTER_KEY_FILE": self.master_key_file,
            "SOGENACTIF_PUBLIC_URL": self.public_url,
            "SOGENACTIF_SEED": "1" if self.seed else "0",
            "SOGENACTIF_BATCH_CUTOFF": self.batch_cutoff or "off",
        }
        if self.bench_ceiling:
            env["SOGENACTIF_BENCH_CEILING"] = "1"
        if self.test_cards:
            env["SOGENACTIF_TEST_CARDS"] = self.test_cards
        return env

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("SOGENACTIF_DATABASE_URL", DEFAULT_DATABASE),
            mode=Mode(env.get("SOGENACTIF_MODE", "test")),
            master_key_file=env.get("SOGENACTIF_MASTER_KEY_FILE", DEFAULT_KEY_FILE),
            test_cards=env.get("SOGENACTIF_TEST_CARDS") or None,
            public_url=env.get("SOGENACTIF_PUBLIC_URL", "http://127.0.0.1:7400"),
            seed=env.get("SOGENACTIF_SEED", "1") == "1",
            bench_ceiling=env.get("SOGENACTIF_BENCH_CEILING") == "1",
        )


def _cutoff(value: str) -> str | None:
    return None if value.strip().lower() in ("", "off", "none", "no") else value.strip()


class Ids:
    """Identifiers the platform makes up; injectable so tests can replay exactly.

    Authorisation ids come from the system's CSPRNG (entropy.POOL: one system call per
    thousand ids, not one each), uniform over 000000-999999 by rejection sampling.
    """

    _LIMIT = (1 << 32) - (1 << 32) % 10**6  # below it, value % 10**6 is uniform

    def _u32(self) -> int:
        return int.from_bytes(entropy.POOL.take(4), "little")

    def authorisation_id(self) -> str:
        while True:
            value = self._u32()
            if value < self._LIMIT:
                return f"{value % 10**6:06d}"

    def token(self) -> str:
        return secrets.token_urlsafe(24)


class SandboxClock:
    """Test mode's clock: the real time moved by an offset shared by every node (database).

    A change made by any process or by ``sogenactif clock`` holds at once everywhere: on
    SQLite the offset is read again only after the shared change counter moved (every
    committed write to the settings table bumps it, see Database.keys_generation); where
    there is no such counter (PostgreSQL, several hosts) it is read at every ``now()``, one
    primary-key read on the driver's fast path.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self._local = OffsetClock()
        self._seen: int | None = None
        self.refresh()

    def refresh(self) -> None:
        generation = self._db.keys_generation()  # read before the row, never after
        value = setting_value(self._db.fetchone, self._db.sqlite, SANDBOX_OFFSET)
        self._local.set_offset(timedelta(seconds=float(value or 0)))
        self._seen = generation

    @property
    def offset(self) -> timedelta:
        return self._local.offset

    def now(self) -> datetime:
        generation = self._db.keys_generation()
        if generation is None or generation != self._seen:
            self.refresh()
        return self._local.now()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    vault: Vault
    clock: Clock
    acquirer: Acquirer
    ids: Ids = field(default_factory=Ids)
    #: Decrypted keys, kept per process; a revocation applies to the next request (keys.py).
    keys: KeyCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.keys = KeyCache(self.db, self.vault)

    @property
    def test_mode(self) -> bool:
        return self.settings.mode is Mode.TEST


def prepare_database(settings: Settings) -> tuple[Database, Vault]:
    """Migrate and (in test mode) seed; safe when several processes start at once."""
    database = Database(settings.database_url)
    vault = Vault.from_environment(settings.master_key_file)
    dbmod.migrate(database)
    _check_master_key(database, vault)
    if settings.mode is Mode.TEST and settings.seed:
        with dbmod.migration_lock(database), database.write() as conn:
            seed_test_shops(conn, vault, SystemClock().now())
    return database, vault


def _check_master_key(database: Database, vault: Vault) -> None:
    """Refuse to start with a master key that cannot read this database's secret keys."""
    from cryptography.exceptions import InvalidTag

    from sogenactif.server.store.repositories import first_key_blob
    from sogenactif.server.vault import key_purpose

    with database.read() as conn:
        found = first_key_blob(conn)
    if found is None:
        return
    merchant_id, version, blob = found
    try:
        vault.decrypt(blob, key_purpose(merchant_id, version))
    except InvalidTag:
        raise RuntimeError(
            "the master key does not decrypt this database's secret keys: give this server "
            "the same SOGENACTIF_MASTER_KEY or --master-key-file as the one that created it"
        ) from None


def build_runtime(settings: Settings) -> Runtime:
    database, vault = prepare_database(settings)
    acquirer = Acquirer(load_table(Path(settings.test_cards) if settings.test_cards else None))
    clock: Clock = SandboxClock(database) if settings.mode is Mode.TEST else SystemClock()
    return Runtime(settings, database, vault, clock, acquirer)
