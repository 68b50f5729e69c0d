"""Repositories: the only code that knows the SQL. Functions take an open connection, so an
operation composes several of them inside one database transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from sogenactif.server.store.tables import (
    batch_runs,
    operations,
    payment_means,
    remittances,
    settings,
    shop_keys,
    shops,
    transactions,
    used_tokens,
    wallets,
)
from sogenactif.server.vault import Vault, key_purpose


class DuplicateReference(Exception):
    """transactionReference already used by this merchant (answers 94)."""


@dataclass(frozen=True)
class Shop:
    merchant_id: str
    name: str
    capture_day_max: int
    disabled_services: frozenset[str]


@dataclass(frozen=True)
class ShopKey:
    """A shop and the decrypted secret of one of its key versions."""

    shop: Shop
    key_version: int
    secret: str
    revoked: bool

    def __repr__(self) -> str:  # the secret never reaches a log
        return f"ShopKey({self.shop.merchant_id}, v{self.key_version}, revoked={self.revoked})"


def _shop(row: Any) -> Shop:
    disabled = frozenset(s for s in row.disabled_services.split(",") if s)
    return Shop(row.merchant_id, row.name, row.capture_day_max, disabled)


# ---------------------------------------------------------------- shops and keys


def get_shop(conn: Connection, merchant_id: str) -> Shop | None:
    row = conn.execute(select(shops).where(shops.c.merchant_id == merchant_id)).first()
    return None if row is None else _shop(row)


def list_shops(conn: Connection) -> list[Shop]:
    return [_shop(r) for r in conn.execute(select(shops).order_by(shops.c.merchant_id))]


def get_key(conn: Connection, vault: Vault, merchant_id: str,
            key_version: int) -> ShopKey | None:
    row = conn.execute(
        select(shops, shop_keys.c.key_version, shop_keys.c.secret_enc, shop_keys.c.revoked_at)
        .join(shop_keys, shop_keys.c.merchant_id == shops.c.merchant_id)
        .where(and_(shops.c.merchant_id == merchant_id, shop_keys.c.key_version == key_version))
    ).first()
    if row is None:
        return None
    secret = vault.decrypt(row.secret_enc, key_purpose(merchant_id, key_version))
    return ShopKey(_shop(row), row.key_version, secret, row.revoked_at is not None)


def add_shop(conn: Connection, merchant_id: str, name: str, now: datetime, *,
             capture_day_max: int = 99) -> None:
    conn.execute(insert(shops).values(merchant_id=merchant_id, name=name,
                                      capture_day_max=capture_day_max,
                                      disabled_services="", created_at=now))


def add_key(conn: Connection, vault: Vault, merchant_id: str, key_version: int, secret: str,
            now: datetime) -> None:
    conn.execute(insert(shop_keys).values(
        merchant_id=merchant_id, key_version=key_version, created_at=now,
        secret_enc=vault.encrypt(secret, key_purpose(merchant_id, key_version))))


def revoke_key(conn: Connection, merchant_id: str, key_version: int, now: datetime) -> bool:
    result = conn.execute(
        update(shop_keys)
        .where(and_(shop_keys.c.merchant_id == merchant_id,
                    shop_keys.c.key_version == key_version,
                    shop_keys.c.revoked_at.is_(None)))
        .values(revoked_at=now))
    return result.rowcount == 1


def list_keys(conn: Connection, merchant_id: str) -> list[tuple[int, datetime, datetime | None]]:
    rows = conn.execute(
        select(shop_keys.c.key_version, shop_keys.c.created_at, shop_keys.c.revoked_at)
        .where(shop_keys.c.merchant_id == merchant_id).order_by(shop_keys.c.key_version))
    return [(r.key_version, r.created_at, r.revoked_at) for r in rows]


def first_key_blob(conn: Connection) -> tuple[str, int, bytes] | None:
    """One stored secret key, to check at start that the master key can read it."""
    row = conn.execute(select(shop_keys.c.merchant_id, shop_keys.c.key_version,
                              shop_keys.c.secret_enc).limit(1)).first()
    return None if row is None else (row.merchant_id, row.key_version, bytes(row.secret_enc))


def set_disabled_services(conn: Connection, merchant_id: str, names: set[str]) -> None:
    conn.execute(update(shops).where(shops.c.merchant_id == merchant_id)
                 .values(disabled_services=",".join(sorted(names))))


# ---------------------------------------------------------------- transactions


def insert_transaction(conn: Connection, values: dict[str, Any]) -> int:
    """Insert; a reused (merchantId, transactionReference) raises DuplicateReference.

    The unique constraint decides, so this holds for simultaneous requests on any node.
    """
    try:
        with conn.begin_nested():
            result = conn.execute(insert(transactions).values(**values))
    except IntegrityError as error:
        if _is_reference_conflict(error):
            raise DuplicateReference(values["transaction_reference"]) from None
        raise
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _is_reference_conflict(error: IntegrityError) -> bool:
    text = str(error.orig).lower()
    return "uq_transactions_merchant_reference" in text or (
        "unique" in text and "transaction_reference" in text)


def reference_exists(conn: Connection, merchant_id: str, reference: str) -> bool:
    return conn.execute(
        select(transactions.c.id).where(and_(
            transactions.c.merchant_id == merchant_id,
            transactions.c.transaction_reference == reference))
    ).first() is not None


def get_transaction(conn: Connection, merchant_id: str, reference: str, *,
                    for_update: bool = False) -> Any | None:
    """The row (locked until commit when ``for_update``; SQLite locks the whole file)."""
    query = select(transactions).where(and_(
        transactions.c.merchant_id == merchant_id,
        transactions.c.transaction_reference == reference))
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def update_transaction(conn: Connection, transaction_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(transactions).where(transactions.c.id == transaction_id).values(**values))


def insert_operation(conn: Connection, values: dict[str, Any]) -> int:
    result = conn.execute(insert(operations).values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_operations(conn: Connection, transaction_id: int) -> list[Any]:
    return list(conn.execute(select(operations)
                             .where(operations.c.transaction_id == transaction_id)
                             .order_by(operations.c.id)))


# ---------------------------------------------------------------- settings


def get_setting(conn: Connection, name: str) -> str | None:
    row = conn.execute(select(settings.c.value).where(settings.c.name == name)).first()
    return None if row is None else str(row.value)


def put_setting(conn: Connection, name: str, value: str) -> None:
    updated = conn.execute(update(settings).where(settings.c.name == name).values(value=value))
    if updated.rowcount == 0:
        conn.execute(insert(settings).values(name=name, value=value))


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys (orjson; json for what orjson refuses, e.g. huge ints)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- wallets (docs/wallets.md)
# Every query names the merchant: another merchant's wallet is never found.


def get_wallet(conn: Connection, merchant_id: str, merchant_wallet_id: str, *,
               for_update: bool = False) -> Any | None:
    """The wallet row (locked until commit when ``for_update``; SQLite locks the whole file)."""
    query = select(wallets).where(and_(wallets.c.merchant_id == merchant_id,
                                       wallets.c.merchant_wallet_id == merchant_wallet_id))
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def get_or_create_wallet(conn: Connection, merchant_id: str, merchant_wallet_id: str,
                         now: datetime) -> tuple[Any, bool]:
    """The wallet, locked, created first if missing; (row, created).

    Two first addCard calls at once on PostgreSQL: the second insert waits for the first
    and hits the unique constraint, then finds the first's wallet.
    """
    row = get_wallet(conn, merchant_id, merchant_wallet_id, for_update=True)
    if row is not None:
        return row, False
    try:
        with conn.begin_nested():
            conn.execute(insert(wallets).values(merchant_id=merchant_id,
                                                merchant_wallet_id=merchant_wallet_id,
                                                created_at=now, last_action_at=now))
    except IntegrityError:
        row = get_wallet(conn, merchant_id, merchant_wallet_id, for_update=True)
        if row is None:
            raise
        return row, False
    row = get_wallet(conn, merchant_id, merchant_wallet_id, for_update=True)
    assert row is not None
    return row, True


def touch_wallet(conn: Connection, wallet_id: int, now: datetime) -> None:
    conn.execute(update(wallets).where(wallets.c.id == wallet_id).values(last_action_at=now))


def delete_wallet(conn: Connection, wallet_id: int) -> int:
    """Remove a wallet and every card it held (signOff); the number of active cards removed."""
    active = conn.execute(
        delete(payment_means).where(and_(payment_means.c.wallet_id == wallet_id,
                                         payment_means.c.deleted_at.is_(None)))).rowcount
    conn.execute(delete(payment_means).where(payment_means.c.wallet_id == wallet_id))
    conn.execute(delete(wallets).where(wallets.c.id == wallet_id))
    return int(active)


def list_payment_means(conn: Connection, wallet_id: int, *,
                       include_deleted: bool = False) -> list[Any]:
    query = select(payment_means).where(payment_means.c.wallet_id == wallet_id)
    if not include_deleted:
        query = query.where(payment_means.c.deleted_at.is_(None))
    return list(conn.execute(query.order_by(payment_means.c.id)))


def used_payment_mean_ids(conn: Connection, wallet_id: int) -> list[str]:
    """Every paymentMeanId the wallet ever gave, deleted cards included."""
    rows = conn.execute(select(payment_means.c.payment_mean_id)
                        .where(payment_means.c.wallet_id == wallet_id))
    return [str(r.payment_mean_id) for r in rows]


def get_payment_mean(conn: Connection, wallet_id: int, payment_mean_id: str, *,
                     for_update: bool = False) -> Any | None:
    """An active (not deleted) card of the wallet."""
    query = select(payment_means).where(and_(
        payment_means.c.wallet_id == wallet_id,
        payment_means.c.payment_mean_id == payment_mean_id,
        payment_means.c.deleted_at.is_(None)))
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def insert_payment_mean(conn: Connection, values: dict[str, Any]) -> int:
    result = conn.execute(insert(payment_means).values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_payment_mean(conn: Connection, row_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(payment_means).where(payment_means.c.id == row_id).values(**values))


def start_recurring_series(conn: Connection, merchant_id: str, merchant_wallet_id: str,
                           payment_mean_id: str) -> None:
    """Mark a stored card's recurring series started (after an accepted RECURRING_1)."""
    wallet = get_wallet(conn, merchant_id, merchant_wallet_id)
    if wallet is None:
        return
    card = get_payment_mean(conn, wallet.id, payment_mean_id)
    if card is not None:
        update_payment_mean(conn, card.id, {"recurring_started": True})


