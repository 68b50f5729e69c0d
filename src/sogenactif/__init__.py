"""sogenactif: the Sogenactif Office Server JSON platform and its Python connector.

The connector (``Client``, ``AsyncClient``) needs only ``httpx``; the server lives in
``sogenactif.server`` and needs the ``server`` extra.
"""

from sogenactif.client import (
    AsyncClient,
    Client,
    Environment,
    OfficeError,
    SealMismatchError,
)
from sogenactif.protocol.seal import SealAlgorithm, compute_seal, seal_data, verify_seal

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "Client",
    "Environment",
    "OfficeError",
    "SealAlgorithm",
    "SealMismatchError",
    "__version__",
    "compute_seal",
    "seal_data",
    "verify_seal",
]
