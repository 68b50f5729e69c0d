"""Wallet decisions (docs/wallets.md): pure, no SQL, no HTTP.

The codes are what the wallet services answer in ``walletResponseCode`` and what walletOrder
answers in ``responseCode``; the choice of each is documented in docs/wallets.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from sogenactif.server.domain.cards import expired, luhn_ok

#: The highest paymentMeanId (the field is N..6).
MAX_PAYMENT_MEAN_ID = 999_999


class WalletCode(StrEnum):
    """The outcomes a wallet decision may give (our choice of codes, docs/wallets.md)."""

    DONE = "00"
    INCONSISTENT = "12"  # a request that asks for nothing, or for a brand the card has not
    INVALID_CARD = "14"  # the card number fails the Luhn check (and is no test card)
    UNKNOWN = "25"  # no such wallet, or no such card in it (another merchant's looks the same)
    EXPIRED_CARD = "54"  # addCard / updatePaymentMean with an expiry date already past
    DUPLICATE_CARD = "94"  # the same card number is already in this wallet


class Pattern(StrEnum):
    """paymentPattern values (spec §4)."""

    ONE_SHOT = "ONE_SHOT"
    RECURRING_1 = "RECURRING_1"
    RECURRING_N = "RECURRING_N"
    INSTALMENT = "INSTALMENT"


#: A RECURRING_N payment on a card whose recurring series never started (walletOrder).
RECURRING_NOT_STARTED = "12"


def card_problem(pan: str, expiry: str, today: date, *, test_card: bool) -> WalletCode | None:
    """Why a card may not be stored: 14 for a wrong number, 54 when already expired."""
    if not test_card and not luhn_ok(pan):
        return WalletCode.INVALID_CARD
    if expired(expiry, today):
        return WalletCode.EXPIRED_CARD
    return None


def expiry_problem(expiry: str, today: date) -> WalletCode | None:
    """A new expiry date for a stored card must not be past (54)."""
    return WalletCode.EXPIRED_CARD if expired(expiry, today) else None


def brand_choice(card_brand: str, asked: str | None) -> str | None:
    """The brand to store: the card's, or one of a co-badged card's brands the merchant chose.

    ``CB+VISA`` may be stored as ``CB+VISA``, ``CB`` or ``VISA``; any other brand is refused
    (None).
    """
    if asked is None or asked == card_brand:
        return card_brand
    return asked if asked in card_brand.split("+") else None


def next_payment_mean_id(used: Iterable[str]) -> str | None:
    """The next paymentMeanId of a wallet: one more than any it ever had (deleted ones
    included, so an id is never given to another card); None once N..6 is exhausted."""
    highest = max((int(value) for value in used), default=0)
    if highest >= MAX_PAYMENT_MEAN_ID:
        return None
    return str(highest + 1)


def pattern_of(value: str | None) -> Pattern:
    """The request's paymentPattern; ONE_SHOT when absent (our choice)."""
    return Pattern(value) if value else Pattern.ONE_SHOT


def pattern_problem(pattern: Pattern, recurring_started: bool) -> str | None:
    """RECURRING_N needs an accepted RECURRING_1 on the same card first (12, our choice)."""
    if pattern is Pattern.RECURRING_N and not recurring_started:
        return RECURRING_NOT_STARTED
    return None


def starts_recurring(pattern: Pattern, accepted: bool, recurring_started: bool) -> bool:
    """An accepted RECURRING_1 opens the card's recurring series (once)."""
    return pattern is Pattern.RECURRING_1 and accepted and not recurring_started