def erase_payment_mean(conn: Connection, row_id: int, now: datetime) -> None:
    """deletePaymentMean: the card is marked deleted (its id stays taken) and its encrypted
    PAN is erased."""
    conn.execute(update(payment_means).where(payment_means.c.id == row_id)
                 .values(deleted_at=now, pan_enc=b""))


# ------------------------------------------------------------ redirections (3-D Secure, providers)


def list_expired_redirections(conn: Connection, now: datetime,
                              limit: int = 500) -> list[tuple[str, str]]:
    """(merchantId, transactionReference) of PENDING transactions past their deadline."""
    rows = conn.execute(
        select(transactions.c.merchant_id, transactions.c.transaction_reference)
        .where(and_(transactions.c.status == "PENDING",
                    transactions.c.redirection_expires_at.is_not(None),
                    transactions.c.redirection_expires_at < now))
        .order_by(transactions.c.id).limit(limit))
    return [(r.merchant_id, r.transaction_reference) for r in rows]


def use_token(conn: Connection, token_id: str, now: datetime) -> bool:
    """Mark a one-time token (a PaRes) used; False if it already was (the key decides)."""
    try:
        with conn.begin_nested():
            conn.execute(insert(used_tokens).values(token_id=token_id, used_at=now))
    except IntegrityError:
        return False
    return True


