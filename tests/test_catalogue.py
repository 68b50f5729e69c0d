"""The catalogue is the one source of truth: the spec's services, the connector, OpenAPI."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from sogenactif.client import calls
from sogenactif.client.responses import RESPONSE_TYPES
from sogenactif.protocol import catalogue, codes
from sogenactif.protocol.fields import DICTIONARY, Kind, find_format_error
from sogenactif.protocol.names import snake
from sogenactif.protocol.openapi import document
from tests.support import RunningServer

SPEC_SERVICES = {
    "checkout": {"cardOrder", "cardCheckEnrollment", "cardValidateAuthentication",
                 "cardValidateAuthenticationAndOrder", "walletCheckEnrollment", "walletOrder",
                 "paymentProviderInitialize", "paymentProviderFinalize"},
    "cashManagement": {"validate", "cancel", "refund", "duplicate", "acceptChallenge",
                       "refuseChallenge"},
    "diagnostic": {"getTransactionData"},
    "wallet": {"addCard", "updatePaymentMean", "getWalletData", "getPaymentMeanData",
               "deletePaymentMean", "signOff"},
}


def test_every_service_of_the_spec_is_in_the_catalogue() -> None:
    listed: dict[str, set[str]] = {}
    for svc in catalogue.SERVICES:
        listed.setdefault(svc.family.value, set()).add(svc.name)
    assert listed == SPEC_SERVICES


def test_every_field_named_is_in_the_dictionary_and_shapes_compile() -> None:
    for svc in catalogue.SERVICES:
        assert svc.request_shape is not None
        for name in (*svc.request_fields, *svc.response_fields):
            assert name in DICTIONARY, (svc.name, name)
    for fmt in DICTIONARY.values():
        for name in fmt.fields:
            assert name in DICTIONARY


def test_card_order_is_complete() -> None:
    svc = catalogue.service("cardOrder")
    assert svc.path == "/rs-services/v2/checkout/cardOrder"
    for name in ("amount", "currencyCode", "cardNumber", "cardExpiryDate", "cardCSCValue",
                 "panType", "captureMode", "captureDay", "orderChannel", "transactionReference",
                 "orderId", "customerId", "customerIpAddress", "returnContext",
                 "transactionOrigin", "merchantTransactionDateTime", "paymentPattern",
                 "statementReference", "customerContact", "shoppingCartDetail", "fraudData",
                 "s10TransactionReference"):
        assert name in svc.request_fields
    for name in ("responseCode", "acquirerResponseCode", "authorisationId",
                 "transactionDateTime", "maskedPan", "panExpiryDate", "paymentMeanBrand",
                 "cardCSCResultCode", "guaranteeIndicator", "holderAuthentStatus",
                 "returnContext", "transactionReference", "errorFieldName", "seal"):
        assert name in svc.response_fields


def test_interface_versions() -> None:
    family = catalogue.Family.CHECKOUT
    assert catalogue.interface_version_ok(family, "IR_WS_2.0")
    assert catalogue.interface_version_ok(family, "IR_WS_2.55")
    for bad in ("IR_WS_2.56", "CR_WS_2.3", "IR_WS_2", "IR_WS_2.3.1", None, 2.3):
        assert not catalogue.interface_version_ok(family, bad)
    assert catalogue.Family.WALLET.latest_interface_version == "WR_WS_2.55"


def test_the_connector_has_a_typed_answer_for_every_response_field() -> None:
    for svc in catalogue.SERVICES:
        response_type = RESPONSE_TYPES[svc.name]
        attributes = {f.name for f in dataclasses.fields(response_type)}
        for name in svc.response_fields:
            python = "response_code" if name == svc.response_code_field else snake(name)
            assert python in attributes, (svc.name, name)
        assert response_type.code_field == svc.response_code_field


def test_the_connector_has_a_builder_for_every_service() -> None:
    for svc in catalogue.SERVICES:
        assert hasattr(calls, snake(svc.name)), svc.name


def test_response_codes_have_meaning_and_advice() -> None:
    for code in ("00", "02", "03", "05", "12", "14", "17", "24", "25", "30", "34", "40", "51",
                 "54", "60", "63", "75", "90", "94", "97", "99"):
        entry = codes.RESPONSE_CODES[code]
        assert entry.meaning and entry.advice
    assert "34" in codes.describe("34")


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("amount", "0", True), ("amount", 2500, True), ("amount", "-1", False),
    ("amount", True, False), ("amount", 2.5, False), ("merchantId", "01122334455000", False),
    ("cardExpiryDate", "203012", True), ("cardExpiryDate", "203000", False),
    ("merchantTransactionDateTime", "2023-04-05T10:01:56.520+02:00", True),
    ("merchantTransactionDateTime", "2023-04-05T10:01:56", False),
    ("customerIpAddress", "::1", True), ("customerIpAddress", "", True),
    ("s10TransactionReference", {"s10TransactionId": "123456",
                                 "s10TransactionIdDate": "20230230"}, False),
    ("returnContext", "tab\there", False), ("orderId", "x" * 33, False),
])
def test_formats(name: str, value: object, ok: bool) -> None:
    assert (find_format_error(name, value, DICTIONARY[name]) is None) is ok


def test_openapi_document_is_generated_from_the_catalogue() -> None:
    doc = document()
    assert set(doc["paths"]) == {s.path for s in catalogue.SERVICES}
    card_order = doc["paths"]["/rs-services/v2/checkout/cardOrder"]["post"]
    schema = card_order["requestBody"]["content"]["application/json"]["schema"]
    assert "cardNumber" in schema["required"]
    assert schema["properties"]["captureMode"]["enum"] == list(DICTIONARY["captureMode"].values)
    assert DICTIONARY["customerContact"].kind is Kind.CONTAINER
    assert schema["properties"]["customerContact"]["type"] == "object"


def test_openapi_is_served(server: RunningServer) -> None:
    doc = httpx.get(server.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "/rs-services/v2/checkout/cardOrder" in doc["paths"]
    assert doc["servers"][0]["url"] == server.url
