"""The seal: the guide's vectors G1–G4 and properties that must hold for any message."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sogenactif.protocol.seal import (
    SealAlgorithm,
    compute_seal,
    compute_seal_of_data,
    seal_data,
    sealed,
    seals_equal,
    verify_seal,
)

G1 = {
    "amount": "2500", "captureDay": "0", "captureMode": "AUTHOR_CAPTURE", "cardCSCValue": "000",
    "cardExpiryDate": "201612", "cardNumber": "1234123412341234", "currencyCode": "978",
    "customerContact": {"email": "customer@email.com"}, "interfaceVersion": "IR_WS_2.3",
    "keyVersion": "1", "merchantId": "011223344550000", "orderChannel": "INTERNET",
    "orderId": "ORD101", "returnContext": "ReturnContext", "transactionOrigin": "SO_WEBAPPLI",
    "transactionReference": "TREFEXA2012",
}
G1_DATA = ("25000AUTHOR_CAPTURE0002016121234123412341234978customer@email.comIR_WS_2.3"
           "011223344550000INTERNETORD101ReturnContextSO_WEBAPPLITREFEXA2012")
G2 = {
    "amount": "2500", "automaticResponseUrl": "https://automatic-response-url.fr/",
    "captureDay": "0", "captureMode": "AUTHOR_CAPTURE", "currencyCode": "978",
    "customerContact": {"email": "customer@email.com"}, "interfaceVersion": "IR_WS_2.22",
    "keyVersion": "1", "merchantId": "011223344550000",
    "normalReturnUrl": "https://normal-return-url/", "orderChannel": "INTERNET",
    "orderId": "ORD101", "returnContext": "ReturnContext", "transactionOrigin": "SO_WEBAPPLI",
    "transactionReference": "TREFEXA2012",
}


def test_g1_data_string_and_seal() -> None:
    assert seal_data(G1) == G1_DATA
    assert compute_seal(G1, "secret123") == (
        "f1772faa4b73c0fc5a9810ad7fcaf91458d6174b2178a0a0a2bea2d860b404f5")


def test_g2_paypage_request() -> None:
    assert compute_seal(G2, "secret123") == (
        "322b943d833417c1570e0a282641e8e29d6a5b968c9b846694b5610e18ab5b81")


def test_g3_without_container() -> None:
    g3 = {k: v for k, v in G2.items() if k != "customerContact"}
    assert compute_seal(g3, "secret123") == (
        "e4d75c6a779adee5850192d1ecc162ca0c85e960cb00d9923879609f89739152")


def test_g4_raw_string() -> None:
    assert compute_seal_of_data("This is a test!", "superSafeSecretKey") == (
        "198e5f278e3f8548e174e84492953c4871732278b7e2aa2cbf20bb1ab85914ea")


def test_code_point_order_is_case_sensitive() -> None:
    # 'M' (0x4D) sorts before 'i' (0x69): authorMessageReference before authorisationId.
    assert seal_data({"authorisationId": "B", "authorMessageReference": "A"}) == "AB"


def test_sha256_appends_the_key_and_hmac_sha512_differs() -> None:
    import hashlib
    import hmac

    data = seal_data(G1)
    assert compute_seal(G1, "k", SealAlgorithm.SHA_256) == hashlib.sha256(
        (data + "k").encode()).hexdigest()
    assert compute_seal(G1, "k", SealAlgorithm.HMAC_SHA_512) == hmac.new(
        b"k", data.encode(), hashlib.sha512).hexdigest()


def test_lists_keep_their_order_and_flatten_objects() -> None:
    message = {"list": [{"b": "2", "a": "1"}, "x", {"c": ["3", "4"]}], "n": 7, "t": True,
               "f": False, "none": None}
    assert seal_data(message) == "false" + "12x34" + "7" + "true"


def test_utf8_values() -> None:
    message = {"returnContext": "Café – ünïcödé"}
    assert compute_seal(message, "clé") == compute_seal_of_data("Café – ünïcödé", "clé")


def test_constant_time_compare_rejects_non_strings() -> None:
    assert not seals_equal("abc", None)
    assert not seals_equal("abc", 123)
    assert seals_equal("abc", "abc")
    assert not seals_equal("abc", "abd")


# ---------------------------------------------------------------- properties

names = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=12)
scalars = st.one_of(st.text(max_size=20), st.integers(-10**12, 10**12), st.booleans())
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, min_size=1, max_size=4),
                               st.dictionaries(names, children, min_size=1, max_size=4)),
    max_leaves=12,
)
messages = st.dictionaries(names.filter(lambda n: n not in ("seal", "keyVersion",
                                                               "sealAlgorithm")),
                           values, min_size=1, max_size=8)
algorithms = st.sampled_from(list(SealAlgorithm))


def _reversed_order(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_order(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_order(v) for v in value]
    return value


@given(messages, algorithms)
def test_key_order_does_not_matter(message: dict[str, Any], algorithm: SealAlgorithm) -> None:
    assert compute_seal(message, "k", algorithm) == compute_seal(
        _reversed_order(message), "k", algorithm)


@given(messages, st.text(max_size=10), st.text(max_size=10), st.sampled_from([1, "7", None]))
def test_seal_key_version_and_algorithm_are_left_out(message: dict[str, Any], seal: str,
                                                     algo: str, version: Any) -> None:
    extended = {**message, "seal": seal, "sealAlgorithm": algo, "keyVersion": version}
    assert seal_data(extended) == seal_data(message)


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


@given(messages, st.data(), algorithms)
def test_changing_any_value_at_any_depth_changes_the_seal(
        message: dict[str, Any], data: st.DataObject, algorithm: SealAlgorithm) -> None:
    paths = _leaf_paths(message)
    path = data.draw(st.sampled_from(paths))
    changed = copy.deepcopy(message)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    old = target[path[-1]]
    target[path[-1]] = f"{old}X" if not isinstance(old, bool) else (not old)
    assert compute_seal(changed, "k", algorithm) != compute_seal(message, "k", algorithm)


@given(messages, algorithms)
def test_sealed_messages_verify(message: dict[str, Any], algorithm: SealAlgorithm) -> None:
    out = sealed(message, "key", algorithm)
    assert verify_seal(out, "key", algorithm)
    assert not verify_seal(out, "other", algorithm)