def token_used(conn: Connection, token_id: str) -> bool:
    return conn.execute(
        select(used_tokens.c.token_id).where(used_tokens.c.token_id == token_id)
    ).first() is not None

# ---------------------------------------------------------------- life of a transaction
# (cash operations, capture batches, reports: issue 3)


def get_transaction_by_id(conn: Connection, transaction_id: int, *,
                          for_update: bool = False) -> Any | None:
    query = select(transactions).where(transactions.c.id == transaction_id)
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def due_capture_ids(conn: Connection, batch_date: str) -> list[int]:
    """TO_CAPTURE transactions whose capture day has come by ``batch_date`` (YYYY-MM-DD)."""
    return [int(r.id) for r in conn.execute(
        select(transactions.c.id).where(and_(
            transactions.c.status == "TO_CAPTURE",
            transactions.c.capture_limit_date <= batch_date)).order_by(transactions.c.id))]


def expirable_ids(conn: Connection, batch_date: str) -> list[int]:
    """TO_VALIDATE transactions whose last day to validate is ``batch_date`` or before."""
    return [int(r.id) for r in conn.execute(
        select(transactions.c.id).where(and_(
            transactions.c.status == "TO_VALIDATE",
            transactions.c.capture_limit_date <= batch_date)).order_by(transactions.c.id))]


