"""Pure builders of Office calls: one per service, shared by the sync and async clients.

Keyword arguments are the Office fields in snake_case (``card_csc_value`` for
``cardCSCValue``); any field of the catalogue, or one the platform added later, may be passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sogenactif.client.responses import (
    AuthenticationResponse,
    CashResponse,
    EnrollmentResponse,
    OfficeResponse,
    OrderResponse,
    RedirectionResponse,
    TransactionData,
    WalletResponse,
)
from sogenactif.protocol.catalogue import Service, service
from sogenactif.protocol.names import office_name

T = TypeVar("T", bound=OfficeResponse)


@dataclass(frozen=True)
class Call(Generic[T]):
    """A service, its fields (Office names) and the typed answer it gives."""

    service: Service
    fields: dict[str, Any]
    response_type: type[T]


def office_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Office names for keyword arguments; ``None`` means "not sent"."""
    return {office_name(k): v for k, v in values.items() if v is not None}


def _call(name: str, response_type: type[T], values: dict[str, Any]) -> Call[T]:
    return Call(service(name), office_fields(values), response_type)


def generic(name: str, fields: dict[str, Any]) -> Call[OfficeResponse]:
    """Any service of the catalogue, fields given with their Office names."""
    from sogenactif.client.responses import RESPONSE_TYPES

    svc = service(name)
    return Call(svc, dict(fields), RESPONSE_TYPES.get(svc.name, OfficeResponse))


def card_order(*, amount: int, currency_code: str, transaction_reference: str,
               card_number: str, card_expiry_date: str, card_csc_value: str | None = None,
               capture_mode: str | None = None, capture_day: int | None = None,
               order_channel: str = "INTERNET", order_id: str | None = None,
               customer_id: str | None = None, return_context: str | None = None,
               **fields: Any) -> Call[OrderResponse]:
    """Authorise a card payment without 3-D Secure redirection."""
    return _call("cardOrder", OrderResponse, {**locals_of(locals()), **fields})


def card_check_enrollment(*, amount: int, currency_code: str, transaction_reference: str,
                          card_number: str, card_expiry_date: str, merchant_return_url: str,
                          card_csc_value: str | None = None, order_channel: str = "INTERNET",
                          **fields: Any) -> Call[EnrollmentResponse]:
    """Create the transaction and check the card's 3-D Secure enrolment."""
    return _call("cardCheckEnrollment", EnrollmentResponse, {**locals_of(locals()), **fields})


def card_validate_authentication(*, transaction_reference: str, message_version: str,
                                 redirection_data: str, pa_res_message: str | None = None,
                                 **fields: Any) -> Call[AuthenticationResponse]:
    """Check a 3-D Secure authentication result."""
    return _call("cardValidateAuthentication", AuthenticationResponse,
                 {**locals_of(locals()), **fields})


def card_validate_authentication_and_order(*, transaction_reference: str, message_version: str,
                                           redirection_data: str,
                                           pa_res_message: str | None = None,
                                           **fields: Any) -> Call[OrderResponse]:
    """Check a 3-D Secure result and authorise in one call."""
    return _call("cardValidateAuthenticationAndOrder", OrderResponse,
                 {**locals_of(locals()), **fields})


def wallet_check_enrollment(*, amount: int, currency_code: str, transaction_reference: str,
                            merchant_wallet_id: str, payment_mean_id: str,
                            merchant_return_url: str, order_channel: str = "INTERNET",
                            **fields: Any) -> Call[EnrollmentResponse]:
    """cardCheckEnrollment with a wallet card."""
    return _call("walletCheckEnrollment", EnrollmentResponse, {**locals_of(locals()), **fields})


def wallet_order(*, amount: int, currency_code: str, transaction_reference: str,
                 merchant_wallet_id: str, payment_mean_id: str, order_channel: str = "INTERNET",
                 payment_pattern: str | None = None, **fields: Any) -> Call[OrderResponse]:
    """Authorise with a wallet card (one-click, recurring); ``payment_pattern`` ONE_SHOT
    (the default), RECURRING_1 (starts a card's series) or RECURRING_N."""
    return _call("walletOrder", OrderResponse, {**locals_of(locals()), **fields})


def payment_provider_initialize(*, amount: int, currency_code: str, transaction_reference: str,
                                payment_mean_brand: str, merchant_return_url: str,
                                order_channel: str = "INTERNET",
                                **fields: Any) -> Call[RedirectionResponse]:
    """Start an external provider payment."""
    return _call("paymentProviderInitialize", RedirectionResponse,
                 {**locals_of(locals()), **fields})


