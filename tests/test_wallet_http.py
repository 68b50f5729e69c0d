"""Wallets over HTTP, on SQLite and PostgreSQL: the six wallet services, walletOrder with its
payment patterns, every error of docs/wallets.md, and no card number in clear at rest."""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sogenactif import AsyncClient, Client
from sogenactif.protocol.catalogue import service
from sogenactif.protocol.seal import verify_seal
from sogenactif.server.store.db import Database, normalise_url
from tests.support import (
    GUIDE_SHOP,
    SAMPLE_SHOP,
    RunningServer,
    future_expiry,
    reference,
    sealed_request,
)

VISA = "4100000000000000"  # test card, VISA, accepted
VISA_2 = "4100002000005678"  # another accepted VISA test card
CB_VISA = "4300000000000000"  # co-badged test card
REFUSED_05 = "4100000000000005"  # test card the acquirer refuses with 05
REAL_LOOKING = "4111111111111111"  # Luhn-valid, outside the test prefixes
MASTERCARD = "5100002000004321"
BAD_LUHN = "4111111111111112"
CONCURRENT_PANS = tuple(f"41000020000{n:03d}10" for n in range(1, 9))
#: Every card number this module sends; none may be found in clear in the database.
ALL_PANS = (VISA, VISA_2, CB_VISA, REFUSED_05, REAL_LOOKING, MASTERCARD, BAD_LUHN,
            *CONCURRENT_PANS)


def wallet_id() -> str:
    """A merchantWalletId no other test uses (ANS..21)."""
    return f"W-{secrets.token_hex(8)}"


def past_expiry() -> str:
    today = date.today()
    return f"{today.year - 1}{today.month:02d}"


def call(server: RunningServer, name: str, shop: tuple[str, str, int] = SAMPLE_SHOP,
         **fields: Any) -> dict[str, Any]:
    """A raw sealed request to a service; the answer, its seal checked."""
    svc = service(name)
    body = sealed_request({k: v for k, v in fields.items() if v is not None}, shop,
                          interface_version=svc.family.latest_interface_version)
    response = httpx.post(server.url + svc.path, json=body, timeout=30)
    assert response.status_code == 200, response.text
    answer = dict(response.json())
    assert verify_seal(answer, shop[1]), answer
    return answer


def add(server: RunningServer, wallet: str, pan: str = VISA,
        shop: tuple[str, str, int] = SAMPLE_SHOP, **fields: Any) -> dict[str, Any]:
    fields.setdefault("cardExpiryDate", future_expiry())
    return call(server, "addCard", shop, merchantWalletId=wallet, cardNumber=pan, **fields)


def pay(server: RunningServer, wallet: str, payment_mean_id: str,
        shop: tuple[str, str, int] = SAMPLE_SHOP, **fields: Any) -> dict[str, Any]:
    order: dict[str, Any] = {"amount": "1999", "currencyCode": "978",
                             "transactionReference": reference("W"),
                             "orderChannel": "INTERNET", "merchantWalletId": wallet,
                             "paymentMeanId": payment_mean_id}
    order.update(fields)
    return call(server, "walletOrder", shop, **order)


def sql(server: RunningServer, statement: str, **params: Any) -> list[Any]:
    """Through the server's own Database, so that running servers see shop changes at once
    (their key cache follows the shared change counter)."""
    database = Database(server.database_url, pool_size=1)
    try:
        with database.write() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        database.dispose()


def without_seal(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "seal"}


# ------------------------------------------------------------------ addCard, getWalletData