def change_status_if(conn: Connection, transaction_id: int, expected: str,
                     values: dict[str, Any]) -> bool:
    """Update only while the status is still ``expected``: a capture or expiry applied twice
    (a re-run, two nodes) changes nothing the second time."""
    result = conn.execute(update(transactions).where(and_(
        transactions.c.id == transaction_id, transactions.c.status == expected)).values(**values))
    return result.rowcount == 1


def pending_credit_ids(conn: Connection, batch_date: str) -> list[int]:
    """Refund operations still TO_CREDIT, made on ``batch_date`` or before."""
    return [int(r.id) for r in conn.execute(
        select(operations.c.id).where(and_(
            operations.c.status == "TO_CREDIT",
            operations.c.business_date <= batch_date)).order_by(operations.c.id))]


def get_operation(conn: Connection, operation_id: int) -> Any | None:
    return conn.execute(select(operations).where(operations.c.id == operation_id)).first()


def credit_operation_if_pending(conn: Connection, operation_id: int) -> bool:
    """TO_CREDIT -> CREDITED, only once whoever tries."""
    result = conn.execute(update(operations).where(and_(
        operations.c.id == operation_id, operations.c.status == "TO_CREDIT"))
        .values(status="CREDITED"))
    return result.rowcount == 1


def set_operation_remittance(conn: Connection, operation_id: int, remittance_id: int) -> None:
    conn.execute(update(operations).where(operations.c.id == operation_id)
                 .values(remittance_id=remittance_id))


def add_to_remittance(conn: Connection, merchant_id: str, batch_date: str, kind: str,
                      currency_code: str, amount: int, now: datetime) -> int:
    """The remittance of (merchant, date, kind, currency), created on first use, grown by one
    operation of ``amount``; returns its id."""
    key = and_(remittances.c.merchant_id == merchant_id, remittances.c.batch_date == batch_date,
               remittances.c.kind == kind, remittances.c.currency_code == currency_code)
    row = conn.execute(select(remittances.c.id).where(key)).first()
    if row is None:
        try:
            with conn.begin_nested():
                result = conn.execute(insert(remittances).values(
                    merchant_id=merchant_id, batch_date=batch_date, kind=kind,
                    currency_code=currency_code, count=0, total=0, created_at=now))
            inserted = result.inserted_primary_key
            assert inserted is not None
            remittance_id = int(inserted[0])
        except IntegrityError:
            found = conn.execute(select(remittances.c.id).where(key)).first()
            assert found is not None
            remittance_id = int(found.id)
    else:
        remittance_id = int(row.id)
    conn.execute(update(remittances).where(remittances.c.id == remittance_id).values(
        count=remittances.c.count + 1, total=remittances.c.total + amount))
    return remittance_id


def get_batch_run(conn: Connection, batch_date: str, *, for_update: bool = False) -> Any | None:
    query = select(batch_runs).where(batch_runs.c.batch_date == batch_date)
    if for_update and conn.dialect.name != "sqlite":
        query = query.with_for_update()
    return conn.execute(query).first()


