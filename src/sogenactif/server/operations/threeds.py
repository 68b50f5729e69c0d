"""3-D Secure through Office (spec §7): cardCheckEnrollment, cardValidateAuthentication,
cardValidateAuthenticationAndOrder.

cardCheckEnrollment creates the transaction PENDING (START_REDIRECTION) with the card
encrypted and a deadline; the ACS page (server/pages/acs.py) signs the shopper's result into
the PaRes; the validate calls check the PaRes (signed by this server, for this transaction,
used once), then record the authentication and, for ...AndOrder, authorise the stored card.
"""

from __future__ import annotations

import json
from typing import Any

from sogenactif.server.domain.authentication import (
    REDIRECTION_STATUS,
    THREEDS_MESSAGE_VERSION,
    AuthenticationResult,
    Enrolment,
    result_without_pares,
)
from sogenactif.server.domain.cards import mask_pan
from sogenactif.server.domain.lifecycle import Event, next_status
from sogenactif.server.operations import orders
from sogenactif.server.operations import redirections as rd
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.operations.orders import OrderTerms, check_terms, transaction_values
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import pan_purpose


def acs_url(rt: Runtime) -> str:
    return rt.settings.public_url.rstrip("/") + "/acs"


def csc_result(rt: Runtime, csc: str | None) -> str:
    """cardCSCResultCode decided when the CSC is given (it is never stored): 53 missing,
    4E one of the table's incorrect values, else 4D."""
    if not csc:
        return "53"
    return "4E" if csc in rt.acquirer.table.incorrect_csc else "4D"


def start_enrollment(rt: Runtime, req: OfficeRequest, terms: OrderTerms, *, pan: str,
                     expiry: str, csc: str | None,
                     extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The core of cardCheckEnrollment (and walletCheckEnrollment, which gives the wallet's
    card and its columns in ``extra``): a PENDING transaction and the redirection answer."""
    profile = rt.acquirer.profile(pan)
    enrolment = Enrolment.parse(profile.enrolment)
    status = next_status(None, Event.START_REDIRECTION)
    values = transaction_values(rt, req, terms, pan=pan, expiry=expiry, brand=profile.brand,
                                decision=None, status=status)
    nonce = rd.new_nonce()
    state = {"kind": rd.KIND_3DS, "nonce": nonce, "enrolment": enrolment.value,
             "messageVersion": THREEDS_MESSAGE_VERSION,
             "returnUrl": req.text("merchantReturnUrl")}
    values.update({
        "card_csc_result_code": csc_result(rt, csc),
        "redirection_state": json.dumps(state, sort_keys=True),
        "redirection_expires_at": rd.deadline(rt, req.now),
    })
    if extra:
        values.update(extra)
    rd.insert_pending(rt, values)
    reference = values["transaction_reference"]
    redirection = REDIRECTION_STATUS[enrolment]
    answer: dict[str, Any] = {
        "responseCode": "00",
        "redirectionStatusCode": redirection.code,
        "redirectionStatusMessage": redirection.message,
        "redirectionData": rd.redirection_data(rt.vault, req.merchant_id, reference, nonce,
                                               rd.KIND_3DS),
        "messageVersion": THREEDS_MESSAGE_VERSION,
        "maskedPan": mask_pan(pan),
        "transactionReference": reference,
    }
    if redirection.redirect:
        answer["redirectionUrl"] = acs_url(rt)
        answer["paReqMessage"] = rd.sign(rt.vault, rd.PAREQ, {
            "m": req.merchant_id, "r": reference, "n": nonce, "e": enrolment.value})
    return answer


def card_check_enrollment(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """cardCheckEnrollment: create the transaction and check the card's enrolment."""
    terms = check_terms(req)
    return start_enrollment(rt, req, terms, pan=req.text("cardNumber") or "",
                            expiry=req.text("cardExpiryDate") or "",
                            csc=req.text("cardCSCValue"))


def _pares_result(rt: Runtime, conn: Any, req: OfficeRequest, row: Any,
                  state: dict[str, Any], pares: str) -> AuthenticationResult:
    """The result a PaRes carries: 34 unless this server signed it, for this transaction's
    redirection, and it was never used before (it is marked used here)."""
    payload = rd.verify(rt.vault, rd.PARES, pares)
    if payload is None or not rd.fits(payload, row, state):
        raise Refusal("34", "paResMessage")
    token_id = str(payload.get("j", ""))
    if not token_id or not repo.use_token(conn, "pares:" + token_id, req.now):
        raise Refusal("34", "paResMessage")
    return AuthenticationResult(str(payload["s"]), payload.get("h"), payload.get("p"),
                                str(payload["g"]))


def _stored_result(state: dict[str, Any]) -> AuthenticationResult | None:
    stored = state.get("authentication")
    if not isinstance(stored, dict):
        return None
    return AuthenticationResult(stored["status"], stored.get("method"), stored.get("program"),
                                stored["guarantee"])


def _validate(rt: Runtime, req: OfficeRequest, *, and_order: bool) -> dict[str, Any]:
    with rt.db.write() as conn:
        row, state = rd.load_session(rt, conn, req, rd.KIND_3DS)
        pares = req.text("paResMessage")
        from_pares = _pares_result(rt, conn, req, row, state, pares) if pares else None
        ended = rd.end_if_closed(conn, row, req.now)
        if ended is not None:
            return ended
        result = (from_pares or _stored_result(state)
                  or result_without_pares(Enrolment.parse(str(state.get("enrolment")))))
        if result is None:
            raise Refusal("12", "paResMessage")
        if not result.may_authorise:
            refused = orders.settle_pending(rt, conn, req, row,
                                            response_code=result.refusal_code,
                                            acquirer_response_code=None,
                                            extra=result.columns())
            if not and_order:
                refused = {"responseCode": refused["responseCode"],
                           "transactionReference": row.transaction_reference}
            return {**refused, **result.answer()}
        if not and_order:
            state["authentication"] = {"status": result.status, "method": result.method,
                                       "program": result.program,
                                       "guarantee": result.guarantee}
            repo.update_transaction(conn, row.id, {
                **result.columns(), "redirection_state": json.dumps(state, sort_keys=True),
                "updated_at": req.now})
            return {"responseCode": "00", "transactionReference": row.transaction_reference,
                    **result.answer()}
        pan = rt.vault.decrypt(row.pan_enc, pan_purpose(row.merchant_id))
        answer = orders.authorise_pending(rt, conn, req, row, pan=pan,
                                          expiry=row.pan_expiry_date, extra=result.columns())
        return {**answer, **result.answer()}


def card_validate_authentication(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """cardValidateAuthentication: check the result only; the transaction stays PENDING
    (until its deadline) for a later cardValidateAuthenticationAndOrder, which then needs no
    PaRes. A failed or cancelled authentication ends it REFUSED (05, 17)."""
    return _validate(rt, req, and_order=False)


def card_validate_authentication_and_order(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """cardValidateAuthenticationAndOrder: check the result and authorise the stored card."""
    return _validate(rt, req, and_order=True)


OPERATIONS = {
    "cardCheckEnrollment": card_check_enrollment,
    "cardValidateAuthentication": card_validate_authentication,
    "cardValidateAuthenticationAndOrder": card_validate_authentication_and_order,
}
