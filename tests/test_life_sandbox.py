"""A merchant's week in the sandbox, over HTTP on SQLite and PostgreSQL: the clock moves across
capture and validation limits; statuses, remittances and both reports follow.

Each backend gets its own server and database: moving the clock must not disturb the
other tests' server.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from sogenactif.cli import app
from tests.life_support import REFUSED_CARD, cash, data, order
from tests.support import SAMPLE_SHOP, RunningServer, create_pg_database, drop_pg_database

MERCHANT = SAMPLE_SHOP[0]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sandbox(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    backend = str(request.param)
    workdir = Path(tmp_path_factory.mktemp(f"sandbox-{backend}"))
    if backend == "postgres":
        request.getfixturevalue("postgres_url")
        url = create_pg_database()
    else:
        url = f"sqlite:///{workdir / 'sandbox.db'}"
    server = RunningServer(backend, url, workdir,
                           env={"SOGENACTIF_BATCH_CUTOFF": "off"}).start()
    try:
        yield server
    finally:
        server.stop()
        if backend == "postgres":
            drop_pg_database(url)


def clock(server: RunningServer, **body: Any) -> dict[str, Any]:
    if body:
        response = httpx.post(server.url + "/sandbox/clock", json=body)
    else:
        response = httpx.get(server.url + "/sandbox/clock")
    assert response.status_code == 200, response.text
    return dict(response.json())


def run_batch(server: RunningServer, day: str | None = None) -> dict[str, Any]:
    response = httpx.post(server.url + "/sandbox/batch", json={"date": day} if day else {},
                          timeout=120)
    assert response.status_code == 200, response.text
    result = dict(response.json())
    assert result["outcome"] == "RAN", result
    return result


def report(server: RunningServer, kind: str, day: str, tmp_path: Path | None = None
           ) -> list[dict[str, str]]:
    args = ["report", kind, "--date", day, "--merchant", MERCHANT,
            "--database-url", server.database_url]
    result = CliRunner().invoke(app, [*args, "--output", str(tmp_path / f"{kind}.csv")]
                                if tmp_path else args)
    assert result.exit_code == 0, result.output
    text = (tmp_path / f"{kind}.csv").read_text() if tmp_path else result.output
    return list(csv.DictReader(io.StringIO(text)))


def status(server: RunningServer, ref: str) -> str:
    return str(data(server.url, ref)["transactionStatus"])


def test_a_week_in_the_sandbox(sandbox: RunningServer, tmp_path: Path) -> None:
    url = sandbox.url
    day0 = clock(sandbox, reset=True)["businessDate"]
    day1 = (date.fromisoformat(day0) + timedelta(days=1)).isoformat()
    day2 = (date.fromisoformat(day0) + timedelta(days=2)).isoformat()

    a = order(url, amount=1000, day=0)
    b = order(url, amount=2000, day=2)
    c = order(url, amount=3000, mode="VALIDATION", day=1)
    d = order(url, amount=4000, mode="VALIDATION", day=1)
    e = order(url, amount=5000, card=REFUSED_CARD)
    f = order(url, amount=6000, mode="IMMEDIATE")
    g = order(url, amount=700, mode="VALIDATION", day=0)
    h = order(url, amount=1100, day=0)
    assert cash(url, "refund", f, 1500)["responseCode"] == "00"
    assert cash(url, "cancel", h, 100)["newAmount"] == "1000"
    assert data(url, b)["captureLimitDate"] == day2.replace("-", "")

    # Day 1 before the batch of day 0 ran: G's last day to validate has passed.
    assert clock(sandbox, advanceDays=1)["businessDate"] == day1
    assert cash(url, "validate", g, 700)["responseCode"] == "24"
    assert status(sandbox, g) == "TO_VALIDATE"

    first = run_batch(sandbox, day0)
    assert (first["captured"], first["expired"], first["credited"]) == (2, 1, 1)
    assert [status(sandbox, r) for r in (a, b, c, d, e, f, g, h)] == [
        "CAPTURED", "TO_CAPTURE", "TO_VALIDATE", "TO_VALIDATE", "REFUSED", "CAPTURED",
        "EXPIRED", "CAPTURED"]
    assert data(url, h)["capturedAmount"] == "1000"
    assert [op["operationStatus"] for op in data(url, f)["operationList"]
            if op["operationType"] == "REFUND"] == ["CREDITED"]

    # Day 1: C validated in time is captured by the day's batch, D expires.
    validated = cash(url, "validate", c, 2500)
    assert (validated["responseCode"], validated["newStatus"]) == ("00", "TO_CAPTURE")
    second = run_batch(sandbox)  # today's, on the sandbox clock
    assert second["batchDate"] == day1
    assert (second["captured"], second["expired"]) == (1, 1)
    assert (status(sandbox, c), status(sandbox, d), status(sandbox, b)) == (
        "CAPTURED", "EXPIRED", "TO_CAPTURE")
    assert data(url, c)["capturedAmount"] == "2500"

    # Day 2: B's capture day has come.
    assert clock(sandbox, advanceDays=1)["businessDate"] == day2
    late = order(url, amount=50, card=REFUSED_CARD)
    assert run_batch(sandbox)["captured"] == 1
    assert status(sandbox, b) == "CAPTURED"

    # The Transactions report: every transaction of the day, accepted and refused.
    rows = report(sandbox, "transactions", day0, tmp_path)
    by_ref = {r["transactionReference"]: r for r in rows}
    assert set(by_ref) == {a, b, c, d, e, f, g, h}
    assert (by_ref[e]["transactionStatus"], by_ref[e]["responseCode"]) == ("REFUSED", "05")
    assert (by_ref[f]["refundedAmount"], by_ref[f]["remainingAmount"]) == ("1500", "4500")
    assert by_ref[c]["capturedAmount"] == "2500" and by_ref[a]["merchantId"] == MERCHANT
    assert report(sandbox, "transactions", day1) == []
    assert [r["transactionReference"] for r in report(sandbox, "transactions", day2)] == [late]

    # The Operations report: the day's cash operations, then its remittances.
    ops = report(sandbox, "operations", day0)
    operations = [(r["transactionReference"], r["operationType"], r["amount"],
                   r["operationStatus"]) for r in ops if r["record"] == "OPERATION"]
    assert sorted(operations) == sorted([
        (f, "REFUND", "1500", "CREDITED"), (h, "CANCEL", "100", "TO_CAPTURE"),
        (a, "CAPTURE", "1000", "CAPTURED"), (h, "CAPTURE", "1000", "CAPTURED"),
        (g, "EXPIRE", "700", "EXPIRED")])
    remittances = {r["operationType"]: (r["remittanceCount"], r["amount"])
                   for r in ops if r["record"] == "REMITTANCE"}
    assert remittances == {"CAPTURE": ("2", "2000"), "CREDIT": ("1", "1500")}
    captured_in = {r["remittanceId"] for r in ops if r["operationType"] == "CAPTURE"}
    assert len(captured_in) == 1

    ops1 = report(sandbox, "operations", day1)
    assert sorted((r["operationType"], r["responseCode"], r["operationStatus"])
                  for r in ops1 if r["record"] == "OPERATION") == sorted([
        ("VALIDATE", "24", "REFUSED"), ("VALIDATE", "00", "TO_CAPTURE"),
        ("CAPTURE", "00", "CAPTURED"), ("EXPIRE", "00", "EXPIRED")])
    assert [(r["operationType"], r["amount"]) for r in ops1 if r["record"] == "REMITTANCE"] \
        == [("CAPTURE", "2500")]
    ops2 = report(sandbox, "operations", day2)
    assert [(r["record"], r["operationType"], r["amount"]) for r in ops2] == [
        ("OPERATION", "CAPTURE", "2000"), ("REMITTANCE", "CAPTURE", "2000")]
    clock(sandbox, reset=True)


def test_clock_commands(sandbox: RunningServer) -> None:
    runner = CliRunner()
    db = ["--database-url", sandbox.database_url]
    try:
        moved = runner.invoke(app, ["clock", "advance", "--days", "2", *db])
        assert moved.exit_code == 0, moved.output
        assert "offset 172800 s" in moved.output
        assert clock(sandbox)["offsetSeconds"] == 172800  # the server sees it at once
        assert runner.invoke(app, ["clock", "set", "3600", *db]).exit_code == 0
        assert clock(sandbox)["offsetSeconds"] == 3600
        shown = runner.invoke(app, ["clock", "show", *db])
        assert "offset 3600 s" in shown.output
    finally:
        assert runner.invoke(app, ["clock", "reset", *db]).exit_code == 0
    assert clock(sandbox)["offsetSeconds"] == 0


def test_bad_clock_requests(sandbox: RunningServer) -> None:
    for body in ({"advanceDays": "two"}, {}, {"offsetSeconds": True}):
        response = httpx.post(sandbox.url + "/sandbox/clock", json=body)
        assert response.status_code == 400, body
    response = httpx.post(sandbox.url + "/sandbox/batch", json={"date": "tomorrow"})
    assert response.status_code == 400
    assert clock(sandbox)["offsetSeconds"] == 0


def test_no_sandbox_in_production_mode(tmp_path: Path) -> None:
    server = RunningServer("sqlite", f"sqlite:///{tmp_path / 'prod.db'}", tmp_path,
                           extra_args=("--mode", "production")).start()
    try:
        assert httpx.get(server.url + "/sandbox/clock").status_code == 404
        assert httpx.post(server.url + "/sandbox/clock",
                          json={"advanceDays": 1}).status_code == 404
        assert httpx.post(server.url + "/sandbox/batch", json={}).status_code == 404
    finally:
        server.stop()
