"""Client and AsyncClient: twins over one core that seals requests and checks answers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from sogenactif.client import calls
from sogenactif.client.calls import Call
from sogenactif.client.errors import SealMismatchError, TransportError
from sogenactif.client.responses import OfficeResponse
from sogenactif.protocol.seal import SealAlgorithm, compute_seal, seals_equal

P = ParamSpec("P")
T = TypeVar("T", bound=OfficeResponse)


class Environment(StrEnum):
    """The platform's hosts (the guide's and Worldline's)."""

    SOGENACTIF_TEST = "https://office-server-sogenactif.test.sips-services.com"
    SOGENACTIF_PRODUCTION = "https://office-server.sogenactif.com"
    SIPS_TEST = "https://office-server.test.sips-services.com"
    SIPS_PRODUCTION = "https://office-server.sips-services.com"


class _Core:
    """Everything but the I/O: building, sealing, decoding and verifying."""

    def __init__(self, merchant_id: str, secret_key: str, key_version: str | int = 1,
                 base_url: str | Environment = Environment.SOGENACTIF_TEST,
                 seal_algorithm: SealAlgorithm | str = SealAlgorithm.HMAC_SHA_256,
                 interface_versions: dict[str, str] | None = None) -> None:
        self.merchant_id = merchant_id
        self._secret_key = secret_key
        self.key_version = str(key_version)
        url = base_url.value if isinstance(base_url, Environment) else base_url
        self.base_url = url.rstrip("/")
        self.seal_algorithm = SealAlgorithm(seal_algorithm)
        self.interface_versions = dict(interface_versions or {})

    def __repr__(self) -> str:  # never shows the secret key
        name = type(self).__name__
        return f"{name}(merchant_id={self.merchant_id!r}, base_url={self.base_url!r})"

    def build(self, call: Call[Any]) -> tuple[str, dict[str, Any]]:
        """The URL and the sealed body of a call."""
        svc = call.service
        body: dict[str, Any] = {
            "interfaceVersion": self.interface_versions.get(
                svc.family.value, svc.family.latest_interface_version),
            "merchantId": self.merchant_id,
            "keyVersion": self.key_version,
        }
        if self.seal_algorithm is not SealAlgorithm.HMAC_SHA_256:
            body["sealAlgorithm"] = self.seal_algorithm.value
        body.update(call.fields)
        body["seal"] = compute_seal(body, self._secret_key, self.seal_algorithm)
        return self.base_url + svc.path, body

    def decode(self, call: Call[T], status_code: int, text: str) -> T:
        """The typed answer, after checking its seal (spec §2.9)."""
        name = call.service.name
        try:
            message = json.loads(text)
        except ValueError:
            raise TransportError(name, status_code, text) from None
        if status_code != 200 or not isinstance(message, dict):
            raise TransportError(name, status_code, text)
        received = message.get("seal")
        code = message.get(call.response_type.code_field)
        if received is None:
            # Only a refusal may come unsealed (no key to seal with, e.g. 03).
            if code in (None, "00"):
                raise SealMismatchError(name, message)
            return call.response_type.from_message(message, verified=False)
        expected = compute_seal(message, self._secret_key, self.seal_algorithm)
        if not seals_equal(expected, received):
            raise SealMismatchError(name, message)
        return call.response_type.from_message(message, verified=True)


def _sync(builder: Callable[P, Call[T]]) -> Callable[Concatenate[Client, P], T]:
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(builder(*args, **kwargs))

    method.__doc__ = builder.__doc__
    method.__name__ = builder.__name__
    return method


def _async(builder: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncClient, P], Awaitable[T]]:
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(builder(*args, **kwargs))

    method.__doc__ = builder.__doc__
    method.__name__ = builder.__name__
    return method


