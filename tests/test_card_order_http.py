"""cardOrder over HTTP, on SQLite and PostgreSQL: every answer of the foundation issue."""

from __future__ import annotations

import concurrent.futures
from datetime import date
from typing import Any

import httpx
import pytest

from sogenactif import Client, SealMismatchError
from sogenactif.protocol.seal import SealAlgorithm, compute_seal, verify_seal
from tests.support import (
    GUIDE_SHOP,
    SAMPLE_SHOP,
    RunningServer,
    card_order_fields,
    future_expiry,
    reference,
    sealed_request,
)

PATH = "/rs-services/v2/checkout/cardOrder"


def post(server: RunningServer, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url + PATH, json=body, timeout=30, **kwargs)


def order(server: RunningServer, shop: tuple[str, str, int] = SAMPLE_SHOP,
          algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256,
          **overrides: Any) -> dict[str, Any]:
    response = post(server, sealed_request(card_order_fields(**overrides), shop,
                                           algorithm=algorithm))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert verify_seal(answer, shop[1], algorithm), answer
    return dict(answer)


# ------------------------------------------------------------------ accepted


def test_connector_card_order_accepted(client: Client) -> None:
    ref = reference()
    answer = client.card_order(amount=2500, currency_code="978", transaction_reference=ref,
                               card_number="4100000000000000", card_expiry_date=future_expiry(),
                               card_csc_value="123", order_id="ORD101",
                               customer_id="cust-1", return_context="ctx é")
    assert answer.ok and answer.verified
    assert answer.acquirer_response_code == "00"
    assert answer.authorisation_id and len(answer.authorisation_id) == 6
    assert answer.masked_pan == "410000######0000"
    assert answer.payment_mean_brand == "VISA"
    assert answer.card_csc_result_code == "4D"
    assert answer.transaction_reference == ref
    assert answer.order_id == "ORD101" and answer.customer_id == "cust-1"
    assert answer.return_context == "ctx é"
    assert answer.capture_mode == "AUTHOR_CAPTURE" and str(answer.amount) == "2500"
    assert answer.transaction_date_time and answer.transaction_date_time[10] == "T"


def test_raw_request_guide_shop_accepted(server: RunningServer) -> None:
    answer = order(server, GUIDE_SHOP)
    assert answer["responseCode"] == "00"
    assert "cardNumber" not in answer and "cardCSCValue" not in answer


@pytest.mark.parametrize("algorithm", list(SealAlgorithm))
def test_answer_sealed_with_the_request_algorithm(server: RunningServer,
                                                  algorithm: SealAlgorithm) -> None:
    answer = order(server, algorithm=algorithm)
    assert answer["responseCode"] == "00"


@pytest.mark.parametrize(("mode", "status"), [("AUTHOR_CAPTURE", "TO_CAPTURE"),
                                              ("VALIDATION", "TO_VALIDATE"),
                                              ("IMMEDIATE", "CAPTURED")])
def test_status_saved_by_capture_mode(server: RunningServer, mode: str, status: str) -> None:
    from sqlalchemy import create_engine, text

    from sogenactif.server.store.db import normalise_url

    ref = reference()
    answer = order(server, captureMode=mode, transactionReference=ref)
    assert answer["responseCode"] == "00"
    engine = create_engine(normalise_url(server.database_url))
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, masked_pan, pan_enc, request_json FROM "
                                "transactions WHERE transaction_reference = :r"),
                           {"r": ref}).one()
    engine.dispose()
    assert row.status == status
    assert row.masked_pan == "410000######0000"
    assert b"4100000000000000" not in bytes(row.pan_enc)
    assert "4100000000000000" not in row.request_json and "cardCSCValue" not in row.request_json


# ------------------------------------------------------------------ refusals by the acquirer


@pytest.mark.parametrize(("pan", "code"), [("4100000000000005", "05"),
                                           ("4100000000000051", "51"),
                                           ("5100000000000034", "34"),
                                           ("4200000000000090", "90"),
                                           ("1234123412341234", "14"),
                                           ("4111111111111112", "14")])
def test_acquirer_outcomes(server: RunningServer, pan: str, code: str) -> None:
    answer = order(server, cardNumber=pan)
    assert answer["responseCode"] == code
    assert "authorisationId" not in answer


def test_expired_card_is_54(server: RunningServer) -> None:
    today = date.today()
    last_month = f"{today.year - 1}{today.month:02d}"
    assert order(server, cardExpiryDate=last_month)["responseCode"] == "54"


def test_luhn_valid_real_card_accepted(server: RunningServer) -> None:
    answer = order(server, cardNumber="4111111111111111")
    assert answer["responseCode"] == "00" and answer["paymentMeanBrand"] == "VISA"


# ------------------------------------------------------------------ protocol errors


def test_unknown_merchant_is_03_unsealed(server: RunningServer) -> None:
    body = sealed_request(card_order_fields(), ("999999999999999", "nokey", 1))
    answer = post(server, body).json()
    assert answer["responseCode"] == "03" and "seal" not in answer


