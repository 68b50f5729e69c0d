"""What operations share: the verified request they get, and the refusal they may raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sogenactif.protocol.catalogue import Service
from sogenactif.protocol.seal import SealAlgorithm
from sogenactif.server.runtime import Runtime
from sogenactif.server.store.repositories import ShopKey

#: Fields never stored with the raw request: card data and the seal.
SENSITIVE_FIELDS = frozenset({"cardNumber", "cardCSCValue", "seal", "paResMessage"})


@dataclass(frozen=True)
class OfficeRequest:
    """A request whose seal and formats have been checked."""

    service: Service
    fields: dict[str, Any]
    key: ShopKey
    algorithm: SealAlgorithm
    now: datetime

    @property
    def merchant_id(self) -> str:
        return self.key.shop.merchant_id

    def text(self, name: str) -> str | None:
        """A scalar field as text (numbers may come as JSON numbers)."""
        value = self.fields.get(name)
        if value is None or value == "":
            return None
        return str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        return default if value is None else int(value)

    def stored_request(self) -> dict[str, Any]:
        """The request without card data or seal, as kept with the transaction."""
        return {k: v for k, v in self.fields.items() if k not in SENSITIVE_FIELDS}


class Refusal(Exception):
    """Ends an operation with this responseCode (and errorFieldName) before anything is saved."""

    def __init__(self, code: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(code, field)
        self.code = code
        self.field = field
        self.extra = extra


Operation = Callable[[Runtime, OfficeRequest], dict[str, Any]]
