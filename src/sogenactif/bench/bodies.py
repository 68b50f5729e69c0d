"""Sealed requests generated ahead of time, each with its own transactionReference."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import orjson

from sogenactif.protocol.seal import compute_seal
from sogenactif.server.store.seed import TEST_SHOPS

#: The guide's sample shop (seeded in test mode): merchantId, secret key, keyVersion.
SHOP = next(s for s in TEST_SHOPS if s.merchant_id == "011223344550000")
CARD_ORDER_PATH = "/rs-services/v2/checkout/cardOrder"
CEILING_PATH = "/bench/ceiling"
#: What every good answer of the run contains (cardOrder accepted, ceiling answered).
EXPECTED = '"responseCode":"00"'


def run_prefix() -> str:
    """A prefix no other run uses, so references never collide with a previous run's."""
    return "B" + secrets.token_hex(5)


def card_order_body(reference: str, expiry: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "interfaceVersion": "IR_WS_2.55", "merchantId": SHOP.merchant_id,
        "keyVersion": str(SHOP.key_version), "amount": "2500", "currencyCode": "978",
        "transactionReference": reference, "cardNumber": "4100000000000000",
        "cardExpiryDate": expiry, "cardCSCValue": "123", "orderChannel": "INTERNET",
        "captureMode": "AUTHOR_CAPTURE", "captureDay": "0", "orderId": "ORD101",
        "customerId": "bench", "returnContext": "bench", "transactionOrigin": "SO_WEBAPPLI",
    }
    body["seal"] = compute_seal(body, SHOP.secret_key)
    return body


def card_order_bodies(count: int, prefix: str) -> list[bytes]:
    """``count`` sealed cardOrder bodies (one JSON document each, no newline inside)."""
    today = date.today()
    expiry = f"{today.year + 3}{today.month:02d}"
    return [orjson.dumps(card_order_body(f"{prefix}{i:08d}", expiry)) for i in range(count)]
