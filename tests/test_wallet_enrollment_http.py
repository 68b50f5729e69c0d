"""walletCheckEnrollment: a stored card through the 3-D Secure flow, recurring series included."""

from __future__ import annotations

import secrets

from sogenactif import Client
from tests.redirection_support import CHALLENGE, FRICTIONLESS, TERM_URL, acs, validate_and_order
from tests.support import future_expiry, reference


def _wallet_with(client: Client, card: str) -> tuple[str, str]:
    wallet = f"W{secrets.token_hex(6)}"
    added = client.add_card(merchant_wallet_id=wallet, card_number=card,
                            card_expiry_date=future_expiry())
    assert added.ok, added.raw
    assert added.payment_mean_id
    return wallet, added.payment_mean_id


def _enrol(client: Client, wallet: str, mean: str, pattern: str):  # type: ignore[no-untyped-def]
    return client.wallet_check_enrollment(
        amount=1999, currency_code="978", transaction_reference=reference("WE"),
        merchant_wallet_id=wallet, payment_mean_id=mean, merchant_return_url=TERM_URL,
        payment_pattern=pattern)


def test_wallet_card_challenge_then_recurring_series(client: Client) -> None:
    wallet, mean = _wallet_with(client, CHALLENGE)
    # RECURRING_N before any RECURRING_1 is refused, nothing recorded
    refused = _enrol(client, wallet, mean, "RECURRING_N")
    assert (refused.response_code, refused.error_field_name) == ("12", "paymentPattern")

    first = _enrol(client, wallet, mean, "RECURRING_1")
    assert first.ok and first.redirection_status_code == "00"
    assert first.redirection_url and first.pa_req_message
    assert first.masked_pan == "410000######0000"
    result = acs(first, "success")
    order = validate_and_order(client, first, result.pares)
    assert order.ok and order.holder_authent_status == "SUCCESS"
    assert order.payment_pattern == "RECURRING_1"

    # the series has started: RECURRING_N is now allowed, by walletOrder too
    later = client.wallet_order(amount=1999, currency_code="978",
                                transaction_reference=reference("WR"), merchant_wallet_id=wallet,
                                payment_mean_id=mean, payment_pattern="RECURRING_N")
    assert later.ok, later.raw


def test_refused_authentication_does_not_start_the_series(client: Client) -> None:
    wallet, mean = _wallet_with(client, CHALLENGE)
    first = _enrol(client, wallet, mean, "RECURRING_1")
    result = acs(first, "failure")
    order = validate_and_order(client, first, result.pares)
    assert order.response_code == "05"
    assert _enrol(client, wallet, mean, "RECURRING_N").response_code == "12"


def test_frictionless_wallet_card_and_unknown_wallet(client: Client) -> None:
    wallet, mean = _wallet_with(client, FRICTIONLESS)
    first = _enrol(client, wallet, mean, "ONE_SHOT")
    assert first.ok and first.redirection_status_code == "00"
    order = validate_and_order(client, first, acs(first).pares)
    assert order.ok and order.masked_pan == "410000######0000"
    unknown = _enrol(client, "nobody", mean, "ONE_SHOT")
    assert (unknown.response_code, unknown.error_field_name) == ("25", "merchantWalletId")
