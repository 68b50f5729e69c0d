"""The wallet's pure decisions (server/domain/wallet.py), without server or database."""

from __future__ import annotations

from datetime import date

import pytest

from sogenactif.server.domain.wallet import (
    MAX_PAYMENT_MEAN_ID,
    Pattern,
    WalletCode,
    brand_choice,
    card_problem,
    expiry_problem,
    next_payment_mean_id,
    pattern_of,
    pattern_problem,
    starts_recurring,
)

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(("pan", "expiry", "test_card", "expected"), [
    ("4111111111111111", "202611", False, None),  # valid to the end of its month
    ("4111111111111112", "203001", False, WalletCode.INVALID_CARD),
    ("4100000000000001", "203001", True, None),  # test cards skip the Luhn check
    ("4111111111111111", "202610", False, WalletCode.EXPIRED_CARD),
    ("4111111111111112", "202001", False, WalletCode.INVALID_CARD),  # number checked first
])
def test_card_problem(pan: str, expiry: str, test_card: bool,
                      expected: WalletCode | None) -> None:
    assert card_problem(pan, expiry, TODAY, test_card=test_card) is expected


def test_expiry_problem() -> None:
    assert expiry_problem("202611", TODAY) is None
    assert expiry_problem("202610", TODAY) is WalletCode.EXPIRED_CARD


@pytest.mark.parametrize(("card", "asked", "stored"), [
    ("VISA", None, "VISA"),
    ("VISA", "VISA", "VISA"),
    ("VISA", "MASTERCARD", None),
    ("CB+VISA", "VISA", "VISA"),
    ("CB+VISA", "CB", "CB"),
    ("CB+VISA", "CB+VISA", "CB+VISA"),
    ("CB+VISA", "AMEX", None),
    ("CB+VISA", "CB+", None),
])
def test_brand_choice(card: str, asked: str | None, stored: str | None) -> None:
    assert brand_choice(card, asked) == stored


def test_next_payment_mean_id_never_reuses() -> None:
    assert next_payment_mean_id([]) == "1"
    assert next_payment_mean_id(["1", "2"]) == "3"
    assert next_payment_mean_id(["2", "10", "9"]) == "11"  # numbers, not text order
    assert next_payment_mean_id([str(MAX_PAYMENT_MEAN_ID - 1)]) == str(MAX_PAYMENT_MEAN_ID)
    assert next_payment_mean_id([str(MAX_PAYMENT_MEAN_ID)]) is None


def test_pattern_rules() -> None:
    assert pattern_of(None) is Pattern.ONE_SHOT
    assert pattern_of("RECURRING_N") is Pattern.RECURRING_N
    assert pattern_problem(Pattern.RECURRING_N, recurring_started=False) == "12"
    assert pattern_problem(Pattern.RECURRING_N, recurring_started=True) is None
    for pattern in (Pattern.ONE_SHOT, Pattern.RECURRING_1, Pattern.INSTALMENT):
        assert pattern_problem(pattern, recurring_started=False) is None


@pytest.mark.parametrize(("pattern", "accepted", "started", "starts"), [
    (Pattern.RECURRING_1, True, False, True),
    (Pattern.RECURRING_1, False, False, False),
    (Pattern.RECURRING_1, True, True, False),  # already started: nothing to save
    (Pattern.ONE_SHOT, True, False, False),
    (Pattern.RECURRING_N, True, True, False),
    (Pattern.INSTALMENT, True, False, False),
])
def test_starts_recurring(pattern: Pattern, accepted: bool, started: bool,
                          starts: bool) -> None:
    assert starts_recurring(pattern, accepted, started) is starts
