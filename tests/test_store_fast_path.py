"""The hot path of the store: the driver-SQL insert of an order (same rows as SQLAlchemy's),
the group commit (durable before it answers; a failed unit rolls back alone) and the key
cache (a revocation made elsewhere applies to the next lookup)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sogenactif.server import inline
from sogenactif.server.keys import KeyCache
from sogenactif.server.runtime import Mode, Settings, prepare_database
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database
from sogenactif.server.store.sqlite_commit import connect_sqlite
from sogenactif.server.store.tables import operations, transactions
from sogenactif.server.vault import Vault
from tests.support import create_pg_database, drop_pg_database, reference

MERCHANT = "011223344550000"


@contextlib.contextmanager
def fresh_store(url: str, tmp_path: Path) -> Iterator[tuple[Database, Vault]]:
    """A fresh, migrated and seeded database of its own (never the servers')."""
    db, vault = prepare_database(Settings(database_url=url, mode=Mode.TEST,
                                          master_key_file=str(tmp_path / "key")))
    try:
        yield db, vault
    finally:
        db.dispose()
        if not url.startswith("sqlite"):
            drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Vault]]:
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")  # skips or fails as the suite requires
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    with fresh_store(url, tmp_path) as opened:
        yield opened


def order_values(ref: str) -> dict[str, Any]:
    now = datetime(2026, 11, 29, 9, 30, 15, 123456, tzinfo=UTC)
    return {
        "merchant_id": MERCHANT, "transaction_reference": ref, "service": "cardOrder",
        "status": "TO_CAPTURE", "response_code": "00", "acquirer_response_code": "00",
        "authorisation_id": "123456", "amount": 2500, "currency_code": "978",
        "authorised_amount": 2500, "captured_amount": 0, "capture_mode": "AUTHOR_CAPTURE",
        "capture_day": 0, "capture_limit_date": "2026-11-29", "order_channel": "INTERNET",
        "order_id": "ORD", "customer_id": None, "customer_ip_address": None,
        "return_context": "ctx é", "transaction_origin": "SO_WEBAPPLI", "payment_pattern": None,
        "statement_reference": None, "pan_enc": b"\x00\x01secret", "masked_pan": "4100##",
        "pan_expiry_date": "203012", "payment_mean_brand": "VISA",
        "card_csc_result_code": "4D", "score_color": None, "s10_transaction_id": None,
        "s10_transaction_id_date": None, "request_json": repo.dumps({"a": 1}),
        "transaction_date_time": now, "business_date": "2026-11-29", "updated_at": now,
        "holder_authent_status": None,
    }


def operation_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "merchant_id": values["merchant_id"],
        "transaction_reference": values["transaction_reference"],
        "operation_type": "AUTHORISATION", "amount": values["amount"],
        "currency_code": values["currency_code"], "status": values["status"],
        "response_code": values["response_code"], "origin": "SO_WEBAPPLI",
        "created_at": values["transaction_date_time"], "business_date": values["business_date"],
    }


def record(db: Database, values: dict[str, Any]) -> int:
    sqlite = db.sqlite
    operation = operation_values(values)
    return db.submit(lambda raw: repo.record_transaction(raw, sqlite, values, operation))


