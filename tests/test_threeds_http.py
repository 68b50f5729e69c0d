"""3-D Secure over HTTP on SQLite and PostgreSQL: cardCheckEnrollment, the ACS pages, the
validate calls; forged, replayed and foreign PaRes; bad MD; the session deadline (97)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
from typing import Any

import httpx
import pytest

from sogenactif import Client
from sogenactif.protocol.catalogue import service
from sogenactif.server.app import create_app
from sogenactif.server.operations import pipeline
from sogenactif.server.operations.redirections import abort_expired_redirections
from sogenactif.server.operations.registry import OPERATIONS
from sogenactif.server.runtime import Runtime
from tests.redirection_support import (
    ACS_ERROR,
    CHALLENGE,
    FRICTIONLESS,
    NOT_ENROLLED,
    TERM_URL,
    acs,
    enrol,
    form_action,
    hidden,
    runtime_later,
    stored,
    validate_and_order,
    validate_only,
)
from tests.support import SAMPLE_SHOP, RunningServer, sealed_request

MERCHANT = SAMPLE_SHOP[0]


# ------------------------------------------------------------------ enrolment


def test_enrolled_card_gets_the_acs(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    assert answer.ok and answer.verified
    assert answer.redirection_status_code == "00"
    assert answer.redirection_url == server.url + "/acs"
    assert answer.pa_req_message and answer.redirection_data
    assert answer.message_version == "2.2.0"
    assert answer.masked_pan == "410000######0000"
    row, operations = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "PENDING" and row.response_code == "60"
    assert row.redirection_expires_at is not None
    assert row.pan_enc and CHALLENGE.encode() not in bytes(row.pan_enc)
    assert "cardCSCValue" not in row.request_json and "123" not in row.request_json
    assert operations == []


@pytest.mark.parametrize(("card", "code"), [(NOT_ENROLLED, "01"), (ACS_ERROR, "02")])
def test_no_redirection_when_not_enrolled_or_acs_error(client: Client, card: str,
                                                       code: str) -> None:
    answer = enrol(client, card)
    assert answer.ok and answer.redirection_status_code == code
    assert answer.redirection_url is None and answer.pa_req_message is None
    assert answer.redirection_data and answer.message_version


def test_reused_reference_is_94(client: Client) -> None:
    first = enrol(client)
    again = enrol(client, transaction_reference=first.transaction_reference)
    assert again.response_code == "94" and again.error_field_name == "transactionReference"


# ------------------------------------------------------------------ the whole flows


def test_challenge_success_authorises(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    result = acs(answer, "success")
    assert result.status_code == 200
    assert form_action(result.page) == TERM_URL
    assert result.md == "session-42"
    assert "<noscript>" in result.page and 'type="submit"' in result.page
    final = validate_and_order(client, answer, result.pares)
    assert final.ok and final.verified
    assert final.raw["holderAuthentStatus"] == "SUCCESS"
    assert final.raw["holderAuthentMethod"] == "OTP"
    assert final.raw["holderAuthentProgram"] == "3DS_V2"
    assert final.raw["guaranteeIndicator"] == "Y"
    assert final.raw["authorisationId"] and final.raw["cardCSCResultCode"] == "4D"
    assert final.raw["returnContext"] == "ctx"
    row, operations = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "TO_CAPTURE" and row.response_code == "00"
    assert row.holder_authent_status == "SUCCESS" and row.guarantee_indicator == "Y"
    assert [op.operation_type for op in operations] == ["AUTHORISATION"]


def test_wrong_code_three_times_is_a_failure(client: Client) -> None:
    answer = enrol(client)
    fields = {"PaReq": answer.pa_req_message, "TermUrl": TERM_URL, "MD": "m"}
    url = (answer.redirection_url or "") + "/challenge"
    page = httpx.post(url, data={**fields, "choice": "success", "otp": "000000", "tries": "0"})
    assert "Wrong code" in page.text and 'name="PaRes"' not in page.text
    page = httpx.post(url, data={**fields, "choice": "success", "otp": "1", "tries": "2"})
    final = validate_and_order(client, answer, hidden(page.text, "PaRes"))
    assert final.response_code == "05" and final.raw["holderAuthentStatus"] == "FAILURE"


@pytest.mark.parametrize(("choice", "code", "status", "guarantee"), [
    ("failure", "05", "FAILURE", "N"),
    ("cancel", "17", "CANCEL", "N"),
])
def test_challenge_refused(client: Client, server: RunningServer, choice: str, code: str,
                           status: str, guarantee: str) -> None:
    answer = enrol(client)
    final = validate_and_order(client, answer, acs(answer, choice).pares)
    assert final.response_code == code and final.verified
    assert final.raw["holderAuthentStatus"] == status
    assert final.raw["guaranteeIndicator"] == guarantee
    assert "authorisationId" not in final.raw
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "REFUSED" and row.response_code == code


def test_attempt_authorises_with_guarantee(client: Client) -> None:
    answer = enrol(client)
    final = validate_and_order(client, answer, acs(answer, "attempt").pares)
    assert final.ok and final.raw["holderAuthentStatus"] == "ATTEMPT"
    assert final.raw["guaranteeIndicator"] == "Y"


def test_frictionless_comes_straight_back(client: Client) -> None:
    answer = enrol(client, FRICTIONLESS)
    result = acs(answer, None)
    assert 'name="PaRes"' in result.page and "otp" not in result.page
    final = validate_and_order(client, answer, result.pares)
    assert final.ok and final.raw["holderAuthentMethod"] == "FRICTIONLESS"
    assert final.raw["holderAuthentStatus"] == "SUCCESS"


@pytest.mark.parametrize(("card", "status", "guarantee"), [
    (NOT_ENROLLED, "NOT_ENROLLED", "N"),
    (ACS_ERROR, "ERROR", "U"),
])
def test_without_pares_authorises(client: Client, server: RunningServer, card: str,
                                  status: str, guarantee: str) -> None:
    answer = enrol(client, card)
    final = validate_and_order(client, answer, None)
    assert final.ok and final.raw["holderAuthentStatus"] == status
    assert final.raw["guaranteeIndicator"] == guarantee
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "TO_CAPTURE"


def test_enrolled_card_needs_a_pares(client: Client) -> None:
    answer = enrol(client)
    final = validate_and_order(client, answer, None)
    assert final.response_code == "12" and final.error_field_name == "paResMessage"


def test_bank_refusal_after_authentication(client: Client, server: RunningServer) -> None:
    answer = enrol(client, "4100000000000005")
    final = validate_and_order(client, answer, acs(answer).pares)
    assert final.response_code == "05" and final.raw["acquirerResponseCode"] == "05"
    assert final.raw["holderAuthentStatus"] == "SUCCESS"
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "REFUSED"


def test_incorrect_csc_refuses_at_order(client: Client) -> None:
    answer = enrol(client, NOT_ENROLLED, card_csc_value="999")
    final = validate_and_order(client, answer, None)
    assert final.response_code == "14" and final.raw["cardCSCResultCode"] == "4E"


def test_validate_then_order_without_pares(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    pares = acs(answer).pares
    checked = validate_only(client, answer, pares)
    assert checked.ok and checked.holder_authent_status == "SUCCESS"
    assert checked.guarantee_indicator == "Y" and checked.holder_authent_method == "OTP"
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "PENDING" and row.holder_authent_status == "SUCCESS"
    final = validate_and_order(client, answer, None)
    assert final.ok and final.raw["holderAuthentStatus"] == "SUCCESS"


# ------------------------------------------------------------------ PaRes that must not pass


def _tamper(pares: str, **changes: str) -> str:
    body, signature = pares.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    new_body = base64.urlsafe_b64encode(
        json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()).rstrip(b"=")
    return new_body.decode() + "." + signature


def test_forged_pares_is_refused(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    failed = acs(answer, "failure").pares
    forged = _tamper(failed, s="SUCCESS", g="Y")
    final = validate_and_order(client, answer, forged)
    assert final.response_code == "34" and final.error_field_name == "paResMessage"
    made_up = validate_and_order(client, answer, "eyJzIjoiU1VDQ0VTUyJ9.AAAA")
    assert made_up.response_code == "34"
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "PENDING"  # nothing changed; the genuine PaRes still works
    assert validate_and_order(client, answer, failed).response_code == "05"


def test_replayed_pares_is_refused(client: Client) -> None:
    answer = enrol(client)
    pares = acs(answer).pares
    checked = validate_only(client, answer, pares)
    assert checked.ok
    replay = validate_and_order(client, answer, pares)
    assert replay.response_code == "34" and replay.error_field_name == "paResMessage"
    assert validate_and_order(client, answer, None).ok
    assert validate_and_order(client, answer, pares).response_code == "34"


def test_foreign_pares_is_refused(client: Client, guide_client: Client) -> None:
    mine, other = enrol(client), enrol(client)
    other_pares = acs(other).pares
    final = validate_and_order(client, mine, other_pares)
    assert final.response_code == "34" and final.error_field_name == "paResMessage"
    # Another shop cannot use it either, even with the same transactionReference.
    theirs = enrol(guide_client, transaction_reference=other.transaction_reference)
    assert validate_and_order(guide_client, theirs, other_pares).response_code == "34"
    assert validate_and_order(client, other, other_pares).ok


def test_redirection_data_must_match(client: Client) -> None:
    first, second = enrol(client), enrol(client)
    final = client.card_validate_authentication_and_order(
        transaction_reference=first.transaction_reference or "",
        message_version=first.message_version or "",
        redirection_data=second.redirection_data or "")
    assert final.response_code == "12" and final.error_field_name == "redirectionData"


def test_unknown_transaction_is_25_and_card_order_is_24(client: Client) -> None:
    answer = enrol(client)
    unknown = client.card_validate_authentication_and_order(
        transaction_reference="NOPE123", message_version="2.2.0",
        redirection_data=answer.redirection_data or "")
    assert unknown.response_code == "25"
    order = client.card_order(amount=100, currency_code="978",
                              transaction_reference="O" + (answer.transaction_reference or ""),
                              card_number=CHALLENGE, card_expiry_date="209912")
    assert order.ok
    not_3ds = client.card_validate_authentication_and_order(
        transaction_reference=order.transaction_reference or "", message_version="2.2.0",
        redirection_data=answer.redirection_data or "")
    assert not_3ds.response_code == "24"


# ------------------------------------------------------------------ the ACS page's rules


@pytest.mark.parametrize("md", ["caf\u00e9", "tab\there", "x" * 1025])
def test_bad_md_is_refused_with_a_page(client: Client, md: str) -> None:
    answer = enrol(client)
    result = acs(answer, md=md)
    assert result.status_code == 400
    assert "Invalid MD" in result.page and 'name="PaRes"' not in result.page


def test_md_of_1024_ascii_bytes_passes(client: Client) -> None:
    answer = enrol(client)
    md = "".join(chr(0x20 + i % 95) for i in range(1024))
    result = acs(answer, md=md)
    assert result.status_code == 200 and result.md == md
    assert validate_and_order(client, answer, result.pares).ok


def test_forged_pareq_and_bad_term_url_are_refused(client: Client) -> None:
    answer = enrol(client)
    url = answer.redirection_url or ""
    forged = httpx.post(url, data={"PaReq": (answer.pa_req_message or "") + "x",
                                   "TermUrl": TERM_URL, "MD": ""})
    assert forged.status_code == 400 and "Invalid PaReq" in forged.text
    bad_term = httpx.post(url, data={"PaReq": answer.pa_req_message, "TermUrl": "javascript:x",
                                     "MD": ""})
    assert bad_term.status_code == 400 and "Invalid TermUrl" in bad_term.text
    usage = httpx.get(url)
    assert usage.status_code == 200 and "POST" in usage.text


def test_values_are_html_escaped(client: Client) -> None:
    answer = enrol(client)
    md = '"><script>alert(1)</script>'
    result = acs(answer, md=md)
    assert "<script>alert(1)" not in result.page
    assert result.md == md


def test_acs_refuses_a_finished_transaction(client: Client) -> None:
    answer = enrol(client)
    assert validate_and_order(client, answer, acs(answer).pares).ok
    again = httpx.post(answer.redirection_url or "",
                       data={"PaReq": answer.pa_req_message, "TermUrl": TERM_URL, "MD": ""})
    assert again.status_code == 409


# ------------------------------------------------------------------ the session deadline
# The running server's clock cannot be moved from outside, so these run the same pipeline on
# the same database in this process, with a clock minutes ahead.


def later_call(runtime: Runtime, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    svc = service(name)
    body = sealed_request(fields, interface_version=svc.family.latest_interface_version)
    return pipeline.handle(runtime, svc, OPERATIONS[name], body).message


def test_late_shopper_gets_97_and_aborted(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    pares = acs(answer).pares
    runtime = runtime_later(server, 16)
    try:
        late = later_call(runtime, "cardValidateAuthenticationAndOrder", {
            "transactionReference": answer.transaction_reference,
            "messageVersion": answer.message_version,
            "redirectionData": answer.redirection_data, "paResMessage": pares})
    finally:
        runtime.db.dispose()
    assert late["responseCode"] == "97"
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "ABORTED" and row.response_code == "97"
    # Back on time the answer stays 97 (the transaction is ABORTED for good).
    assert validate_and_order(client, answer, None).response_code == "97"


def test_in_time_shopper_is_served(client: Client, server: RunningServer) -> None:
    answer = enrol(client, NOT_ENROLLED)
    runtime = runtime_later(server, 14)
    try:
        in_time = later_call(runtime, "cardValidateAuthenticationAndOrder", {
            "transactionReference": answer.transaction_reference,
            "messageVersion": answer.message_version,
            "redirectionData": answer.redirection_data})
    finally:
        runtime.db.dispose()
    assert in_time["responseCode"] == "00"


def test_batch_aborts_stale_redirections(client: Client, server: RunningServer) -> None:
    first, second = enrol(client), enrol(client, FRICTIONLESS)
    runtime = runtime_later(server, 16)
    try:
        assert abort_expired_redirections(runtime) >= 2
        assert abort_expired_redirections(runtime) == 0  # nothing left to do
    finally:
        runtime.db.dispose()
    for answer in (first, second):
        row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
        assert row.status == "ABORTED" and row.response_code == "97"
    assert validate_and_order(client, first, None).response_code == "97"
    assert acs(second, None).status_code == 409  # the ACS will not start it again
    still = enrol(client)
    assert stored(server, MERCHANT, still.transaction_reference or "")[0].status == "PENDING"


def test_simultaneous_validations_authorise_once(client: Client, server: RunningServer) -> None:
    answer = enrol(client)
    pares = acs(answer).pares
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(lambda _: validate_and_order(client, answer, pares).response_code,
                                range(6)))
    assert codes == ["00", "34", "34", "34", "34", "34"]
    _row, operations = stored(server, MERCHANT, answer.transaction_reference or "")
    assert len(operations) == 1


def test_acs_after_the_deadline_sends_the_shopper_back(client: Client,
                                                       server: RunningServer) -> None:
    answer = enrol(client)
    runtime = runtime_later(server, 16)

    async def post_to_acs() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url=server.url) as http:
            return await http.post("/acs", data={"PaReq": answer.pa_req_message,
                                                 "TermUrl": TERM_URL, "MD": "m"})

    try:
        page = asyncio.run(post_to_acs())
        assert page.status_code == 200 and 'id="otp"' not in page.text
        assert form_action(page.text) == TERM_URL and hidden(page.text, "MD") == "m"
        late = later_call(runtime, "cardValidateAuthenticationAndOrder", {
            "transactionReference": answer.transaction_reference,
            "messageVersion": answer.message_version,
            "redirectionData": answer.redirection_data,
            "paResMessage": hidden(page.text, "PaRes")})
    finally:
        runtime.db.dispose()
    assert late["responseCode"] == "97"


def test_cash_operation_on_an_expired_session_is_97_and_aborts(client: Client,
                                                               server: RunningServer) -> None:
    """The session's end does not wait for the sweep: a cancel after the deadline ends it."""
    answer = enrol(client)
    runtime = runtime_later(server, 16)
    try:
        late = later_call(runtime, "cancel", {
            "transactionReference": answer.transaction_reference, "operationAmount": "2500",
            "currencyCode": "978"})
    finally:
        runtime.db.dispose()
    assert late["responseCode"] == "97"
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "ABORTED"
