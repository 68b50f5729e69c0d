"""What the connector raises; business refusals are answers, not exceptions."""

from __future__ import annotations

from typing import Any


class OfficeError(Exception):
    """Base of every connector error."""


class SealMismatchError(OfficeError):
    """The answer's seal does not match: the transaction's status is UNKNOWN.

    The guide is explicit: leave the transaction as it is, do not re-execute it in any
    automated way; read it with getTransactionData or ask support.
    """

    def __init__(self, service: str, message: dict[str, Any]) -> None:
        self.service = service
        self.message = message
        reference = message.get("transactionReference", "?")
        super().__init__(
            f"{service}: the answer's seal does not match; the status of transaction "
            f"{reference} is unknown. Do not retry: read it with getTransactionData."
        )


class TransportError(OfficeError):
    """The platform answered outside the protocol (HTTP 4xx/5xx, a body that is not JSON)."""

    def __init__(self, service: str, status_code: int, body: str) -> None:
        self.service = service
        self.status_code = status_code
        self.body = body
        super().__init__(f"{service}: HTTP {status_code}: {body[:200]}")
