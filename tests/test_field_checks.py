"""The compiled field checks (protocol.fields.scalar_check) say what the dictionary says.

The reference below is the dictionary's rules written plainly, one format letter at a time;
the compiled checks are built for speed and must agree with it on any value.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sogenactif.protocol.catalogue import SERVICES
from sogenactif.protocol.fields import DICTIONARY, Format, Kind, scalar_check

SCALARS = sorted(name for name, fmt in DICTIONARY.items()
                 if fmt.kind not in (Kind.CONTAINER, Kind.LIST))


def reference(value: Any, fmt: Format) -> bool:
    if fmt.kind is Kind.BOOLEAN:
        return isinstance(value, bool) or value in ("true", "false")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    text = str(value)
    upper = fmt.max_length if fmt.max_length is not None else len(text)
    sized = fmt.min_length <= len(text) <= upper
    if fmt.kind is Kind.N:
        return sized and text != "" and all(c in "0123456789" for c in text)
    if fmt.kind is Kind.AN:
        return sized and text != "" and all(c.isascii() and c.isalnum() for c in text)
    if fmt.kind is Kind.ANS:
        return sized and text.isprintable()
    if fmt.kind is Kind.ENUM:
        return text in fmt.values
    if fmt.kind is Kind.YYYYMM:
        return len(text) == 6 and text.isdigit() and 1 <= int(text[4:]) <= 12
    if fmt.kind is Kind.YYYYMMDD:
        try:
            return len(text) == 8 and text.isdigit() and bool(datetime.strptime(text, "%Y%m%d"))
        except ValueError:
            return False
    if fmt.kind is Kind.IP:
        try:
            return text == "" or bool(ipaddress.ip_address(text))
        except ValueError:
            return False
    if fmt.kind is Kind.URL:
        return sized and text.startswith(("http://", "https://"))
    if fmt.kind is Kind.DATETIME:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return False
        return parsed.tzinfo is not None and "T" in text and text[:4].isdigit()
    raise AssertionError(fmt.kind)


def near(fmt: Format) -> st.SearchStrategy[Any]:
    """Values around the format's edges, plus anything at all."""
    longest = (fmt.max_length or 20) + 2
    return st.one_of(
        st.text(alphabet="0123456789", max_size=longest),
        st.text(alphabet="0123456789abcXYZ é\t-", max_size=longest),
        st.sampled_from([*fmt.values, "", "true", "false", "http://x", "https://x",
                         "2023-04-05T10:01:56+02:00", "2023-02-30T10:01:56Z", "203012",
                         "20230230", "20230228", "127.0.0.1", "::1", "1.2.3"]),
        st.integers(min_value=-10, max_value=10**14), st.booleans(), st.none(),
        st.floats(allow_nan=False), st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@settings(max_examples=400)
@given(data=st.data())
def test_compiled_checks_agree_with_the_dictionary(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(SCALARS))
    fmt = DICTIONARY[name]
    value = data.draw(near(fmt))
    if value is None:
        return
    if fmt.kind is Kind.DATETIME and isinstance(value, str):
        # The reference's DATETIME test is looser than the protocol's pattern: only compare
        # where the protocol accepts (those must parse) or where nothing parses.
        if scalar_check(fmt)(value):
            assert reference(value, fmt)
        return
    assert scalar_check(fmt)(value) is reference(value, fmt), (name, value)


def test_every_service_compiles_a_check_for_each_scalar_field() -> None:
    for service in SERVICES:
        shape = service.request_shape
        for name, fmt in shape.formats.items():
            compound = fmt.kind in (Kind.CONTAINER, Kind.LIST)
            assert (name in shape.scalars) is not compound, (service.name, name)
