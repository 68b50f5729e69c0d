"""The authorisation core shared by every service that takes an order (cardOrder, walletOrder,
duplicate, the 3-D Secure and provider completions): check the terms, ask the acquirer,
record the transaction and its first operation in one database transaction, answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from sogenactif.server.acquirer.simulator import Decision
from sogenactif.server.domain.cards import mask_pan
from sogenactif.server.domain.clock import business_date, iso
from sogenactif.server.domain.lifecycle import (
    ACCEPT_EVENT_BY_CAPTURE_MODE,
    Event,
    Status,
    next_status,
)
from sogenactif.server.domain.money import currency
from sogenactif.server.domain.wallet import pattern_of, starts_recurring
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import pan_purpose


@dataclass(frozen=True)
class OrderTerms:
    """What an order asks for, checked against the shop and the currency."""

    amount: int
    currency_code: str
    capture_mode: str
    capture_day: int


def check_terms(req: OfficeRequest, *, amount_field: str = "amount") -> OrderTerms:
    """Business checks beyond formats: 12 for inconsistent values (our choice, documented)."""
    amount = req.integer(amount_field)
    assert amount is not None  # required by the catalogue
    if amount <= 0:
        raise Refusal("12", amount_field)
    code = req.text("currencyCode") or ""
    if currency(code) is None:
        raise Refusal("30", "currencyCode")
    mode = req.text("captureMode") or "AUTHOR_CAPTURE"
    day = req.integer("captureDay", 0) or 0
    if day > req.key.shop.capture_day_max:
        raise Refusal("12", "captureDay")
    if mode == "IMMEDIATE" and day != 0:
        raise Refusal("12", "captureDay")
    return OrderTerms(amount, code, mode, day)


def status_after(decision: Decision, capture_mode: str) -> tuple[Status, Event]:
    """The table's answer to an acquirer decision."""
    if not decision.accepted:
        event = Event.REFUSE
    elif decision.fraud == "ORANGE":
        event = Event.CHALLENGE
    else:
        event = ACCEPT_EVENT_BY_CAPTURE_MODE[capture_mode]
    return next_status(None, event), event


def capture_limit(now: datetime, capture_day: int) -> str:
    """The business date by which the capture (or, in VALIDATION mode, the validation) is due."""
    return (business_date(now) + timedelta(days=capture_day)).isoformat()


def transaction_values(rt: Runtime, req: OfficeRequest, terms: OrderTerms, *,
                       pan: str | None, expiry: str | None, brand: str | None,
                       decision: Decision | None, status: Status) -> dict[str, Any]:
    """The transaction row an order makes; the PAN goes in encrypted, the CSC not at all."""
    now = req.now
    accepted = decision is not None and decision.accepted
    s10 = req.fields.get("s10TransactionReference") or {}
    values: dict[str, Any] = {
        "merchant_id": req.merchant_id,
        "transaction_reference": req.text("transactionReference"),
        "service": req.service.name,
        "status": status.value,
        "response_code": decision.response_code if decision else "60",
        "acquirer_response_code": decision.acquirer_response_code if decision else None,
        "authorisation_id": rt.ids.authorisation_id() if accepted else None,
        "amount": terms.amount,
        "currency_code": terms.currency_code,
        "authorised_amount": terms.amount if accepted else 0,
        "captured_amount": terms.amount if status is Status.CAPTURED else 0,
        "capture_mode": terms.capture_mode,
        "capture_day": terms.capture_day,
        "capture_limit_date": capture_limit(now, terms.capture_day),
        "order_channel": req.text("orderChannel"),
        "order_id": req.text("orderId"),
        "customer_id": req.text("customerId"),
        "customer_ip_address": req.text("customerIpAddress"),
        "return_context": req.text("returnContext"),
        "transaction_origin": req.text("transactionOrigin"),
        "payment_pattern": req.text("paymentPattern"),
        "statement_reference": req.text("statementReference"),
        "pan_enc": rt.vault.encrypt(pan, pan_purpose(req.merchant_id)) if pan else None,
        "masked_pan": mask_pan(pan) if pan else None,
        "pan_expiry_date": expiry,
        "payment_mean_brand": brand,
        "card_csc_result_code": decision.csc_result_code if decision else None,
        "score_color": decision.fraud if decision and decision.fraud != "GREEN" else None,
        "s10_transaction_id": s10.get("s10TransactionId") if isinstance(s10, dict) else None,
        "s10_transaction_id_date": (s10.get("s10TransactionIdDate")
                                    if isinstance(s10, dict) else None),
        "request_json": repo.dumps(req.stored_request()),
        "transaction_date_time": now,
        "business_date": business_date(now).isoformat(),
        "updated_at": now,
    }
    return values


