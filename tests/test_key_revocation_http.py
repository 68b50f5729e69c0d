"""Keys are cached by the server, yet a key added or revoked by `sogenactif key` (another
process) applies to the very next request, on both backends."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx

from sogenactif.protocol.seal import verify_seal
from tests.support import SAMPLE_SHOP, RunningServer, card_order_fields, sealed_request

PATH = "/rs-services/v2/checkout/cardOrder"


def cli(server: RunningServer, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sogenactif", "key", *args, "--database-url",
         server.database_url, "--master-key-file", str(server.key_file)],
        capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def test_new_key_then_revoked_key_apply_at_once(server: RunningServer) -> None:
    merchant_id = SAMPLE_SHOP[0]
    out = cli(server, "add", merchant_id)
    match = re.search(r"keyVersion (\d+) for \d+; secret key \(shown once\): (\S+)", out)
    assert match, out
    version, secret = int(match.group(1)), match.group(2)
    shop = (merchant_id, secret, version)

    def order() -> dict[str, str]:
        response = httpx.post(server.url + PATH, timeout=30,
                              json=sealed_request(card_order_fields(), shop))
        assert response.status_code == 200
        return dict(response.json())

    for _ in range(3):  # used several times: served from the server's key cache
        answer = order()
        assert answer["responseCode"] == "00" and verify_seal(answer, secret), answer
    cli(server, "revoke", merchant_id, str(version))
    answer = order()
    assert answer["responseCode"] == "34" and answer["errorFieldName"] == "keyVersion"
    # The shop's other key still works.
    response = httpx.post(server.url + PATH, timeout=30,
                          json=sealed_request(card_order_fields(), SAMPLE_SHOP))
    assert response.json()["responseCode"] == "00"
