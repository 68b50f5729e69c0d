"""The life of a transaction as a table (spec §6), read by operations, batches and back office.

Each row says: this event is allowed from these statuses and leads there. Amount rules
(what may be validated, cancelled or refunded) live in ``amounts`` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A transaction's status."""

    PENDING = "PENDING"  # a 3-D Secure or provider redirection is under way (our choice)
    TO_VALIDATE = "TO_VALIDATE"
    TO_CAPTURE = "TO_CAPTURE"
    CAPTURED = "CAPTURED"
    REFUSED = "REFUSED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    TO_CHALLENGE = "TO_CHALLENGE"
    ABORTED = "ABORTED"


class CreditStatus(StrEnum):
    """A refund's credit operation, remitted by the next batch."""

    TO_CREDIT = "TO_CREDIT"
    CREDITED = "CREDITED"


class Event(StrEnum):
    """What can happen to a transaction."""

    ACCEPT_AUTHOR_CAPTURE = "ACCEPT_AUTHOR_CAPTURE"
    ACCEPT_VALIDATION = "ACCEPT_VALIDATION"
    ACCEPT_IMMEDIATE = "ACCEPT_IMMEDIATE"
    REFUSE = "REFUSE"
    CHALLENGE = "CHALLENGE"
    START_REDIRECTION = "START_REDIRECTION"
    ABORT_REDIRECTION = "ABORT_REDIRECTION"
    VALIDATE = "VALIDATE"
    CANCEL = "CANCEL"
    REFUND = "REFUND"
    CAPTURE = "CAPTURE"
    EXPIRE = "EXPIRE"
    ACCEPT_CHALLENGE = "ACCEPT_CHALLENGE"
    REFUSE_CHALLENGE = "REFUSE_CHALLENGE"


NEW = None  # the source of events that create a transaction


@dataclass(frozen=True)
class Transition:
    """One row of the table. ``target`` None keeps the status; ``when_emptied`` is the status
    once nothing remains (a full cancel)."""

    event: Event
    sources: frozenset[Status | None]
    target: Status | None
    when_emptied: Status | None = None


def _t(event: Event, sources: tuple[Status | None, ...], target: Status | None,
       when_emptied: Status | None = None) -> Transition:
    return Transition(event, frozenset(sources), target, when_emptied)


S = Status
TRANSITIONS: tuple[Transition, ...] = (
    _t(Event.ACCEPT_AUTHOR_CAPTURE, (NEW, S.PENDING), S.TO_CAPTURE),
    _t(Event.ACCEPT_VALIDATION, (NEW, S.PENDING), S.TO_VALIDATE),
    _t(Event.ACCEPT_IMMEDIATE, (NEW, S.PENDING), S.CAPTURED),
    _t(Event.REFUSE, (NEW, S.PENDING), S.REFUSED),
    _t(Event.CHALLENGE, (NEW, S.PENDING), S.TO_CHALLENGE),
    _t(Event.START_REDIRECTION, (NEW,), S.PENDING),
    _t(Event.ABORT_REDIRECTION, (S.PENDING,), S.ABORTED),
    _t(Event.VALIDATE, (S.TO_VALIDATE,), S.TO_CAPTURE),
    _t(Event.CANCEL, (S.TO_VALIDATE, S.TO_CAPTURE), None, S.CANCELLED),
    _t(Event.REFUND, (S.CAPTURED,), None),
    _t(Event.CAPTURE, (S.TO_CAPTURE,), S.CAPTURED),
    _t(Event.EXPIRE, (S.TO_VALIDATE,), S.EXPIRED),
    # An accepted challenge resumes the life its capture mode gives; the operation says which.
    _t(Event.ACCEPT_CHALLENGE, (S.TO_CHALLENGE,), None),
    _t(Event.REFUSE_CHALLENGE, (S.TO_CHALLENGE,), S.REFUSED),
)

_BY_EVENT: dict[Event, Transition] = {t.event: t for t in TRANSITIONS}

#: The event an accepted authorisation raises, by captureMode.
ACCEPT_EVENT_BY_CAPTURE_MODE: dict[str, Event] = {
    "AUTHOR_CAPTURE": Event.ACCEPT_AUTHOR_CAPTURE,
    "VALIDATION": Event.ACCEPT_VALIDATION,
    "IMMEDIATE": Event.ACCEPT_IMMEDIATE,
}


class TransitionRefused(Exception):
    """The event is not allowed from the transaction's status (answers 24)."""


def transition(event: Event) -> Transition:
    return _BY_EVENT[event]


def allowed(status: Status | None, event: Event) -> bool:
    """Whether the table allows the event from this status."""
    return status in _BY_EVENT[event].sources


def next_status(status: Status | None, event: Event, *, emptied: bool = False) -> Status:
    """The status after the event; raises TransitionRefused when the table forbids it."""
    row = _BY_EVENT[event]
    if status not in row.sources:
        raise TransitionRefused(f"{event.value} is not allowed from {status}")
    if emptied and row.when_emptied is not None:
        return row.when_emptied
    if row.target is None:
        if status is None:
            raise TransitionRefused(f"{event.value} needs an existing transaction")
        return status
    return row.target


def events_from(status: Status) -> tuple[Event, ...]:
    """The events the table allows from a status (the back office's action buttons)."""
    return tuple(t.event for t in TRANSITIONS if status in t.sources)