#: Runs inside the database transaction that records an order (connection, transaction id,
#: transaction values), so what an operation saves beside the transaction commits with it or
#: not at all (walletOrder marks a card's recurring series started).
AlsoSave = Callable[[Connection, int, dict[str, Any]], None]


def record(rt: Runtime, req: OfficeRequest, values: dict[str, Any],
           operation_type: str = "AUTHORISATION", *, also: AlsoSave | None = None) -> int:
    """Insert the transaction and its first operation atomically; 94 on a reused reference.

    Durable before it returns. Plain orders share a commit with concurrent ones
    (Database.submit); an order that saves more beside it (``also``) takes its own write
    transaction, so that what it saves commits with it or not at all.
    """
    operation = {
        "merchant_id": values["merchant_id"],
        "transaction_reference": values["transaction_reference"],
        "operation_type": operation_type,
        "amount": values["amount"],
        "currency_code": values["currency_code"],
        "status": values["status"],
        "response_code": values["response_code"],
        "origin": req.text("transactionOrigin") or req.service.name,
        "created_at": values["transaction_date_time"],
        "business_date": values["business_date"],
    }
    try:
        if also is None:
            return rt.db.submit(repo.OrderInsert(rt.db.sqlite, values, operation))
        with rt.db.write() as conn:
            transaction_id = repo.insert_transaction(conn, values)
            repo.insert_operation(conn, {"transaction_id": transaction_id, **operation})
            also(conn, transaction_id, values)
            return transaction_id
    except repo.DuplicateReference:
        raise Refusal("94", "transactionReference") from None


#: The order answer's fields and where they come from in the transaction row.
ANSWER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("responseCode", "response_code"),
    ("acquirerResponseCode", "acquirer_response_code"),
    ("authorisationId", "authorisation_id"),
    ("amount", "amount"),
    ("currencyCode", "currency_code"),
    ("captureDay", "capture_day"),
    ("captureMode", "capture_mode"),
    ("maskedPan", "masked_pan"),
    ("panExpiryDate", "pan_expiry_date"),
    ("paymentMeanBrand", "payment_mean_brand"),
    ("cardCSCResultCode", "card_csc_result_code"),
    ("guaranteeIndicator", "guarantee_indicator"),
    ("holderAuthentStatus", "holder_authent_status"),
    ("holderAuthentMethod", "holder_authent_method"),
    ("holderAuthentProgram", "holder_authent_program"),
    ("orderChannel", "order_channel"),
    ("orderId", "order_id"),
    ("customerId", "customer_id"),
    ("returnContext", "return_context"),
    ("transactionReference", "transaction_reference"),
    ("paymentPattern", "payment_pattern"),
    ("scoreColor", "score_color"),
    ("scoreValue", "score_value"),
)


def order_answer(values: dict[str, Any] | Any) -> dict[str, Any]:
    """The answer of an order from its transaction row (a dict or a database row)."""
    get = values.get if isinstance(values, dict) else values._mapping.get
    answer: dict[str, Any] = {}
    for field, column in ANSWER_COLUMNS:
        value = get(column)
        if value is not None:
            answer[field] = str(value) if isinstance(value, int) else value
    answer["transactionDateTime"] = iso(get("transaction_date_time"))
    s10_id, s10_date = get("s10_transaction_id"), get("s10_transaction_id_date")
    if s10_id:
        answer["s10TransactionReference"] = {"s10TransactionId": s10_id,
                                             "s10TransactionIdDate": s10_date}
    return answer