def test_bad_seal_is_34_with_debug_header(server: RunningServer) -> None:
    body = sealed_request(card_order_fields())
    body["amount"] = "2600"  # changed after sealing
    response = post(server, body)
    answer = response.json()
    assert answer["responseCode"] == "34"
    assert verify_seal(answer, SAMPLE_SHOP[1])
    data = response.headers["x-sogenactif-seal-data"]
    assert data.startswith("2600") and "410000######0000" in data
    assert "4100000000000000" not in data


def test_unknown_key_version_is_34(server: RunningServer) -> None:
    merchant_id, secret, _ = SAMPLE_SHOP
    answer = post(server, sealed_request(card_order_fields(), (merchant_id, secret, 7))).json()
    assert answer["responseCode"] == "34"


def test_connector_raises_when_answer_seal_does_not_match(server: RunningServer) -> None:
    merchant_id, _secret, version = SAMPLE_SHOP
    with Client(merchant_id, "not-the-key", version, server.url) as wrong, \
            pytest.raises(SealMismatchError, match="unknown"):
        wrong.card_order(amount=100, currency_code="978", transaction_reference=reference(),
                             card_number="4100000000000000", card_expiry_date=future_expiry())


@pytest.mark.parametrize(("override", "field"), [
    ({"amount": "12a"}, "amount"),
    ({"amount": "1234567890123"}, "amount"),
    ({"currencyCode": "97"}, "currencyCode"),
    ({"cardExpiryDate": "202613"}, "cardExpiryDate"),
    ({"cardNumber": "41000000"}, "cardNumber"),
    ({"captureMode": "LATER"}, "captureMode"),
    ({"transactionReference": "bad-ref!"}, "transactionReference"),
    ({"customerIpAddress": "300.1.1.1"}, "customerIpAddress"),
    ({"customerContact": {"email": "x" * 200}}, "customerContact.email"),
    ({"shoppingCartDetail": {"shoppingCartItemList": [{"productQuantity": "two"}]}},
     "shoppingCartDetail.shoppingCartItemList.productQuantity"),
])
def test_format_errors_are_30(server: RunningServer, override: dict[str, Any],
                              field: str) -> None:
    answer = order(server, **override)
    assert (answer["responseCode"], answer["errorFieldName"]) == ("30", field)


@pytest.mark.parametrize("missing", ["amount", "currencyCode", "transactionReference",
                                     "cardNumber", "cardExpiryDate", "orderChannel"])
def test_missing_fields_are_12(server: RunningServer, missing: str) -> None:
    answer = order(server, **{missing: None})
    assert (answer["responseCode"], answer["errorFieldName"]) == ("12", missing)


def test_wrong_interface_version_is_30(server: RunningServer) -> None:
    for version in ("CR_WS_2.55", "IR_WS_2.56", "IR_WS_3.0"):
        body = sealed_request(card_order_fields(), interface_version=version)
        answer = post(server, body).json()
        assert (answer["responseCode"], answer["errorFieldName"]) == ("30", "interfaceVersion")


def test_duplicate_reference_is_94(server: RunningServer) -> None:
    ref = reference()
    assert order(server, transactionReference=ref)["responseCode"] == "00"
    assert order(server, transactionReference=ref)["responseCode"] == "94"
    # a refused transaction keeps its reference too
    ref2 = reference()
    assert order(server, transactionReference=ref2, cardNumber="4100000000000005")[
        "responseCode"] == "05"
    assert order(server, transactionReference=ref2)["responseCode"] == "94"


def test_simultaneous_duplicates_one_wins(server: RunningServer) -> None:
    ref = reference()
    bodies = [sealed_request(card_order_fields(transactionReference=ref)) for _ in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = sorted(r.json()["responseCode"] for r in pool.map(lambda b: post(server, b),
                                                                  bodies))
    assert codes == ["00"] + ["94"] * 11


# ------------------------------------------------------------------ HTTP edges


def test_non_json_content_type_is_415(server: RunningServer) -> None:
    response = httpx.post(server.url + PATH, content=b"amount=1",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert "<title>415 Unsupported Media Type</title>" in response.text
    assert "<h1>Unsupported Media Type</h1>" in response.text


@pytest.mark.parametrize("body", [b"[1, 2]", b"\"text\"", b"{not json", b""])
def test_body_not_a_json_object_is_400(server: RunningServer, body: bytes) -> None:
    response = httpx.post(server.url + PATH, content=body,
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"responseCode": "30", "errorFieldName": "body"}


def test_body_over_64_kib_is_413(server: RunningServer) -> None:
    body = sealed_request(card_order_fields(returnContext="x" * 255,
                                            orderId="y" * 32, padding="z" * 70_000))
    assert post(server, body).status_code == 413


def test_unknown_extra_fields_are_sealed_and_accepted(server: RunningServer) -> None:
    answer = order(server, someFutureField="hello", customerContact={"email": "a@b.fr",
                                                                     "newThing": "1"})
    assert answer["responseCode"] == "00"


def test_seal_over_numbers_and_strings_alike(server: RunningServer) -> None:
    merchant_id, secret, version = SAMPLE_SHOP
    body = {"interfaceVersion": "IR_WS_2.55", "merchantId": merchant_id, "keyVersion": version,
            **card_order_fields(amount=2500, captureDay=0)}
    body["seal"] = compute_seal(body, secret)
    answer = post(server, body).json()
    assert answer["responseCode"] == "00" and answer["amount"] == "2500"
