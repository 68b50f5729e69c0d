"""Helpers of the 3-D Secure and provider tests: drive the ACS and provider pages over HTTP
like a browser would, and read what the database holds."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from sogenactif import Client
from sogenactif.client.responses import EnrollmentResponse, OfficeResponse
from sogenactif.server.domain.clock import OffsetClock
from sogenactif.server.runtime import Runtime, Settings, build_runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database
from tests.support import RunningServer, future_expiry, reference

TERM_URL = "https://shop.example/3ds/return"
RETURN_URL = "https://shop.example/provider/return"

CHALLENGE = "4100000000000000"
FRICTIONLESS = "4100001000000000"
NOT_ENROLLED = "4100002000000000"
ACS_ERROR = "4100003000000000"


def hidden(page: str, name: str) -> str:
    """The value of a hidden field of an HTML page (unescaped)."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert match, f"no field {name} in:\n{page}"
    return html.unescape(match.group(1))


def form_action(page: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]*)"', page)
    assert match, page
    return html.unescape(match.group(1))


def enrol(client: Client, card: str = CHALLENGE, **fields: Any) -> EnrollmentResponse:
    values: dict[str, Any] = {
        "amount": 2500, "currency_code": "978", "transaction_reference": reference("S"),
        "card_number": card, "card_expiry_date": future_expiry(), "card_csc_value": "123",
        "merchant_return_url": TERM_URL, "order_id": "ORD3DS", "return_context": "ctx"}
    values.update(fields)
    return client.card_check_enrollment(**values)


@dataclass
class AcsResult:
    status_code: int
    page: str

    @property
    def pares(self) -> str:
        return hidden(self.page, "PaRes")

    @property
    def md(self) -> str:
        return hidden(self.page, "MD")


def acs(answer: EnrollmentResponse, choice: str | None = "success", *, otp: str = "123456",
        md: str = "session-42", term_url: str = TERM_URL) -> AcsResult:
    """POST to the ACS like the merchant's form, then answer the challenge (if one comes)."""
    fields = {"PaReq": answer.pa_req_message or "", "TermUrl": term_url, "MD": md}
    assert answer.redirection_url
    first = httpx.post(answer.redirection_url, data=fields, timeout=30)
    if first.status_code != 200 or 'name="PaRes"' in first.text or choice is None:
        return AcsResult(first.status_code, first.text)
    second = httpx.post(answer.redirection_url + "/challenge",
                        data={**fields, "choice": choice, "otp": otp, "tries": "0"}, timeout=30)
    return AcsResult(second.status_code, second.text)


def validate_and_order(client: Client, answer: EnrollmentResponse,
                       pares: str | None) -> OfficeResponse:
    return client.card_validate_authentication_and_order(
        transaction_reference=answer.transaction_reference or "",
        message_version=answer.message_version or "",
        redirection_data=answer.redirection_data or "", pa_res_message=pares)


def validate_only(client: Client, answer: EnrollmentResponse, pares: str) -> OfficeResponse:
    """cardValidateAuthentication of an enrolment's redirection with this PaRes."""
    return client.card_validate_authentication(
        transaction_reference=answer.transaction_reference or "",
        message_version=answer.message_version or "",
        redirection_data=answer.redirection_data or "", pa_res_message=pares)


def stored(server: RunningServer, merchant_id: str, ref: str) -> Any:
    """The transaction row as the database holds it (stands in for getTransactionData)."""
    database = Database(server.database_url, pool_size=1)
    try:
        with database.read() as conn:
            row = repo.get_transaction(conn, merchant_id, ref)
            operations = repo.list_operations(conn, row.id) if row is not None else []
    finally:
        database.dispose()
    assert row is not None, ref
    return row, operations


def runtime_later(server: RunningServer, minutes: float) -> Runtime:
    """A runtime on the server's database whose clock is ``minutes`` ahead (the deadline)."""
    runtime = build_runtime(Settings(database_url=server.database_url,
                                     master_key_file=str(server.key_file), seed=False))
    runtime.clock = OffsetClock(timedelta(minutes=minutes))
    return runtime
