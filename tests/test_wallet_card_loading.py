"""load_wallet_card, the entry walletCheckEnrollment uses, in process on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sogenactif.protocol.catalogue import service
from sogenactif.protocol.seal import SealAlgorithm
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.operations.wallet import add_card, load_wallet_card, wallet_order
from sogenactif.server.runtime import Runtime, Settings, build_runtime
from sogenactif.server.store import repositories as repo
from tests.support import SAMPLE_SHOP, future_expiry, reference


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.delenv("SOGENACTIF_MASTER_KEY", raising=False)
    runtime = build_runtime(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}",
                                     master_key_file=str(tmp_path / "key")))
    yield runtime
    runtime.db.engine.dispose()


def request(rt: Runtime, name: str, **fields: Any) -> OfficeRequest:
    with rt.db.read() as conn:
        key = repo.get_key(conn, rt.vault, SAMPLE_SHOP[0], SAMPLE_SHOP[2])
    assert key is not None
    return OfficeRequest(service(name), fields, key, SealAlgorithm.HMAC_SHA_256, rt.clock.now())


def enrolment(rt: Runtime, **fields: Any) -> OfficeRequest:
    return request(rt, "walletCheckEnrollment", amount="100", currencyCode="978",
                   transactionReference=reference(), orderChannel="INTERNET",
                   merchantReturnUrl="https://shop.example/back", **fields)


def test_load_wallet_card(rt: Runtime) -> None:
    added = add_card(rt, request(rt, "addCard", merchantWalletId="w1",
                                 cardNumber="4300000000000000", cardExpiryDate=future_expiry(),
                                 paymentMeanBrand="VISA"))
    assert added["walletResponseCode"] == "00"
    loaded = load_wallet_card(rt, enrolment(rt, merchantWalletId="w1", paymentMeanId="1"))
    assert loaded == ("4300000000000000", future_expiry(), "VISA")


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"merchantWalletId": "nobody", "paymentMeanId": "1"}, "25", "merchantWalletId"),
    ({"merchantWalletId": "w1", "paymentMeanId": "2"}, "25", "paymentMeanId"),
    ({"merchantWalletId": "w1", "paymentMeanId": "1", "paymentPattern": "RECURRING_N"},
     "12", "paymentPattern"),
])
def test_load_wallet_card_refusals(rt: Runtime, fields: dict[str, Any], code: str,
                                   field: str) -> None:
    add_card(rt, request(rt, "addCard", merchantWalletId="w1", cardNumber="4100000000000000",
                         cardExpiryDate=future_expiry()))
    with pytest.raises(Refusal) as refusal:
        load_wallet_card(rt, enrolment(rt, **fields))
    assert (refusal.value.code, refusal.value.field) == (code, field)


def test_recurring_n_loads_after_an_accepted_recurring_1(rt: Runtime) -> None:
    add_card(rt, request(rt, "addCard", merchantWalletId="w1", cardNumber="4100000000000000",
                         cardExpiryDate=future_expiry()))
    first = wallet_order(rt, request(rt, "walletOrder", amount="100", currencyCode="978",
                                     transactionReference=reference(),
                                     orderChannel="INTERNET", merchantWalletId="w1",
                                     paymentMeanId="1", paymentPattern="RECURRING_1"))
    assert first["responseCode"] == "00"
    pan, _expiry, _brand = load_wallet_card(
        rt, enrolment(rt, merchantWalletId="w1", paymentMeanId="1", paymentPattern="RECURRING_N"))
    assert pan == "4100000000000000"