def authorise_card(rt: Runtime, req: OfficeRequest, terms: OrderTerms, *, pan: str,
                   expiry: str, csc: str | None,
                   extra: dict[str, Any] | None = None,
                   also: AlsoSave | None = None) -> dict[str, Any]:
    """Ask the acquirer, record the outcome, answer: the whole of cardOrder after its checks."""
    decision = rt.acquirer.authorise(pan, expiry, csc, business_date(req.now))
    brand = rt.acquirer.profile(pan).brand
    status, _event = status_after(decision, terms.capture_mode)
    values = transaction_values(rt, req, terms, pan=pan, expiry=expiry, brand=brand,
                                decision=decision, status=status)
    if extra:
        values.update(extra)
    record(rt, req, values, also=also)
    return order_answer(values)


# ------------------------------------------------------------ completing a PENDING transaction
# The 3-D Secure and provider flows create the transaction PENDING first (cardCheckEnrollment,
# paymentProviderInitialize); their last call UPDATES that row instead of inserting one. Both
# functions below run inside the caller's rt.db.write() on the row it loaded locked.


def status_after_pending(response_code: str, fraud: str | None,
                         capture_mode: str) -> Status:
    """The table's status for a PENDING transaction once its outcome is known."""
    if response_code != "00":
        event = Event.REFUSE
    elif fraud == "ORANGE":
        event = Event.CHALLENGE
    else:
        event = ACCEPT_EVENT_BY_CAPTURE_MODE[capture_mode]
    return next_status(Status.PENDING, event)


def settle_pending(rt: Runtime, conn: Any, req: OfficeRequest, row: Any, *,
                   response_code: str, acquirer_response_code: str | None,
                   csc_result_code: str | None = None, fraud: str | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Give the PENDING row its outcome, record the AUTHORISATION operation, answer."""
    status = status_after_pending(response_code, fraud, row.capture_mode)
    accepted = response_code == "00"
    now = req.now
    values: dict[str, Any] = {
        "status": status.value,
        "response_code": response_code,
        "acquirer_response_code": acquirer_response_code,
        "authorisation_id": rt.ids.authorisation_id() if accepted else None,
        "authorised_amount": row.amount if accepted else 0,
        "captured_amount": row.amount if status is Status.CAPTURED else 0,
        "capture_limit_date": capture_limit(now, row.capture_day),
        "score_color": fraud if fraud and fraud != "GREEN" else None,
        "updated_at": now,
    }
    if csc_result_code is not None:
        values["card_csc_result_code"] = csc_result_code
    if extra:
        values.update(extra)
    repo.update_transaction(conn, row.id, values)
    if row.payment_mean_id and starts_recurring(pattern_of(row.payment_pattern), accepted,
                                                False):
        # walletCheckEnrollment's RECURRING_1: the series starts with this authorisation.
        repo.start_recurring_series(conn, row.merchant_id, row.merchant_wallet_id,
                                    row.payment_mean_id)
    repo.insert_operation(conn, {
        "transaction_id": row.id,
        "merchant_id": row.merchant_id,
        "transaction_reference": row.transaction_reference,
        "operation_type": "AUTHORISATION",
        "amount": row.amount,
        "currency_code": row.currency_code,
        "status": status.value,
        "response_code": response_code,
        "origin": req.service.name,
        "created_at": now,
        "business_date": business_date(now).isoformat(),
    })
    return order_answer({**row._mapping, **values})


def authorise_pending(rt: Runtime, conn: Any, req: OfficeRequest, row: Any, *,
                      pan: str, expiry: str,
                      extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Authorise the PENDING row's stored card (decrypted by the caller) with the acquirer.

    The CSC is never stored: its result was decided when the card was given
    (card_csc_result_code) and stands in for it; an incorrect one refuses with 14 after the
    card-number and expiry checks, as cardOrder would.
    """
    decision = rt.acquirer.authorise(pan, expiry, None, business_date(req.now))
    csc_result = row.card_csc_result_code or "53"
    if decision.response_code not in ("14", "54") and csc_result == "4E":
        decision = Decision("14", "14", "4E")
    return settle_pending(rt, conn, req, row, response_code=decision.response_code,
                          acquirer_response_code=decision.acquirer_response_code,
                          csc_result_code=csc_result, fraud=decision.fraud, extra=extra)