def insert_batch_run(conn: Connection, batch_date: str, node: str, now: datetime) -> bool:
    """Claim a batch date; False when another run holds (or held) it already."""
    try:
        with conn.begin_nested():
            conn.execute(insert(batch_runs).values(
                batch_date=batch_date, node=node, status="RUNNING", started_at=now,
                heartbeat_at=now, captured=0, expired=0, credited=0))
    except IntegrityError:
        return False
    return True


def take_over_batch_run(conn: Connection, batch_date: str, node: str, now: datetime, *,
                        expected_node: str, expected_heartbeat: datetime) -> bool:
    """Take over a run (stale or finished) only if nobody changed it since it was read."""
    result = conn.execute(update(batch_runs).where(and_(
        batch_runs.c.batch_date == batch_date, batch_runs.c.node == expected_node,
        batch_runs.c.heartbeat_at == expected_heartbeat)).values(
        node=node, status="RUNNING", heartbeat_at=now, finished_at=None))
    return result.rowcount == 1


def beat_batch_run(conn: Connection, batch_date: str, node: str, now: datetime,
                   counts: dict[str, int]) -> bool:
    """Refresh the heartbeat (and counts); False when another node took the run over."""
    result = conn.execute(update(batch_runs).where(and_(
        batch_runs.c.batch_date == batch_date, batch_runs.c.node == node,
        batch_runs.c.status == "RUNNING")).values(heartbeat_at=now, **counts))
    return result.rowcount == 1


def finish_batch_run(conn: Connection, batch_date: str, node: str, now: datetime,
                     counts: dict[str, int]) -> bool:
    result = conn.execute(update(batch_runs).where(and_(
        batch_runs.c.batch_date == batch_date, batch_runs.c.node == node,
        batch_runs.c.status == "RUNNING")).values(
        status="DONE", heartbeat_at=now, finished_at=now, **counts))
    return result.rowcount == 1


def transactions_of_day(conn: Connection, merchant_id: str | None, day: str) -> list[Any]:
    query = select(transactions).where(transactions.c.business_date == day)
    if merchant_id:
        query = query.where(transactions.c.merchant_id == merchant_id)
    return list(conn.execute(query.order_by(transactions.c.merchant_id, transactions.c.id)))


def operations_of_day(conn: Connection, merchant_id: str | None, day: str) -> list[Any]:
    query = select(operations).where(operations.c.business_date == day)
    if merchant_id:
        query = query.where(operations.c.merchant_id == merchant_id)
    return list(conn.execute(query.order_by(operations.c.merchant_id, operations.c.id)))


def remittances_of_day(conn: Connection, merchant_id: str | None, day: str) -> list[Any]:
    query = select(remittances).where(remittances.c.batch_date == day)
    if merchant_id:
        query = query.where(remittances.c.merchant_id == merchant_id)
    return list(conn.execute(query.order_by(remittances.c.merchant_id, remittances.c.kind,
                                            remittances.c.currency_code)))



# ---------------------------------------------------------------- the hot path (driver SQL)
# Every request reads its key's row, and every order inserts a transaction and its first
# operation: these run on driver connections (Database.raw / Database.submit), with SQL
# compiled once, for sqlite3 (qmark) and psycopg (format) alike.


def _placeholders(sqlite: bool, count: int) -> str:
    return ", ".join(("?" if sqlite else "%s") for _ in range(count))


_SHOP_KEY_SQL = (
    "SELECT s.name, s.capture_day_max, s.disabled_services, k.secret_enc, k.revoked_at"
    " FROM shops s LEFT JOIN shop_keys k"
    " ON k.merchant_id = s.merchant_id AND k.key_version = {p}"
    " WHERE s.merchant_id = {p}")
SHOP_KEY_SQL = {True: _SHOP_KEY_SQL.format(p="?"), False: _SHOP_KEY_SQL.format(p="%s")}


_SETTING_SQL = "SELECT value FROM settings WHERE name = {p}"
SETTING_SQL = {True: _SETTING_SQL.format(p="?"), False: _SETTING_SQL.format(p="%s")}


def setting_value(fetchone: Any, sqlite: bool, name: str) -> str | None:
    """A shared setting (the sandbox clock's offset) on the hot path: Database.fetchone."""
    row = fetchone(SETTING_SQL[sqlite], (name,))
    return None if row is None else str(row[0])


