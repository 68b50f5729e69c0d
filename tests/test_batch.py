"""The batch in-process on a fresh database of each backend: a crashed run taken over never
captures twice, the scheduled run inside the server, the `batch run` command."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sogenactif.cli import app
from sogenactif.protocol.catalogue import BY_NAME
from sogenactif.server import batch
from sogenactif.server.domain.clock import business_date
from sogenactif.server.operations import pipeline
from sogenactif.server.operations.registry import OPERATIONS
from sogenactif.server.runtime import Runtime, Settings, build_runtime
from sogenactif.server.store import repositories as repo
from tests.support import (
    card_order_fields,
    create_pg_database,
    drop_pg_database,
    reference,
    sealed_request,
)


@pytest.fixture(params=["sqlite", "postgres"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")
        url = create_pg_database()
    else:
        url = f"sqlite:///{tmp_path / 'batch.db'}"
    runtime = build_runtime(Settings(database_url=url,
                                     master_key_file=str(tmp_path / "key"), batch_cutoff=None))
    try:
        yield runtime
    finally:
        runtime.db.dispose()
        if request.param == "postgres":
            drop_pg_database(url)


def handle(rt: Runtime, service: str, fields: dict[str, Any]) -> dict[str, Any]:
    svc = BY_NAME[service]
    body = sealed_request(fields, interface_version=svc.family.latest_interface_version)
    return pipeline.handle(rt, svc, OPERATIONS[service], body).message


def due_orders(rt: Runtime, count: int) -> list[str]:
    refs = []
    for i in range(count):
        ref = reference("B")
        answer = handle(rt, "cardOrder", card_order_fields(
            transactionReference=ref, amount=str(100 * (i + 1)), captureDay="0"))
        assert answer["responseCode"] == "00"
        refs.append(ref)
    return refs


def state(rt: Runtime, ref: str) -> dict[str, Any]:
    return handle(rt, "getTransactionData", {"transactionReference": ref})


class Crash(Exception):
    pass


def test_a_crashed_run_is_taken_over_and_captures_nothing_twice(rt: Runtime) -> None:
    refs = due_orders(rt, 5)
    today = business_date(rt.clock.now())

    def crash_after_two(phase: str, done: int, total: int) -> None:
        if phase == "capture" and done == 2:
            raise Crash

    with pytest.raises(Crash):
        batch.run(rt.db, today, rt.clock, node="dead-node", progress=crash_after_two)
    assert [state(rt, r)["transactionStatus"] for r in refs].count("CAPTURED") == 2
    # Its heartbeat is fresh: another node leaves it alone.
    assert batch.run(rt.db, today, rt.clock, node="other").outcome == "RUNNING_ELSEWHERE"
    # Once stale, it is taken over; only what was not captured is captured.
    result = batch.run(rt.db, today, rt.clock, node="other", stale_after=timedelta(0))
    assert result.outcome == "RAN"
    for ref in refs:
        after = state(rt, ref)
        assert after["transactionStatus"] == "CAPTURED"
        assert [op["operationType"] for op in after["operationList"]] == [
            "AUTHORISATION", "CAPTURE"]
    with rt.db.read() as conn:
        [remittance] = repo.remittances_of_day(conn, None, today.isoformat())
        run_row = repo.get_batch_run(conn, today.isoformat())
    assert (remittance.count, remittance.total) == (5, 1500)
    assert run_row.status == "DONE" and run_row.node == "other"
    # The dead node comes back: its run was taken over, it changes nothing.
    assert batch.run(rt.db, today, rt.clock, node="dead-node").outcome == "ALREADY_DONE"


def test_expiry_and_credits(rt: Runtime) -> None:
    validation = reference("V")
    assert handle(rt, "cardOrder", card_order_fields(
        transactionReference=validation, captureMode="VALIDATION",
        captureDay="0"))["responseCode"] == "00"
    refunded = reference("R")
    handle(rt, "cardOrder", card_order_fields(transactionReference=refunded,
                                              captureMode="IMMEDIATE", amount="900"))
    for amount in ("300", "200"):
        assert handle(rt, "refund", {"transactionReference": refunded, "operationAmount": amount,
                                     "currencyCode": "978"})["responseCode"] == "00"
    today = business_date(rt.clock.now())
    result = batch.run(rt.db, today, rt.clock)
    assert result.counts["expired"] >= 1 and result.counts["credited"] >= 2
    assert state(rt, validation)["transactionStatus"] == "EXPIRED"
    credits = [op for op in state(rt, refunded)["operationList"]
               if op["operationType"] == "REFUND"]
    assert [op["operationStatus"] for op in credits] == ["CREDITED", "CREDITED"]
    with rt.db.read() as conn:
        kinds = {r.kind: (r.count, r.total)
                 for r in repo.remittances_of_day(conn, None, today.isoformat())}
    assert kinds["CREDIT"] == (2, 500)


def test_scheduled_run_inside_the_server(rt: Runtime) -> None:
    [ref] = due_orders(rt, 1)
    assert asyncio.run(batch.scheduler(rt)) is None  # no cut-off: no scheduled run
    scheduled = dataclasses.replace(rt, settings=dataclasses.replace(rt.settings,
                                                                     batch_cutoff="00:00"))
    today = business_date(rt.clock.now()).isoformat()

    async def until_done() -> None:
        task = asyncio.create_task(batch.scheduler(scheduled, interval=0.05))
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                with rt.db.read() as conn:
                    row = repo.get_batch_run(conn, today)
                if row is not None and row.status == "DONE":
                    return
                await asyncio.sleep(0.05)
            raise AssertionError("the scheduled batch did not run")
        finally:
            task.cancel()

    asyncio.run(until_done())
    assert state(rt, ref)["transactionStatus"] == "CAPTURED"


def test_batch_run_command(rt: Runtime) -> None:
    [ref] = due_orders(rt, 1)
    runner = CliRunner()
    url = rt.settings.database_url
    first = runner.invoke(app, ["batch", "run", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "1 captured" in first.output
    assert state(rt, ref)["transactionStatus"] == "CAPTURED"
    second = runner.invoke(app, ["batch", "run", "--database-url", url])
    assert second.exit_code == 0 and "already done" in second.output
    bad = runner.invoke(app, ["batch", "run", "--database-url", url, "--date", "29/11"])
    assert bad.exit_code != 0