def row_dict(db: Database, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with db.read() as conn:
        row = repo.get_transaction(conn, MERCHANT, ref)
        assert row is not None
        ops = conn.execute(select(operations).where(
            operations.c.transaction_id == row.id)).mappings().all()
    return dict(row._mapping), [dict(op) for op in ops]


def test_fast_insert_stores_what_sqlalchemy_stores(store: tuple[Database, Vault]) -> None:
    db, _vault = store
    slow_ref, fast_ref = reference("S"), reference("F")
    slow = order_values(slow_ref)
    with db.write() as conn:
        transaction_id = repo.insert_transaction(conn, slow)
        repo.insert_operation(conn, {"transaction_id": transaction_id, **operation_values(slow)})
    record(db, order_values(fast_ref))
    slow_row, slow_ops = row_dict(db, slow_ref)
    fast_row, fast_ops = row_dict(db, fast_ref)
    for row in (slow_row, fast_row):
        row.pop("id")
        row.pop("transaction_reference")
    assert fast_row == slow_row
    assert fast_row["transaction_date_time"].replace(tzinfo=None) == datetime(
        2026, 11, 29, 9, 30, 15, 123456)
    assert fast_row["refunded_amount"] == 0 and fast_row["cancelled_amount"] == 0  # defaults
    assert len(fast_ops) == len(slow_ops) == 1
    for op in (*slow_ops, *fast_ops):
        for name in ("id", "transaction_id", "transaction_reference"):
            op.pop(name)
    assert fast_ops == slow_ops


def test_reused_reference_raises_and_inserts_nothing(store: tuple[Database, Vault]) -> None:
    db, _vault = store
    ref = reference()
    first = record(db, order_values(ref))
    with pytest.raises(repo.DuplicateReference):
        record(db, order_values(ref))
    with db.read() as conn:
        assert len(conn.execute(select(transactions.c.id).where(
            transactions.c.transaction_reference == ref)).all()) == 1
        assert len(repo.list_operations(conn, first)) == 1


def _failing_unit(raw: Any) -> None:
    raise RuntimeError("this unit fails after its inserts")


def test_group_commit_from_threads_isolates_a_failed_unit(tmp_path: Path) -> None:
    db, _vault = prepare_database(Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}",
                                           master_key_file=str(tmp_path / "key")))
    refs = [reference("G") for _ in range(40)]
    doomed = reference("X")
    errors: list[BaseException] = []

    def worker(ref: str) -> None:
        try:
            record(db, order_values(ref))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def failing() -> None:
        values = order_values(doomed)
        operation = operation_values(values)

        def unit(raw: Any) -> None:
            repo.record_transaction(raw, True, values, operation)
            _failing_unit(raw)

        with pytest.raises(RuntimeError):
            db.submit(unit)

    threads = [threading.Thread(target=worker, args=(ref,)) for ref in refs]
    threads.append(threading.Thread(target=failing))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # What submit answered is durable: another connection sees it; the failed unit left nothing.
    other = connect_sqlite(str(tmp_path / "g.db"))
    stored = {r[0] for r in other.execute("SELECT transaction_reference FROM transactions")}
    operations_count = other.execute("SELECT count(*) FROM operations").fetchone()[0]
    other.close()
    assert set(refs) <= stored and doomed not in stored
    assert operations_count == len(refs)
    db.dispose()


def test_group_commit_on_the_event_loop_groups_units(tmp_path: Path) -> None:
    db, _vault = prepare_database(Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}",
                                           master_key_file=str(tmp_path / "key")))
    refs = [reference("L") for _ in range(50)]
    duplicate = refs[7]

    def one(ref: str) -> str:
        try:
            record(db, order_values(ref))
        except repo.DuplicateReference:
            return "94"
        return "00"

    async def main() -> list[str]:
        assert not inline.active()
        calls = [inline.run_inline(one, ref) for ref in refs]
        calls.append(inline.run_inline(one, duplicate))  # same group or the next: 94 anyway
        return list(await asyncio.gather(*calls))

    answers = asyncio.run(main())
    assert answers.count("94") == 1 and answers.count("00") == len(refs)
    committer = next(iter(db._loop_groups.values()))
    assert committer.units == len(refs) + 1
    assert committer.groups < committer.units  # requests that waited together shared a commit
    other = connect_sqlite(str(tmp_path / "l.db"))
    stored = other.execute("SELECT count(*) FROM transactions").fetchone()[0]
    other.close()
    assert stored == len(refs)
    db.dispose()


def test_key_cache_sees_a_revocation_made_by_another_process(
        store: tuple[Database, Vault], tmp_path: Path) -> None:
    db, vault = store
    cache = KeyCache(db, vault)
    now = datetime.now(UTC)
    with db.write() as conn:
        repo.add_key(conn, vault, MERCHANT, 7, "seven", now)
    found, key = cache.lookup(MERCHANT, 7)
    assert found and key is not None and key.secret == "seven" and not key.revoked
    assert cache.lookup(MERCHANT, 7)[1] is key  # served from the cache
    # Another process (here: another Database on the same store) revokes the key.
    other = Database(db.url)
    with other.write() as conn:
        assert repo.revoke_key(conn, MERCHANT, 7, now)
    other.dispose()
    found, key = cache.lookup(MERCHANT, 7)
    assert found and key is not None and key.revoked
    assert cache.lookup("999999999999999", 1) == (False, None)
    assert cache.lookup(MERCHANT, 99) == (True, None)


@pytest.fixture
def pg_store(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Database, Vault]]:
    with fresh_store(create_pg_database(), tmp_path) as opened:
        yield opened