def shop_key_state(fetchone: Any, sqlite: bool, merchant_id: str,
                   key_version: int | None) -> tuple[Any, ...] | None:
    """(name, capture_day_max, disabled_services, secret_enc, revoked_at) of a shop and one of
    its key versions (the last two None when it has no such key); None for an unknown shop.

    ``fetchone(sql, params)`` runs the read: Database.fetchone."""
    row = fetchone(SHOP_KEY_SQL[sqlite], (-1 if key_version is None else key_version,
                                          merchant_id))
    return None if row is None else tuple(row)


def shop_key_from_state(merchant_id: str, key_version: int, state: tuple[Any, ...],
                        secret: str) -> ShopKey:
    name, capture_day_max, disabled, _secret_enc, revoked_at = state
    shop = Shop(merchant_id, name, capture_day_max,
                frozenset(s for s in disabled.split(",") if s))
    return ShopKey(shop, key_version, secret, revoked_at is not None)


#: Operation columns that repeat the transaction's (the first operation's usually do).
_FROM_TRANSACTION = {
    "merchant_id": "merchant_id", "transaction_reference": "transaction_reference",
    "amount": "amount", "currency_code": "currency_code", "status": "status",
    "response_code": "response_code", "created_at": "transaction_date_time",
    "business_date": "business_date",
}


def _convert(convert: Any, value: Any) -> Any:
    """A bound value as the dialect stores it; SQLite's datetimes the quick way (the same
    text SQLAlchemy writes: UTC wall time, microseconds, no offset)."""
    if type(value) is datetime and value.tzinfo is not None:
        utc = value.utcoffset()
        if utc is not None and not utc:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return convert(value)


class _InsertSql:
    """The INSERTs of a transaction row and of its first operation, for one dialect.

    Python-side column defaults are applied; NULL columns are left out, and on PostgreSQL the
    operation's values that repeat the transaction's are taken from its RETURNING row: fewer
    parameters, so psycopg caches the statement's parsing (it does up to 50) and PostgreSQL
    prepares it. One statement text per shape of row, built once.
    """

    def __init__(self, sqlite: bool) -> None:
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.dialects import sqlite as sqlite_dialect

        dialect = sqlite_dialect.dialect() if sqlite else postgresql.psycopg.dialect()
        self.sqlite = sqlite
        self.tx_columns = [(c.name, c.default.arg if c.default is not None
                            and c.default.is_scalar else None,
                            c.type.dialect_impl(dialect).bind_processor(dialect),
                            c.server_default is not None)
                           for c in transactions.columns if c.name != "id"]
        self.op_columns = [(c.name, c.default.arg if c.default is not None
                            and c.default.is_scalar else None,
                            c.type.dialect_impl(dialect).bind_processor(dialect),
                            c.server_default is not None)
                           for c in operations.columns if c.name not in ("id", "transaction_id")]
        self._statements: dict[tuple[Any, ...], tuple[str, str]] = {}

    def prepare(self, values: dict[str, Any], operation: dict[str, Any],
                ) -> tuple[tuple[str, str], list[Any], list[Any]]:
        """The statement(s) for this row's shape and their parameters."""
        tx_names: list[str] = []
        tx_params: list[Any] = []
        get = values.get
        for name, default, convert, server_default in self.tx_columns:
            value = get(name, default)
            if value is None:
                if not server_default:
                    continue
            elif convert is not None:
                value = _convert(convert, value)
            tx_names.append(name)
            tx_params.append(value)
        op_spec: list[tuple[str, str]] = []
        op_params: list[Any] = []
        derive = not self.sqlite
        get = operation.get
        for name, default, convert, server_default in self.op_columns:
            value = get(name, default)
            if value is None and not server_default:
                continue
            source = _FROM_TRANSACTION.get(name) if derive else None
            if source is not None and source in values and values[source] == value:
                op_spec.append((name, source))
                continue
            op_spec.append((name, ""))
            op_params.append(value if convert is None or value is None
                             else _convert(convert, value))
        key = (tuple(tx_names), tuple(op_spec))
        statements = self._statements.get(key)
        if statements is None:
            statements = self._statements[key] = self._build(tx_names, op_spec)
        return statements, tx_params, op_params

    def _build(self, tx_names: list[str], op_spec: list[tuple[str, str]]) -> tuple[str, str]:
        columns = ", ".join(tx_names)
        op_columns = ", ".join(name for name, _source in op_spec)
        if self.sqlite:
            return (f"INSERT INTO transactions ({columns}) "
                    f"VALUES ({_placeholders(True, len(tx_names))})",
                    f"INSERT INTO operations (transaction_id, {op_columns}) "
                    f"VALUES ({_placeholders(True, len(op_spec) + 1)})")
        returning = sorted({source for _name, source in op_spec if source})
        selected = ", ".join(f"t.{source}" if source else "%s" for _name, source in op_spec)
        return (  # one statement, one round trip: the operation only if the row went in
            f"WITH t AS (INSERT INTO transactions ({columns}) "
            f"VALUES ({_placeholders(False, len(tx_names))}) "
            "ON CONFLICT ON CONSTRAINT uq_transactions_merchant_reference DO NOTHING "
            f"RETURNING {', '.join(['id', *returning])}) "
            f"INSERT INTO operations (transaction_id, {op_columns}) "
            f"SELECT t.id, {selected} FROM t RETURNING transaction_id", "")