def test_connector_add_card_creates_the_wallet(client: Client) -> None:
    wallet = wallet_id()
    assert client.get_wallet_data(merchant_wallet_id=wallet).response_code == "25"
    first = client.add_card(merchant_wallet_id=wallet, card_number=VISA,
                            card_expiry_date=future_expiry(), payment_mean_alias="my visa")
    assert first.ok and first.verified
    assert first.raw["walletResponseCode"] == "00" and "responseCode" not in first.raw
    assert first.payment_mean_id == "1"
    assert first.masked_pan == "410000######0000"
    assert first.pan_expiry_date == future_expiry()
    assert first.payment_mean_brand == "VISA"
    assert first.payment_mean_alias == "my visa"
    assert first.wallet_action_date_time and first.wallet_action_date_time[10] == "T"
    second = client.add_card(merchant_wallet_id=wallet, card_number=MASTERCARD,
                             card_expiry_date=future_expiry(2))
    assert second.ok and second.payment_mean_id == "2"
    assert second.payment_mean_brand == "MASTERCARD" and second.payment_mean_alias is None

    data = client.get_wallet_data(merchant_wallet_id=wallet)
    assert data.ok and data.verified
    assert data.wallet_payment_mean_data_list == [
        {"paymentMeanId": "1", "maskedPan": "410000######0000", "panExpiryDate": future_expiry(),
         "paymentMeanBrand": "VISA", "paymentMeanAlias": "my visa"},
        {"paymentMeanId": "2", "maskedPan": "510000######4321",
         "panExpiryDate": future_expiry(2), "paymentMeanBrand": "MASTERCARD"},
    ]
    assert data.wallet_creation_date_time == first.wallet_action_date_time
    assert data.wallet_last_action_date_time == second.wallet_action_date_time
    assert "cardNumber" not in str(data.raw) and VISA not in str(data.raw)


def test_brand_from_the_card_table_or_chosen_on_a_cobadged_card(server: RunningServer) -> None:
    wallet = wallet_id()
    assert add(server, wallet, CB_VISA)["paymentMeanBrand"] == "CB+VISA"
    assert add(server, wallet, REAL_LOOKING)["paymentMeanBrand"] == "VISA"
    other = wallet_id()
    chosen = add(server, other, CB_VISA, paymentMeanBrand="VISA")
    assert (chosen["walletResponseCode"], chosen["paymentMeanBrand"]) == ("00", "VISA")
    wrong = add(server, wallet_id(), VISA, paymentMeanBrand="AMEX")
    assert (wrong["walletResponseCode"], wrong["errorFieldName"]) == ("12", "paymentMeanBrand")


def test_add_card_invalid_number_is_14_and_creates_nothing(server: RunningServer) -> None:
    wallet = wallet_id()
    answer = add(server, wallet, BAD_LUHN)
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == ("14", "cardNumber")
    assert "paymentMeanId" not in answer
    assert call(server, "getWalletData", merchantWalletId=wallet)["walletResponseCode"] == "25"


def test_add_card_expired_is_54_and_creates_nothing(server: RunningServer) -> None:
    wallet = wallet_id()
    answer = add(server, wallet, VISA, cardExpiryDate=past_expiry())
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == ("54", "cardExpiryDate")
    assert call(server, "getWalletData", merchantWalletId=wallet)["walletResponseCode"] == "25"


def test_same_card_twice_in_a_wallet_is_94(server: RunningServer) -> None:
    wallet = wallet_id()
    assert add(server, wallet, VISA)["paymentMeanId"] == "1"
    assert add(server, wallet, VISA_2)["paymentMeanId"] == "2"
    again = add(server, wallet, VISA_2, paymentMeanAlias="again")
    assert again["walletResponseCode"] == "94"
    assert again["errorFieldName"] == "cardNumber" and again["paymentMeanId"] == "2"
    # the same card may be in another wallet
    assert add(server, wallet_id(), VISA_2)["walletResponseCode"] == "00"
    # once deleted, the card may be added again, under a new id
    assert call(server, "deletePaymentMean", merchantWalletId=wallet,
                paymentMeanId="2")["walletResponseCode"] == "00"
    assert add(server, wallet, VISA_2)["paymentMeanId"] == "3"


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"cardNumber": "41000000"}, "30", "cardNumber"),
    ({"cardExpiryDate": "202613"}, "30", "cardExpiryDate"),
    ({"merchantWalletId": "x" * 22}, "30", "merchantWalletId"),
    ({"cardNumber": None}, "12", "cardNumber"),
    ({"merchantWalletId": None}, "12", "merchantWalletId"),
])
def test_add_card_format_errors_in_wallet_response_code(server: RunningServer,
                                                        fields: dict[str, Any], code: str,
                                                        field: str) -> None:
    values: dict[str, Any] = {"merchantWalletId": wallet_id(), "cardNumber": VISA,
                              "cardExpiryDate": future_expiry(), **fields}
    answer = call(server, "addCard", **values)
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == (code, field)
    assert "responseCode" not in answer


