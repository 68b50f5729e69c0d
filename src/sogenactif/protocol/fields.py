"""The data dictionary: every field's format, and validators compiled from it.

A field that breaks its format answers 30 with ``errorFieldName`` (the dotted path inside a
container, our choice); a required field that is missing answers 12. Unknown fields are
accepted and ignored (our choice, spec §3).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

Check = Callable[[Any], bool]


class Kind(StrEnum):
    """The data dictionary's format letters, plus the structured kinds."""

    N = "N"  # digits
    AN = "AN"  # letters and digits
    ANS = "ANS"  # any printable text
    ENUM = "ENUM"
    DATETIME = "DATETIME"  # ISO 8601 with an offset
    YYYYMM = "YYYYMM"
    YYYYMMDD = "YYYYMMDD"
    IP = "IP"
    URL = "URL"
    BOOLEAN = "BOOLEAN"
    CONTAINER = "CONTAINER"
    LIST = "LIST"


@dataclass(frozen=True)
class Format:
    """One field's format: kind, length bounds, allowed values, or nested fields."""

    kind: Kind
    max_length: int | None = None
    min_length: int = 1
    values: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # a container's known fields (names in the dictionary)
    element: Format | None = None  # a list's element format
    description: str = ""

    def label(self) -> str:
        """The dictionary notation, e.g. ``N..12`` or ``AN..35``."""
        if self.kind in (Kind.N, Kind.AN, Kind.ANS) and self.max_length is not None:
            if self.min_length == self.max_length:
                return f"{self.kind.value}{self.max_length}"
            if self.min_length > 1:
                return f"{self.kind.value}{self.min_length}..{self.max_length}"
            return f"{self.kind.value}..{self.max_length}"
        if self.kind is Kind.ENUM:
            return "ENUM(" + ", ".join(self.values) + ")"
        return self.kind.value


def n(max_length: int, min_length: int = 1, description: str = "") -> Format:
    return Format(Kind.N, max_length, min_length, description=description)


def an(max_length: int, min_length: int = 1, description: str = "") -> Format:
    return Format(Kind.AN, max_length, min_length, description=description)


def ans(max_length: int, min_length: int = 0, description: str = "") -> Format:
    return Format(Kind.ANS, max_length, min_length, description=description)


def enum(*values: str, description: str = "") -> Format:
    return Format(Kind.ENUM, values=values, description=description)


def container(*fields: str, description: str = "") -> Format:
    return Format(Kind.CONTAINER, fields=fields, description=description)


def list_of(element: Format, description: str = "") -> Format:
    return Format(Kind.LIST, element=element, description=description)


DATETIME = Format(Kind.DATETIME, description="ISO 8601 date and time with its UTC offset")
YYYYMM = Format(Kind.YYYYMM, description="year and month, YYYYMM")
YYYYMMDD = Format(Kind.YYYYMMDD, description="a date, YYYYMMDD")
IP = Format(Kind.IP, description="an IPv4 or IPv6 address")
URL = Format(Kind.URL, max_length=512, description="an http(s) URL, at most 512 characters")
BOOLEAN = Format(Kind.BOOLEAN, description="true or false")

CONTACT = ("email", "firstname", "lastname", "gender", "initials", "legalId", "mobile",
           "phone", "title", "positionOccupied")
ADDRESS = ("addressAdditional1", "addressAdditional2", "addressAdditional3", "city",
           "company", "country", "postBox", "state", "street", "streetNumber", "zipCode",
           "businessName")

