"""The connector's redirection helpers (pure): the guide's POST forms and the MD rules."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sogenactif.client import forms
from sogenactif.client.forms import MerchantDataError


def fields_of(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def test_acs_form_is_the_guides() -> None:
    page = forms.acs_form("https://acs.example/pareq", "PAREQ", "https://shop.example/t", "MD1")
    assert '<form name="downloadForm" action="https://acs.example/pareq" method="POST">' in page
    assert '<body OnLoad="OnLoadEvent();" >' in page
    assert "document.downloadForm.submit();" in page
    assert "<noscript>" in page and '<input type="submit" value="Submit">' in page
    assert "Processing your 3-D Secure Transaction" in page
    assert "JavaScript is currently disabled or is not supported by your browser." in page
    assert fields_of(page) == {"PaReq": "PAREQ", "TermUrl": "https://shop.example/t",
                               "MD": "MD1"}


def test_provider_form_is_the_guides() -> None:
    page = forms.provider_form("https://psp.example/go", "1.0", "DATA+/=")
    assert 'action="https://psp.example/go" method="POST"' in page
    assert "Processing your Transaction" in page
    assert fields_of(page) == {"message_version": "1.0", "redirection_data": "DATA+/="}


def test_values_are_html_escaped() -> None:
    nasty = '"><script>alert(1)</script>&'
    page = forms.acs_form('https://a.example/?x="1"&y=<2>', nasty, nasty, "")
    assert "<script>alert" not in page
    assert fields_of(page)["PaReq"] == nasty
    assert 'action="https://a.example/?x=&quot;1&quot;&amp;y=&lt;2&gt;"' in page


def test_acs_form_refuses_a_bad_md() -> None:
    with pytest.raises(MerchantDataError):
        forms.acs_form("https://a.example", "P", "https://t.example", "caf\u00e9")
    with pytest.raises(MerchantDataError):
        forms.acs_form("https://a.example", "P", "https://t.example", "x" * 1025)
    assert forms.check_md("x" * 1024) == "x" * 1024


def test_plain_md_stays_plain_and_other_data_goes_base64() -> None:
    assert forms.encode_md("order=42;cart=7") == "order=42;cart=7"
    encoded = forms.encode_md("café ☕")
    assert encoded.startswith("B64.") and forms.check_md(encoded) == encoded
    assert forms.decode_md(encoded) == "café ☕"
    tricky = forms.encode_md("B64.not really")  # a plain value that looks encoded
    assert tricky != "B64.not really" and forms.decode_md(tricky) == "B64.not really"
    assert forms.decode_md_bytes(forms.encode_md(b"\x00\xff")) == b"\x00\xff"


def test_encrypted_md() -> None:
    key = forms.new_md_key()
    md = forms.encode_md("PAN=4100000000000000", key=key)
    assert md.startswith("E1.") and "4100000000000000" not in md
    assert forms.decode_md(md, key=key) == "PAN=4100000000000000"
    with pytest.raises(MerchantDataError):
        forms.decode_md(md, key=forms.new_md_key())
    with pytest.raises(MerchantDataError):
        forms.decode_md(md)
    tampered = md[:-2] + ("A" if md[-2] != "A" else "B") + md[-1]
    with pytest.raises(MerchantDataError):
        forms.decode_md(tampered, key=key)
    with pytest.raises(MerchantDataError):
        forms.encode_md("x", key=b"short")


def test_md_over_the_limit_is_refused() -> None:
    with pytest.raises(MerchantDataError):
        forms.encode_md("é" * 400)  # 800 bytes of UTF-8, 1072 after Base64
    assert len(forms.encode_md("a" * 1024)) == 1024
    with pytest.raises(MerchantDataError):
        forms.decode_md("B64.@@@")


@given(st.text(max_size=200))
def test_md_round_trip(text: str) -> None:
    md = forms.encode_md(text)
    assert all(0x20 <= ord(c) <= 0x7E for c in md)
    assert forms.decode_md(md) == text