def payment_provider_finalize(*, transaction_reference: str, message_version: str,
                              redirection_data: str, **fields: Any) -> Call[OrderResponse]:
    """End an external provider payment after the shopper's return."""
    return _call("paymentProviderFinalize", OrderResponse, {**locals_of(locals()), **fields})


def _cash(name: str, transaction_reference: str, operation_amount: int, currency_code: str,
          fields: dict[str, Any]) -> Call[CashResponse]:
    return _call(name, CashResponse, {"transaction_reference": transaction_reference,
                                      "operation_amount": operation_amount,
                                      "currency_code": currency_code, **fields})


def validate(*, transaction_reference: str, operation_amount: int, currency_code: str,
             **fields: Any) -> Call[CashResponse]:
    """Validate (part of) a VALIDATION-mode authorisation."""
    return _cash("validate", transaction_reference, operation_amount, currency_code, fields)


def cancel(*, transaction_reference: str, operation_amount: int, currency_code: str,
           **fields: Any) -> Call[CashResponse]:
    """Cancel (part of) what is still to validate or capture."""
    return _cash("cancel", transaction_reference, operation_amount, currency_code, fields)


def refund(*, transaction_reference: str, operation_amount: int, currency_code: str,
           **fields: Any) -> Call[CashResponse]:
    """Refund (part of) a captured transaction."""
    return _cash("refund", transaction_reference, operation_amount, currency_code, fields)


def duplicate(*, from_transaction_reference: str, transaction_reference: str, amount: int,
              currency_code: str, **fields: Any) -> Call[OrderResponse]:
    """A new payment from a stored transaction's card data."""
    return _call("duplicate", OrderResponse, {**locals_of(locals()), **fields})


def accept_challenge(*, transaction_reference: str, **fields: Any) -> Call[CashResponse]:
    """Accept a transaction held for a fraud challenge."""
    return _call("acceptChallenge", CashResponse, {**locals_of(locals()), **fields})


def refuse_challenge(*, transaction_reference: str, **fields: Any) -> Call[CashResponse]:
    """Refuse a transaction held for a fraud challenge."""
    return _call("refuseChallenge", CashResponse, {**locals_of(locals()), **fields})


def get_transaction_data(*, transaction_reference: str,
                         **fields: Any) -> Call[TransactionData]:
    """The transaction as it stands."""
    return _call("getTransactionData", TransactionData, {**locals_of(locals()), **fields})


def add_card(*, merchant_wallet_id: str, card_number: str, card_expiry_date: str,
             payment_mean_alias: str | None = None, payment_mean_brand: str | None = None,
             **fields: Any) -> Call[WalletResponse]:
    """Store a card in a wallet (created by its first card)."""
    return _call("addCard", WalletResponse, {**locals_of(locals()), **fields})


def update_payment_mean(*, merchant_wallet_id: str, payment_mean_id: str,
                        payment_mean_alias: str | None = None,
                        card_expiry_date: str | None = None,
                        **fields: Any) -> Call[WalletResponse]:
    """Change a stored card's alias (``""`` removes it) or expiry date."""
    return _call("updatePaymentMean", WalletResponse, {**locals_of(locals()), **fields})


def get_wallet_data(*, merchant_wallet_id: str, **fields: Any) -> Call[WalletResponse]:
    """A wallet and its cards."""
    return _call("getWalletData", WalletResponse, {**locals_of(locals()), **fields})


def get_payment_mean_data(*, merchant_wallet_id: str, payment_mean_id: str,
                          **fields: Any) -> Call[WalletResponse]:
    """One stored card."""
    return _call("getPaymentMeanData", WalletResponse, {**locals_of(locals()), **fields})


def delete_payment_mean(*, merchant_wallet_id: str, payment_mean_id: str,
                        **fields: Any) -> Call[WalletResponse]:
    """Remove a stored card."""
    return _call("deletePaymentMean", WalletResponse, {**locals_of(locals()), **fields})


def sign_off(*, merchant_wallet_id: str, **fields: Any) -> Call[WalletResponse]:
    """Delete a wallet and all its cards."""
    return _call("signOff", WalletResponse, {**locals_of(locals()), **fields})


def locals_of(values: dict[str, Any]) -> dict[str, Any]:
    """A builder's named arguments, without its ``fields`` catch-all."""
    return {k: v for k, v in values.items() if k != "fields"}
