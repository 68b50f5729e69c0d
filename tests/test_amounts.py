"""The amount rules and the lifecycle table, without HTTP or database (domain/amounts.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sogenactif.server.domain import amounts as rules
from sogenactif.server.domain.amounts import Amounts, OperationRefused
from sogenactif.server.domain.clock import batch_due_date, parse_cutoff
from sogenactif.server.domain.lifecycle import Event, Status, events_from

TODAY = date(2026, 11, 29)


def refused(code: str, call, *args, **kwargs) -> OperationRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationRefused) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


def test_validate_partial_releases_the_rest() -> None:
    out = rules.validate(Status.TO_VALIDATE, Amounts(2500), 1000, today=TODAY, limit=TODAY)
    assert out.status is Status.TO_CAPTURE
    assert out.new_amount == 1000 and out.amounts.cancelled == 1500
    assert out.operation_amount == 1000 and out.operation_status == "TO_CAPTURE"


def test_validate_after_the_limit_is_24() -> None:
    refused("24", rules.validate, Status.TO_VALIDATE, Amounts(2500), 100,
            today=date(2026, 11, 30), limit=TODAY)


def test_validate_more_than_remaining_is_24_and_zero_is_12() -> None:
    refused("24", rules.validate, Status.TO_VALIDATE, Amounts(2500, cancelled=2000), 501,
            today=TODAY, limit=None)
    error = refused("12", rules.validate, Status.TO_VALIDATE, Amounts(2500), 0,
                    today=TODAY, limit=None)
    assert error.field == "operationAmount"


def test_cancel_partial_then_full() -> None:
    first = rules.cancel(Status.TO_CAPTURE, Amounts(2500), 1000)
    assert first.status is Status.TO_CAPTURE and first.new_amount == 1500
    last = rules.cancel(first.status, first.amounts, 1500)
    assert last.status is Status.CANCELLED and last.new_amount == 0
    refused("24", rules.cancel, last.status, last.amounts, 1)


def test_refund_is_cumulative_and_bounded_by_the_capture() -> None:
    state = Amounts(2500, captured=2500)
    out = rules.refund(Status.CAPTURED, state, 2000)
    assert out.operation_status == "TO_CREDIT" and out.new_amount == 500
    refused("24", rules.refund, out.status, out.amounts, 501)
    assert rules.refund(out.status, out.amounts, 500).new_amount == 0


def test_challenge_resumes_the_capture_mode() -> None:
    assert rules.accept_challenge(Status.TO_CHALLENGE, Amounts(900), "VALIDATION").status \
        is Status.TO_VALIDATE
    assert rules.accept_challenge(Status.TO_CHALLENGE, Amounts(900), "AUTHOR_CAPTURE").status \
        is Status.TO_CAPTURE
    immediate = rules.accept_challenge(Status.TO_CHALLENGE, Amounts(900), "IMMEDIATE")
    assert immediate.status is Status.CAPTURED and immediate.amounts.captured == 900
    out = rules.refuse_challenge(Status.TO_CHALLENGE, Amounts(900))
    assert out.status is Status.REFUSED and out.new_amount == 0


def test_aborted_answers_97_everything_else_24() -> None:
    for status in Status:
        for call in (lambda s: rules.cancel(s, Amounts(100), 10),
                     lambda s: rules.refund(s, Amounts(100, captured=100), 10),
                     lambda s: rules.validate(s, Amounts(100), 10, today=TODAY, limit=None),
                     lambda s: rules.accept_challenge(s, Amounts(100), "AUTHOR_CAPTURE"),
                     lambda s: rules.refuse_challenge(s, Amounts(100))):
            try:
                call(status)
            except OperationRefused as error:
                assert error.code == ("97" if status is Status.ABORTED else "24")


def test_batch_capture_and_expiry_follow_the_table() -> None:
    out = rules.capture(Status.TO_CAPTURE, Amounts(2500, cancelled=500))
    assert out.status is Status.CAPTURED and out.amounts.captured == 2000
    assert rules.expire(Status.TO_VALIDATE, Amounts(100)).status is Status.EXPIRED
    refused("24", rules.capture, Status.CANCELLED, Amounts(100))
    refused("24", rules.expire, Status.TO_CAPTURE, Amounts(100))


def test_table_events_from_each_status() -> None:
    assert set(events_from(Status.TO_VALIDATE)) == {Event.VALIDATE, Event.CANCEL, Event.EXPIRE}
    assert set(events_from(Status.TO_CAPTURE)) == {Event.CANCEL, Event.CAPTURE}
    assert set(events_from(Status.CAPTURED)) == {Event.REFUND}
    assert set(events_from(Status.TO_CHALLENGE)) == {Event.ACCEPT_CHALLENGE,
                                                    Event.REFUSE_CHALLENGE}
    for closed in (Status.REFUSED, Status.CANCELLED, Status.EXPIRED, Status.ABORTED):
        assert events_from(closed) == ()


def test_batch_due_date_and_cutoff() -> None:
    cutoff = parse_cutoff("22:00")
    assert cutoff == time(22, 0)
    # 21:30 UTC in winter is 22:30 in Paris: today's batch is due.
    assert batch_due_date(datetime(2026, 11, 29, 21, 30, tzinfo=UTC), cutoff) == TODAY
    assert batch_due_date(datetime(2026, 11, 29, 20, 30, tzinfo=UTC), cutoff) \
        == date(2026, 11, 28)
    with pytest.raises(ValueError):
        parse_cutoff("late")


# ------------------------------------------------------------------ properties

operations = st.lists(st.tuples(st.sampled_from(["cancel", "refund", "validate", "capture"]),
                                st.integers(min_value=-5, max_value=3000)), max_size=30)


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(
    [Status.TO_VALIDATE, Status.TO_CAPTURE, Status.CAPTURED]), operations)
def test_amounts_never_go_negative_nor_exceed_the_authorisation(
        authorised: int, start: Status, steps: list[tuple[str, int]]) -> None:
    captured = authorised if start is Status.CAPTURED else 0
    status, state = start, Amounts(authorised, captured=captured)
    for name, amount in steps:
        try:
            if name == "cancel":
                out = rules.cancel(status, state, amount)
            elif name == "refund":
                out = rules.refund(status, state, amount)
            elif name == "validate":
                out = rules.validate(status, state, amount, today=TODAY, limit=TODAY)
            else:
                out = rules.capture(status, state)
        except OperationRefused as error:
            assert error.code in ("12", "24")
            continue
        assert out.amounts.authorised == authorised
        status, state = out.status, out.amounts
        left = rules.remaining(status, state)
        assert 0 <= left <= authorised
        assert 0 <= state.refunded <= state.captured <= authorised
        assert state.cancelled + state.captured <= authorised
        if status is Status.CANCELLED:
            assert state.cancelled == authorised