@pytest.mark.postgres
def test_postgres_group_insert_gives_each_order_its_outcome(
        pg_store: tuple[Database, Vault]) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    db, _vault = pg_store
    taken = reference("T")
    record(db, order_values(taken))
    first, second = reference("A"), reference("B")

    def unit(ref: str) -> repo.OrderInsert:
        values = order_values(ref)
        return repo.OrderInsert(False, values, operation_values(values))

    units = [unit(first), unit(second), unit(first), unit(taken)]
    conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(
        hide_password=False)

    async def main() -> list[tuple[Any, BaseException | None]]:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as aconn:
            return await repo.OrderInsert.run_many(aconn, units)

    outcomes = asyncio.run(main())
    assert isinstance(outcomes[0][0], int) and outcomes[0][1] is None
    assert isinstance(outcomes[1][0], int) and outcomes[1][0] != outcomes[0][0]
    assert isinstance(outcomes[2][1], repo.DuplicateReference)  # the same reference twice
    assert isinstance(outcomes[3][1], repo.DuplicateReference)  # already stored
    for ref, outcome in ((first, outcomes[0]), (second, outcomes[1])):
        row, ops = row_dict(db, ref)
        assert row["id"] == outcome[0] and len(ops) == 1
        assert ops[0]["operation_type"] == "AUTHORISATION"
        assert ops[0]["created_at"] == row["transaction_date_time"]
        assert ops[0]["origin"] == "SO_WEBAPPLI" and ops[0]["amount"] == 2500


@pytest.mark.postgres
def test_postgres_group_statement_stores_what_sqlalchemy_stores(
        pg_store: tuple[Database, Vault]) -> None:
    """The group statement itself (not its one-by-one fallback): binary arrays of every
    column type, columns NULL in every row, text that needs escaping in a text array."""
    import psycopg
    from sqlalchemy.engine import make_url

    db, _vault = pg_store
    slow_ref = reference("S")
    awkward = repo.dumps({"quote": 'say "hi"', "slash": "a\\b", "brace": "{x,y}", "nul": "é€"})
    slow = {**order_values(slow_ref), "request_json": awkward}
    with db.write() as conn:
        transaction_id = repo.insert_transaction(conn, slow)
        repo.insert_operation(conn, {"transaction_id": transaction_id, **operation_values(slow)})
    refs = [reference("G") for _ in range(3)]
    units = [repo.OrderInsert(False, values, operation_values(values)) for values in
             ({**order_values(ref), "request_json": awkward} for ref in refs)]
    conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(
        hide_password=False)

    async def main() -> dict[tuple[str, str], int]:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as aconn:
            return await repo._insert_group(aconn, units)

    inserted = asyncio.run(main())  # raises if the statement cannot take these rows
    assert sorted(ref for _merchant, ref in inserted) == sorted(refs)
    slow_row, slow_ops = row_dict(db, slow_ref)
    for ref in refs:
        row, ops = row_dict(db, ref)
        assert row["id"] == inserted[(MERCHANT, ref)]
        for stored in (row, slow_row):
            stored.pop("id", None)
            stored.pop("transaction_reference", None)
        assert row == slow_row
        assert row["request_json"] == awkward
        assert len(ops) == 1
        for op in (ops[0], slow_ops[0]):
            for name in ("id", "transaction_id", "transaction_reference"):
                op.pop(name, None)
        assert ops[0] == slow_ops[0]


@pytest.mark.postgres
def test_postgres_concurrent_inline_orders_share_statements(
        pg_store: tuple[Database, Vault]) -> None:
    db, _vault = pg_store
    refs = [reference("P") for _ in range(30)]

    def one(ref: str) -> str:
        values = order_values(ref)
        try:
            db.submit(repo.OrderInsert(False, values, operation_values(values)))
        except repo.DuplicateReference:
            return "94"
        return "00"

    async def main() -> tuple[list[str], int, int]:
        calls = [inline.run_inline(one, ref) for ref in [*refs, refs[3]]]
        answers = list(await asyncio.gather(*calls))
        batcher = db._batchers[asyncio.get_running_loop()]
        await db.close_inline()
        return answers, batcher.groups, batcher.units

    answers, groups, units = asyncio.run(main())
    assert answers.count("94") == 1 and answers.count("00") == len(refs)
    assert units == len(refs) + 1 and groups < units  # orders went in together
    for ref in refs:
        row, ops = row_dict(db, ref)
        assert len(ops) == 1 and ops[0]["transaction_id"] == row["id"]
