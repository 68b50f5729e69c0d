"""External providers (spec §7): paymentProviderInitialize and paymentProviderFinalize.

Initialize creates the transaction PENDING and answers the provider page's URL
(server/pages/provider.py) with signed redirectionData; the page records what the shopper
chose on the transaction and POSTs the shopper back to merchantReturnUrl; Finalize reads that
outcome and ends the transaction (00 accepted, 05 declined, 17 cancelled; 60 while the shopper
has not chosen yet; 97 once the deadline has passed).
"""

from __future__ import annotations

import json
from typing import Any

from sogenactif.server.domain.authentication import (
    PROVIDER_CODES,
    PROVIDER_MESSAGE_VERSION,
    ProviderOutcome,
)
from sogenactif.server.domain.lifecycle import Event, Status, next_status
from sogenactif.server.operations import orders
from sogenactif.server.operations import redirections as rd
from sogenactif.server.operations.base import OfficeRequest
from sogenactif.server.operations.orders import check_terms, transaction_values
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo


def provider_url(rt: Runtime) -> str:
    return rt.settings.public_url.rstrip("/") + "/provider"


def payment_provider_initialize(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """Create the PENDING transaction and answer where to send the shopper."""
    terms = check_terms(req)
    brand = (req.text("paymentMeanBrand") or "").upper()
    values = transaction_values(rt, req, terms, pan=None, expiry=None, brand=brand,
                                decision=None,
                                status=next_status(None, Event.START_REDIRECTION))
    nonce = rd.new_nonce()
    state = {"kind": rd.KIND_PROVIDER, "nonce": nonce,
             "messageVersion": PROVIDER_MESSAGE_VERSION,
             "returnUrl": req.text("merchantReturnUrl")}
    values.update({"redirection_state": json.dumps(state, sort_keys=True),
                   "redirection_expires_at": rd.deadline(rt, req.now)})
    rd.insert_pending(rt, values)
    reference = values["transaction_reference"]
    return {
        "responseCode": "00",
        "redirectionUrl": provider_url(rt),
        "redirectionData": rd.redirection_data(rt.vault, req.merchant_id, reference, nonce,
                                               rd.KIND_PROVIDER),
        "messageVersion": PROVIDER_MESSAGE_VERSION,
        "transactionReference": reference,
    }


def payment_provider_finalize(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """End the provider payment with what the shopper chose on the provider's page."""
    with rt.db.write() as conn:
        row, state = rd.load_session(rt, conn, req, rd.KIND_PROVIDER)
        ended = rd.end_if_closed(conn, row, req.now)
        if ended is not None:
            return ended
        outcome = state.get("outcome")
        if outcome is None:
            return {"responseCode": "60", "transactionReference": row.transaction_reference}
        code, acquirer_code = PROVIDER_CODES[ProviderOutcome(outcome)]
        return orders.settle_pending(rt, conn, req, row, response_code=code,
                                     acquirer_response_code=acquirer_code)


def record_provider_outcome(rt: Runtime, merchant_id: str, reference: str, nonce: str,
                            outcome: ProviderOutcome) -> tuple[str, dict[str, Any] | None]:
    """The provider page's write: the shopper's choice, once, while the transaction is
    PENDING and in time. Returns ("ok" | "expired" | "closed", the state)."""
    with rt.db.write() as conn:
        row = repo.get_transaction(conn, merchant_id, reference, for_update=True)
        if row is None:
            return "closed", None
        state = rd.state_of(row)
        if state.get("nonce") != nonce or row.status != Status.PENDING.value:
            return "closed", state
        if rd.expired(row, rt.clock.now()):
            return "expired", state
        if state.get("outcome") is None:  # a second click keeps the first choice
            state["outcome"] = outcome.value
            repo.update_transaction(conn, row.id, {
                "redirection_state": json.dumps(state, sort_keys=True),
                "updated_at": rt.clock.now()})
        return "ok", state


OPERATIONS = {
    "paymentProviderInitialize": payment_provider_initialize,
    "paymentProviderFinalize": payment_provider_finalize,
}
