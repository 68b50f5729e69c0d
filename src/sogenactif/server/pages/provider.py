"""The simulated external payment provider at paymentProviderInitialize's redirectionUrl.

POST /provider takes message_version and redirection_data (spec §7) and shows approve /
decline / cancel; POST /provider/decision records the choice on the transaction and sends the
shopper back to merchantReturnUrl with messageVersion, redirectionData and
transactionReference (our choice), auto-submitted, with a visible button without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sogenactif.server.domain.authentication import ProviderOutcome
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.domain.money import format_amount
from sogenactif.server.operations import redirections as rd
from sogenactif.server.operations.provider import record_provider_outcome
from sogenactif.server.pages import error_page, form_text, post_back, render
from sogenactif.server.runtime import Runtime

DECISIONS = {"approve": ProviderOutcome.APPROVED, "decline": ProviderOutcome.DECLINED,
             "cancel": ProviderOutcome.CANCELLED}


@dataclass(frozen=True)
class ProviderSession:
    row: Any
    state: dict[str, Any]
    shop_name: str
    message_version: str
    redirection_data: str
    #: Read in the worker thread: the sandbox clock may read the database.
    now: datetime


def _check(rt: Runtime, form: Any) -> ProviderSession | HTMLResponse:
    data = form_text(form, "redirection_data") or ""
    payload = rd.verify(rt.vault, rd.REDIRECTION_DATA, data)
    if payload is None or payload.get("k") != rd.KIND_PROVIDER:
        return error_page("Invalid redirection_data", "This redirection_data was not issued "
                          "by this server for a provider payment. Send the redirectionData "
                          "of paymentProviderInitialize unchanged.")
    found = rd.find_for_page(rt, payload)
    if found is None:
        return error_page("Invalid redirection_data", "No provider payment in progress "
                          "matches this redirection_data.")
    row, shop_name, state = found
    version = form_text(form, "message_version") or ""
    if version != state.get("messageVersion"):
        return error_page("Invalid message_version", "message_version must be the "
                          "messageVersion of paymentProviderInitialize.")
    if row.status != Status.PENDING.value:
        return error_page("Payment finished", "This payment is already finished.", 409)
    return ProviderSession(row, state, shop_name, version, data, rt.clock.now())


def _back_to_merchant(session: ProviderSession, state: dict[str, Any]) -> HTMLResponse:
    return post_back(state["returnUrl"], [
        ("messageVersion", session.message_version),
        ("redirectionData", session.redirection_data),
        ("transactionReference", session.row.transaction_reference)], title="Back to the shop")


def routes(rt: Runtime) -> list[Route]:
    async def start(request: Request) -> Response:
        form = await request.form()
        checked = await run_in_threadpool(_check, rt, form)
        if isinstance(checked, HTMLResponse):
            return checked
        row = checked.row
        if rd.expired(row, checked.now):
            return _back_to_merchant(checked, checked.state)  # finalize will answer 97
        return render("provider.html", title=f"{row.payment_mean_brand} payment",
                      action=rt.settings.public_url.rstrip("/") + "/provider/decision",
                      brand=row.payment_mean_brand or "Provider", shop_name=checked.shop_name,
                      amount=format_amount(row.amount, row.currency_code),
                      reference=row.transaction_reference,
                      message_version=checked.message_version,
                      redirection_data=checked.redirection_data)

    async def decision(request: Request) -> Response:
        form = await request.form()
        checked = await run_in_threadpool(_check, rt, form)
        if isinstance(checked, HTMLResponse):
            return checked
        outcome = DECISIONS.get(form_text(form, "decision") or "")
        if outcome is None:
            return error_page("Invalid decision", "Choose approve, decline or cancel.")
        row = checked.row
        result, state = await run_in_threadpool(
            record_provider_outcome, rt, row.merchant_id, row.transaction_reference,
            checked.state["nonce"], outcome)
        if result == "closed" or state is None:
            return error_page("Payment finished", "This payment is already finished.", 409)
        return _back_to_merchant(checked, state)

    async def usage(request: Request) -> Response:
        return render("usage.html", kind="provider", title="External payment provider",
                      fields=["message_version", "redirection_data"])

    return [
        Route("/provider", start, methods=["POST"]),
        Route("/provider", usage, methods=["GET"]),
        Route("/provider/decision", decision, methods=["POST"]),
    ]