def test_wallet_service_needs_the_wallet_interface_version(server: RunningServer) -> None:
    body = sealed_request({"merchantWalletId": wallet_id()}, interface_version="IR_WS_2.55")
    answer = httpx.post(server.url + service("getWalletData").path, json=body).json()
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == ("30",
                                                                         "interfaceVersion")


def test_simultaneous_first_cards_make_one_wallet(server: RunningServer) -> None:
    wallet = wallet_id()
    pans = CONCURRENT_PANS
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda pan: add(server, wallet, pan), pans))
    assert sorted(a["walletResponseCode"] for a in answers) == ["00"] * 8
    assert sorted(int(a["paymentMeanId"]) for a in answers) == list(range(1, 9))
    data = call(server, "getWalletData", merchantWalletId=wallet)
    assert len(data["walletPaymentMeanDataList"]) == 8
    assert sql(server, "SELECT count(*) FROM wallets WHERE merchant_wallet_id = :w",
               w=wallet)[0][0] == 1


def test_connector_duplicate_card_names_the_stored_one(client: Client) -> None:
    wallet = wallet_id()
    client.add_card(merchant_wallet_id=wallet, card_number=VISA,
                    card_expiry_date=future_expiry())
    again = client.add_card(merchant_wallet_id=wallet, card_number=VISA,
                            card_expiry_date=future_expiry(2))
    assert not again.ok and again.verified
    assert (again.response_code, again.error_field_name, again.payment_mean_id) == (
        "94", "cardNumber", "1")


def test_async_connector_wallet_round_trip(server: RunningServer) -> None:
    merchant_id, secret, version = SAMPLE_SHOP
    wallet = wallet_id()

    async def run() -> list[str | None]:
        async with AsyncClient(merchant_id, secret, version, server.url) as connector:
            added = await connector.add_card(merchant_wallet_id=wallet, card_number=VISA_2,
                                             card_expiry_date=future_expiry())
            paid = await connector.wallet_order(
                amount=100, currency_code="978", transaction_reference=reference("W"),
                merchant_wallet_id=wallet, payment_mean_id=added.payment_mean_id or "",
                payment_pattern="RECURRING_1")
            data = await connector.get_wallet_data(merchant_wallet_id=wallet)
            gone = await connector.sign_off(merchant_wallet_id=wallet)
            return [added.response_code, paid.response_code, data.response_code,
                    gone.response_code]

    assert asyncio.run(run()) == ["00", "00", "00", "00"]


# ------------------------------------------------------------------ one card


def test_get_payment_mean_data(client: Client, server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA, paymentMeanAlias="perso")
    card = client.get_payment_mean_data(merchant_wallet_id=wallet, payment_mean_id="1")
    assert card.ok and card.verified
    assert (card.payment_mean_id, card.masked_pan, card.payment_mean_brand,
            card.payment_mean_alias, card.pan_expiry_date) == (
        "1", "410000######0000", "VISA", "perso", future_expiry())
    # the id is a number: leading zeros find the same card
    assert call(server, "getPaymentMeanData", merchantWalletId=wallet,
                paymentMeanId="001")["paymentMeanId"] == "1"


