"""A fast bulk loader: many past transactions (and their first operation) for growth runs.

SQLite gets executemany in large transactions; PostgreSQL gets COPY. Values are those of an
accepted, captured cardOrder of the guide's sample shop, spread over the past year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from sogenactif.bench.bodies import SHOP
from sogenactif.server.domain.cards import mask_pan
from sogenactif.server.domain.clock import business_date
from sogenactif.server.runtime import Mode, Settings, prepare_database
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.tables import transactions
from sogenactif.server.vault import pan_purpose

MAX_ROWS = 5_000_000
BATCH = 50_000
PAN = "4100000000000000"
PREFIX = "PRELOAD"  # references PRELOAD000000001...: never those of a run (they start with B)


def _rows(count: int, pan_enc: bytes, now: datetime,
          moment_value: Callable[[datetime], Any]) -> tuple[list[str], Iterator[list[Any]]]:
    """The column names and the rows (day of the row: one of the past 365)."""
    days = []
    for back in range(1, 366):
        moment = now - timedelta(days=back)
        days.append((moment_value(moment), business_date(moment).isoformat()))
    base: dict[str, Any] = {
        "merchant_id": SHOP.merchant_id, "transaction_reference": "", "service": "cardOrder",
        "status": "CAPTURED", "response_code": "00", "acquirer_response_code": "00",
        "authorisation_id": "123456", "amount": 2500, "currency_code": "978",
        "authorised_amount": 2500, "captured_amount": 2500, "refunded_amount": 0,
        "cancelled_amount": 0, "capture_mode": "AUTHOR_CAPTURE", "capture_day": 0,
        "capture_limit_date": "", "order_channel": "INTERNET", "order_id": "ORD101",
        "customer_id": "preload", "return_context": "preload",
        "transaction_origin": "SO_WEBAPPLI", "pan_enc": pan_enc, "masked_pan": mask_pan(PAN),
        "pan_expiry_date": "203012", "payment_mean_brand": "VISA",
        "card_csc_result_code": "4D",
        "request_json": repo.dumps({"merchantId": SHOP.merchant_id, "amount": "2500"}),
        "transaction_date_time": None, "business_date": "", "updated_at": None,
    }
    columns = list(base)
    reference = columns.index("transaction_reference")
    limit, day_column = columns.index("capture_limit_date"), columns.index("business_date")
    moments = (columns.index("transaction_date_time"), columns.index("updated_at"))
    template = [base[c] for c in columns]

    def generate() -> Iterator[list[Any]]:
        for i in range(count):
            row = template.copy()
            moment, day = days[i % len(days)]
            row[reference] = f"{PREFIX}{i:09d}"
            row[limit] = row[day_column] = day
            row[moments[0]] = row[moments[1]] = moment
            yield row

    return columns, generate()


def preload(database_url: str, key_file: Path, count: int,
            progress: Callable[[int], None] | None = None) -> None:
    """Store ``count`` transactions and their AUTHORISATION operations, as fast as possible."""
    if not 0 < count <= MAX_ROWS:
        raise ValueError(f"preload between 1 and {MAX_ROWS:,} transactions")
    database, vault = prepare_database(Settings(database_url=database_url, mode=Mode.TEST,
                                                master_key_file=str(key_file)))
    try:
        pan_enc = vault.encrypt(PAN, pan_purpose(SHOP.merchant_id))
        now = datetime.now(UTC)
        if database.sqlite:
            column_type = transactions.c.transaction_date_time.type
            convert = column_type.dialect_impl(database.engine.dialect).bind_processor(
                database.engine.dialect)
            assert convert is not None
            columns, rows = _rows(count, pan_enc, now, convert)
            _load_sqlite(database.engine, columns, rows, progress)
        else:
            columns, rows = _rows(count, pan_enc, now, lambda moment: moment)
            _load_postgres(database.engine, columns, rows, progress)
        with database.write() as conn:
            conn.execute(text(
                "INSERT INTO operations (transaction_id, merchant_id, transaction_reference,"
                " operation_type, amount, currency_code, status, response_code, origin,"
                " created_at, business_date)"
                " SELECT id, merchant_id, transaction_reference, 'AUTHORISATION', amount,"
                " currency_code, status, response_code, transaction_origin,"
                " transaction_date_time, business_date FROM transactions"
                " WHERE merchant_id = :m AND transaction_reference LIKE :p"),
                {"m": SHOP.merchant_id, "p": PREFIX + "%"})
        with database.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        database.dispose()


def _load_sqlite(engine: Any, columns: list[str], rows: Iterator[list[Any]],
                 progress: Callable[[int], None] | None) -> None:
    sql = (f"INSERT INTO transactions ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(sql, batch)
            raw.execute("COMMIT")
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for row in rows:
            batch.append(tuple(row))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()


def _load_postgres(engine: Any, columns: list[str], rows: Iterator[list[Any]],
                   progress: Callable[[int], None] | None) -> None:
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY transactions ({', '.join(columns)}) FROM STDIN") as copy:
            done = 0
            for row in rows:
                copy.write_row(row)
                done += 1
                if progress is not None and done % BATCH == 0:
                    progress(BATCH)
            if progress is not None and done % BATCH:
                progress(done % BATCH)