#: The dictionary: one format per field name, whatever service it appears in.
DICTIONARY: dict[str, Format] = {
    # --- common
    "interfaceVersion": ans(20, 1, description="the interface and its version, e.g. IR_WS_2.55"),
    "merchantId": n(15, 15, "the shop's identifier"),
    "keyVersion": n(10, description="the version of the secret key the seal uses"),
    "seal": ans(128, 1, "the message's seal, lowercase hex"),
    "sealAlgorithm": enum("HMAC-SHA-256", "SHA-256", "HMAC-SHA-512"),
    "intermediateServiceProviderId": n(15),
    "responseCode": n(2, 2, "the outcome, see the response-code table"),
    "walletResponseCode": n(2, 2, "a wallet service's outcome"),
    "errorFieldName": ans(64, description="the field that made the request fail (12, 30)"),
    # --- order
    "amount": n(12, description="in the currency's smallest unit"),
    "currencyCode": n(3, 3, "ISO 4217 numeric"),
    "transactionReference": an(35, description="unique per shop for the transaction's life"),
    "fromTransactionReference": an(35),
    "fromMerchantId": n(15, 15),
    "s10TransactionReference": container("s10TransactionId", "s10TransactionIdDate"),
    "s10TransactionId": n(6, 6),
    "s10TransactionIdDate": YYYYMMDD,
    "orderId": ans(32),
    "customerId": ans(19),
    "customerIpAddress": IP,
    "returnContext": ans(255, description="echoed unchanged in the answer"),
    "transactionOrigin": ans(20),
    "merchantTransactionDateTime": DATETIME,
    "captureDay": n(2),
    "captureMode": enum("AUTHOR_CAPTURE", "VALIDATION", "IMMEDIATE"),
    "orderChannel": enum("INTERNET", "MOTO", "INAPP", "MAIL_ORDER", "TELEPHONE_ORDER"),
    "paymentPattern": enum("ONE_SHOT", "RECURRING_1", "RECURRING_N", "INSTALMENT"),
    "statementReference": ans(25),
    "panType": enum("PAN", "TOKEN_PAN"),
    "cardNumber": n(19, 12, "the PAN, 12 to 19 digits"),
    "cardExpiryDate": YYYYMM,
    "cardCSCValue": n(4, 3, "the card security code, never stored"),
    "paymentMeanBrand": an(20),
    "merchantReturnUrl": URL,
    "automaticResponseUrl": URL,
    "normalReturnUrl": URL,
    "customerLanguage": Format(Kind.AN, 2, 2),
    "customerContact": container(*CONTACT),
    "billingContact": container(*CONTACT),
    "deliveryContact": container(*CONTACT),
    "holderContact": container(*CONTACT),
    "customerAddress": container(*ADDRESS),
    "billingAddress": container(*ADDRESS),
    "deliveryAddress": container(*ADDRESS),
    "holderAddress": container(*ADDRESS),
    "email": ans(128),
    "firstname": ans(50),
    "lastname": ans(50),
    "gender": ans(1),
    "initials": ans(10),
    "legalId": ans(50),
    "mobile": ans(30),
    "phone": ans(30),
    "title": ans(30),
    "positionOccupied": ans(50),
    "addressAdditional1": ans(50),
    "addressAdditional2": ans(50),
    "addressAdditional3": ans(50),
    "city": ans(50),
    "company": ans(50),
    "country": ans(3),
    "postBox": ans(50),
    "state": ans(30),
    "street": ans(50),
    "streetNumber": ans(10),
    "zipCode": ans(10),
    "businessName": ans(50),
    "shoppingCartDetail": container("shoppingCartTotalAmount", "shoppingCartTotalQuantity",
                                     "shoppingCartTotalTaxAmount", "mainProduct",
                                     "shoppingCartItemList"),
    "shoppingCartTotalAmount": n(12),
    "shoppingCartTotalQuantity": n(12),
    "shoppingCartTotalTaxAmount": n(12),
    "mainProduct": ans(50),
    "shoppingCartItemList": list_of(container("productName", "productDescription",
                                              "productCode", "productSKU",
                                              "productUnitAmount", "productQuantity",
                                              "productTaxRate", "productUnitTaxAmount",
                                              "productCategory")),
    "productName": ans(50),
    "productDescription": ans(200),
    "productCode": ans(50),
    "productSKU": ans(50),
    "productUnitAmount": n(12),
    "productQuantity": n(12),
    "productTaxRate": n(5),
    "productUnitTaxAmount": n(12),
    "productCategory": ans(50),
    "fraudData": container("bypass3DS", "bypassCtrlList", "bypassInfoList", "challengeMode3DS",
                           "merchantWalletId"),
    "bypass3DS": ans(20),
    "bypassCtrlList": list_of(ans(50)),
    "bypassInfoList": list_of(ans(50)),
    "challengeMode3DS": ans(30),
    "paymentMeanBrandList": list_of(an(20)),
    # --- answers of orders
    "acquirerResponseCode": an(2, 2, "the bank's (simulated acquirer's) code"),
    "authorisationId": an(10),
    "transactionDateTime": DATETIME,
    "maskedPan": ans(19, description="the PAN with all but the first 6 and last 4 masked"),
    "panExpiryDate": YYYYMM,
    "cardCSCResultCode": an(2, 2),
    "guaranteeIndicator": enum("Y", "N", "U", ""),
    "holderAuthentStatus": enum("SUCCESS", "ATTEMPT", "FAILURE", "NOT_ENROLLED",
                                "NOT_PARTICIPATING", "ERROR", "CANCEL", ""),
    "holderAuthentMethod": ans(30),
    "holderAuthentProgram": ans(30),
    "scoreColor": ans(10),
    "scoreValue": ans(10),
    "scoreProfile": ans(30),
    "scoreInfo": ans(255),
    "transactionStatus": an(20),
    # --- 3-D Secure and providers
    "redirectionStatusCode": n(2, 2),
    "redirectionStatusMessage": ans(255),
    "redirectionUrl": URL,
    "redirectionData": ans(4096),
    "paReqMessage": ans(8192),
    "paResMessage": ans(8192),
    "messageVersion": ans(20),
    # --- cash management
    "operationAmount": n(12),
    "operationOrigin": ans(20),
    "newAmount": n(12),
    "newStatus": an(20),
    "operationDateTime": DATETIME,
    # --- diagnostic (field names are our choice, spec §3)
    "authorisedAmount": n(12),
    "capturedAmount": n(12),
    "refundedAmount": n(12),
    "cancelledAmount": n(12),
    "remainingAmount": n(12),
    "captureLimitDate": YYYYMMDD,
    "operationList": list_of(container("operationType", "operationAmount",
                                       "operationDateTime", "operationResponseCode",
                                       "operationStatus", "operationOrigin")),
    "operationType": an(30),
    "operationResponseCode": n(2, 2),
    "operationStatus": an(20),
    # --- wallet
    "merchantWalletId": ans(21),
    "paymentMeanId": n(6),
    "paymentMeanAlias": ans(64),
    "walletCreationDateTime": DATETIME,
    "walletLastActionDateTime": DATETIME,
    "walletActionDateTime": DATETIME,
    "walletPaymentMeanDataList": list_of(container("paymentMeanId", "maskedPan",
                                                   "paymentMeanAlias", "panExpiryDate",
                                                   "paymentMeanBrand")),
    "paymentMeanData": container("paymentMeanId", "maskedPan", "paymentMeanAlias",
                                 "panExpiryDate", "paymentMeanBrand"),
}