_INSERTS: dict[bool, _InsertSql] = {}


def record_transaction(raw: Any, sqlite: bool, values: dict[str, Any],
                       operation: dict[str, Any]) -> int:
    """Insert a transaction and its first operation (a unit for Database.submit); its id.

    A reused (merchantId, transactionReference) raises DuplicateReference and inserts
    nothing: the unique constraint decides, on any node.
    """
    sql = _INSERTS.get(sqlite)
    if sql is None:
        sql = _INSERTS[sqlite] = _InsertSql(sqlite)
    (first, second), tx_params, op_params = sql.prepare(values, operation)
    if sqlite:
        try:
            cursor = raw.execute(first, tx_params)
        except sqlite3.IntegrityError as error:
            if _is_reference_conflict_text(str(error)):
                raise DuplicateReference(values["transaction_reference"]) from None
            raise
        transaction_id = int(cursor.lastrowid)
        raw.execute(second, [transaction_id, *op_params])
        return transaction_id
    row = raw.execute(first, [*tx_params, *op_params]).fetchone()
    if row is None:
        raise DuplicateReference(values["transaction_reference"])
    return int(row[0])


def _is_reference_conflict_text(text: str) -> bool:
    text = text.lower()
    return "uq_transactions_merchant_reference" in text or (
        "unique" in text and "transaction_reference" in text)


class OrderInsert:
    """A unit for Database.submit: a transaction and its first operation.

    Called with a driver connection it inserts this one order (record_transaction). On
    PostgreSQL, the orders of concurrent requests can also go in together (``run_many``):
    one statement and one commit for the whole group, instead of one each.
    """

    __slots__ = ("operation", "sqlite", "values")

    def __init__(self, sqlite: bool, values: dict[str, Any], operation: dict[str, Any]) -> None:
        self.sqlite = sqlite
        self.values = values
        self.operation = operation

    def __call__(self, raw: Any) -> int:
        return record_transaction(raw, self.sqlite, self.values, self.operation)

    def _batchable(self) -> bool:
        """Its operation repeats the transaction's values (the first operation's do)."""
        values, operation = self.values, self.operation
        return all(operation.get(name) == values.get(source)
                   for name, source in _FROM_TRANSACTION.items()) and set(operation) <= {
            *_FROM_TRANSACTION, "operation_type", "origin"}

    @staticmethod
    async def run_many(aconn: Any, units: list[OrderInsert],
                       ) -> list[tuple[Any, BaseException | None]]:
        """Insert the orders of ``units`` (PostgreSQL, an autocommit AsyncConnection):
        (transaction id, None) or (None, DuplicateReference) each; a unit the group statement
        cannot take, or every unit if it fails, is inserted on its own."""
        outcomes: list[tuple[Any, BaseException | None] | None] = [None] * len(units)
        group: list[int] = []
        seen: set[tuple[Any, Any]] = set()
        for index, unit in enumerate(units):
            key = (unit.values.get("merchant_id"), unit.values.get("transaction_reference"))
            if unit._batchable() and key not in seen:
                seen.add(key)
                group.append(index)
        if len(group) > 1:
            try:
                inserted = await _insert_group(aconn, [units[i] for i in group])
            except Exception:  # e.g. one row's value does not fit: each on its own below
                group = []
            else:
                for index in group:
                    values = units[index].values
                    found = inserted.get((values["merchant_id"],
                                          values["transaction_reference"]))
                    outcomes[index] = (found, None) if found is not None else (
                        None, DuplicateReference(values["transaction_reference"]))
        for index, unit in enumerate(units):
            if outcomes[index] is None:
                outcomes[index] = await _insert_one(aconn, unit)
        return [outcome for outcome in outcomes if outcome is not None]


