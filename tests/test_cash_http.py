"""cashManagement and getTransactionData over HTTP, on SQLite and PostgreSQL: every allowed
and refused transition of the table, the amount rules, duplicate, the connector's answers."""

from __future__ import annotations

from typing import Any

import pytest

from sogenactif import Client
from sogenactif.protocol.catalogue import BY_NAME
from tests.life_support import (
    CHALLENGE_CARD,
    REFUSED_CARD,
    cash,
    data,
    force_status,
    order,
)
from tests.support import GUIDE_SHOP, RunningServer, future_expiry, reference

STATUSES = ("TO_VALIDATE", "TO_CAPTURE", "CAPTURED", "REFUSED", "CANCELLED", "EXPIRED",
            "TO_CHALLENGE", "ABORTED", "PENDING")


def in_status(server: RunningServer, database_url: str, status: str) -> str:
    """A transaction of 2500 in ``status``, by the services where one leads there."""
    url = server.url
    if status == "TO_VALIDATE":
        return order(url, mode="VALIDATION", day=5)
    if status == "TO_CAPTURE":
        return order(url, day=5)
    if status == "CAPTURED":
        return order(url, mode="IMMEDIATE")
    if status == "REFUSED":
        return order(url, card=REFUSED_CARD)
    if status == "TO_CHALLENGE":
        return order(url, day=5, card=CHALLENGE_CARD)
    if status == "CANCELLED":
        ref = order(url, day=5)
        assert cash(url, "cancel", ref, 2500)["newStatus"] == "CANCELLED"
        return ref
    # EXPIRED comes from the batch (see test_life_sandbox.py); PENDING and ABORTED from the
    # redirections: set directly here so that every cash service meets every status.
    ref = order(url, mode="VALIDATION", day=5)
    force_status(database_url, ref, status)
    return ref


