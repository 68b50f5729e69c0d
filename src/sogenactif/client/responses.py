"""Typed answers of the Office services; every field the catalogue lists is an attribute.

``raw`` keeps the whole answer as received, so a field the platform adds later is not lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from sogenactif.protocol.names import snake

R = TypeVar("R", bound="OfficeResponse")


@dataclass(frozen=True)
class OfficeResponse:
    """What every service answers."""

    response_code: str | None = None
    error_field_name: str | None = None
    seal: str | None = None
    #: True when the answer carried a seal that matched; False for an unsealed refusal.
    verified: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    #: The Office field that carries the outcome code of this kind of answer.
    code_field: ClassVar[str] = "responseCode"

    @property
    def ok(self) -> bool:
        return self.response_code == "00"

    @classmethod
    def from_message(cls: type[R], message: dict[str, Any], *, verified: bool) -> R:
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for office, value in message.items():
            python = snake(office)
            if office == cls.code_field:
                python = "response_code"
            if python in names and python not in ("raw", "verified"):
                values[python] = value
        return cls(verified=verified, raw=dict(message), **values)


@dataclass(frozen=True)
class OrderResponse(OfficeResponse):
    """cardOrder, walletOrder, duplicate, paymentProviderFinalize, the validate-and-order call."""

    acquirer_response_code: str | None = None
    authorisation_id: str | None = None
    transaction_date_time: str | None = None
    amount: int | str | None = None
    currency_code: str | None = None
    capture_day: int | str | None = None
    capture_mode: str | None = None
    masked_pan: str | None = None
    pan_expiry_date: str | None = None
    payment_mean_brand: str | None = None
    card_csc_result_code: str | None = None
    guarantee_indicator: str | None = None
    holder_authent_status: str | None = None
    holder_authent_method: str | None = None
    holder_authent_program: str | None = None
    order_channel: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    return_context: str | None = None
    transaction_reference: str | None = None
    score_color: str | None = None
    score_value: str | None = None
    score_profile: str | None = None
    score_info: str | None = None
    payment_pattern: str | None = None
    s10_transaction_reference: dict[str, Any] | None = None


@dataclass(frozen=True)
class EnrollmentResponse(OfficeResponse):
    """cardCheckEnrollment, walletCheckEnrollment."""

    redirection_status_code: str | None = None
    redirection_status_message: str | None = None
    redirection_url: str | None = None
    pa_req_message: str | None = None
    redirection_data: str | None = None
    message_version: str | None = None
    masked_pan: str | None = None
    transaction_reference: str | None = None


@dataclass(frozen=True)
class AuthenticationResponse(OfficeResponse):
    """cardValidateAuthentication."""

    transaction_reference: str | None = None
    holder_authent_status: str | None = None
    holder_authent_method: str | None = None
    holder_authent_program: str | None = None
    guarantee_indicator: str | None = None


@dataclass(frozen=True)
class RedirectionResponse(OfficeResponse):
    """paymentProviderInitialize."""

    redirection_url: str | None = None
    redirection_data: str | None = None
    message_version: str | None = None
    transaction_reference: str | None = None


@dataclass(frozen=True)
class CashResponse(OfficeResponse):
    """validate, cancel, refund, acceptChallenge, refuseChallenge."""

    acquirer_response_code: str | None = None
    authorisation_id: str | None = None
    new_amount: int | str | None = None
    new_status: str | None = None
    operation_date_time: str | None = None
    transaction_reference: str | None = None


@dataclass(frozen=True)
class TransactionData(OfficeResponse):
    """getTransactionData (field names beyond status and amount are our choice)."""

    transaction_reference: str | None = None
    transaction_status: str | None = None
    amount: int | str | None = None
    currency_code: str | None = None
    authorised_amount: int | str | None = None
    captured_amount: int | str | None = None
    refunded_amount: int | str | None = None
    cancelled_amount: int | str | None = None
    remaining_amount: int | str | None = None
    capture_mode: str | None = None
    capture_day: int | str | None = None
    capture_limit_date: str | None = None
    authorisation_id: str | None = None
    acquirer_response_code: str | None = None
    transaction_date_time: str | None = None
    masked_pan: str | None = None
    pan_expiry_date: str | None = None
    payment_mean_brand: str | None = None
    holder_authent_status: str | None = None
    order_channel: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    return_context: str | None = None
    operation_list: list[dict[str, Any]] | None = None
    s10_transaction_reference: dict[str, Any] | None = None


@dataclass(frozen=True)
class WalletResponse(OfficeResponse):
    """The wallet services; their outcome travels as walletResponseCode."""

    code_field: ClassVar[str] = "walletResponseCode"

    payment_mean_id: str | None = None
    masked_pan: str | None = None
    pan_expiry_date: str | None = None
    payment_mean_brand: str | None = None
    payment_mean_alias: str | None = None
    wallet_action_date_time: str | None = None
    wallet_creation_date_time: str | None = None
    wallet_last_action_date_time: str | None = None
    wallet_payment_mean_data_list: list[dict[str, Any]] | None = None


#: Which typed answer each service gives.
RESPONSE_TYPES: dict[str, type[OfficeResponse]] = {
    "cardOrder": OrderResponse,
    "walletOrder": OrderResponse,
    "duplicate": OrderResponse,
    "paymentProviderFinalize": OrderResponse,
    "cardValidateAuthenticationAndOrder": OrderResponse,
    "cardCheckEnrollment": EnrollmentResponse,
    "walletCheckEnrollment": EnrollmentResponse,
    "cardValidateAuthentication": AuthenticationResponse,
    "paymentProviderInitialize": RedirectionResponse,
    "validate": CashResponse,
    "cancel": CashResponse,
    "refund": CashResponse,
    "acceptChallenge": CashResponse,
    "refuseChallenge": CashResponse,
    "getTransactionData": TransactionData,
    "addCard": WalletResponse,
    "updatePaymentMean": WalletResponse,
    "getWalletData": WalletResponse,
    "getPaymentMeanData": WalletResponse,
    "deletePaymentMean": WalletResponse,
    "signOff": WalletResponse,
}