async def _insert_one(aconn: Any, unit: OrderInsert) -> tuple[Any, BaseException | None]:
    sql = _INSERTS.get(False)
    if sql is None:
        sql = _INSERTS[False] = _InsertSql(False)
    (statement, _second), tx_params, op_params = sql.prepare(unit.values, unit.operation)
    try:
        cursor = await aconn.execute(statement, [*tx_params, *op_params])
        row = await cursor.fetchone()
    except Exception as error:
        return None, error
    if row is None:
        return None, DuplicateReference(unit.values["transaction_reference"])
    return int(row[0]), None


_GROUP_SQL: list[str] = []


def _group_sql() -> str:
    """unnest() of one array per column: the same statement (and parameters) for any number
    of orders, so psycopg parses it once and PostgreSQL prepares it."""
    if not _GROUP_SQL:
        from sqlalchemy.dialects import postgresql

        dialect = postgresql.dialect()
        columns = [c for c in transactions.columns if c.name != "id"]
        names = ", ".join(c.name for c in columns)
        # %b: binary arrays, whose text elements need no escaping (psycopg's text arrays
        # run a regular expression over every quote of the stored request).
        arrays = ", ".join(f"%b::{c.type.compile(dialect=dialect)}[]" for c in columns)
        derived = ", ".join(f"t.{source}" for source in _FROM_TRANSACTION.values())
        returned = ", ".join(sorted({"id", *_FROM_TRANSACTION.values()}))
        _GROUP_SQL.append(
            f"WITH v AS (SELECT * FROM unnest({arrays}, %b::text[], %b::text[]) "
            f"AS v({names}, op_type, op_origin)), "
            f"t AS (INSERT INTO transactions ({names}) SELECT {names} FROM v "
            "ON CONFLICT ON CONSTRAINT uq_transactions_merchant_reference DO NOTHING "
            f"RETURNING {returned}), "
            "o AS (INSERT INTO operations (transaction_id, "
            f"{', '.join(_FROM_TRANSACTION)}, operation_type, origin) "
            f"SELECT t.id, {derived}, v.op_type, v.op_origin FROM t JOIN v "
            "ON v.merchant_id = t.merchant_id "
            "AND v.transaction_reference = t.transaction_reference "
            "RETURNING merchant_id, transaction_reference, transaction_id) "
            "SELECT merchant_id, transaction_reference, transaction_id FROM o")
    return _GROUP_SQL[0]


async def _insert_group(aconn: Any, units: list[OrderInsert]) -> dict[tuple[str, str], int]:
    columns = [c for c in transactions.columns if c.name != "id"]
    defaults = {c.name: c.default.arg for c in columns
                if c.default is not None and c.default.is_scalar}
    arrays: list[list[Any]] = [
        [unit.values.get(c.name, defaults.get(c.name)) for unit in units] for c in columns]
    arrays.append([unit.operation.get("operation_type") for unit in units])
    arrays.append([unit.operation.get("origin") for unit in units])
    cursor = await aconn.execute(_group_sql(), arrays)
    return {(row[0], row[1]): int(row[2]) for row in await cursor.fetchall()}
