"""Two server processes on one database, simultaneous requests: the amounts stay exact,
a batch started on both at once captures each transaction once, the clock is shared.

PostgreSQL is what several processes or hosts share (the CI's requirement); SQLite runs the
same tests with its file lock.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sogenactif.server import reports
from sogenactif.server.store.db import Database
from tests.life_support import cash, data, order
from tests.support import GUIDE_SHOP, RunningServer, create_pg_database, drop_pg_database


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def pair(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, ...]]:
    """Two servers, one database, one master key (one work folder)."""
    backend = str(request.param)
    workdir = Path(tmp_path_factory.mktemp(f"pair-{backend}"))
    if backend == "postgres":
        request.getfixturevalue("postgres_url")  # skips or fails as the suite requires
        url = create_pg_database()
    else:
        url = f"sqlite:///{workdir / 'pair.db'}"
    # No scheduled batch: the test starts the batches itself.
    env = {"SOGENACTIF_BATCH_CUTOFF": "off"}
    first = RunningServer(backend, url, workdir, env=env).start()
    second = RunningServer(backend, url, workdir, env=env).start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
        if backend == "postgres":
            drop_pg_database(url)


def at_once(count: int, job: Callable[[int], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``job(i)`` for i < count, all released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> dict[str, Any]:
        barrier.wait()
        return job(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_simultaneous_refunds_of_ten_on_a_captured_hundred(
        pair: tuple[RunningServer, RunningServer]) -> None:
    ref = order(pair[0].url, amount=100, mode="IMMEDIATE")
    answers = at_once(50, lambda i: cash(pair[i % 2].url, "refund", ref, 10))
    codes = Counter(a["responseCode"] for a in answers)
    assert codes == {"00": 10, "24": 40}, codes
    assert sorted(int(a["newAmount"]) for a in answers if a["responseCode"] == "00") \
        == list(range(0, 100, 10))
    after = data(pair[1].url, ref)
    assert after["refundedAmount"] == "100" and after["remainingAmount"] == "0"
    ops = Counter((op["operationType"], op["operationStatus"])
                  for op in after["operationList"])
    assert ops == {("AUTHORISATION", "CAPTURED"): 1, ("REFUND", "TO_CREDIT"): 10,
                   ("REFUND", "REFUSED"): 40}
    assert sum(int(op["operationAmount"]) for op in after["operationList"]
               if op["operationStatus"] == "TO_CREDIT") == 100


def test_fifty_simultaneous_cancels_of_ten(pair: tuple[RunningServer, RunningServer]) -> None:
    ref = order(pair[0].url, amount=100, day=5)
    answers = at_once(50, lambda i: cash(pair[i % 2].url, "cancel", ref, 10))
    assert Counter(a["responseCode"] for a in answers) == {"00": 10, "24": 40}
    assert [a["newStatus"] for a in answers if a.get("newAmount") == "0"] == ["CANCELLED"]
    after = data(pair[0].url, ref)
    assert (after["transactionStatus"], after["cancelledAmount"]) == ("CANCELLED", "100")


def test_fifty_simultaneous_validations(pair: tuple[RunningServer, RunningServer]) -> None:
    ref = order(pair[0].url, amount=100, mode="VALIDATION", day=5)
    answers = at_once(50, lambda i: cash(pair[i % 2].url, "validate", ref, 10 + i))
    accepted = [a for a in answers if a["responseCode"] == "00"]
    assert len(accepted) == 1 and Counter(a["responseCode"] for a in answers)["24"] == 49
    after = data(pair[1].url, ref)
    assert after["transactionStatus"] == "TO_CAPTURE"
    assert after["remainingAmount"] == accepted[0]["newAmount"]
    assert int(after["remainingAmount"]) + int(after["cancelledAmount"]) == 100


def test_simultaneous_validations_and_cancels_keep_the_sum(
        pair: tuple[RunningServer, RunningServer]) -> None:
    ref = order(pair[0].url, amount=100, mode="VALIDATION", day=5)

    def job(i: int) -> dict[str, Any]:
        if i % 2:
            return cash(pair[i % 2].url, "cancel", ref, 10) | {"op": "cancel"}
        return cash(pair[i % 2].url, "validate", ref, 30) | {"op": "validate"}

    answers = at_once(50, job)
    validated = [a for a in answers if a["op"] == "validate" and a["responseCode"] == "00"]
    cancels = [a for a in answers if a["op"] == "cancel" and a["responseCode"] == "00"]
    assert len(validated) <= 1
    after = data(pair[0].url, ref)
    remaining = int(after["remainingAmount"])
    assert int(after["cancelledAmount"]) + remaining == 100
    if validated:
        # Cancels after the validation come out of the 30 validated.
        assert after["transactionStatus"] in ("TO_CAPTURE", "CANCELLED")
        assert remaining == 30 - 10 * sum(
            1 for a in cancels if int(a["newAmount"]) < 30)
    else:
        assert remaining == 100 - 10 * len(cancels)
    oks = [op for op in after["operationList"] if op["operationResponseCode"] == "00"]
    assert len(oks) == 1 + len(validated) + len(cancels)


def test_batch_started_on_both_processes_captures_each_once(
        pair: tuple[RunningServer, RunningServer]) -> None:
    refs = [order(pair[0].url, amount=100 + i, day=0, shop=GUIDE_SHOP) for i in range(30)]
    today = data_today(pair[0])
    results = at_once(2, lambda i: httpx.post(pair[i].url + "/sandbox/batch",
                                              json={"date": today}, timeout=120).json())
    outcomes = Counter(r["outcome"] for r in results)
    assert outcomes["RAN"] == 1, outcomes
    assert outcomes["ALREADY_DONE"] + outcomes["RUNNING_ELSEWHERE"] == 1, outcomes
    ran = next(r for r in results if r["outcome"] == "RAN")
    assert ran["captured"] >= 30
    # Started again on both, asked to run the finished date again: nothing twice.
    again = at_once(2, lambda i: httpx.post(pair[i].url + "/sandbox/batch",
                                            json={"date": today, "again": True},
                                            timeout=120).json())
    assert all(r["captured"] == ran["captured"] for r in again), again
    for ref in refs:
        after = guide_data(pair[1], ref)
        assert after["transactionStatus"] == "CAPTURED"
        captures = [op for op in after["operationList"] if op["operationType"] == "CAPTURE"]
        assert len(captures) == 1 and captures[0]["operationOrigin"] == "BATCH"
    db = Database(pair[0].database_url)
    try:
        rows = reports.operations(db, today, GUIDE_SHOP[0])
    finally:
        db.dispose()
    [remittance] = [r for r in rows if r["record"] == "REMITTANCE"]
    assert remittance["operationType"] == "CAPTURE"
    assert remittance["remittanceCount"] == 30
    assert remittance["amount"] == sum(100 + i for i in range(30))
    assert sum(1 for r in rows if r["operationType"] == "CAPTURE"
               and r["record"] == "OPERATION") == 30


def test_the_sandbox_clock_is_shared_by_both_processes(
        pair: tuple[RunningServer, RunningServer]) -> None:
    try:
        moved = httpx.post(pair[0].url + "/sandbox/clock", json={"advanceDays": 3}).json()
        seen = httpx.get(pair[1].url + "/sandbox/clock").json()
        assert seen["offsetSeconds"] == moved["offsetSeconds"] == 3 * 86400
        assert seen["businessDate"] == moved["businessDate"]
        ref = order(pair[1].url, amount=10)
        created = datetime.fromisoformat(data(pair[0].url, ref)["transactionDateTime"])
        assert created.date() == date.fromisoformat(seen["businessDate"])
    finally:
        httpx.post(pair[0].url + "/sandbox/clock", json={"reset": True})
    assert httpx.get(pair[1].url + "/sandbox/clock").json()["offsetSeconds"] == 0


def data_today(server: RunningServer) -> str:
    return str(httpx.get(server.url + "/sandbox/clock").json()["businessDate"])


def guide_data(server: RunningServer, ref: str) -> dict[str, Any]:
    from tests.life_support import call

    return call(server.url, "getTransactionData", {"transactionReference": ref}, GUIDE_SHOP)
