"""What the 3-D Secure and provider flows share: signed tokens, the redirection state kept on
the PENDING transaction, its deadline, and aborting the transactions whose shopper never came
back (97, ABORTED).

Tokens (paReqMessage, PaRes, redirectionData) are ``base64url(JSON) "." base64url(HMAC)``, the
HMAC keyed by a key the vault derives from the master key for each purpose: nobody without the
master key can make one, and a token made for one purpose is worthless for another.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from sogenactif.server.domain.authentication import aware, session_expired
from sogenactif.server.domain.lifecycle import Event, Status, next_status
from sogenactif.server.operations.base import Refusal
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.vault import Vault

PAREQ = "pareq"
PARES = "pares"
REDIRECTION_DATA = "redirection-data"

KIND_3DS = "3DS"
KIND_PROVIDER = "PROVIDER"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(vault: Vault, purpose: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return body + "." + _b64(vault.mac(purpose, body.encode("ascii")))


def verify(vault: Vault, purpose: str, token: str | None) -> dict[str, Any] | None:
    """The payload of a token this server signed for ``purpose``; None for anything else."""
    if not token or token.count(".") != 1 or len(token) > 8192:
        return None
    body, signature = token.split(".")
    try:
        expected = _b64(vault.mac(purpose, body.encode("ascii")))
        if not hmac.compare_digest(expected, signature):
            return None
        payload = json.loads(_unb64(body))
    except (UnicodeError, ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def redirection_data(vault: Vault, merchant_id: str, reference: str, nonce: str,
                     kind: str) -> str:
    return sign(vault, REDIRECTION_DATA, {"m": merchant_id, "r": reference, "n": nonce,
                                          "k": kind})


def state_of(row: Any) -> dict[str, Any]:
    """The redirection state saved on the transaction (empty when it had none)."""
    text = row.redirection_state
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def fits(payload: dict[str, Any] | None, row: Any, state: dict[str, Any]) -> bool:
    """A token names this very transaction and this very redirection."""
    return (payload is not None and payload.get("m") == row.merchant_id
            and payload.get("r") == row.transaction_reference
            and payload.get("n") == state.get("nonce"))


def find_for_page(rt: Runtime, payload: dict[str, Any]) -> tuple[Any, str, dict[str, Any]] | None:
    """For the ACS and provider pages: the transaction a verified token names, its shop's
    name and its redirection state; None unless the token fits this very redirection."""
    merchant_id, reference = str(payload.get("m")), str(payload.get("r"))
    with rt.db.read() as conn:
        row = repo.get_transaction(conn, merchant_id, reference)
        shop = repo.get_shop(conn, merchant_id)
    if row is None or shop is None:
        return None
    state = state_of(row)
    if not fits(payload, row, state):
        return None
    return row, shop.name, state


def deadline(rt: Runtime, now: datetime) -> datetime:
    return now + timedelta(minutes=rt.settings.redirection_minutes)


def expired(row: Any, now: datetime) -> bool:
    return session_expired(now, row.redirection_expires_at)


def abort_row(conn: Any, row: Any, now: datetime) -> dict[str, Any]:
    """PENDING -> ABORTED with 97 (the table decides); returns the answer fields."""
    status = next_status(Status(row.status), Event.ABORT_REDIRECTION)
    repo.update_transaction(conn, row.id, {"status": status.value, "response_code": "97",
                                           "updated_at": now})
    return {"responseCode": "97", "transactionReference": row.transaction_reference}


def abort_expired_redirections(rt: Runtime, now: datetime | None = None,
                               limit: int = 500) -> int:
    """Abort every PENDING transaction past its deadline; safe to run on several nodes.

    For the batch: each transaction is re-read locked and re-checked before it changes, so a
    shopper who came back at the last second, or another node, is never overridden.
    """
    moment = aware(now or rt.clock.now())
    with rt.db.read() as conn:
        candidates = repo.list_expired_redirections(conn, moment, limit)
    aborted = 0
    for merchant_id, reference in candidates:
        with rt.db.write() as conn:
            row = repo.get_transaction(conn, merchant_id, reference, for_update=True)
            if row is not None and row.status == Status.PENDING.value and expired(row, moment):
                abort_row(conn, row, moment)
                aborted += 1
    return aborted


def load_session(rt: Runtime, conn: Any, req: Any, kind: str) -> tuple[Any, dict[str, Any]]:
    """The transaction a completion call names (locked) and its redirection state, once the
    call's redirectionData and messageVersion are shown to be this session's own.

    25 unknown transaction; 24 when it is not this kind of redirection; 12 for a
    redirectionData or messageVersion that does not fit. The caller checks the status.
    """
    reference = req.text("transactionReference") or ""
    row = repo.get_transaction(conn, req.merchant_id, reference, for_update=True)
    if row is None:
        raise Refusal("25", "transactionReference")
    state = state_of(row)
    if state.get("kind") != kind:
        raise Refusal("24", "transactionReference")
    data = verify(rt.vault, REDIRECTION_DATA, req.text("redirectionData"))
    if not fits(data, row, state):
        raise Refusal("12", "redirectionData")
    if req.text("messageVersion") != state.get("messageVersion"):
        raise Refusal("12", "messageVersion")
    return row, state


def insert_pending(rt: Runtime, values: dict[str, Any]) -> None:
    """Record the PENDING transaction a redirection starts; 94 on a reused reference."""
    try:
        with rt.db.write() as conn:
            repo.insert_transaction(conn, values)
    except repo.DuplicateReference:
        raise Refusal("94", "transactionReference") from None


def end_if_closed(conn: Any, row: Any, now: datetime) -> dict[str, Any] | None:
    """None while the session is open. A finished one refuses (97 ABORTED, 24 otherwise); one
    past its deadline ends ABORTED here and its 97 answer is returned."""
    if row.status == Status.ABORTED.value:
        raise Refusal("97")
    if row.status != Status.PENDING.value:
        raise Refusal("24", "transactionReference")
    if expired(row, now):
        return abort_row(conn, row, now)
    return None
