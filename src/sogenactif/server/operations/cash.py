"""cashManagement: validate, cancel, refund, duplicate, acceptChallenge, refuseChallenge.

Each one: load the transaction locked (row lock on PostgreSQL, the write lock on SQLite),
decide with the lifecycle table and the amount rules (domain/amounts.py), save the new
amounts and the operation row in ONE database transaction, answer. A refused operation is
recorded too (status REFUSED with its responseCode), in its own transaction, and changes
nothing else. Simultaneous operations on several processes queue on the row lock, so the
amounts can never go below zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from sogenactif.server.domain import amounts as rules
from sogenactif.server.domain.amounts import Amounts, OperationRefused, Outcome
from sogenactif.server.domain.clock import business_date, iso
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.operations import redirections
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.operations.orders import (
    check_terms,
    order_answer,
    record,
    status_after,
    transaction_values,
)
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import pan_purpose

log = logging.getLogger("sogenactif.cash")

Decide = Callable[[Any], Outcome]


def amounts_of(row: Any) -> Amounts:
    return Amounts(authorised=int(row.authorised_amount), captured=int(row.captured_amount),
                   refunded=int(row.refunded_amount), cancelled=int(row.cancelled_amount))


def operation_row(row: Any, req: OfficeRequest, operation_type: str, amount: int,
                  status: str, response_code: str) -> dict[str, Any]:
    """An operations-table row: who (operationOrigin), what, how much, when, the result."""
    return {
        "transaction_id": row.id,
        "merchant_id": row.merchant_id,
        "transaction_reference": row.transaction_reference,
        "operation_type": operation_type,
        "amount": amount,
        "currency_code": row.currency_code,
        "status": status,
        "response_code": response_code,
        "origin": req.text("operationOrigin") or req.service.name,
        "created_at": req.now,
        "business_date": business_date(req.now).isoformat(),
    }


def _operate(rt: Runtime, req: OfficeRequest, operation_type: str, decide: Decide, *,
             amount: int, extra_values: Callable[[Any, Outcome], dict[str, Any]] | None = None,
             check_currency: bool = True) -> tuple[Any, Outcome]:
    """Load locked, decide, save (or record the refusal) in one write transaction."""
    reference = req.text("transactionReference") or ""
    refused: OperationRefused | None = None
    with rt.db.write() as conn:
        row = repo.get_transaction(conn, req.merchant_id, reference, for_update=True)
        if row is None:
            # No transaction to hang an operation on: only the answer says it (our choice).
            raise Refusal("25")
        if row.status == Status.PENDING.value and redirections.expired(row, req.now):
            # The shopper never came back: the session ends here, whatever the sweep's pace.
            redirections.abort_row(conn, row, req.now)
            row = repo.get_transaction(conn, req.merchant_id, reference, for_update=True)
        try:
            if check_currency and req.text("currencyCode") != row.currency_code:
                raise OperationRefused("12", "currencyCode", "not the transaction's currency")
            outcome = decide(row)
        except OperationRefused as refusal:
            refused = refusal
            repo.insert_operation(conn, operation_row(
                row, req, operation_type, amount, rules.REFUSED_OPERATION, refusal.code))
        else:
            values = {
                "status": outcome.status.value,
                "authorised_amount": outcome.amounts.authorised,
                "captured_amount": outcome.amounts.captured,
                "refunded_amount": outcome.amounts.refunded,
                "cancelled_amount": outcome.amounts.cancelled,
                "updated_at": req.now,
            }
            if extra_values is not None:
                values.update(extra_values(row, outcome))
            repo.update_transaction(conn, row.id, values)
            repo.insert_operation(conn, operation_row(
                row, req, operation_type, outcome.operation_amount, outcome.operation_status,
                "00"))
    if refused is not None:
        log.info("%s refused (%s) on %s: %s", operation_type, refused.code, reference,
                 refused.reason)
        raise Refusal(refused.code, refused.field)
    return row, outcome


def _answer(req: OfficeRequest, row: Any, outcome: Outcome, *,
            acquirer: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "responseCode": "00",
        "transactionReference": row.transaction_reference,
        "newAmount": str(outcome.new_amount),
        "newStatus": outcome.status.value,
        "operationDateTime": iso(req.now),
    }
    if acquirer:
        answer["acquirerResponseCode"] = "00"
        if row.authorisation_id:
            answer["authorisationId"] = row.authorisation_id
    return answer


def _operation_amount(req: OfficeRequest) -> int:
    value = req.integer("operationAmount")
    assert value is not None  # required by the catalogue
    return value


def _limit(row: Any) -> date | None:
    return date.fromisoformat(row.capture_limit_date) if row.capture_limit_date else None


def validate(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """Validate (part of) a TO_VALIDATE transaction on or before its validation limit; it is
    then captured by the next batch (its capture date becomes the validation's day)."""
    amount = _operation_amount(req)
    today = business_date(req.now)

    def decide(row: Any) -> Outcome:
        return rules.validate(Status(row.status), amounts_of(row), amount, today=today,
                              limit=_limit(row))

    def capture_today(_row: Any, _outcome: Outcome) -> dict[str, Any]:
        return {"capture_limit_date": today.isoformat()}

    row, outcome = _operate(rt, req, "VALIDATE", decide, amount=amount,
                            extra_values=capture_today)
    return _answer(req, row, outcome, acquirer=True)


def cancel(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """Cancel (part of) what is still to validate or capture; all of it -> CANCELLED."""
    amount = _operation_amount(req)
    row, outcome = _operate(
        rt, req, "CANCEL",
        lambda r: rules.cancel(Status(r.status), amounts_of(r), amount), amount=amount)
    return _answer(req, row, outcome)


def refund(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """Refund (part of) a CAPTURED transaction: a credit operation TO_CREDIT, credited by
    the next batch; the refunds never add up to more than the capture."""
    amount = _operation_amount(req)
    row, outcome = _operate(
        rt, req, "REFUND",
        lambda r: rules.refund(Status(r.status), amounts_of(r), amount), amount=amount)
    return _answer(req, row, outcome, acquirer=True)


def accept_challenge(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """A TO_CHALLENGE transaction resumes the life its captureMode gives."""
    row, outcome = _operate(
        rt, req, "ACCEPT_CHALLENGE",
        lambda r: rules.accept_challenge(Status(r.status), amounts_of(r), r.capture_mode),
        amount=0, check_currency=False)
    return _answer(req, row, outcome)


def refuse_challenge(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """A TO_CHALLENGE transaction is REFUSED."""
    row, outcome = _operate(
        rt, req, "REFUSE_CHALLENGE",
        lambda r: rules.refuse_challenge(Status(r.status), amounts_of(r)),
        amount=0, check_currency=False)
    return _answer(req, row, outcome)


def duplicate(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """A new transaction (its own transactionReference) with a stored transaction's card.

    ``fromMerchantId`` may only name the requesting shop itself (our choice: there are no
    shop groups here); another shop's transaction is answered like an unknown one, 25.
    The source must have been accepted and still hold its (encrypted) card, else 24.
    """
    terms = check_terms(req)
    source_merchant = req.text("fromMerchantId") or req.merchant_id
    if source_merchant != req.merchant_id:
        raise Refusal("25")
    source_reference = req.text("fromTransactionReference") or ""
    with rt.db.read() as conn:
        source = repo.get_transaction(conn, source_merchant, source_reference)
    if source is None:
        raise Refusal("25")
    if source.pan_enc is None or source.response_code != "00" or not source.pan_expiry_date:
        with rt.db.write() as conn:
            repo.insert_operation(conn, operation_row(
                source, req, "DUPLICATE", terms.amount, rules.REFUSED_OPERATION, "24"))
        raise Refusal("24")
    pan = rt.vault.decrypt(source.pan_enc, pan_purpose(source_merchant))
    expiry = str(source.pan_expiry_date)
    decision = rt.acquirer.authorise(pan, expiry, None, business_date(req.now))
    brand = rt.acquirer.profile(pan).brand
    status, _event = status_after(decision, terms.capture_mode)
    values = transaction_values(rt, req, terms, pan=pan, expiry=expiry, brand=brand,
                                decision=decision, status=status)
    values["order_channel"] = req.text("orderChannel") or source.order_channel
    values["customer_id"] = req.text("customerId") or source.customer_id
    record(rt, req, values, operation_type="DUPLICATE")
    return order_answer(values)


OPERATIONS = {
    "validate": validate,
    "cancel": cancel,
    "refund": refund,
    "duplicate": duplicate,
    "acceptChallenge": accept_challenge,
    "refuseChallenge": refuse_challenge,
}
