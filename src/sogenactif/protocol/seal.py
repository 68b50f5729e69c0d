"""The Office JSON seal (spec §2): data string, the three algorithms, constant-time checks.

The data string is the values of every field but ``seal``, ``keyVersion`` and
``sealAlgorithm``, in code-point order of field names; containers contribute their own
fields' values the same way, recursively, lists their elements in the order sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

#: Fields that never enter the data string.
EXCLUDED_FIELDS = frozenset({"seal", "keyVersion", "sealAlgorithm"})
_NONE_EXCLUDED: frozenset[str] = frozenset()  # inside containers every field counts


class SealAlgorithm(StrEnum):
    """The algorithms a request may choose with ``sealAlgorithm``."""

    HMAC_SHA_256 = "HMAC-SHA-256"
    SHA_256 = "SHA-256"
    HMAC_SHA_512 = "HMAC-SHA-512"

    @classmethod
    def parse(cls, value: object) -> SealAlgorithm:
        """The algorithm a request names; absent or null means the default HMAC-SHA-256."""
        if value is None:
            return cls.HMAC_SHA_256
        if isinstance(value, str):
            for member in cls:
                if member.value == value:
                    return member
        raise ValueError(f"unknown sealAlgorithm {value!r}")


def _scalar_text(value: object) -> str:
    # JSON booleans must read as JSON does, not as Python's "True".
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _append(parts: list[str], value: Any) -> None:
    if value is None:
        return
    if type(value) is str:
        parts.append(value)
    elif isinstance(value, Mapping):
        _append_container(parts, value, _NONE_EXCLUDED)
    elif isinstance(value, list | tuple):
        for element in value:
            _append(parts, element)
    else:
        parts.append(_scalar_text(value))


def _append_container(parts: list[str], container: Mapping[str, Any],
                      excluded: frozenset[str]) -> None:
    append = parts.append
    for name in sorted(container):
        if name in excluded:
            continue
        value = container[name]
        if type(value) is str:  # nearly every value: no call for it
            append(value)
        else:
            _append(parts, value)


def seal_data(message: Mapping[str, Any]) -> str:
    """The data string the seal is computed over (what integrators diff on a 34)."""
    parts: list[str] = []
    _append_container(parts, message, EXCLUDED_FIELDS)
    return "".join(parts)


def compute_seal_of_data(
    data: str, secret_key: str, algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256
) -> str:
    """Seal an already built data string."""
    key = secret_key.encode("utf-8")
    raw = data.encode("utf-8")
    if algorithm is SealAlgorithm.HMAC_SHA_256:
        return hmac.new(key, raw, hashlib.sha256).hexdigest()
    if algorithm is SealAlgorithm.HMAC_SHA_512:
        return hmac.new(key, raw, hashlib.sha512).hexdigest()
    # SHA-256: the key is appended to the data, as the platform's Paypage answers show.
    return hashlib.sha256(raw + key).hexdigest()


def compute_seal(
    message: Mapping[str, Any],
    secret_key: str,
    algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256,
) -> str:
    """The seal of a whole message (request or response)."""
    return compute_seal_of_data(seal_data(message), secret_key, algorithm)


def seals_equal(expected: str, received: object) -> bool:
    """Constant-time comparison; anything that is not a string never matches."""
    if not isinstance(received, str):
        return False
    return hmac.compare_digest(expected.encode("ascii", "replace"), received.encode("utf-8"))


def verify_seal(
    message: Mapping[str, Any],
    secret_key: str,
    algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256,
) -> bool:
    """True when the message's ``seal`` is the one its fields and the key give."""
    return seals_equal(compute_seal(message, secret_key, algorithm), message.get("seal"))


def sealed(
    message: Mapping[str, Any],
    secret_key: str,
    algorithm: SealAlgorithm = SealAlgorithm.HMAC_SHA_256,
) -> dict[str, Any]:
    """A copy of the message with its ``seal`` set."""
    out = {k: v for k, v in message.items() if k != "seal"}
    out["seal"] = compute_seal(out, secret_key, algorithm)
    return out
