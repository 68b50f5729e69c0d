"""diagnostic: getTransactionData, the transaction as it stands with its operations.

The answer's fields are exactly those the catalogue lists for the service (their names
beyond transactionStatus and amount are our choice, spec §3).
"""

from __future__ import annotations

from typing import Any

from sogenactif.protocol.catalogue import BY_NAME
from sogenactif.server.domain.amounts import remaining
from sogenactif.server.domain.clock import aware, iso
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.operations.cash import amounts_of
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo

#: Scalar answer fields and their transaction column.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("transactionReference", "transaction_reference"),
    ("transactionStatus", "status"),
    ("amount", "amount"),
    ("currencyCode", "currency_code"),
    ("authorisedAmount", "authorised_amount"),
    ("capturedAmount", "captured_amount"),
    ("refundedAmount", "refunded_amount"),
    ("cancelledAmount", "cancelled_amount"),
    ("captureMode", "capture_mode"),
    ("captureDay", "capture_day"),
    ("authorisationId", "authorisation_id"),
    ("acquirerResponseCode", "acquirer_response_code"),
    ("maskedPan", "masked_pan"),
    ("panExpiryDate", "pan_expiry_date"),
    ("paymentMeanBrand", "payment_mean_brand"),
    ("holderAuthentStatus", "holder_authent_status"),
    ("orderChannel", "order_channel"),
    ("orderId", "order_id"),
    ("customerId", "customer_id"),
    ("returnContext", "return_context"),
)


def transaction_data(row: Any, operations: list[Any]) -> dict[str, Any]:
    """The answer's fields from a transaction row and its operations."""
    answer: dict[str, Any] = {}
    for field, column in COLUMNS:
        value = getattr(row, column)
        if value is not None:
            answer[field] = str(value) if isinstance(value, int) else value
    answer["remainingAmount"] = str(remaining(Status(row.status), amounts_of(row)))
    if row.capture_limit_date:
        answer["captureLimitDate"] = str(row.capture_limit_date).replace("-", "")
    answer["transactionDateTime"] = iso(aware(row.transaction_date_time))
    if row.s10_transaction_id:
        answer["s10TransactionReference"] = {"s10TransactionId": row.s10_transaction_id,
                                             "s10TransactionIdDate": row.s10_transaction_id_date}
    answer["operationList"] = [{
        "operationType": op.operation_type,
        "operationAmount": str(op.amount),
        "operationDateTime": iso(aware(op.created_at)),
        "operationResponseCode": op.response_code,
        "operationStatus": op.status,
        **({"operationOrigin": op.origin} if op.origin else {}),
    } for op in operations]
    allowed = set(BY_NAME["getTransactionData"].response_fields)
    assert set(answer) <= allowed, set(answer) - allowed
    return answer


def get_transaction_data(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    reference = req.text("transactionReference") or ""
    with rt.db.read() as conn:
        row = repo.get_transaction(conn, req.merchant_id, reference)
        if row is None:
            raise Refusal("25")
        operations = repo.list_operations(conn, row.id)
    return {"responseCode": "00", **transaction_data(row, operations)}


OPERATIONS = {"getTransactionData": get_transaction_data}
