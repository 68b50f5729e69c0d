"""Helpers of the life-of-a-transaction tests: raw sealed calls of every family."""

from __future__ import annotations

from typing import Any

import httpx

from sogenactif.protocol.catalogue import BY_NAME
from sogenactif.protocol.seal import verify_seal
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database
from tests.support import SAMPLE_SHOP, card_order_fields, reference, sealed_request

VALIDATION_CARD = "4100000000000000"
CHALLENGE_CARD = "4100000100000000"  # 8th digit 1: fraud score ORANGE -> TO_CHALLENGE
REFUSED_CARD = "4100000000000005"  # ending 05: refused


def call(url: str, service: str, fields: dict[str, Any],
         shop: tuple[str, str, int] = SAMPLE_SHOP) -> dict[str, Any]:
    """POST a sealed request to a server's service; checks the answer's seal."""
    svc = BY_NAME[service]
    body = sealed_request(fields, shop, interface_version=svc.family.latest_interface_version)
    response = httpx.post(url + svc.path, json=body, timeout=60)
    assert response.status_code == 200, response.text
    answer = dict(response.json())
    assert verify_seal(answer, shop[1]), answer
    assert set(answer) <= set(svc.response_fields), set(answer) - set(svc.response_fields)
    return answer


def order(url: str, amount: int = 2500, mode: str = "AUTHOR_CAPTURE", day: int = 0,
          card: str = VALIDATION_CARD, shop: tuple[str, str, int] = SAMPLE_SHOP,
          **extra: Any) -> str:
    """A cardOrder; returns its transactionReference."""
    ref = reference("L")
    answer = call(url, "cardOrder", card_order_fields(
        amount=str(amount), captureMode=mode, captureDay=str(day), cardNumber=card,
        transactionReference=ref, **extra), shop)
    assert answer["transactionReference"] == ref
    return ref


def cash(url: str, service: str, ref: str, amount: int | None = None,
         currency: str = "978", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"transactionReference": ref, **extra}
    if amount is not None:
        fields["operationAmount"] = str(amount)
        fields["currencyCode"] = currency
    return call(url, service, fields)


def data(url: str, ref: str) -> dict[str, Any]:
    return call(url, "getTransactionData", {"transactionReference": ref})


def force_status(database_url: str, ref: str, status: str,
                 merchant_id: str = SAMPLE_SHOP[0]) -> None:
    """Put a transaction in a status no HTTP service of this issue reaches (PENDING and
    ABORTED come with the 3-D Secure redirections)."""
    db = Database(database_url)
    try:
        with db.write() as conn:
            row = repo.get_transaction(conn, merchant_id, ref, for_update=True)
            assert row is not None
            repo.update_transaction(conn, row.id, {"status": status})
    finally:
        db.dispose()
