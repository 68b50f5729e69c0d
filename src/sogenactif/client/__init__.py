"""The merchant's connector: typed calls for every service, seals in and out."""

from sogenactif.client.core import AsyncClient, Client, Environment
from sogenactif.client.errors import OfficeError, SealMismatchError, TransportError
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

__all__ = [
    "AsyncClient",
    "AuthenticationResponse",
    "CashResponse",
    "Client",
    "EnrollmentResponse",
    "Environment",
    "OfficeError",
    "OfficeResponse",
    "OrderResponse",
    "RedirectionResponse",
    "SealMismatchError",
    "TransactionData",
    "TransportError",
    "WalletResponse",
]