def test_update_payment_mean(client: Client, server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA, paymentMeanAlias="old")
    renamed = client.update_payment_mean(merchant_wallet_id=wallet, payment_mean_id="1",
                                         payment_mean_alias="new")
    assert renamed.ok and renamed.payment_mean_alias == "new"
    assert renamed.pan_expiry_date == future_expiry() and renamed.wallet_action_date_time
    later = future_expiry(5)
    moved = client.update_payment_mean(merchant_wallet_id=wallet, payment_mean_id="1",
                                       card_expiry_date=later)
    assert moved.ok and moved.pan_expiry_date == later and moved.payment_mean_alias == "new"
    cleared = client.update_payment_mean(merchant_wallet_id=wallet, payment_mean_id="1",
                                         payment_mean_alias="")
    assert cleared.ok and cleared.payment_mean_alias is None
    card = call(server, "getPaymentMeanData", merchantWalletId=wallet, paymentMeanId="1")
    assert card["panExpiryDate"] == later and "paymentMeanAlias" not in card

    nothing = call(server, "updatePaymentMean", merchantWalletId=wallet, paymentMeanId="1")
    assert (nothing["walletResponseCode"], nothing["errorFieldName"]) == ("12",
                                                                         "paymentMeanAlias")
    past = call(server, "updatePaymentMean", merchantWalletId=wallet, paymentMeanId="1",
                cardExpiryDate=past_expiry())
    assert (past["walletResponseCode"], past["errorFieldName"]) == ("54", "cardExpiryDate")
    assert call(server, "getPaymentMeanData", merchantWalletId=wallet,
                paymentMeanId="1")["panExpiryDate"] == later


