"""The 3-D Secure and provider decisions (pure domain) and the signed tokens."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from sogenactif.server.domain.authentication import (
    GUARANTEE,
    REDIRECTION_STATUS,
    AcsChoice,
    Enrolment,
    acs_result,
    md_acceptable,
    result_without_pares,
    session_expired,
)
from sogenactif.server.domain.lifecycle import Event, Status, TransitionRefused, next_status
from sogenactif.server.operations import redirections as rd
from sogenactif.server.vault import Vault


def test_redirection_status_codes() -> None:
    assert {e: s.code for e, s in REDIRECTION_STATUS.items()} == {
        Enrolment.CHALLENGE: "00", Enrolment.FRICTIONLESS: "00",
        Enrolment.NOT_ENROLLED: "01", Enrolment.ACS_ERROR: "02"}
    assert Enrolment.parse("whatever") is Enrolment.NOT_ENROLLED


@pytest.mark.parametrize(("choice", "authorise", "guarantee", "refusal"), [
    (AcsChoice.SUCCESS, True, "Y", None),
    (AcsChoice.ATTEMPT, True, "Y", None),
    (AcsChoice.FAILURE, False, "N", "05"),
    (AcsChoice.CANCEL, False, "N", "17"),
    (AcsChoice.ERROR, True, "U", None),
])
def test_acs_results(choice: AcsChoice, authorise: bool, guarantee: str,
                     refusal: str | None) -> None:
    result = acs_result(choice)
    assert result.status == choice.value and result.program == "3DS_V2"
    assert result.may_authorise is authorise and result.guarantee == guarantee
    if refusal:
        assert result.refusal_code == refusal
    assert acs_result(AcsChoice.SUCCESS, frictionless=True).method == "FRICTIONLESS"


def test_results_without_pares() -> None:
    not_enrolled = result_without_pares(Enrolment.NOT_ENROLLED)
    assert not_enrolled and not_enrolled.status == "NOT_ENROLLED" and not_enrolled.guarantee == "N"
    error = result_without_pares(Enrolment.ACS_ERROR)
    assert error and error.status == "ERROR" and error.guarantee == "U"
    assert result_without_pares(Enrolment.CHALLENGE) is None
    assert result_without_pares(Enrolment.FRICTIONLESS) is None
    assert set(GUARANTEE) == {"SUCCESS", "ATTEMPT", "FAILURE", "CANCEL", "NOT_ENROLLED", "ERROR"}


def test_deadline() -> None:
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    deadline = start + timedelta(minutes=15)
    assert not session_expired(deadline, deadline)
    assert session_expired(deadline + timedelta(seconds=1), deadline)
    assert session_expired(deadline + timedelta(seconds=1), deadline.replace(tzinfo=None))
    assert not session_expired(start, None)


def test_table_drives_the_redirection() -> None:
    assert next_status(None, Event.START_REDIRECTION) is Status.PENDING
    assert next_status(Status.PENDING, Event.ABORT_REDIRECTION) is Status.ABORTED
    assert next_status(Status.PENDING, Event.ACCEPT_AUTHOR_CAPTURE) is Status.TO_CAPTURE
    with pytest.raises(TransitionRefused):
        next_status(Status.TO_CAPTURE, Event.ABORT_REDIRECTION)


@pytest.mark.parametrize(("md", "ok"), [
    ("", True), (" ~", True), ("x" * 1024, True), ("x" * 1025, False),
    ("caf\u00e9", False), ("a\nb", False), ("\x7f", False),
])
def test_md_rule(md: str, ok: bool) -> None:
    assert (md_acceptable(md) is None) is ok


def test_tokens_are_bound_to_key_and_purpose() -> None:
    vault = Vault(b"k" * 32)
    token = rd.sign(vault, rd.PARES, {"m": "1", "r": "R", "s": "SUCCESS"})
    assert rd.verify(vault, rd.PARES, token) == {"m": "1", "r": "R", "s": "SUCCESS"}
    assert rd.verify(vault, rd.PAREQ, token) is None  # another purpose
    assert rd.verify(Vault(b"j" * 32), rd.PARES, token) is None  # another master key
    _body, signature = token.split(".")
    other = base64.urlsafe_b64encode(b'{"m":"1","r":"R","s":"FAILURE"}').decode().rstrip("=")
    assert rd.verify(vault, rd.PARES, other + "." + signature) is None
    for junk in ("", "abc", "a.b.c", "%%%.%%%", None):
        assert rd.verify(vault, rd.PARES, junk) is None
