"""The schema, one for SQLite and PostgreSQL. Money is BigInteger, dates are ISO text.

Card numbers appear only as ``pan_enc`` (AES-GCM, see vault) and ``masked_pan``; the CSC has
no column at all.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

shops = Table(
    "shops", metadata,
    Column("merchant_id", String(15), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("capture_day_max", Integer, nullable=False, default=99),
    # Services this shop may not use (answers 40), as a comma-separated list of names.
    Column("disabled_services", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

shop_keys = Table(
    "shop_keys", metadata,
    Column("merchant_id", String(15), ForeignKey("shops.merchant_id"), primary_key=True),
    Column("key_version", Integer, primary_key=True, autoincrement=False),
    Column("secret_enc", LargeBinary, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

transactions = Table(
    "transactions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(15), nullable=False),
    Column("transaction_reference", String(35), nullable=False),
    Column("service", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("response_code", String(2), nullable=False),
    Column("acquirer_response_code", String(2), nullable=True),
    Column("authorisation_id", String(10), nullable=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("authorised_amount", BigInteger, nullable=False, default=0),
    Column("captured_amount", BigInteger, nullable=False, default=0),
    Column("refunded_amount", BigInteger, nullable=False, default=0),
    Column("cancelled_amount", BigInteger, nullable=False, default=0),
    Column("capture_mode", String(20), nullable=False),
    Column("capture_day", Integer, nullable=False),
    Column("capture_limit_date", String(10), nullable=True),  # YYYY-MM-DD, business date
    Column("order_channel", String(20), nullable=True),
    Column("order_id", String(32), nullable=True),
    Column("customer_id", String(19), nullable=True),
    Column("customer_ip_address", String(45), nullable=True),
    Column("return_context", String(255), nullable=True),
    Column("transaction_origin", String(20), nullable=True),
    Column("payment_pattern", String(20), nullable=True),
    Column("statement_reference", String(25), nullable=True),
    Column("pan_enc", LargeBinary, nullable=True),
    Column("masked_pan", String(19), nullable=True),
    Column("pan_expiry_date", String(6), nullable=True),
    Column("payment_mean_brand", String(20), nullable=True),
    Column("card_csc_result_code", String(2), nullable=True),
    Column("holder_authent_status", String(20), nullable=True),
    Column("holder_authent_method", String(30), nullable=True),
    Column("holder_authent_program", String(30), nullable=True),
    Column("guarantee_indicator", String(1), nullable=True),
    Column("score_color", String(10), nullable=True),
    Column("score_value", String(10), nullable=True),
    Column("merchant_wallet_id", String(21), nullable=True),
    Column("payment_mean_id", String(6), nullable=True),
    Column("s10_transaction_id", String(6), nullable=True),
    Column("s10_transaction_id_date", String(8), nullable=True),
    # Redirections (3-D Secure, providers): their state and deadline.
    Column("redirection_state", Text, nullable=True),
    Column("redirection_expires_at", DateTime(timezone=True), nullable=True),
    # The request as received, card data and seal removed (JSON text).
    Column("request_json", Text, nullable=False),
    Column("transaction_date_time", DateTime(timezone=True), nullable=False),
    Column("business_date", String(10), nullable=False),  # YYYY-MM-DD
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("merchant_id", "transaction_reference",
                     name="uq_transactions_merchant_reference"),
    Index("ix_transactions_business_date", "merchant_id", "business_date"),
    Index("ix_transactions_status", "status", "capture_limit_date"),
)

operations = Table(
    "operations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False),
    Column("merchant_id", String(15), nullable=False),
    Column("transaction_reference", String(35), nullable=False),
    Column("operation_type", String(30), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency_code", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("response_code", String(2), nullable=False),
    Column("origin", String(40), nullable=True),
    Column("remittance_id", Integer, ForeignKey("remittances.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("business_date", String(10), nullable=False),
    Index("ix_operations_transaction", "transaction_id"),
    Index("ix_operations_business_date", "merchant_id", "business_date"),
    Index("ix_operations_status", "status"),
)

remittances = Table(
    "remittances", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(15), nullable=False),
    Column("batch_date", String(10), nullable=False),
    Column("kind", String(10), nullable=False),  # CAPTURE or CREDIT
    Column("currency_code", String(3), nullable=False),
    Column("count", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("merchant_id", "batch_date", "kind", "currency_code",
                     name="uq_remittances_batch"),
)

batch_runs = Table(
    "batch_runs", metadata,
    Column("batch_date", String(10), primary_key=True),
    Column("node", String(100), nullable=False),
    Column("status", String(10), nullable=False),  # RUNNING, DONE
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("captured", Integer, nullable=False, default=0),
    Column("expired", Integer, nullable=False, default=0),
    Column("credited", Integer, nullable=False, default=0),
)

wallets = Table(
    "wallets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(15), nullable=False),
    Column("merchant_wallet_id", String(21), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_action_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("merchant_id", "merchant_wallet_id", name="uq_wallets_merchant_wallet"),
)

payment_means = Table(
    "payment_means", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("wallet_id", Integer, ForeignKey("wallets.id"), nullable=False),
    Column("payment_mean_id", String(6), nullable=False),
    Column("payment_mean_alias", String(64), nullable=True),
    Column("pan_enc", LargeBinary, nullable=False),
    Column("masked_pan", String(19), nullable=False),
    Column("pan_expiry_date", String(6), nullable=False),
    Column("payment_mean_brand", String(20), nullable=False),
    Column("recurring_started", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("wallet_id", "payment_mean_id", name="uq_payment_means_wallet_mean"),
)

# Shared settings, e.g. the sandbox clock's offset, read by every node.
settings = Table(
    "settings", metadata,
    Column("name", String(50), primary_key=True),
    Column("value", Text, nullable=False),
)

# One-time tokens (PaRes, provider returns) that must not be used twice.
used_tokens = Table(
    "used_tokens", metadata,
    Column("token_id", String(64), primary_key=True),
    Column("used_at", DateTime(timezone=True), nullable=False),
)