def test_delete_payment_mean(client: Client, server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    add(server, wallet, MASTERCARD)
    deleted = client.delete_payment_mean(merchant_wallet_id=wallet, payment_mean_id="1")
    assert deleted.ok and deleted.wallet_action_date_time
    gone = call(server, "getPaymentMeanData", merchantWalletId=wallet, paymentMeanId="1")
    assert (gone["walletResponseCode"], gone["errorFieldName"]) == ("25", "paymentMeanId")
    again = call(server, "deletePaymentMean", merchantWalletId=wallet, paymentMeanId="1")
    assert again["walletResponseCode"] == "25"
    listed = call(server, "getWalletData", merchantWalletId=wallet)["walletPaymentMeanDataList"]
    assert [c["paymentMeanId"] for c in listed] == ["2"]
    # a deleted card's id is never given again, and its encrypted PAN is erased
    assert add(server, wallet, REAL_LOOKING)["paymentMeanId"] == "3"
    for payment_mean_id in ("2", "3"):
        call(server, "deletePaymentMean", merchantWalletId=wallet, paymentMeanId=payment_mean_id)
    empty = call(server, "getWalletData", merchantWalletId=wallet)  # the wallet stays
    assert (empty["walletResponseCode"], empty["walletPaymentMeanDataList"]) == ("00", [])
    rows = sql(server, "SELECT pm.payment_mean_id, pm.pan_enc FROM payment_means pm JOIN "
                       "wallets w ON w.id = pm.wallet_id WHERE w.merchant_wallet_id = :w "
                       "ORDER BY pm.payment_mean_id", w=wallet)
    assert [(r[0], len(bytes(r[1]))) for r in rows] == [("1", 0), ("2", 0), ("3", 0)]


def test_sign_off(client: Client, server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    add(server, wallet, MASTERCARD)
    done = client.sign_off(merchant_wallet_id=wallet)
    assert done.ok and done.wallet_action_date_time
    assert call(server, "getWalletData", merchantWalletId=wallet)["walletResponseCode"] == "25"
    paid = pay(server, wallet, "1")
    assert (paid["responseCode"], paid["errorFieldName"]) == ("25", "merchantWalletId")
    assert call(server, "signOff", merchantWalletId=wallet)["walletResponseCode"] == "25"
    # the merchantWalletId may start a new, empty wallet
    assert add(server, wallet, MASTERCARD)["paymentMeanId"] == "1"
    listed = call(server, "getWalletData", merchantWalletId=wallet)["walletPaymentMeanDataList"]
    assert [c["maskedPan"] for c in listed] == ["510000######4321"]


# ------------------------------------------------------------------ errors of every service

CARD_SERVICES = ("updatePaymentMean", "getPaymentMeanData", "deletePaymentMean")
WALLET_SERVICES = ("getWalletData", "signOff", *CARD_SERVICES)


def _fields(name: str, wallet: str, payment_mean_id: str = "1") -> dict[str, Any]:
    fields: dict[str, Any] = {"merchantWalletId": wallet}
    if name in CARD_SERVICES:
        fields["paymentMeanId"] = payment_mean_id
    if name == "updatePaymentMean":
        fields["paymentMeanAlias"] = "x"
    return fields


@pytest.mark.parametrize("name", WALLET_SERVICES)
def test_unknown_wallet_is_25(server: RunningServer, name: str) -> None:
    answer = call(server, name, **_fields(name, wallet_id()))
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == ("25",
                                                                         "merchantWalletId")


@pytest.mark.parametrize("name", CARD_SERVICES)
def test_unknown_payment_mean_is_25(server: RunningServer, name: str) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    answer = call(server, name, **_fields(name, wallet, "2"))
    assert (answer["walletResponseCode"], answer["errorFieldName"]) == ("25", "paymentMeanId")


@pytest.mark.parametrize("name", WALLET_SERVICES)
def test_another_merchants_wallet_looks_unknown(server: RunningServer, name: str) -> None:
    theirs = wallet_id()
    assert add(server, theirs, VISA, GUIDE_SHOP)["walletResponseCode"] == "00"
    answer = call(server, name, **_fields(name, theirs))
    unknown = call(server, name, **_fields(name, wallet_id()))
    assert answer["walletResponseCode"] == "25"
    assert without_seal(answer) == without_seal(unknown)
    # and their wallet is untouched
    mine = call(server, "getWalletData", GUIDE_SHOP, merchantWalletId=theirs)
    assert [c["paymentMeanId"] for c in mine["walletPaymentMeanDataList"]] == ["1"]


def test_same_wallet_id_at_two_merchants_are_two_wallets(server: RunningServer) -> None:
    shared = wallet_id()
    add(server, shared, VISA, GUIDE_SHOP)
    assert add(server, shared, VISA)["paymentMeanId"] == "1"  # no 94: not the same wallet
    guide = call(server, "getWalletData", GUIDE_SHOP, merchantWalletId=shared)
    sample = call(server, "getWalletData", merchantWalletId=shared)
    assert len(guide["walletPaymentMeanDataList"]) == len(sample["walletPaymentMeanDataList"]) == 1


def test_wallet_service_disabled_for_a_shop_is_40(server: RunningServer) -> None:
    merchant_id = GUIDE_SHOP[0]
    sql(server, "UPDATE shops SET disabled_services = 'getWalletData' WHERE merchant_id = :m",
        m=merchant_id)
    try:
        answer = call(server, "getWalletData", GUIDE_SHOP, merchantWalletId=wallet_id())
    finally:
        sql(server, "UPDATE shops SET disabled_services = '' WHERE merchant_id = :m",
            m=merchant_id)
    assert answer["walletResponseCode"] == "40"


# ------------------------------------------------------------------ walletOrder


def test_connector_wallet_order_one_shot(client: Client, server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, CB_VISA, paymentMeanBrand="CB")
    ref = reference("W")
    answer = client.wallet_order(amount=4200, currency_code="978", transaction_reference=ref,
                                 merchant_wallet_id=wallet, payment_mean_id="1",
                                 order_id="ORD-W1", return_context="ctx")
    assert answer.ok and answer.verified
    assert answer.acquirer_response_code == "00" and answer.authorisation_id
    assert answer.masked_pan == "430000######0000" and answer.payment_mean_brand == "CB"
    assert answer.pan_expiry_date == future_expiry()
    assert answer.payment_pattern == "ONE_SHOT"  # the default
    assert answer.card_csc_result_code == "53"  # no CSC needed with a stored card
    assert answer.transaction_reference == ref and answer.return_context == "ctx"
    row = sql(server, "SELECT status, merchant_wallet_id, payment_mean_id, payment_pattern, "
                      "service, masked_pan, request_json FROM transactions "
                      "WHERE transaction_reference = :r", r=ref)[0]
    assert tuple(row[:6]) == ("TO_CAPTURE", wallet, "1", "ONE_SHOT", "walletOrder",
                              "430000######0000")
    assert CB_VISA not in row[6]


def test_wallet_order_refused_by_the_acquirer(server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, REFUSED_05)
    answer = pay(server, wallet, "1")
    assert (answer["responseCode"], answer["acquirerResponseCode"]) == ("05", "05")
    assert "authorisationId" not in answer


def test_wallet_order_with_a_csc_checks_it(server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    assert pay(server, wallet, "1", cardCSCValue="123")["cardCSCResultCode"] == "4D"
    answer = pay(server, wallet, "1", cardCSCValue="999")
    assert (answer["responseCode"], answer["cardCSCResultCode"]) == ("14", "4E")


def test_wallet_order_expired_stored_card_is_54(server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    # The card expires while stored: move its stored expiry into the past, as time would.
    sql(server, "UPDATE payment_means SET pan_expiry_date = :e WHERE wallet_id = "
                "(SELECT id FROM wallets WHERE merchant_wallet_id = :w)",
        e=past_expiry(), w=wallet)
    ref = reference("W")
    answer = pay(server, wallet, "1", transactionReference=ref)
    assert (answer["responseCode"], answer["acquirerResponseCode"]) == ("54", "54")
    assert answer["panExpiryDate"] == past_expiry()
    status = sql(server, "SELECT status FROM transactions WHERE transaction_reference = :r",
                 r=ref)[0][0]
    assert status == "REFUSED"


@pytest.mark.parametrize("case", ["unknown wallet", "unknown card", "deleted card",
                                  "another merchant's wallet"])
def test_wallet_order_on_a_card_not_found_is_25(server: RunningServer, case: str) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    payment_mean_id, field = "1", "paymentMeanId"
    if case == "unknown wallet":
        wallet, field = wallet_id(), "merchantWalletId"
    elif case == "unknown card":
        payment_mean_id = "7"
    elif case == "deleted card":
        call(server, "deletePaymentMean", merchantWalletId=wallet, paymentMeanId="1")
    else:
        wallet, field = wallet_id(), "merchantWalletId"
        add(server, wallet, VISA, GUIDE_SHOP)  # the guide shop's, unseen by the sample shop
    ref = reference("W")
    answer = pay(server, wallet, payment_mean_id, transactionReference=ref)
    assert (answer["responseCode"], answer["errorFieldName"]) == ("25", field)
    # nothing recorded: the reference is still free
    assert pay(server, *_a_card(server), transactionReference=ref)["responseCode"] == "00"


def _a_card(server: RunningServer) -> tuple[str, str]:
    wallet = wallet_id()
    add(server, wallet, VISA)
    return wallet, "1"


def test_recurring_n_needs_an_accepted_recurring_1(server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, VISA)
    add(server, wallet, MASTERCARD)
    ref = reference("W")
    early = pay(server, wallet, "1", paymentPattern="RECURRING_N", transactionReference=ref)
    assert (early["responseCode"], early["errorFieldName"]) == ("12", "paymentPattern")
    first = pay(server, wallet, "1", paymentPattern="RECURRING_1")
    assert first["responseCode"] == "00" and first["paymentPattern"] == "RECURRING_1"
    nth = pay(server, wallet, "1", paymentPattern="RECURRING_N", transactionReference=ref)
    assert nth["responseCode"] == "00" and nth["paymentPattern"] == "RECURRING_N"
    assert pay(server, wallet, "1", paymentPattern="RECURRING_N")["responseCode"] == "00"
    # the series belongs to the card, not the wallet
    other = pay(server, wallet, "2", paymentPattern="RECURRING_N")
    assert (other["responseCode"], other["errorFieldName"]) == ("12", "paymentPattern")
    # a one-shot payment does not start a series
    assert pay(server, wallet, "2", paymentPattern="ONE_SHOT")["responseCode"] == "00"
    assert pay(server, wallet, "2", paymentPattern="RECURRING_N")["responseCode"] == "12"


def test_refused_recurring_1_does_not_start_the_series(server: RunningServer) -> None:
    wallet = wallet_id()
    add(server, wallet, REFUSED_05)
    assert pay(server, wallet, "1", paymentPattern="RECURRING_1")["responseCode"] == "05"
    answer = pay(server, wallet, "1", paymentPattern="RECURRING_N")
    assert (answer["responseCode"], answer["errorFieldName"]) == ("12", "paymentPattern")


def test_wallet_order_reused_reference_is_94(server: RunningServer) -> None:
    wallet, payment_mean_id = _a_card(server)
    ref = reference("W")
    assert pay(server, wallet, payment_mean_id, transactionReference=ref)["responseCode"] == "00"
    assert pay(server, wallet, payment_mean_id, transactionReference=ref)["responseCode"] == "94"


# ------------------------------------------------------------------ no PAN in clear at rest


def _stored_bytes(server: RunningServer) -> bytes:
    """Everything the database holds: the SQLite files (main, -wal, -journal), or a
    PostgreSQL dump of the whole test database."""
    if server.backend == "sqlite":
        path = Path(make_url(normalise_url(server.database_url)).database or "")
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal"))]
        data = b"".join(f.read_bytes() for f in files if f.exists())
        assert path.exists() and len(data) > 0
        return data
    url = server.database_url
    dump = subprocess.run(["pg_dump", "--no-owner", "--dbname", url], check=True,
                          capture_output=True, timeout=120)
    return dump.stdout


def test_no_card_number_in_clear_in_the_database(server: RunningServer) -> None:
    wallet = wallet_id()
    for pan in (VISA, VISA_2, CB_VISA, REFUSED_05, REAL_LOOKING, MASTERCARD):
        assert add(server, wallet, pan)["walletResponseCode"] == "00"
    assert add(server, wallet_id(), BAD_LUHN)["walletResponseCode"] == "14"
    for payment_mean_id, pattern in (("1", "RECURRING_1"), ("1", "RECURRING_N"),
                                     ("3", "ONE_SHOT"), ("4", "ONE_SHOT"),
                                     ("5", "ONE_SHOT")):
        pay(server, wallet, payment_mean_id, paymentPattern=pattern)
    call(server, "updatePaymentMean", merchantWalletId=wallet, paymentMeanId="2",
         cardExpiryDate=future_expiry(4))
    call(server, "deletePaymentMean", merchantWalletId=wallet, paymentMeanId="6")
    signed_off = wallet_id()
    add(server, signed_off, VISA)
    call(server, "signOff", merchantWalletId=signed_off)

    stored = _stored_bytes(server)
    # the dump does hold the wallet (so the search below can find things) ...
    assert wallet.encode() in stored and b"410000######0000" in stored
    for pan in ALL_PANS:
        # ... but no card number, neither as text nor as the hex of a bytea column
        in_clear = pan.encode() in stored or pan.encode().hex().encode() in stored
        assert not in_clear, f"{pan} found in clear in the {server.backend} database"
