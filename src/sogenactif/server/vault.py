"""Card data and secret keys at rest: AES-256-GCM under a master key kept outside the database.

The master key comes from SOGENACTIF_MASTER_KEY (base64 of 32 bytes) or a key file; every
node of a cluster must be given the same one. Each ciphertext is bound to its purpose
(associated data), so a PAN cannot be swapped into another row's or another merchant's place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sogenactif.server import entropy

ENV_VAR = "SOGENACTIF_MASTER_KEY"
NONCE = 12


class Vault:
    """Encrypts and decrypts small secrets; never logs or shows them."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(master_key)
        # The root of the MAC keys (redirection tokens, PaRes): one-way from the master key.
        self._mac_root = hmac.new(master_key, b"sogenactif mac root v1", hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "Vault(<master key hidden>)"

    def encrypt(self, plaintext: str, purpose: str) -> bytes:
        # A random 96-bit nonce per message (NIST SP 800-38D's RBG construction).
        nonce = entropy.POOL.take(NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())

    def decrypt(self, blob: bytes, purpose: str) -> str:
        nonce, ciphertext = bytes(blob[:NONCE]), bytes(blob[NONCE:])
        return self._aead.decrypt(nonce, ciphertext, purpose.encode()).decode("utf-8")

    def mac(self, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA-256 of ``data`` under a key derived from the master key for ``purpose``.

        The derived keys never leave the vault, so tokens it signs (PaRes, redirection data)
        cannot be forged without the master key.
        """
        key = hmac.new(self._mac_root, purpose.encode("utf-8"), hashlib.sha256).digest()
        return hmac.new(key, data, hashlib.sha256).digest()

    @classmethod
    def from_environment(cls, key_file: str | Path | None) -> Vault:
        """The key from the environment, else from ``key_file`` (created 0600 if missing)."""
        value = os.environ.get(ENV_VAR)
        if value:
            return cls(base64.b64decode(value))
        if key_file is None:
            raise RuntimeError(f"no master key: set {ENV_VAR} or give a key file")
        path = Path(key_file)
        if not path.exists():
            _create_key_file(path)
        return cls(base64.b64decode(path.read_text().strip()))


def pan_purpose(merchant_id: str) -> str:
    return f"pan:{merchant_id}"


def wallet_pan_purpose(merchant_id: str, merchant_wallet_id: str, payment_mean_id: str) -> str:
    """A stored wallet card: bound to its merchant, wallet and paymentMeanId (docs/wallets.md)."""
    return f"wallet-pan:{merchant_id}:{merchant_wallet_id}:{payment_mean_id}"


def key_purpose(merchant_id: str, key_version: int) -> str:
    return f"secret-key:{merchant_id}:{key_version}"


def _create_key_file(path: Path) -> None:
    """Write a new key atomically: a node starting at the same time sees all of it or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process won the race: keep its key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