_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})"
)


def _as_text(value: Any) -> str | None:
    """Numbers may travel as JSON numbers or strings (spec §2.6); other types never do."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def _length_ok(text: str, fmt: Format) -> bool:
    if len(text) < fmt.min_length:
        return False
    return fmt.max_length is None or len(text) <= fmt.max_length


def _valid_datetime(text: str) -> bool:
    if not _DATETIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _valid_yyyymm(text: str) -> bool:
    return len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12


def _valid_yyyymmdd(text: str) -> bool:
    if len(text) != 8 or not text.isdigit():
        return False
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _text_check(fmt: Format) -> Callable[[str], bool]:
    """The test a field's text must pass, built once per format."""
    kind = fmt.kind
    if kind in (Kind.N, Kind.AN):
        chars = "0-9" if kind is Kind.N else "A-Za-z0-9"
        upper = "" if fmt.max_length is None else str(fmt.max_length)
        # At least one character whatever min_length says: an empty N or AN is never valid.
        match = re.compile(f"[{chars}]{{{max(fmt.min_length, 1)},{upper}}}").fullmatch
        return lambda text: match(text) is not None
    if kind is Kind.ANS:
        return lambda text: _length_ok(text, fmt) and text.isprintable()
    if kind is Kind.ENUM:
        allowed = frozenset(fmt.values)
        return lambda text: text in allowed
    if kind is Kind.DATETIME:
        return _valid_datetime
    if kind is Kind.YYYYMM:
        return _valid_yyyymm
    if kind is Kind.YYYYMMDD:
        return _valid_yyyymmdd
    if kind is Kind.IP:
        return lambda text: text == "" or _valid_ip(text)
    if kind is Kind.URL:
        return lambda text: _length_ok(text, fmt) and text.startswith(("http://", "https://"))
    return lambda _text: False


