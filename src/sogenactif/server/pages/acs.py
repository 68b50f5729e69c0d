"""The simulated 3-D Secure ACS at the redirectionUrl cardCheckEnrollment answers (spec §7).

POST /acs takes PaReq, TermUrl and MD from the shopper's browser; a frictionless card goes
straight back, a challenge card gets the challenge page (POST /acs/challenge). The result
goes back to TermUrl as PaRes and MD in an auto-submitted form with a visible button when
JavaScript is off. The PaRes is signed by the server (operations/redirections.py); it is
never logged.
"""

from __future__ import annotations

import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sogenactif.server.domain.authentication import (
    AcsChoice,
    Enrolment,
    acs_result,
    md_acceptable,
)
from sogenactif.server.domain.clock import iso, local
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.domain.money import format_amount
from sogenactif.server.operations import redirections as rd
from sogenactif.server.pages import error_page, form_text, post_back, render
from sogenactif.server.runtime import Runtime

MAX_TRIES = 3


@dataclass(frozen=True)
class AcsSession:
    """A checked ACS request: the transaction it is for and what to send back."""

    row: Any
    state: dict[str, Any]
    shop_name: str
    pareq: str
    term_url: str
    md: str
    #: Read in the worker thread: the sandbox clock may read the database.
    now: datetime


def _term_url_ok(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2048


def _check(rt: Runtime, form: Any) -> AcsSession | HTMLResponse:
    """The guide's rules on the form, then the PaReq: signed by us, for a live transaction."""
    md = form_text(form, "MD")
    md = "" if md is None else md
    problem = md_acceptable(md)
    if problem is not None:
        return error_page("Invalid MD", problem)
    term_url = form_text(form, "TermUrl") or ""
    if not _term_url_ok(term_url):
        return error_page("Invalid TermUrl", "TermUrl must be the http(s) URL of the "
                          "merchant's page that receives the authentication result.")
    pareq = form_text(form, "PaReq") or ""
    payload = rd.verify(rt.vault, rd.PAREQ, pareq)
    if payload is None:
        return error_page("Invalid PaReq", "This PaReq was not issued by this server. "
                          "Send the paReqMessage of cardCheckEnrollment unchanged.")
    found = rd.find_for_page(rt, payload)
    if found is None:
        return error_page("Invalid PaReq", "This PaReq does not match any authentication "
                          "in progress.")
    row, shop_name, state = found
    if row.status != Status.PENDING.value:
        return error_page("Authentication finished", "This payment's authentication is "
                          "already finished; it cannot be done twice.", 409)
    return AcsSession(row, state, shop_name, pareq, term_url, md, rt.clock.now())


def _post_back(rt: Runtime, session: AcsSession, choice: AcsChoice, *,
               frictionless: bool = False) -> HTMLResponse:
    """Sign the result into a PaRes and send the shopper back to TermUrl with it."""
    result = acs_result(choice, frictionless=frictionless)
    row = session.row
    pares = rd.sign(rt.vault, rd.PARES, {
        "m": row.merchant_id, "r": row.transaction_reference, "n": session.state["nonce"],
        "s": result.status, "h": result.method, "p": result.program, "g": result.guarantee,
        "j": secrets.token_hex(16), "t": iso(session.now)})
    return post_back(session.term_url, [("PaRes", pares), ("MD", session.md)],
                     title="3-D Secure", heading="Processing your 3-D Secure Transaction")


def _challenge(rt: Runtime, session: AcsSession, tries: int,
               problem: str | None = None) -> HTMLResponse:
    row = session.row
    return render("acs_challenge.html", title="3-D Secure authentication",
                  action=rt.settings.public_url.rstrip("/") + "/acs/challenge",
                  shop_name=session.shop_name, amount=format_amount(row.amount, row.currency_code),
                  masked_pan=row.masked_pan, date=local(session.now).strftime("%Y-%m-%d %H:%M"),
                  otp=rt.acquirer.table.acs_otp, tries=tries, tries_left=MAX_TRIES - tries,
                  problem=problem, pareq=session.pareq, term_url=session.term_url,
                  md=session.md)


def routes(rt: Runtime) -> list[Route]:
    async def start(request: Request) -> Response:
        form = await request.form()
        checked = await run_in_threadpool(_check, rt, form)
        if isinstance(checked, HTMLResponse):
            return checked
        if rd.expired(checked.row, checked.now):
            # The validate call will answer 97; the shopper still goes back to the shop.
            return _post_back(rt, checked, AcsChoice.ERROR)
        if checked.state.get("enrolment") == Enrolment.FRICTIONLESS.value:
            return _post_back(rt, checked, AcsChoice.SUCCESS, frictionless=True)
        return _challenge(rt, checked, 0)

    async def challenge(request: Request) -> Response:
        form = await request.form()
        checked = await run_in_threadpool(_check, rt, form)
        if isinstance(checked, HTMLResponse):
            return checked
        if rd.expired(checked.row, checked.now):
            return _post_back(rt, checked, AcsChoice.ERROR)
        choice = form_text(form, "choice")
        if choice == "success":
            if (form_text(form, "otp") or "").strip() == rt.acquirer.table.acs_otp:
                return _post_back(rt, checked, AcsChoice.SUCCESS)
            tries_text = form_text(form, "tries") or "0"
            tries = min(int(tries_text), MAX_TRIES) + 1 if tries_text.isdigit() else MAX_TRIES
            if tries >= MAX_TRIES:
                return _post_back(rt, checked, AcsChoice.FAILURE)
            return _challenge(rt, checked, tries, "Wrong code, try again.")
        chosen = {"failure": AcsChoice.FAILURE, "attempt": AcsChoice.ATTEMPT,
                  "cancel": AcsChoice.CANCEL}.get(choice or "")
        if chosen is None:
            return _challenge(rt, checked, 0, "Choose an action.")
        return _post_back(rt, checked, chosen)

    async def usage(request: Request) -> Response:
        return render("usage.html", kind="acs", title="3-D Secure ACS",
                      fields=["PaReq", "TermUrl", "MD"])

    return [
        Route("/acs", start, methods=["POST"]),
        Route("/acs", usage, methods=["GET"]),
        Route("/acs/challenge", challenge, methods=["POST"]),
    ]
