"""Redirection helpers for the merchant's site (the guide's "POST redirection form"): pure
functions, no server code, no I/O.

* :func:`acs_form` - the page that sends the shopper's browser to the 3-D Secure ACS with
  ``PaReq``, ``TermUrl`` and ``MD``;
* :func:`provider_form` - the page that sends it to an external provider with
  ``message_version`` and ``redirection_data``;
* :func:`encode_md` / :func:`decode_md` / :func:`check_md` - the MD rules: ASCII 0x20-0x7E
  only (Base64 otherwise), at most 1024 bytes, confidential data encrypted.

Both pages follow the guide's sample: the form submits itself with JavaScript on load, and
shows a message and a Submit button inside ``<noscript>`` for browsers without JavaScript.
Every value is HTML-escaped.

MD encryption (optional) uses AES-256-GCM from the ``cryptography`` package, which the
connector does not require: install it (``pip install cryptography``, or the ``server``
extra) to pass ``key=``.
"""

from __future__ import annotations

import base64
import binascii
import os
from html import escape

MD_MAX_BYTES = 1024
#: Prefixes that tell decode_md how an MD was encoded (plain text has none).
BASE64_PREFIX = "B64."
ENCRYPTED_PREFIX = "E1."
_MD_AAD = b"sogenactif-md-v1"


class MerchantDataError(ValueError):
    """An MD that breaks the guide's rules, or that cannot be decoded."""


NO_JAVASCRIPT = "JavaScript is currently disabled or is not supported by your browser."
CONTINUE = "Please click Submit to continue the processing of your transaction."


def auto_submit_page(action: str, fields: list[tuple[str, str]], *, title: str,
                     heading: str = "Processing your Transaction",
                     message: str = CONTINUE) -> str:
    """The guide's POST redirection page: submits itself on load, with a message and a
    Submit button in ``<noscript>``; every value HTML-escaped. The ACS and provider pages of
    the server send the shopper back with it too."""
    hidden = "\n".join(
        f'  <input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields)
    return f"""<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>{escape(title)}</title>
</head>
<body OnLoad="OnLoadEvent();" >
  <form name="downloadForm" action="{escape(action)}" method="POST">
    <noscript>
    <h1>{escape(heading)}</h1>
    <h2>{NO_JAVASCRIPT}<br></h2>
    <h3>{escape(message)}</h3>
    <input type="submit" value="Submit">
    </noscript>
{hidden}
  </form>
<SCRIPT LANGUAGE="Javascript" >
function OnLoadEvent()
{{
  document.downloadForm.submit();
}}
</SCRIPT>
</body>
</html>
"""


def acs_form(redirection_url: str, pa_req_message: str, term_url: str, md: str = "", *,
             title: str = "3-D Secure") -> str:
    """The auto-submitting page to the ACS (``redirectionUrl`` of cardCheckEnrollment).

    ``md`` is checked with :func:`check_md` (encode it with :func:`encode_md` first).
    """
    check_md(md)
    return auto_submit_page(
        redirection_url, [("PaReq", pa_req_message), ("TermUrl", term_url), ("MD", md)],
        title=title, heading="Processing your 3-D Secure Transaction",
        message="Please click Submit to continue the processing of your 3-D Secure "
                "transaction.")


def provider_form(redirection_url: str, message_version: str, redirection_data: str, *,
                  title: str = "Payment") -> str:
    """The auto-submitting page to an external provider (paymentProviderInitialize)."""
    return auto_submit_page(
        redirection_url,
        [("message_version", message_version), ("redirection_data", redirection_data)],
        title=title)


def check_md(md: str) -> str:
    """``md`` itself when it keeps the guide's rules; MerchantDataError otherwise."""
    for char in md:
        if not 0x20 <= ord(char) <= 0x7E:
            raise MerchantDataError(
                f"MD holds {char!r}: only ASCII 0x20-0x7E is allowed, use encode_md()")
    size = len(md.encode("ascii"))
    if size > MD_MAX_BYTES:
        raise MerchantDataError(f"MD is {size} bytes, the limit is {MD_MAX_BYTES}")
    return md


def _plain_ok(text: str) -> bool:
    return (all(0x20 <= ord(c) <= 0x7E for c in text)
            and not text.startswith((BASE64_PREFIX, ENCRYPTED_PREFIX)))


def _aead(key: bytes):  # type: ignore[no-untyped-def]
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - depends on the installation
        raise MerchantDataError(
            "encrypting MD needs the cryptography package (pip install cryptography)") from None
    if len(key) not in (16, 24, 32):
        raise MerchantDataError("the MD key must be 16, 24 or 32 bytes (new_md_key())")
    return AESGCM(key)


def new_md_key() -> bytes:
    """A random 32-byte key for :func:`encode_md`; keep it on the merchant's side only."""
    return os.urandom(32)


def encode_md(data: str | bytes, *, key: bytes | None = None) -> str:
    """MD for ``data``: unchanged when it is printable ASCII, else Base64 (``B64.`` prefix);
    encrypted with AES-GCM under ``key`` when one is given (``E1.`` prefix). Raises
    MerchantDataError when the result is over 1024 bytes."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if key is not None:
        nonce = os.urandom(12)
        sealed = nonce + _aead(key).encrypt(nonce, raw, _MD_AAD)
        md = ENCRYPTED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")
    elif isinstance(data, str) and _plain_ok(data):
        md = data
    else:
        md = BASE64_PREFIX + base64.b64encode(raw).decode("ascii")
    return check_md(md)


def decode_md_bytes(md: str, *, key: bytes | None = None) -> bytes:
    """The bytes :func:`encode_md` was given."""
    check_md(md)
    try:
        if md.startswith(ENCRYPTED_PREFIX):
            if key is None:
                raise MerchantDataError("this MD is encrypted: give the key")
            sealed = base64.urlsafe_b64decode(md[len(ENCRYPTED_PREFIX):])
            try:
                return bytes(_aead(key).decrypt(sealed[:12], sealed[12:], _MD_AAD))
            except Exception as error:  # InvalidTag: tampered, or another key
                raise MerchantDataError("this MD was not made with this key "
                                        "or was changed") from error
        if md.startswith(BASE64_PREFIX):
            return base64.b64decode(md[len(BASE64_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as error:
        if isinstance(error, MerchantDataError):
            raise
        raise MerchantDataError("this MD is not valid Base64") from error
    return md.encode("ascii")


def decode_md(md: str, *, key: bytes | None = None) -> str:
    """The text :func:`encode_md` was given."""
    try:
        return decode_md_bytes(md, key=key).decode("utf-8")
    except UnicodeDecodeError as error:
        raise MerchantDataError("this MD does not hold UTF-8 text") from error
