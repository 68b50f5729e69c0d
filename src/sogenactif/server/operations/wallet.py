"""wallet: the customer's stored cards (addCard, updatePaymentMean, getWalletData,
getPaymentMeanData, deletePaymentMean, signOff) and walletOrder, the payment with one.

Wallet services answer ``walletResponseCode``; the pipeline puts a Refusal's code there.
Codes and choices: docs/wallets.md. A wallet belongs to one merchant: every lookup names the
merchant, so another merchant's wallet answers exactly as an unknown one (25).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from sogenactif.server.domain.cards import mask_pan
from sogenactif.server.domain.clock import business_date, iso
from sogenactif.server.domain.wallet import (
    Pattern,
    WalletCode,
    brand_choice,
    card_problem,
    expiry_problem,
    next_payment_mean_id,
    pattern_of,
    pattern_problem,
    starts_recurring,
)
from sogenactif.server.operations.base import OfficeRequest, Refusal
from sogenactif.server.operations.orders import AlsoSave, authorise_card, check_terms
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import wallet_pan_purpose

DONE = WalletCode.DONE.value
UNKNOWN = WalletCode.UNKNOWN.value


def _aware(moment: datetime) -> datetime:
    """SQLite gives back the UTC wall time without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _wallet_id(req: OfficeRequest) -> str:
    value = req.text("merchantWalletId")
    assert value is not None  # required by the catalogue
    return value


def _payment_mean_id(req: OfficeRequest) -> str:
    """paymentMeanId as the platform gives it: no leading zeros ("007" finds card 7)."""
    value = req.text("paymentMeanId")
    assert value is not None  # required by the catalogue
    return str(int(value))


def _card_answer(card: Mapping[str, Any]) -> dict[str, Any]:
    """A stored card as the wallet services show it (never more than the masked PAN)."""
    answer: dict[str, Any] = {
        "paymentMeanId": card["payment_mean_id"],
        "maskedPan": card["masked_pan"],
        "panExpiryDate": card["pan_expiry_date"],
        "paymentMeanBrand": card["payment_mean_brand"],
    }
    if card["payment_mean_alias"]:
        answer["paymentMeanAlias"] = card["payment_mean_alias"]
    return answer


def _find_wallet(conn: Connection, req: OfficeRequest, *, for_update: bool = False) -> Any:
    wallet = repo.get_wallet(conn, req.merchant_id, _wallet_id(req), for_update=for_update)
    if wallet is None:
        raise Refusal(UNKNOWN, "merchantWalletId")
    return wallet


def _find_card(conn: Connection, req: OfficeRequest, *,
               for_update: bool = False) -> tuple[Any, Any]:
    wallet = _find_wallet(conn, req, for_update=for_update)
    card = repo.get_payment_mean(conn, wallet.id, _payment_mean_id(req), for_update=for_update)
    if card is None:
        raise Refusal(UNKNOWN, "paymentMeanId")
    return wallet, card


def _decrypt(rt: Runtime, merchant_id: str, wallet: Any, card: Any) -> str:
    purpose = wallet_pan_purpose(merchant_id, wallet.merchant_wallet_id, card.payment_mean_id)
    return rt.vault.decrypt(card.pan_enc, purpose)


# ------------------------------------------------------------------ wallet services


