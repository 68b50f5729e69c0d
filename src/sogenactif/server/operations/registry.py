"""Which function serves which service; a catalogue service without one answers 40."""

from __future__ import annotations

from sogenactif.server.operations import cash, checkout, diagnostic, provider, threeds, wallet
from sogenactif.server.operations.base import Operation

OPERATIONS: dict[str, Operation] = {
    **checkout.OPERATIONS,
    **wallet.OPERATIONS,
    **threeds.OPERATIONS,
    **provider.OPERATIONS,
    **cash.OPERATIONS,
    **diagnostic.OPERATIONS,
}
