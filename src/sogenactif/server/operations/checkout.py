"""checkout: the services that take a payment."""

from __future__ import annotations

from typing import Any

from sogenactif.server.operations.base import OfficeRequest
from sogenactif.server.operations.orders import authorise_card, check_terms
from sogenactif.server.runtime import Runtime


def card_order(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """cardOrder: an authorisation with the card data, no 3-D Secure redirection."""
    terms = check_terms(req)
    pan = req.text("cardNumber") or ""
    expiry = req.text("cardExpiryDate") or ""
    return authorise_card(rt, req, terms, pan=pan, expiry=expiry,
                          csc=req.text("cardCSCValue"),
                          extra={"holder_authent_status": None})


OPERATIONS = {"cardOrder": card_order}
