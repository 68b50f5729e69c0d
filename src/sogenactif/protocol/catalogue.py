"""Every Office JSON service as data (spec §3): path, family, fields in and out.

The server validates with it, the connector builds its calls from it and the OpenAPI document
is generated from it, so the three cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from sogenactif.protocol.fields import MessageShape, shape

LATEST_MINOR = 55
OLDEST_MINOR = 0


class Family(StrEnum):
    """A service family and its interfaceVersion prefix."""

    CHECKOUT = "checkout"
    CASH_MANAGEMENT = "cashManagement"
    DIAGNOSTIC = "diagnostic"
    WALLET = "wallet"

    @property
    def interface_prefix(self) -> str:
        return _PREFIXES[self]

    @property
    def latest_interface_version(self) -> str:
        return f"{self.interface_prefix}2.{LATEST_MINOR}"


_PREFIXES = {
    Family.CHECKOUT: "IR_WS_",
    Family.CASH_MANAGEMENT: "CR_WS_",
    Family.DIAGNOSTIC: "DR_WS_",
    Family.WALLET: "WR_WS_",
}

_VERSION = re.compile(r"2\.(\d{1,2})")


def interface_version_ok(family: Family, value: object) -> bool:
    """The family's prefix and a version from 2.0 to 2.55 (our choice of the rule, spec §3)."""
    if not isinstance(value, str) or not value.startswith(family.interface_prefix):
        return False
    match = _VERSION.fullmatch(value[len(family.interface_prefix):])
    return match is not None and OLDEST_MINOR <= int(match.group(1)) <= LATEST_MINOR


COMMON_REQUIRED = ("interfaceVersion", "merchantId", "keyVersion", "seal")
COMMON_OPTIONAL = ("sealAlgorithm", "intermediateServiceProviderId")
COMMON_RESPONSE = ("responseCode", "errorFieldName", "seal")

CONTAINERS = (
    "customerContact", "customerAddress", "billingContact", "billingAddress",
    "deliveryContact", "deliveryAddress", "holderContact", "holderAddress",
    "shoppingCartDetail", "fraudData", "s10TransactionReference",
)
ORDER_OPTIONAL = (
    "captureMode", "captureDay", "orderId", "customerId", "customerIpAddress",
    "returnContext", "transactionOrigin", "merchantTransactionDateTime", "paymentPattern",
    "statementReference", "customerLanguage", *CONTAINERS,
)
CARD_FIELDS = ("cardNumber", "cardExpiryDate")
ORDER_RESULT = (
    "acquirerResponseCode", "authorisationId", "transactionDateTime", "amount",
    "currencyCode", "captureDay", "captureMode", "maskedPan", "panExpiryDate",
    "paymentMeanBrand", "cardCSCResultCode", "guaranteeIndicator", "holderAuthentStatus",
    "holderAuthentProgram", "orderChannel", "orderId", "customerId", "returnContext",
    "transactionReference", "scoreColor", "scoreValue", "scoreProfile", "scoreInfo",
    "paymentPattern", "s10TransactionReference",
)
AUTHENT_RESULT = ("holderAuthentStatus", "holderAuthentMethod", "holderAuthentProgram",
                  "guaranteeIndicator")
ENROLLMENT_RESULT = (
    "redirectionStatusCode", "redirectionStatusMessage", "redirectionUrl", "paReqMessage",
    "redirectionData", "messageVersion", "maskedPan", "transactionReference",
)
CASH_RESULT = ("acquirerResponseCode", "authorisationId", "newAmount", "newStatus",
               "operationDateTime", "transactionReference")
WALLET_CARD = ("merchantWalletId", "paymentMeanId")


@dataclass(frozen=True)
class Service:
    """One service: where it lives and the fields it takes and gives."""

    family: Family
    name: str
    summary: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    response: tuple[str, ...] = ()
    response_code_field: str = "responseCode"

    @property
    def path(self) -> str:
        return f"/rs-services/v2/{self.family.value}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.family.value}/{self.name}"

    @cached_property
    def request_shape(self) -> MessageShape:
        return shape((*COMMON_REQUIRED, *self.required), (*COMMON_OPTIONAL, *self.optional))

    @property
    def response_fields(self) -> tuple[str, ...]:
        common = tuple(
            self.response_code_field if name == "responseCode" else name
            for name in COMMON_RESPONSE
        )
        return tuple(dict.fromkeys((*common, *self.response)))

    @property
    def request_fields(self) -> tuple[str, ...]:
        return (*COMMON_REQUIRED, *self.required, *COMMON_OPTIONAL, *self.optional)


def _service(family: Family, name: str, summary: str, required: tuple[str, ...],
             optional: tuple[str, ...] = (), response: tuple[str, ...] = (),
             response_code_field: str = "responseCode") -> Service:
    # Optional fields that the service also requires are listed once, as required.
    optional = tuple(f for f in dict.fromkeys(optional) if f not in required)
    return Service(family, name, summary, required, optional, response, response_code_field)


C, M, D, W = Family.CHECKOUT, Family.CASH_MANAGEMENT, Family.DIAGNOSTIC, Family.WALLET
ORDER_REQUIRED = ("amount", "currencyCode", "transactionReference", "orderChannel")