#: (service, amount) -> {status it is allowed from: (newStatus, newAmount)}
ALLOWED: dict[tuple[str, int | None], dict[str, tuple[str, str]]] = {
    ("validate", 1000): {"TO_VALIDATE": ("TO_CAPTURE", "1000")},
    ("cancel", 1000): {"TO_VALIDATE": ("TO_VALIDATE", "1500"),
                       "TO_CAPTURE": ("TO_CAPTURE", "1500")},
    ("refund", 1000): {"CAPTURED": ("CAPTURED", "1500")},
    ("acceptChallenge", None): {"TO_CHALLENGE": ("TO_CAPTURE", "2500")},
    ("refuseChallenge", None): {"TO_CHALLENGE": ("REFUSED", "0")},
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(("service", "amount"), list(ALLOWED))
def test_every_transition_of_the_table(server: RunningServer, database_url: str, status: str,
                                       service: str, amount: int | None) -> None:
    ref = in_status(server, database_url, status)
    before = data(server.url, ref)
    assert before["transactionStatus"] == status
    answer = cash(server.url, service, ref, amount)
    allowed = ALLOWED[(service, amount)]
    after = data(server.url, ref)
    last = after["operationList"][-1]
    if status in allowed:
        new_status, new_amount = allowed[status]
        assert answer["responseCode"] == "00", answer
        assert answer["newStatus"] == new_status and answer["newAmount"] == new_amount
        assert answer["transactionReference"] == ref
        assert answer["operationDateTime"][10] == "T"
        assert after["transactionStatus"] == new_status
        assert after["remainingAmount"] == new_amount
        assert last["operationResponseCode"] == "00"
        expected_op_status = "TO_CREDIT" if service == "refund" else new_status
        assert last["operationStatus"] == expected_op_status
    else:
        expected = "97" if status == "ABORTED" else "24"
        assert answer["responseCode"] == expected, answer
        assert "newStatus" not in answer and "errorFieldName" not in answer
        # Refused, recorded, and nothing else changed.
        assert after["transactionStatus"] == status
        for field in ("remainingAmount", "cancelledAmount", "capturedAmount", "refundedAmount"):
            assert after[field] == before[field]
        assert last["operationResponseCode"] == expected
        assert last["operationStatus"] == "REFUSED"
    assert len(after["operationList"]) == len(before["operationList"]) + 1
    assert last["operationOrigin"] == service


def test_unknown_transaction_is_25(server: RunningServer) -> None:
    for service, amount in ALLOWED:
        answer = cash(server.url, service, reference("NONE"), amount)
        assert answer["responseCode"] == "25", (service, answer)
    assert data(server.url, reference("NONE"))["responseCode"] == "25"


def test_another_shops_transaction_is_unknown(server: RunningServer) -> None:
    ref = order(server.url, mode="IMMEDIATE", shop=GUIDE_SHOP)
    assert cash(server.url, "refund", ref, 100)["responseCode"] == "25"


def test_refunds_are_cumulative_and_never_above_the_capture(server: RunningServer) -> None:
    ref = order(server.url, mode="IMMEDIATE")
    assert cash(server.url, "refund", ref, 1000)["newAmount"] == "1500"
    assert cash(server.url, "refund", ref, 1000)["newAmount"] == "500"
    assert cash(server.url, "refund", ref, 501)["responseCode"] == "24"
    final = cash(server.url, "refund", ref, 500)
    assert final["responseCode"] == "00" and final["newAmount"] == "0"
    assert final["newStatus"] == "CAPTURED" and final["acquirerResponseCode"] == "00"
    assert cash(server.url, "refund", ref, 1)["responseCode"] == "24"
    after = data(server.url, ref)
    assert after["refundedAmount"] == "2500" and after["capturedAmount"] == "2500"
    refunds = [op for op in after["operationList"] if op["operationType"] == "REFUND"]
    assert [(op["operationAmount"], op["operationStatus"]) for op in refunds] == [
        ("1000", "TO_CREDIT"), ("1000", "TO_CREDIT"), ("501", "REFUSED"),
        ("500", "TO_CREDIT"), ("1", "REFUSED")]


def test_cancel_partial_then_the_rest_cancels(server: RunningServer) -> None:
    ref = order(server.url, day=3)
    assert cash(server.url, "cancel", ref, 2501)["responseCode"] == "24"
    assert cash(server.url, "cancel", ref, 500)["newAmount"] == "2000"
    last = cash(server.url, "cancel", ref, 2000)
    assert (last["newStatus"], last["newAmount"]) == ("CANCELLED", "0")
    assert data(server.url, ref)["cancelledAmount"] == "2500"


def test_validate_rules(server: RunningServer) -> None:
    ref = order(server.url, mode="VALIDATION", day=2)
    assert cash(server.url, "validate", ref, 2501)["responseCode"] == "24"
    zero = cash(server.url, "validate", ref, 0)
    assert (zero["responseCode"], zero["errorFieldName"]) == ("12", "operationAmount")
    assert cash(server.url, "cancel", ref, 400)["newAmount"] == "2100"
    done = cash(server.url, "validate", ref, 2000)
    assert done["responseCode"] == "00" and done["newStatus"] == "TO_CAPTURE"
    assert done["acquirerResponseCode"] == "00" and done["authorisationId"]
    # One validation per transaction: the rest was released.
    assert cash(server.url, "validate", ref, 100)["responseCode"] == "24"
    after = data(server.url, ref)
    assert after["remainingAmount"] == "2000" and after["cancelledAmount"] == "500"


def test_currency_must_be_the_transactions(server: RunningServer) -> None:
    ref = order(server.url, mode="IMMEDIATE")
    answer = cash(server.url, "refund", ref, 100, currency="840")
    assert (answer["responseCode"], answer["errorFieldName"]) == ("12", "currencyCode")
    assert data(server.url, ref)["operationList"][-1]["operationResponseCode"] == "12"
    assert data(server.url, ref)["refundedAmount"] == "0"


@pytest.mark.parametrize(("mode", "status", "captured"), [
    ("VALIDATION", "TO_VALIDATE", "0"), ("AUTHOR_CAPTURE", "TO_CAPTURE", "0"),
    ("IMMEDIATE", "CAPTURED", "2500")])
def test_accepted_challenge_resumes_the_capture_mode(server: RunningServer, mode: str,
                                                     status: str, captured: str) -> None:
    ref = order(server.url, mode=mode, card=CHALLENGE_CARD)
    before = data(server.url, ref)
    assert before["transactionStatus"] == "TO_CHALLENGE"
    answer = cash(server.url, "acceptChallenge", ref, operationOrigin="fraud-desk")
    assert answer["newStatus"] == status
    after = data(server.url, ref)
    assert after["transactionStatus"] == status and after["capturedAmount"] == captured
    assert after["operationList"][-1]["operationOrigin"] == "fraud-desk"


def test_get_transaction_data_fields(server: RunningServer) -> None:
    ref = order(server.url, amount=1234, mode="VALIDATION", day=3, orderId="O-77",
                customerId="cust-9", returnContext="ctx")
    answer = data(server.url, ref)
    allowed = set(BY_NAME["getTransactionData"].response_fields)
    assert set(answer) <= allowed
    expected: dict[str, Any] = {
        "responseCode": "00", "transactionReference": ref, "transactionStatus": "TO_VALIDATE",
        "amount": "1234", "currencyCode": "978", "authorisedAmount": "1234",
        "capturedAmount": "0", "refundedAmount": "0", "cancelledAmount": "0",
        "remainingAmount": "1234", "captureMode": "VALIDATION", "captureDay": "3",
        "acquirerResponseCode": "00", "maskedPan": "410000######0000",
        "panExpiryDate": future_expiry(), "paymentMeanBrand": "VISA",
        "orderChannel": "INTERNET", "orderId": "O-77", "customerId": "cust-9",
        "returnContext": "ctx"}
    for field, value in expected.items():
        assert answer[field] == value, field
    assert len(answer["captureLimitDate"]) == 8 and answer["authorisationId"]
    assert answer["transactionDateTime"][10] == "T"
    [authorisation] = answer["operationList"]
    assert authorisation["operationType"] == "AUTHORISATION"
    assert authorisation["operationAmount"] == "1234"
    assert authorisation["operationResponseCode"] == "00"
    assert authorisation["operationStatus"] == "TO_VALIDATE"


def test_duplicate(server: RunningServer, client: Client) -> None:
    source = order(server.url, mode="IMMEDIATE", orderChannel="MOTO")
    new = reference("D")
    answer = client.duplicate(from_transaction_reference=source, transaction_reference=new,
                              amount=990, currency_code="978", capture_mode="VALIDATION",
                              capture_day=4, operation_origin="recurring")
    assert answer.ok and answer.verified
    assert answer.transaction_reference == new and str(answer.amount) == "990"
    assert answer.masked_pan == "410000######0000" and answer.order_channel == "MOTO"
    assert answer.authorisation_id and answer.capture_mode == "VALIDATION"
    got = client.get_transaction_data(transaction_reference=new)
    assert got.transaction_status == "TO_VALIDATE" and str(got.authorised_amount) == "990"
    assert got.operation_list and got.operation_list[0]["operationType"] == "DUPLICATE"
    # The source is unchanged; its own reference is not reusable.
    assert client.get_transaction_data(transaction_reference=source).transaction_status \
        == "CAPTURED"
    again = client.duplicate(from_transaction_reference=source, transaction_reference=new,
                             amount=990, currency_code="978")
    assert again.response_code == "94"


def test_duplicate_refusals(server: RunningServer, client: Client) -> None:
    unknown = client.duplicate(from_transaction_reference=reference("NONE"),
                               transaction_reference=reference("D"), amount=10,
                               currency_code="978")
    assert unknown.response_code == "25"
    source = order(server.url, mode="IMMEDIATE")
    other = client.duplicate(from_transaction_reference=source, from_merchant_id=GUIDE_SHOP[0],
                             transaction_reference=reference("D"), amount=10,
                             currency_code="978")
    assert other.response_code == "25"
    refused_source = order(server.url, card=REFUSED_CARD)
    refused = client.duplicate(from_transaction_reference=refused_source,
                               transaction_reference=reference("D"), amount=10,
                               currency_code="978")
    assert refused.response_code == "24"
    assert data(server.url, refused_source)["operationList"][-1]["operationType"] \
        == "DUPLICATE"


def test_connector_cash_answers_are_typed(client: Client, server: RunningServer) -> None:
    ref = order(server.url, mode="VALIDATION", day=1)
    validated = client.validate(transaction_reference=ref, operation_amount=2000,
                                currency_code="978", operation_origin="back-office")
    assert validated.ok and validated.verified
    assert validated.new_status == "TO_CAPTURE" and str(validated.new_amount) == "2000"
    cancelled = client.cancel(transaction_reference=ref, operation_amount=2000,
                              currency_code="978")
    assert cancelled.new_status == "CANCELLED" and str(cancelled.new_amount) == "0"
    refused = client.refund(transaction_reference=ref, operation_amount=1,
                            currency_code="978")
    assert refused.response_code == "24" and refused.verified and refused.new_status is None
    challenged = order(server.url, card=CHALLENGE_CARD)
    declined = client.refuse_challenge(transaction_reference=challenged)
    assert declined.new_status == "REFUSED"
    assert client.accept_challenge(transaction_reference=challenged).response_code == "24"
    info = client.get_transaction_data(transaction_reference=ref)
    assert info.transaction_status == "CANCELLED" and info.operation_list is not None
    assert [op["operationType"] for op in info.operation_list] == [
        "AUTHORISATION", "VALIDATE", "CANCEL", "REFUND"]
