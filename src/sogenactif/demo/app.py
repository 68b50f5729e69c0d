"""The demo shop: one item, paid by card (cardOrder), with 3-D Secure (cardCheckEnrollment ->
ACS -> TermUrl -> cardValidateAuthenticationAndOrder) or with an external provider
(paymentProviderInitialize -> provider page -> merchantReturnUrl -> paymentProviderFinalize).

It imports nothing from the server: only the connector (Client, forms) and Starlette.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sogenactif.client import AsyncClient, OfficeResponse, forms
from sogenactif.client.errors import OfficeError

ITEM = {"name": "Sogenactif mug", "amount": 2500, "currency": "978", "label": "25.00 EUR"}

#: Test cards offered on the payment page (spec §8: the 7th digit chooses 3-D Secure).
TEST_CARDS = (
    ("4100000000000000", "VISA, 3-D Secure challenge"),
    ("4100001000000000", "VISA, 3-D Secure frictionless"),
    ("4100002000000000", "VISA, not enrolled"),
    ("4100003000000000", "VISA, ACS error"),
    ("4100000000000005", "VISA, challenge, refused by the bank (05)"),
)

#: The answer fields the result page shows.
SHOWN = ("responseCode", "acquirerResponseCode", "authorisationId", "holderAuthentStatus",
         "holderAuthentMethod", "holderAuthentProgram", "guaranteeIndicator",
         "redirectionStatusCode", "maskedPan", "paymentMeanBrand", "amount", "currencyCode",
         "transactionReference", "errorFieldName")

STYLE = """<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;color:#111827}
header{background:#7c2d12;color:#fff;padding:.6rem 1rem;border-radius:6px}
table{border-collapse:collapse}td,th{border:1px solid #d1d5db;padding:.3rem .6rem;text-align:left}
fieldset{margin:1rem 0;border-radius:6px}button{font-size:1rem;padding:.4rem .8rem;margin:.2rem}
.ok{color:#166534;font-weight:700}.ko{color:#991b1b;font-weight:700}
</style>"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                        f"<title>{escape(title)}</title>{STYLE}</head><body>"
                        f"<header>Demo shop · sogenactif connector</header>{body}</body></html>")


def _expiry() -> str:
    today = date.today()
    return f"{today.year + 3}{today.month:02d}"


@dataclass
class Shop:
    """The shop's settings and what it remembers (in memory: it is a demo)."""

    client: AsyncClient
    md_key: bytes | None = None
    results: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def remember(self, flow: str, answer: OfficeResponse, reference: str) -> RedirectResponse:
        self.results[reference] = (flow, dict(answer.raw))
        return RedirectResponse(f"/result/{reference}", status_code=303)


def create_shop(server_url: str, merchant_id: str, secret_key: str,
                key_version: str | int = 1) -> Starlette:
    """The demo shop's ASGI application, talking to the Office Server at ``server_url``."""
    try:
        md_key: bytes | None = forms.new_md_key()
        forms.encode_md("probe", key=md_key)
    except forms.MerchantDataError:  # cryptography missing: MD goes Base64 only
        md_key = None
    shop = Shop(AsyncClient(merchant_id, secret_key, key_version, server_url), md_key)

    async def home(request: Request) -> Response:
        cards = "".join(f"<option value='{pan}'>{pan} — {escape(label)}</option>"
                        for pan, label in TEST_CARDS)
        return _page("Demo shop", f"""
<h1>{ITEM['name']}</h1><p>Price: <strong>{ITEM['label']}</strong></p>
<form method="POST" action="/pay/card">
<fieldset><legend>Card</legend>
<label>Test card <select id="card-choice" onchange="cardNumber.value=this.value">{cards}</select>
</label><br>
<label>Card number <input id="cardNumber" name="cardNumber" value="{TEST_CARDS[0][0]}"></label><br>
<label>Expiry (YYYYMM) <input id="cardExpiryDate" name="cardExpiryDate" value="{_expiry()}">
</label><br><label>CSC <input id="cardCSCValue" name="cardCSCValue" value="123"></label><br>
<button id="pay-card" type="submit" formaction="/pay/card">Pay (cardOrder, no 3-D Secure)</button>
<button id="pay-3ds" type="submit" formaction="/pay/3ds">Pay with 3-D Secure</button>
</fieldset></form>
<form method="POST" action="/pay/provider"><fieldset><legend>External provider</legend>
<label>Provider <select name="paymentMeanBrand"><option>PAYPAL</option><option>IDEAL</option>
</select></label>
<button id="pay-provider" type="submit">Pay with the provider</button></fieldset></form>""")

    def _reference() -> str:
        return "DEMO" + secrets.token_hex(8).upper()

    async def pay_card(request: Request) -> Response:
        form = await request.form()
        reference = _reference()
        answer = await shop.client.card_order(
            amount=ITEM["amount"], currency_code=ITEM["currency"],
            transaction_reference=reference, card_number=str(form.get("cardNumber", "")),
            card_expiry_date=str(form.get("cardExpiryDate", "")),
            card_csc_value=str(form.get("cardCSCValue", "")) or None, order_id="MUG-1")
        return shop.remember("cardOrder", answer, reference)

    async def pay_3ds(request: Request) -> Response:
        form = await request.form()
        reference = _reference()
        term_url = str(request.url_for("three_ds_return"))
        answer = await shop.client.card_check_enrollment(
            amount=ITEM["amount"], currency_code=ITEM["currency"],
            transaction_reference=reference, card_number=str(form.get("cardNumber", "")),
            card_expiry_date=str(form.get("cardExpiryDate", "")),
            card_csc_value=str(form.get("cardCSCValue", "")) or None,
            merchant_return_url=term_url, order_id="MUG-1")
        if not answer.ok:
            return shop.remember("cardCheckEnrollment", answer, reference)
        if answer.redirection_status_code != "00":
            # Not enrolled / ACS unavailable: straight to the validate call, no PaRes.
            final = await shop.client.card_validate_authentication_and_order(
                transaction_reference=reference, message_version=answer.message_version or "",
                redirection_data=answer.redirection_data or "")
            return shop.remember("3-D Secure (no redirection)", final, reference)
        # MD carries what the return needs; encrypted, as it goes through the browser.
        session = json.dumps({"r": reference, "v": answer.message_version,
                              "d": answer.redirection_data})
        md = forms.encode_md(session, key=shop.md_key)
        return HTMLResponse(forms.acs_form(answer.redirection_url or "",
                                           answer.pa_req_message or "", term_url, md))

    async def three_ds_return(request: Request) -> Response:
        form = await request.form()
        try:
            session = json.loads(forms.decode_md(str(form.get("MD", "")), key=shop.md_key))
        except (forms.MerchantDataError, ValueError):
            return _page("Error", "<h1>Unknown payment session</h1>")
        answer = await shop.client.card_validate_authentication_and_order(
            transaction_reference=session["r"], message_version=session["v"],
            redirection_data=session["d"], pa_res_message=str(form.get("PaRes", "")) or None)
        return shop.remember("3-D Secure", answer, session["r"])

    async def pay_provider(request: Request) -> Response:
        form = await request.form()
        reference = _reference()
        answer = await shop.client.payment_provider_initialize(
            amount=ITEM["amount"], currency_code=ITEM["currency"],
            transaction_reference=reference,
            payment_mean_brand=str(form.get("paymentMeanBrand", "PAYPAL")),
            merchant_return_url=str(request.url_for("provider_return")), order_id="MUG-1")
        if not answer.ok:
            return shop.remember("paymentProviderInitialize", answer, reference)
        return HTMLResponse(forms.provider_form(answer.redirection_url or "",
                                                answer.message_version or "",
                                                answer.redirection_data or ""))

    async def provider_return(request: Request) -> Response:
        form = await request.form()
        reference = str(form.get("transactionReference", ""))
        answer = await shop.client.payment_provider_finalize(
            transaction_reference=reference,
            message_version=str(form.get("messageVersion", "")),
            redirection_data=str(form.get("redirectionData", "")))
        return shop.remember("Provider", answer, reference)

    async def result(request: Request) -> Response:
        reference = request.path_params["reference"]
        if reference not in shop.results:
            return _page("Unknown", "<h1>Unknown order</h1>")
        flow, raw = shop.results[reference]
        code = str(raw.get("responseCode", ""))
        rows = "".join(f"<tr><th>{name}</th><td id='{name}'>{escape(str(raw[name]))}</td></tr>"
                       for name in SHOWN if name in raw)
        verdict = ("<p class='ok' id='verdict'>Thank you, your order is paid.</p>" if code == "00"
                   else f"<p class='ko' id='verdict'>The payment did not go through "
                        f"(responseCode {escape(code)}).</p>")
        return _page("Order result", f"<h1>Order result</h1><p>Flow: <span id='flow'>"
                     f"{escape(flow)}</span></p>{verdict}<table>{rows}</table>"
                     "<p><a href='/'>Back to the shop</a></p>")

    async def on_error(request: Request, error: Exception) -> Response:
        return _page("Error", f"<h1>The payment platform could not be reached</h1>"
                     f"<p>{escape(type(error).__name__)}</p>")

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/pay/card", pay_card, methods=["POST"]),
        Route("/pay/3ds", pay_3ds, methods=["POST"]),
        Route("/3ds/return", three_ds_return, methods=["POST"], name="three_ds_return"),
        Route("/pay/provider", pay_provider, methods=["POST"]),
        Route("/provider/return", provider_return, methods=["POST"], name="provider_return"),
        Route("/result/{reference}", result, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={OfficeError: on_error,
                                                    httpx.HTTPError: on_error})