class Client(_Core):
    """The synchronous connector.

    >>> client = Client("201040040170001", "rxSP61…", key_version=1,
    ...                 base_url=Environment.SOGENACTIF_TEST)
    >>> answer = client.card_order(amount=2500, currency_code="978", ...)
    """

    def __init__(self, merchant_id: str, secret_key: str, key_version: str | int = 1,
                 base_url: str | Environment = Environment.SOGENACTIF_TEST, *,
                 seal_algorithm: SealAlgorithm | str = SealAlgorithm.HMAC_SHA_256,
                 interface_versions: dict[str, str] | None = None, timeout: float = 30.0,
                 http_client: httpx.Client | None = None) -> None:
        super().__init__(merchant_id, secret_key, key_version, base_url, seal_algorithm,
                         interface_versions)
        self._http = http_client or httpx.Client(timeout=timeout)

    def send(self, call: Call[T]) -> T:
        url, body = self.build(call)
        response = self._http.post(url, json=body)
        return self.decode(call, response.status_code, response.text)

    def call(self, service: str, fields: dict[str, Any]) -> OfficeResponse:
        """Any service of the catalogue, fields with their Office names."""
        return self.send(calls.generic(service, fields))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    card_order = _sync(calls.card_order)
    card_check_enrollment = _sync(calls.card_check_enrollment)
    card_validate_authentication = _sync(calls.card_validate_authentication)
    card_validate_authentication_and_order = _sync(calls.card_validate_authentication_and_order)
    wallet_check_enrollment = _sync(calls.wallet_check_enrollment)
    wallet_order = _sync(calls.wallet_order)
    payment_provider_initialize = _sync(calls.payment_provider_initialize)
    payment_provider_finalize = _sync(calls.payment_provider_finalize)
    validate = _sync(calls.validate)
    cancel = _sync(calls.cancel)
    refund = _sync(calls.refund)
    duplicate = _sync(calls.duplicate)
    accept_challenge = _sync(calls.accept_challenge)
    refuse_challenge = _sync(calls.refuse_challenge)
    get_transaction_data = _sync(calls.get_transaction_data)
    add_card = _sync(calls.add_card)
    update_payment_mean = _sync(calls.update_payment_mean)
    get_wallet_data = _sync(calls.get_wallet_data)
    get_payment_mean_data = _sync(calls.get_payment_mean_data)
    delete_payment_mean = _sync(calls.delete_payment_mean)
    sign_off = _sync(calls.sign_off)


class AsyncClient(_Core):
    """The asynchronous twin of :class:`Client`; the same methods, awaited."""

    def __init__(self, merchant_id: str, secret_key: str, key_version: str | int = 1,
                 base_url: str | Environment = Environment.SOGENACTIF_TEST, *,
                 seal_algorithm: SealAlgorithm | str = SealAlgorithm.HMAC_SHA_256,
                 interface_versions: dict[str, str] | None = None, timeout: float = 30.0,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(merchant_id, secret_key, key_version, base_url, seal_algorithm,
                         interface_versions)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)

    async def send(self, call: Call[T]) -> T:
        url, body = self.build(call)
        response = await self._http.post(url, json=body)
        return self.decode(call, response.status_code, response.text)

    async def call(self, service: str, fields: dict[str, Any]) -> OfficeResponse:
        """Any service of the catalogue, fields with their Office names."""
        return await self.send(calls.generic(service, fields))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    card_order = _async(calls.card_order)
    card_check_enrollment = _async(calls.card_check_enrollment)
    card_validate_authentication = _async(calls.card_validate_authentication)
    card_validate_authentication_and_order = _async(calls.card_validate_authentication_and_order)
    wallet_check_enrollment = _async(calls.wallet_check_enrollment)
    wallet_order = _async(calls.wallet_order)
    payment_provider_initialize = _async(calls.payment_provider_initialize)
    payment_provider_finalize = _async(calls.payment_provider_finalize)
    validate = _async(calls.validate)
    cancel = _async(calls.cancel)
    refund = _async(calls.refund)
    duplicate = _async(calls.duplicate)
    accept_challenge = _async(calls.accept_challenge)
    refuse_challenge = _async(calls.refuse_challenge)
    get_transaction_data = _async(calls.get_transaction_data)
    add_card = _async(calls.add_card)
    update_payment_mean = _async(calls.update_payment_mean)
    get_wallet_data = _async(calls.get_wallet_data)
    get_payment_mean_data = _async(calls.get_payment_mean_data)
    delete_payment_mean = _async(calls.delete_payment_mean)
    sign_off = _async(calls.sign_off)