@functools.cache
def scalar_check(fmt: Format) -> Check:
    """Whether a value fits a scalar format, compiled once per format (hot path)."""
    if fmt.kind is Kind.BOOLEAN:
        return lambda value: isinstance(value, bool) or value in ("true", "false")
    text_ok = _text_check(fmt)

    def check(value: Any) -> bool:
        if type(value) is str:
            return text_ok(value)
        text = _as_text(value)
        return text is not None and text_ok(text)

    return check


def _scalar_ok(value: Any, fmt: Format) -> bool:
    return scalar_check(fmt)(value)


def find_format_error(name: str, value: Any, fmt: Format, path: str = "") -> str | None:
    """The dotted path of the first field that breaks its format, or None."""
    where = f"{path}{name}"
    if value is None:
        return None
    if fmt.kind is Kind.CONTAINER:
        if not isinstance(value, Mapping):
            return where
        return _container_error(value, where + ".")
    if fmt.kind is Kind.LIST:
        if not isinstance(value, list):
            return where
        assert fmt.element is not None
        for element in value:
            error = find_format_error(name, element, fmt.element, path)
            if error is not None:
                return error
        return None
    return None if _scalar_ok(value, fmt) else where


def _container_error(value: Mapping[str, Any], path: str) -> str | None:
    for sub_name, sub_value in value.items():
        sub_fmt = DICTIONARY.get(sub_name)
        if sub_fmt is None:
            continue  # unknown fields are accepted and ignored
        error = find_format_error(sub_name, sub_value, sub_fmt, path)
        if error is not None:
            return error
    return None


@dataclass(frozen=True)
class FieldError:
    """Why a message was refused: 12 (missing) or 30 (format), and where."""

    response_code: str
    field_name: str


@dataclass(frozen=True)
class MessageShape:
    """Which fields a message requires and which it may carry, compiled once per service."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    formats: Mapping[str, Format] = field(default_factory=dict)
    #: The compiled test of every scalar field (containers and lists go through
    #: find_format_error for their dotted paths).
    scalars: Mapping[str, Check] = field(default_factory=dict, compare=False)

    def check(self, message: Mapping[str, Any]) -> FieldError | None:
        """The first error of the message, format errors before missing fields' (spec §5)."""
        scalars = self.scalars
        formats = self.formats
        for name, value in message.items():
            ok = scalars.get(name)
            if ok is not None:
                if value is None or ok(value):
                    continue
                return FieldError("30", name)
            fmt = formats.get(name)
            if fmt is None:
                continue
            error = find_format_error(name, value, fmt)
            if error is not None:
                return FieldError("30", error)
        for name in self.required:
            value = message.get(name)
            if value is None or value == "":
                return FieldError("12", name)
        return None


def shape(required: tuple[str, ...], optional: tuple[str, ...]) -> MessageShape:
    """Compile a message shape; every field named must be in the dictionary."""
    formats: dict[str, Format] = {}
    for name in (*required, *optional):
        if name not in DICTIONARY:
            raise KeyError(f"{name} is not in the data dictionary")
        formats[name] = DICTIONARY[name]
    scalars = {name: scalar_check(fmt) for name, fmt in formats.items()
               if fmt.kind not in (Kind.CONTAINER, Kind.LIST)}
    return MessageShape(required, optional, formats, scalars)
