"""Key versions (created, used, revoked at once), the test-card file, the connector's twins."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from sogenactif import AsyncClient, Client
from sogenactif.cli import app
from sogenactif.protocol.seal import verify_seal
from tests.support import (
    SAMPLE_SHOP,
    RunningServer,
    card_order_fields,
    future_expiry,
    reference,
    sealed_request,
)

runner = CliRunner()


def _cli(server: RunningServer, *args: str) -> str:
    result = runner.invoke(app, [*args, "--database-url", server.database_url,
                                 "--master-key-file", str(server.key_file)])
    assert result.exit_code == 0, result.output
    return result.output


def _order(server: RunningServer, shop: tuple[str, str, int]) -> dict[str, str]:
    body = sealed_request(card_order_fields(), shop)
    return dict(httpx.post(server.url + "/rs-services/v2/checkout/cardOrder", json=body).json())


def test_new_key_version_works_and_revocation_takes_effect_at_once(
        server: RunningServer) -> None:
    merchant_id = SAMPLE_SHOP[0]
    output = _cli(server, "key", "add", merchant_id)
    match = re.search(r"keyVersion (\d+) for \d+; secret key \(shown once\): (\S+)", output)
    assert match, output
    version, secret = int(match.group(1)), match.group(2)
    shop = (merchant_id, secret, version)
    first = _order(server, shop)
    assert first["responseCode"] == "00" and verify_seal(first, secret)
    # the old version still works: key versions live side by side
    assert _order(server, SAMPLE_SHOP)["responseCode"] == "00"
    _cli(server, "key", "revoke", merchant_id, str(version))
    refused = _order(server, shop)
    assert refused["responseCode"] == "34" and refused["errorFieldName"] == "keyVersion"
    listing = _cli(server, "shop", "list")
    assert merchant_id in listing and f"{version} (revoked)" in listing


def test_test_card_file_replaces_sections(tmp_path: Path) -> None:
    table = tmp_path / "cards.toml"
    table.write_text('[outcomes]\n"00" = ["51", "51"]\n')
    running = RunningServer("sqlite", f"sqlite:///{tmp_path / 'o.db'}", tmp_path / "srv",
                            extra_args=("--test-cards", str(table))).start()
    try:
        assert _order(running, SAMPLE_SHOP)["responseCode"] == "51"  # ...00 now refused
        body = sealed_request(card_order_fields(cardNumber="4100000000000005"))
        answer = httpx.post(running.url + "/rs-services/v2/checkout/cardOrder", json=body).json()
        assert answer["responseCode"] == "00"  # the file's [outcomes] replaced the default
    finally:
        running.stop()


def test_production_mode_gives_no_seal_help_and_no_test_shops(tmp_path: Path) -> None:
    running = RunningServer("sqlite", f"sqlite:///{tmp_path / 'p.db'}", tmp_path / "srv",
                            extra_args=("--mode", "production")).start()
    try:
        answer = _order(running, SAMPLE_SHOP)
        assert answer["responseCode"] == "03"  # no seeded shops in production
    finally:
        running.stop()


def test_async_client_twin(server: RunningServer) -> None:
    merchant_id, secret, version = SAMPLE_SHOP

    async def run() -> list[str]:
        async with AsyncClient(merchant_id, secret, version, server.url) as client:
            answers = await asyncio.gather(*[
                client.card_order(amount=100 + i, currency_code="978",
                                  transaction_reference=reference(),
                                  card_number="4100000000000000",
                                  card_expiry_date=future_expiry())
                for i in range(5)])
        return [a.response_code or "" for a in answers]

    assert asyncio.run(run()) == ["00"] * 5


def test_generic_call_and_repr_hides_the_key(server: RunningServer) -> None:
    merchant_id, secret, version = SAMPLE_SHOP
    with Client(merchant_id, secret, version, server.url) as client:
        assert secret not in repr(client)
        answer = client.call("cardOrder", card_order_fields())
        assert answer.ok and answer.raw["responseCode"] == "00"


@pytest.mark.parametrize("version", ["0", "abc"])
def test_key_version_format(server: RunningServer, version: str) -> None:
    _merchant_id, _secret, _ = SAMPLE_SHOP
    body = sealed_request(card_order_fields(), SAMPLE_SHOP)
    body["keyVersion"] = version
    answer = httpx.post(server.url + "/rs-services/v2/checkout/cardOrder", json=body).json()
    assert answer["responseCode"] in ({"34"} if version == "0" else {"30"})


def test_several_workers_on_one_database(server: RunningServer, tmp_path: Path) -> None:
    """`serve --workers 2` beside the session's server, on its database and master key."""
    import concurrent.futures

    running = RunningServer(server.backend, server.database_url, tmp_path / "multi",
                            workers=2, master_key_file=server.key_file).start()
    try:
        # The supervisor became uvicorn's own (it keeps none of start-up's imports) and
        # its workers accept one connection at a time (libuv), so they share a burst.
        assert running.process is not None
        supervisor = psutil.Process(running.process.pid)
        assert supervisor.cmdline()[1:3] == ["-m", "uvicorn"]
        workers = [child for child in supervisor.children()  # not multiprocessing's tracker
                   if "resource_tracker" not in " ".join(child.cmdline())]
        assert len(workers) == 2, [w.cmdline() for w in workers]
        assert all(w.environ().get("UV_TCP_SINGLE_ACCEPT") == "1" for w in workers)
        bodies = [sealed_request(card_order_fields()) for _ in range(40)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda b: httpx.post(
                running.url + "/rs-services/v2/checkout/cardOrder", json=b,
                timeout=30).json()["responseCode"], bodies))
        assert codes == ["00"] * 40
        # the same reference sent to both processes at once: one 00, the rest 94
        ref = reference()
        same = [sealed_request(card_order_fields(transactionReference=ref))
                for _ in range(16)]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            codes = sorted(pool.map(lambda b: httpx.post(
                running.url + "/rs-services/v2/checkout/cardOrder", json=b,
                timeout=30).json()["responseCode"], same))
        assert codes == ["00"] + ["94"] * 15
    finally:
        running.stop()


def test_banner_prints_url_database_and_test_shops(server: RunningServer) -> None:
    log = server.log()
    assert f"http://127.0.0.1:{server.port}" in log
    assert "Database" in log and "Mode      test" in log
    assert "201040040170001  1  rxSP61eeP_oNi5TxCD7Ngy9YcwC8MLw6OlmFGGcsY54" in log
    assert "011223344550000  1  secret123" in log
    if server.backend == "postgres":
        assert "postgresql+psycopg://postgres@127.0.0.1:5432/sogenactif_test_" in log