SERVICES: tuple[Service, ...] = (
    _service(C, "cardOrder", "Authorise a card payment (no 3-D Secure redirection).",
             (*ORDER_REQUIRED, *CARD_FIELDS), ("cardCSCValue", "panType", *ORDER_OPTIONAL),
             ORDER_RESULT),
    _service(C, "cardCheckEnrollment",
             "Create the transaction and check the card's 3-D Secure enrolment.",
             (*ORDER_REQUIRED, *CARD_FIELDS, "merchantReturnUrl"),
             ("cardCSCValue", "panType", *ORDER_OPTIONAL), ENROLLMENT_RESULT),
    _service(C, "cardValidateAuthentication", "Check the 3-D Secure authentication result.",
             ("transactionReference", "messageVersion", "redirectionData"),
             ("paResMessage",), ("transactionReference", *AUTHENT_RESULT)),
    _service(C, "cardValidateAuthenticationAndOrder",
             "Check the 3-D Secure result and authorise in one call.",
             ("transactionReference", "messageVersion", "redirectionData"),
             ("paResMessage",), (*ORDER_RESULT, *AUTHENT_RESULT)),
    _service(C, "walletCheckEnrollment",
             "cardCheckEnrollment with a card kept in a wallet.",
             (*ORDER_REQUIRED, *WALLET_CARD, "merchantReturnUrl"),
             ("cardCSCValue", *ORDER_OPTIONAL), ENROLLMENT_RESULT),
    _service(C, "walletOrder", "Authorise with a wallet card (one-click, recurring).",
             (*ORDER_REQUIRED, *WALLET_CARD), ("cardCSCValue", *ORDER_OPTIONAL),
             ORDER_RESULT),
    _service(C, "paymentProviderInitialize",
             "Start a payment with an external provider; the shopper is redirected.",
             (*ORDER_REQUIRED, "paymentMeanBrand", "merchantReturnUrl"), ORDER_OPTIONAL,
             ("redirectionUrl", "redirectionData", "messageVersion", "transactionReference")),
    _service(C, "paymentProviderFinalize", "End a provider payment after the shopper's return.",
             ("transactionReference", "messageVersion", "redirectionData"), (),
             ORDER_RESULT),
    _service(M, "validate", "Validate (part of) an authorisation taken in VALIDATION mode.",
             ("transactionReference", "operationAmount", "currencyCode"),
             ("operationOrigin",), CASH_RESULT),
    _service(M, "cancel", "Cancel (part of) what is still to validate or to capture.",
             ("transactionReference", "operationAmount", "currencyCode"),
             ("operationOrigin",), CASH_RESULT),
    _service(M, "refund", "Refund (part of) a captured transaction.",
             ("transactionReference", "operationAmount", "currencyCode"),
             ("operationOrigin",), CASH_RESULT),
    _service(M, "duplicate", "A new payment from a stored transaction's card data.",
             ("fromTransactionReference", "transactionReference", "amount", "currencyCode"),
             ("fromMerchantId", "captureMode", "captureDay", "orderChannel", "orderId",
              "customerId", "returnContext", "operationOrigin", "transactionOrigin"),
             ORDER_RESULT),
    _service(M, "acceptChallenge", "Accept a transaction held for a fraud challenge.",
             ("transactionReference",), ("operationOrigin",), CASH_RESULT),
    _service(M, "refuseChallenge", "Refuse a transaction held for a fraud challenge.",
             ("transactionReference",), ("operationOrigin",), CASH_RESULT),
    _service(D, "getTransactionData", "The transaction as it stands, with its operations.",
             ("transactionReference",), (),
             ("transactionReference", "transactionStatus", "amount", "currencyCode",
              "authorisedAmount", "capturedAmount", "refundedAmount", "cancelledAmount",
              "remainingAmount", "captureMode", "captureDay", "captureLimitDate",
              "authorisationId", "acquirerResponseCode", "transactionDateTime", "maskedPan",
              "panExpiryDate", "paymentMeanBrand", "holderAuthentStatus", "orderChannel",
              "orderId", "customerId", "returnContext", "operationList",
              "s10TransactionReference")),
    _service(W, "addCard", "Store a card in a customer's wallet (created on first use).",
             ("merchantWalletId", "cardNumber", "cardExpiryDate"),
             ("paymentMeanAlias", "paymentMeanBrand", "panType"),
             ("paymentMeanId", "maskedPan", "panExpiryDate", "paymentMeanBrand",
              "paymentMeanAlias", "walletActionDateTime"), "walletResponseCode"),
    _service(W, "updatePaymentMean", "Change a stored card's alias or expiry date.",
             WALLET_CARD, ("paymentMeanAlias", "cardExpiryDate"),
             ("paymentMeanId", "maskedPan", "panExpiryDate", "paymentMeanBrand",
              "paymentMeanAlias", "walletActionDateTime"), "walletResponseCode"),
    _service(W, "getWalletData", "A wallet and its stored cards.", ("merchantWalletId",), (),
             ("walletCreationDateTime", "walletLastActionDateTime",
              "walletPaymentMeanDataList"), "walletResponseCode"),
    _service(W, "getPaymentMeanData", "One stored card.", WALLET_CARD, (),
             ("paymentMeanId", "maskedPan", "panExpiryDate", "paymentMeanBrand",
              "paymentMeanAlias"), "walletResponseCode"),
    _service(W, "deletePaymentMean", "Remove a stored card.", WALLET_CARD, (),
             ("walletActionDateTime",), "walletResponseCode"),
    _service(W, "signOff", "Delete a wallet and all its cards.", ("merchantWalletId",), (),
             ("walletActionDateTime",), "walletResponseCode"),
)

BY_PATH: dict[str, Service] = {service.path: service for service in SERVICES}
BY_KEY: dict[str, Service] = {service.key: service for service in SERVICES}
BY_NAME: dict[str, Service] = {service.name: service for service in SERVICES}


def service(name: str) -> Service:
    """A service by its name (``cardOrder``) or key (``checkout/cardOrder``)."""
    found = BY_NAME.get(name) or BY_KEY.get(name)
    if found is None:
        raise KeyError(f"unknown service {name!r}")
    return found
