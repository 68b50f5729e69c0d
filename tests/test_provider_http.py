"""External providers over HTTP on SQLite and PostgreSQL: paymentProviderInitialize, the
provider page, the POST back to merchantReturnUrl, paymentProviderFinalize."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sogenactif import Client
from sogenactif.client.responses import RedirectionResponse
from tests.redirection_support import RETURN_URL, form_action, hidden, stored
from tests.support import SAMPLE_SHOP, RunningServer, reference

MERCHANT = SAMPLE_SHOP[0]


def initialize(client: Client, **fields: Any) -> RedirectionResponse:
    values: dict[str, Any] = {"amount": 4990, "currency_code": "978",
                              "transaction_reference": reference("P"),
                              "payment_mean_brand": "PAYPAL",
                              "merchant_return_url": RETURN_URL, "order_id": "ORDP"}
    values.update(fields)
    return client.payment_provider_initialize(**values)


def provider_page(answer: RedirectionResponse, **overrides: str) -> httpx.Response:
    fields = {"message_version": answer.message_version or "",
              "redirection_data": answer.redirection_data or "", **overrides}
    return httpx.post(answer.redirection_url or "", data=fields, timeout=30)


def decide(answer: RedirectionResponse, decision: str) -> httpx.Response:
    return httpx.post((answer.redirection_url or "") + "/decision", timeout=30,
                      data={"message_version": answer.message_version or "",
                            "redirection_data": answer.redirection_data or "",
                            "decision": decision})


def finalize(client: Client, back: httpx.Response) -> Any:
    """Finalize with exactly the fields the provider posted back to merchantReturnUrl."""
    assert back.status_code == 200 and form_action(back.text) == RETURN_URL
    return client.payment_provider_finalize(
        transaction_reference=hidden(back.text, "transactionReference"),
        message_version=hidden(back.text, "messageVersion"),
        redirection_data=hidden(back.text, "redirectionData"))


def test_initialize_answers_the_provider_page(client: Client, server: RunningServer) -> None:
    answer = initialize(client)
    assert answer.ok and answer.verified
    assert answer.redirection_url == server.url + "/provider"
    assert answer.redirection_data and answer.message_version == "1.0"
    page = provider_page(answer)
    assert page.status_code == 200
    assert "49.90 EUR" in page.text and "PAYPAL" in page.text
    row, _ = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == "PENDING" and row.payment_mean_brand == "PAYPAL"


@pytest.mark.parametrize(("decision", "code", "status"), [
    ("approve", "00", "TO_CAPTURE"),
    ("decline", "05", "REFUSED"),
    ("cancel", "17", "REFUSED"),
])
def test_decision_reaches_finalize(client: Client, server: RunningServer, decision: str,
                                   code: str, status: str) -> None:
    answer = initialize(client)
    back = decide(answer, decision)
    assert "<noscript>" in back.text and 'type="submit"' in back.text
    final = finalize(client, back)
    assert final.response_code == code and final.verified
    assert final.transaction_reference == answer.transaction_reference
    assert final.payment_mean_brand == "PAYPAL" and str(final.amount) == "4990"
    assert bool(final.authorisation_id) is (code == "00")
    row, operations = stored(server, MERCHANT, answer.transaction_reference or "")
    assert row.status == status and row.response_code == code
    assert [op.operation_type for op in operations] == ["AUTHORISATION"]
    # Finished: finalize again is 24, the page will not reopen it.
    assert finalize(client, back).response_code == "24"
    assert provider_page(answer).status_code == 409


def test_finalize_before_the_shopper_chose_is_60(client: Client) -> None:
    answer = initialize(client)
    early = client.payment_provider_finalize(
        transaction_reference=answer.transaction_reference or "",
        message_version=answer.message_version or "",
        redirection_data=answer.redirection_data or "")
    assert early.response_code == "60"
    assert finalize(client, decide(answer, "approve")).ok


def test_second_click_keeps_the_first_choice(client: Client) -> None:
    answer = initialize(client)
    decide(answer, "decline")
    assert finalize(client, decide(answer, "approve")).response_code == "05"


def test_bad_redirection_data_is_refused(client: Client) -> None:
    answer = initialize(client)
    forged = provider_page(answer, redirection_data=(answer.redirection_data or "") + "x")
    assert forged.status_code == 400 and "Invalid redirection_data" in forged.text
    version = provider_page(answer, message_version="9.9")
    assert version.status_code == 400
    other = initialize(client)
    final = client.payment_provider_finalize(
        transaction_reference=answer.transaction_reference or "",
        message_version=answer.message_version or "",
        redirection_data=other.redirection_data or "")
    assert final.response_code == "12" and final.error_field_name == "redirectionData"
    assert httpx.get(answer.redirection_url or "").status_code == 200  # the usage page

