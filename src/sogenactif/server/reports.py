"""The guide's going-live reports, as CSV (one header line, one record a line):

* the **Transactions report**: every transaction created on a business day, accepted and
  refused, with its status and amounts as they stand when the report is made;
* the **Operations report**: every cash operation recorded on a business day (validations,
  cancellations, refunds, challenge decisions, the batch's captures and expiries; refused
  ones too, with their responseCode), then the remittances the batch of that day made.

Amounts are integers in the currency's smallest unit, as on the wire; dates are ISO 8601 in
the platform's time zone (Europe/Paris). Operations that create a transaction
(AUTHORISATION, DUPLICATE) are in the Transactions report, not here (our choice).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, TextIO

from sogenactif.server.domain.amounts import remaining
from sogenactif.server.domain.clock import aware, iso
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.operations.cash import amounts_of
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database

TRANSACTION_COLUMNS = (
    "transactionDateTime", "merchantId", "transactionReference", "service",
    "transactionStatus", "responseCode", "acquirerResponseCode", "authorisationId", "amount",
    "currencyCode", "authorisedAmount", "capturedAmount", "refundedAmount", "cancelledAmount",
    "remainingAmount", "captureMode", "captureDay", "captureLimitDate", "paymentMeanBrand",
    "maskedPan", "orderChannel", "orderId", "customerId", "scoreColor",
)

OPERATION_COLUMNS = (
    "record", "dateTime", "merchantId", "transactionReference", "operationType", "amount",
    "currencyCode", "operationStatus", "responseCode", "operationOrigin", "remittanceId",
    "remittanceCount",
)

#: Operations that create a transaction: reported with the transactions.
CREATION_OPERATIONS = frozenset({"AUTHORISATION", "DUPLICATE"})


def transactions(db: Database, day: str, merchant_id: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = repo.transactions_of_day(conn, merchant_id, day)
    return [{
        "transactionDateTime": iso(aware(r.transaction_date_time)),
        "merchantId": r.merchant_id,
        "transactionReference": r.transaction_reference,
        "service": r.service,
        "transactionStatus": r.status,
        "responseCode": r.response_code,
        "acquirerResponseCode": r.acquirer_response_code,
        "authorisationId": r.authorisation_id,
        "amount": r.amount,
        "currencyCode": r.currency_code,
        "authorisedAmount": r.authorised_amount,
        "capturedAmount": r.captured_amount,
        "refundedAmount": r.refunded_amount,
        "cancelledAmount": r.cancelled_amount,
        "remainingAmount": remaining(Status(r.status), amounts_of(r)),
        "captureMode": r.capture_mode,
        "captureDay": r.capture_day,
        "captureLimitDate": r.capture_limit_date,
        "paymentMeanBrand": r.payment_mean_brand,
        "maskedPan": r.masked_pan,
        "orderChannel": r.order_channel,
        "orderId": r.order_id,
        "customerId": r.customer_id,
        "scoreColor": r.score_color,
    } for r in rows]


def operations(db: Database, day: str, merchant_id: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        ops = repo.operations_of_day(conn, merchant_id, day)
        remittances = repo.remittances_of_day(conn, merchant_id, day)
    records: list[dict[str, Any]] = [{
        "record": "OPERATION",
        "dateTime": iso(aware(o.created_at)),
        "merchantId": o.merchant_id,
        "transactionReference": o.transaction_reference,
        "operationType": o.operation_type,
        "amount": o.amount,
        "currencyCode": o.currency_code,
        "operationStatus": o.status,
        "responseCode": o.response_code,
        "operationOrigin": o.origin,
        "remittanceId": o.remittance_id,
        "remittanceCount": None,
    } for o in ops if o.operation_type not in CREATION_OPERATIONS]
    records.extend({
        "record": "REMITTANCE",
        "dateTime": iso(aware(r.created_at)),
        "merchantId": r.merchant_id,
        "transactionReference": None,
        "operationType": r.kind,
        "amount": r.total,
        "currencyCode": r.currency_code,
        "operationStatus": None,
        "responseCode": None,
        "operationOrigin": "BATCH",
        "remittanceId": r.id,
        "remittanceCount": r.count,
    } for r in remittances)
    return records


def write_csv(records: Iterable[dict[str, Any]], columns: tuple[str, ...],
              out: TextIO) -> int:
    """Write the records; returns how many. Missing values are empty cells."""
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
        count += 1
    return count


REPORTS = {
    "transactions": (transactions, TRANSACTION_COLUMNS),
    "operations": (operations, OPERATION_COLUMNS),
}


def report_csv(db: Database, kind: str, day: str, merchant_id: str | None = None) -> str:
    """The report ``kind`` ("transactions" or "operations") of a day, as CSV text."""
    build, columns = REPORTS[kind]
    out = io.StringIO()
    write_csv(build(db, day, merchant_id), columns, out)
    return out.getvalue()
