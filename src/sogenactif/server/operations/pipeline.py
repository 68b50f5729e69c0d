"""The one pipeline every service runs (ARCHITECTURE §3):

decode -> identify the shop and key -> verify the seal -> validate the fields -> operation
(load locked, decide, save in one database transaction) -> answer, sealed with the shop's key.

It never raises: whatever happens, the merchant gets an answer in the protocol's terms.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from sogenactif.protocol.catalogue import Service, interface_version_ok
from sogenactif.protocol.fields import DICTIONARY, find_format_error
from sogenactif.protocol.seal import (
    SealAlgorithm,
    compute_seal,
    compute_seal_of_data,
    seal_data,
    seals_equal,
)
from sogenactif.server.domain.cards import mask_pan
from sogenactif.server.operations.base import OfficeRequest, Operation, Refusal
from sogenactif.server.runtime import Runtime
from sogenactif.server.store.errors import DatabaseUnavailable
from sogenactif.server.store.repositories import ShopKey

log = logging.getLogger("sogenactif.pipeline")

SEAL_DATA_HEADER = "x-sogenactif-seal-data"
SEAL_FIELDS_HEADER = "x-sogenactif-seal-fields"


@dataclass
class Answer:
    """What goes back over HTTP: the message (sealed when a key is known) and headers."""

    message: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _refusal(service: Service, code: str, field_name: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {service.response_code_field: code}
    if field_name:
        message["errorFieldName"] = field_name
    return message


def _seal(message: dict[str, Any], key: ShopKey | None, algorithm: SealAlgorithm) -> Answer:
    if key is None:
        return Answer(message)
    message["seal"] = compute_seal(message, key.secret, algorithm)
    return Answer(message)


def _debug_data(message: Mapping[str, Any]) -> str:
    """The data string with card data masked (same lengths), for the test-mode seal help."""
    shown = dict(message)
    pan = shown.get("cardNumber")
    if isinstance(pan, str):
        shown["cardNumber"] = mask_pan(pan)
    csc = shown.get("cardCSCValue")
    if csc is not None:
        shown["cardCSCValue"] = "#" * len(str(csc))
    return urllib.parse.quote(seal_data(shown), safe=" !\"#$&'()*+,-./:;<=>?@[]^_`{|}~")


def _check_header(message: Mapping[str, Any], name: str, service: Service) -> None:
    value = message.get(name)
    if value is None or value == "":
        raise Refusal("12", name)
    error = find_format_error(name, value, DICTIONARY[name])
    if error is not None:
        raise Refusal("30", error)


def _identify(rt: Runtime, service: Service, message: Mapping[str, Any]) -> ShopKey:
    """merchantId then keyVersion: 03 for an unknown shop, 34 for an unknown or revoked key.

    One read of the shop and key row; the secret is decrypted once per process (KeyCache).
    """
    _check_header(message, "merchantId", service)
    version_error: Refusal | None = None
    version: int | None = None
    try:
        _check_header(message, "keyVersion", service)
        version = int(str(message["keyVersion"]))
    except Refusal as refusal:
        version_error = refusal
    shop_found, key = rt.keys.lookup(str(message["merchantId"]), version)
    if not shop_found:
        raise Refusal("03", "merchantId")
    if version_error is not None:
        raise version_error
    if key is None or key.revoked:
        raise Refusal("34", "keyVersion")
    return key


def handle(rt: Runtime, service: Service, operation: Operation | None,
           message: dict[str, Any]) -> Answer:
    """Run one request through the pipeline; always returns an answer."""
    key: ShopKey | None = None
    algorithm = SealAlgorithm.HMAC_SHA_256
    try:
        try:
            algorithm = SealAlgorithm.parse(message.get("sealAlgorithm"))
        except ValueError:
            raise Refusal("30", "sealAlgorithm") from None
        key = _identify(rt, service, message)
        return _verified(rt, service, operation, message, key, algorithm)
    except Refusal as refusal:
        answer = _refusal(service, refusal.code, refusal.field)
        answer.update(refusal.extra)
        return _seal(answer, key, algorithm)
    except (DBAPIError, DatabaseUnavailable):
        log.exception("database unavailable during %s", service.name)
        return _seal(_refusal(service, "90"), key, algorithm)
    except Exception:  # the merchant still gets a protocol answer, never a 500
        log.exception("unexpected error during %s", service.name)
        return _seal(_refusal(service, "99"), key, algorithm)


def _verified(rt: Runtime, service: Service, operation: Operation | None,
              message: dict[str, Any], key: ShopKey, algorithm: SealAlgorithm) -> Answer:
    received = message.get("seal")
    if received is None or received == "":
        raise Refusal("12", "seal")
    data = seal_data(message)
    if not seals_equal(compute_seal_of_data(data, key.secret, algorithm), received):
        answer = _seal(_refusal(service, "34", "seal"), key, algorithm)
        if rt.test_mode:
            answer.headers[SEAL_DATA_HEADER] = _debug_data(message)
            answer.headers[SEAL_FIELDS_HEADER] = ",".join(
                sorted(k for k in message if k not in ("seal", "keyVersion", "sealAlgorithm")))
        return answer
    if not interface_version_ok(service.family, message.get("interfaceVersion")):
        if message.get("interfaceVersion") in (None, ""):
            raise Refusal("12", "interfaceVersion")
        raise Refusal("30", "interfaceVersion")
    problem = service.request_shape.check(message)
    if problem is not None:
        raise Refusal(problem.response_code, problem.field_name)
    if operation is None or service.name in key.shop.disabled_services:
        raise Refusal("40")
    request = OfficeRequest(service, message, key, algorithm, rt.clock.now())
    answer = operation(rt, request)
    return _seal(answer, key, algorithm)


def ceiling(rt: Runtime, message: dict[str, Any]) -> Answer:
    """The bench's protocol ceiling: the seal checked and an answer sealed, no database.

    The key comes from the process's key cache as last seen (a database read only the first
    time), so this is what the stack costs without storage. Served only when the server
    runs with SOGENACTIF_BENCH_CEILING=1.
    """
    try:
        algorithm = SealAlgorithm.parse(message.get("sealAlgorithm"))
        key = rt.keys.cached(str(message["merchantId"]), int(str(message["keyVersion"])))
    except (KeyError, ValueError):
        return Answer({"responseCode": "30"})
    if key is None or key.revoked:
        return Answer({"responseCode": "34", "errorFieldName": "keyVersion"})
    received = message.get("seal")
    if not seals_equal(compute_seal_of_data(seal_data(message), key.secret, algorithm),
                       received):
        return _seal({"responseCode": "34", "errorFieldName": "seal"}, key, algorithm)
    answer = {"responseCode": "00", "transactionReference": message.get("transactionReference"),
              "amount": message.get("amount"), "currencyCode": message.get("currencyCode")}
    return _seal({k: v for k, v in answer.items() if v is not None}, key, algorithm)
