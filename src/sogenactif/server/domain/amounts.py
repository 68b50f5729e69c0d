"""Amount rules of the cash operations (spec §3, §6): what may be validated, cancelled,
refunded or captured, and what remains. Pure: statuses, integers and dates in, a decision out.

A transaction keeps four cumulative amounts beside its original ``amount``:

* ``authorised``: what the acquirer accepted (fixed at authorisation);
* ``cancelled``: what cancels released, plus the part a partial validation did not keep;
* ``captured``: what the capture batch (or an IMMEDIATE order) sent to the bank;
* ``refunded``: the sum of the refunds.

The *remaining* amount (``newAmount`` of the answers, ``remainingAmount`` of
getTransactionData) is what is still open: to validate or capture before the capture, still
refundable after it, nothing once the transaction is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sogenactif.server.domain.lifecycle import (
    ACCEPT_EVENT_BY_CAPTURE_MODE,
    Event,
    Status,
    TransitionRefused,
    allowed,
    next_status,
)

#: The status a cash operation records once it is done (credit operations differ).
CREDIT_TO_DO = "TO_CREDIT"
CREDIT_DONE = "CREDITED"
REFUSED_OPERATION = "REFUSED"


@dataclass(frozen=True)
class Amounts:
    """A transaction's cumulative amounts, in the currency's smallest unit."""

    authorised: int
    captured: int = 0
    refunded: int = 0
    cancelled: int = 0


class OperationRefused(Exception):
    """The operation cannot be done: ``code`` is the responseCode (24, 97, 12); ``field``
    is the errorFieldName (only with 12), ``reason`` says why for people (logs, reports)."""

    def __init__(self, code: str, field: str | None = None, reason: str = "") -> None:
        super().__init__(code, field, reason)
        self.code = code
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    """What an accepted operation does: the new status and amounts, what to answer."""

    status: Status
    amounts: Amounts
    operation_amount: int
    #: The operation row's status: the transaction's new status, or TO_CREDIT for a refund.
    operation_status: str

    @property
    def new_amount(self) -> int:
        return remaining(self.status, self.amounts)


_BEFORE_CAPTURE = frozenset({Status.TO_VALIDATE, Status.TO_CAPTURE})


def remaining(status: Status, amounts: Amounts) -> int:
    """What is still open on a transaction in this status."""
    if status in _BEFORE_CAPTURE:
        return amounts.authorised - amounts.cancelled
    if status is Status.TO_CHALLENGE:
        return amounts.authorised
    if status is Status.CAPTURED:
        return amounts.captured - amounts.refunded
    return 0


def _check_status(status: Status, event: Event) -> None:
    if status is Status.ABORTED:
        # A redirection never finished: the session is over (spec §6, our choice for all ops).
        raise OperationRefused("97", None, f"{event.value} on an aborted transaction")
    if not allowed(status, event):
        raise OperationRefused("24", None, f"{event.value} is not allowed from {status.value}")


def _check_amount(amount: int, available: int) -> None:
    if amount <= 0:
        raise OperationRefused("12", "operationAmount", "the amount must be positive")
    if amount > available:
        raise OperationRefused("24", None, f"{amount} is more than the {available} remaining")


def validate(status: Status, amounts: Amounts, amount: int, *, today: date,
             limit: date | None) -> Outcome:
    """Validate ``amount`` of a TO_VALIDATE transaction, on or before its validation limit.

    The part not validated is released (counted as cancelled, our choice): one validation
    per transaction, as the table has it (TO_VALIDATE -> TO_CAPTURE).
    """
    _check_status(status, Event.VALIDATE)
    if limit is not None and today > limit:
        raise OperationRefused("24", None, f"the validation limit {limit} has passed")
    available = remaining(status, amounts)
    _check_amount(amount, available)
    new = replace(amounts, cancelled=amounts.cancelled + available - amount)
    target = next_status(status, Event.VALIDATE)
    return Outcome(target, new, amount, target.value)


def cancel(status: Status, amounts: Amounts, amount: int) -> Outcome:
    """Cancel ``amount`` of what is still to validate or to capture; all of it -> CANCELLED."""
    _check_status(status, Event.CANCEL)
    available = remaining(status, amounts)
    _check_amount(amount, available)
    new = replace(amounts, cancelled=amounts.cancelled + amount)
    target = next_status(status, Event.CANCEL, emptied=amount == available)
    return Outcome(target, new, amount, target.value)


def refund(status: Status, amounts: Amounts, amount: int) -> Outcome:
    """Refund ``amount`` of a captured transaction; the refunds never exceed the capture."""
    _check_status(status, Event.REFUND)
    _check_amount(amount, remaining(status, amounts))
    new = replace(amounts, refunded=amounts.refunded + amount)
    return Outcome(next_status(status, Event.REFUND), new, amount, CREDIT_TO_DO)


def accept_challenge(status: Status, amounts: Amounts, capture_mode: str) -> Outcome:
    """Accept a transaction held TO_CHALLENGE: it resumes the life its captureMode gives."""
    _check_status(status, Event.ACCEPT_CHALLENGE)
    try:
        event = ACCEPT_EVENT_BY_CAPTURE_MODE[capture_mode]
    except KeyError:
        raise OperationRefused("24", None, f"unknown captureMode {capture_mode}") from None
    target = next_status(None, event)
    new = amounts
    if target is Status.CAPTURED:  # IMMEDIATE: captured at once
        new = replace(amounts, captured=amounts.authorised - amounts.cancelled)
    return Outcome(target, new, amounts.authorised, target.value)


def refuse_challenge(status: Status, amounts: Amounts) -> Outcome:
    """Refuse a transaction held TO_CHALLENGE: REFUSED, nothing remains."""
    _check_status(status, Event.REFUSE_CHALLENGE)
    target = next_status(status, Event.REFUSE_CHALLENGE)
    return Outcome(target, amounts, amounts.authorised, target.value)


def capture(status: Status, amounts: Amounts) -> Outcome:
    """The batch's capture of a TO_CAPTURE transaction: what remains is captured."""
    try:
        target = next_status(status, Event.CAPTURE)
    except TransitionRefused:
        raise OperationRefused("24", None, f"CAPTURE is not allowed from {status.value}") from None
    captured = amounts.authorised - amounts.cancelled
    return Outcome(target, replace(amounts, captured=captured), captured, target.value)


def expire(status: Status, amounts: Amounts) -> Outcome:
    """The batch's expiry of a TO_VALIDATE transaction whose validation limit has passed."""
    try:
        target = next_status(status, Event.EXPIRE)
    except TransitionRefused:
        raise OperationRefused("24", None, f"EXPIRE is not allowed from {status.value}") from None
    return Outcome(target, amounts, remaining(status, amounts), target.value)