def add_card(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """addCard: store a card; the wallet is created by its first card."""
    pan = req.text("cardNumber") or ""
    expiry = req.text("cardExpiryDate") or ""
    profile = rt.acquirer.profile(pan)
    problem = card_problem(pan, expiry, business_date(req.now), test_card=profile.test_card)
    if problem is WalletCode.INVALID_CARD:
        raise Refusal(problem.value, "cardNumber")
    if problem is not None:
        raise Refusal(problem.value, "cardExpiryDate")
    brand = brand_choice(profile.brand, req.text("paymentMeanBrand"))
    if brand is None:
        raise Refusal(WalletCode.INCONSISTENT.value, "paymentMeanBrand")
    now = req.now
    with rt.db.write() as conn:  # a refusal below rolls the new wallet back too
        wallet, _created = repo.get_or_create_wallet(conn, req.merchant_id, _wallet_id(req), now)
        for stored in repo.list_payment_means(conn, wallet.id):
            if _decrypt(rt, req.merchant_id, wallet, stored) == pan:
                raise Refusal(WalletCode.DUPLICATE_CARD.value, "cardNumber",
                              paymentMeanId=stored.payment_mean_id)
        payment_mean_id = next_payment_mean_id(repo.used_payment_mean_ids(conn, wallet.id))
        if payment_mean_id is None:
            raise Refusal(WalletCode.INCONSISTENT.value, "merchantWalletId")
        purpose = wallet_pan_purpose(req.merchant_id, wallet.merchant_wallet_id,
                                     payment_mean_id)
        values = {
            "wallet_id": wallet.id,
            "payment_mean_id": payment_mean_id,
            "payment_mean_alias": req.text("paymentMeanAlias"),
            "pan_enc": rt.vault.encrypt(pan, purpose),
            "masked_pan": mask_pan(pan),
            "pan_expiry_date": expiry,
            "payment_mean_brand": brand,
            "recurring_started": False,
            "created_at": now,
        }
        repo.insert_payment_mean(conn, values)
        repo.touch_wallet(conn, wallet.id, now)
    return {"walletResponseCode": DONE, **_card_answer(values),
            "walletActionDateTime": iso(now)}


def update_payment_mean(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """updatePaymentMean: a new alias (an empty one removes it) and/or a new expiry date."""
    alias_given = "paymentMeanAlias" in req.fields and req.fields["paymentMeanAlias"] is not None
    expiry = req.text("cardExpiryDate")
    if not alias_given and expiry is None:
        raise Refusal(WalletCode.INCONSISTENT.value, "paymentMeanAlias")
    if expiry is not None and expiry_problem(expiry, business_date(req.now)) is not None:
        raise Refusal(WalletCode.EXPIRED_CARD.value, "cardExpiryDate")
    changes: dict[str, Any] = {}
    if alias_given:
        changes["payment_mean_alias"] = req.text("paymentMeanAlias")
    if expiry is not None:
        changes["pan_expiry_date"] = expiry
    with rt.db.write() as conn:
        wallet, card = _find_card(conn, req, for_update=True)
        repo.update_payment_mean(conn, card.id, changes)
        repo.touch_wallet(conn, wallet.id, req.now)
        answer = _card_answer({**card._mapping, **changes})
    return {"walletResponseCode": DONE, **answer, "walletActionDateTime": iso(req.now)}


def get_wallet_data(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """getWalletData: the wallet's dates and its cards (deleted ones left out)."""
    with rt.db.read() as conn:
        wallet = _find_wallet(conn, req)
        cards = repo.list_payment_means(conn, wallet.id)
    return {
        "walletResponseCode": DONE,
        "walletCreationDateTime": iso(_aware(wallet.created_at)),
        "walletLastActionDateTime": iso(_aware(wallet.last_action_at)),
        "walletPaymentMeanDataList": [_card_answer(card._mapping) for card in cards],
    }


def get_payment_mean_data(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """getPaymentMeanData: one stored card."""
    with rt.db.read() as conn:
        _wallet, card = _find_card(conn, req)
    return {"walletResponseCode": DONE, **_card_answer(card._mapping)}


def delete_payment_mean(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """deletePaymentMean: the card goes (its encrypted PAN is erased, its id never reused)."""
    with rt.db.write() as conn:
        wallet, card = _find_card(conn, req, for_update=True)
        repo.erase_payment_mean(conn, card.id, req.now)
        repo.touch_wallet(conn, wallet.id, req.now)
    return {"walletResponseCode": DONE, "walletActionDateTime": iso(req.now)}


def sign_off(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """signOff: the wallet and all its cards are removed; the id may later start a new one."""
    with rt.db.write() as conn:
        wallet = _find_wallet(conn, req, for_update=True)
        repo.delete_wallet(conn, wallet.id)
    return {"walletResponseCode": DONE, "walletActionDateTime": iso(req.now)}


# ------------------------------------------------------------------ paying with a wallet card


@dataclass(frozen=True)
class WalletCard:
    """A stored card, decrypted, as a payment uses it."""

    row_id: int
    merchant_wallet_id: str
    payment_mean_id: str
    pan: str
    expiry: str
    brand: str
    recurring_started: bool

    def __repr__(self) -> str:  # the PAN never reaches a log
        return (f"WalletCard({self.merchant_wallet_id!r}, {self.payment_mean_id!r}, "
                f"{mask_pan(self.pan)})")


def wallet_card(rt: Runtime, req: OfficeRequest) -> WalletCard:
    """The card named by merchantWalletId + paymentMeanId; 25 when unknown (or not ours)."""
    with rt.db.read() as conn:
        wallet, card = _find_card(conn, req)
    return WalletCard(card.id, wallet.merchant_wallet_id, card.payment_mean_id,
                      _decrypt(rt, req.merchant_id, wallet, card), card.pan_expiry_date,
                      card.payment_mean_brand, bool(card.recurring_started))


def checked_pattern(req: OfficeRequest, card: WalletCard) -> Pattern:
    """The request's paymentPattern (ONE_SHOT when absent); RECURRING_N before any accepted
    RECURRING_1 on this card is refused with 12 (errorFieldName paymentPattern)."""
    pattern = pattern_of(req.text("paymentPattern"))
    problem = pattern_problem(pattern, card.recurring_started)
    if problem is not None:
        raise Refusal(problem, "paymentPattern")
    return pattern


def load_wallet_card(rt: Runtime, req: OfficeRequest) -> tuple[str, str, str]:
    """(pan, expiry, brand) of the request's wallet card, for walletCheckEnrollment.

    Refuses as walletOrder does: 25 for an unknown wallet or card, 12 for a RECURRING_N
    without a prior accepted RECURRING_1. Save :func:`order_extra` with the transaction and
    pass :func:`recurring_also` to the recording, as walletOrder does.
    """
    card = wallet_card(rt, req)
    checked_pattern(req, card)
    return card.pan, card.expiry, card.brand


def order_extra(card: WalletCard, pattern: Pattern) -> dict[str, Any]:
    """The transaction columns a wallet payment sets beyond cardOrder's."""
    return {"merchant_wallet_id": card.merchant_wallet_id,
            "payment_mean_id": card.payment_mean_id,
            "payment_mean_brand": card.brand,
            "payment_pattern": pattern.value}


def recurring_also(card: WalletCard, pattern: Pattern) -> AlsoSave:
    """Saved with the transaction: an accepted RECURRING_1 starts the card's recurring series."""
    def also(conn: Connection, _transaction_id: int, values: dict[str, Any]) -> None:
        if starts_recurring(pattern, values["response_code"] == "00", card.recurring_started):
            repo.update_payment_mean(conn, card.row_id, {"recurring_started": True})
    return also


def wallet_order(rt: Runtime, req: OfficeRequest) -> dict[str, Any]:
    """walletOrder: an authorisation with a stored card (one-click or recurring); no CSC
    needed (one given is checked as cardOrder does)."""
    terms = check_terms(req)
    card = wallet_card(rt, req)
    pattern = checked_pattern(req, card)
    extra = {"holder_authent_status": None, **order_extra(card, pattern)}
    return authorise_card(rt, req, terms, pan=card.pan, expiry=card.expiry,
                          csc=req.text("cardCSCValue"), extra=extra,
                          also=recurring_also(card, pattern))


OPERATIONS = {
    "addCard": add_card,
    "updatePaymentMean": update_payment_mean,
    "getWalletData": get_wallet_data,
    "getPaymentMeanData": get_payment_mean_data,
    "deletePaymentMean": delete_payment_mean,
    "signOff": sign_off,
    "walletOrder": wallet_order,
}
