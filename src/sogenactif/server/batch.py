"""The daily batch: captures, expiries and credits, once per batch date across every node.

``run(db, day)``:

1. TO_CAPTURE transactions whose capture day has come (capture_limit_date <= day) become
   CAPTURED, each in the CAPTURE remittance of its merchant, day and currency;
2. TO_VALIDATE transactions whose last day to validate has passed (capture_limit_date <= day)
   become EXPIRED;
3. refund operations TO_CREDIT made on or before the day become CREDITED, in the CREDIT
   remittance of their merchant, day and currency.

Once per date: the ``batch_runs`` row of the date is the lock. The node that inserts it runs
the batch and refreshes its heartbeat as it goes; the others answer "running elsewhere" or
"already done". A run whose heartbeat is older than ``stale_after`` (a crashed node) may be
taken over by another. Each capture, expiry and credit is a conditional update in its own
database transaction (``... WHERE status = 'TO_CAPTURE'``), so a run taken over, or run
again, never captures anything twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sogenactif.server.domain import amounts as rules
from sogenactif.server.domain.amounts import OperationRefused
from sogenactif.server.domain.clock import Clock, aware, batch_due_date, parse_cutoff
from sogenactif.server.domain.lifecycle import Status
from sogenactif.server.operations.cash import amounts_of
from sogenactif.server.operations.redirections import abort_expired_redirections
from sogenactif.server.runtime import Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database

log = logging.getLogger("sogenactif.batch")

STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY = 20  # items between two heartbeats
ORIGIN = "BATCH"

#: progress(phase, done, total); phases: "capture", "expire", "credit".
Progress = Callable[[str, int, int], None]


@dataclass
class BatchResult:
    """What a call to :func:`run` did.

    ``outcome``: RAN (this call ran the batch), ALREADY_DONE, RUNNING_ELSEWHERE, or
    TAKEN_OVER (another node took the run over while this one was slow). ``counts`` are the
    date's totals, over every run of it (a crashed one taken over, ``again``).
    """

    batch_date: str
    outcome: str
    node: str
    counts: dict[str, int] = field(default_factory=lambda: {
        "captured": 0, "expired": 0, "credited": 0})

    def as_dict(self) -> dict[str, Any]:
        return {"batchDate": self.batch_date, "outcome": self.outcome, "node": self.node,
                **self.counts}


class _TakenOver(Exception):
    pass


def node_name() -> str:
    """This process, for the batch_runs row: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _real_now() -> datetime:
    # Heartbeats use the real time: the sandbox clock may jump while a batch runs.
    return datetime.now(UTC)


def _claim(db: Database, day: str, node: str, stale_after: timedelta,
           again: bool) -> tuple[str, dict[str, int]]:
    now = _real_now()
    zero = {"captured": 0, "expired": 0, "credited": 0}
    with db.write() as conn:
        if repo.insert_batch_run(conn, day, node, now):
            return "CLAIMED", zero
        row = repo.get_batch_run(conn, day, for_update=True)
        if row is None:  # deleted meanwhile: let the next call claim it
            return "RUNNING_ELSEWHERE", zero
        counts = {"captured": int(row.captured), "expired": int(row.expired),
                  "credited": int(row.credited)}
        if row.status == "DONE" and not again:
            return "ALREADY_DONE", counts
        if row.status == "RUNNING" and aware(row.heartbeat_at) > now - stale_after:
            return "RUNNING_ELSEWHERE", counts
        if repo.take_over_batch_run(conn, day, node, now, expected_node=row.node,
                                    expected_heartbeat=row.heartbeat_at):
            log.warning("batch %s taken over from %s (%s)", day, row.node, row.status)
            return "CLAIMED", counts  # the date's counts go on adding up
    return "RUNNING_ELSEWHERE", counts


def run(db: Database, day: date, clock: Clock, *, node: str | None = None,
        progress: Progress | None = None, stale_after: timedelta = STALE_AFTER,
        again: bool = False) -> BatchResult:
    """Run the batch of ``day`` unless it ran, or runs, elsewhere (see the module's doc).

    ``again`` runs a finished date once more (safe: only what is still due is done).
    """
    batch_date = day.isoformat()
    me = node or node_name()
    state, counts = _claim(db, batch_date, me, stale_after, again)
    if state != "CLAIMED":
        return BatchResult(batch_date, state, me, counts)
    result = BatchResult(batch_date, "RAN", me, counts)
    try:
        _phase(db, result, "capture", repo.due_capture_ids, _capture_one, clock, progress)
        _phase(db, result, "expire", repo.expirable_ids, _expire_one, clock, progress)
        _phase(db, result, "credit", repo.pending_credit_ids, _credit_one, clock, progress)
    except _TakenOver:
        result.outcome = "TAKEN_OVER"
        return result
    with db.write() as conn:
        if not repo.finish_batch_run(conn, batch_date, me, _real_now(), result.counts):
            result.outcome = "TAKEN_OVER"
    log.info("batch %s: %s", batch_date, result.counts)
    return result


Step = Callable[[Any, int, str, datetime], bool]
COUNTER = {"capture": "captured", "expire": "expired", "credit": "credited"}


def _phase(db: Database, result: BatchResult, phase: str,
           select_ids: Callable[[Any, str], list[int]], step: Step, clock: Clock,
           progress: Progress | None) -> None:
    with db.read() as conn:
        ids = select_ids(conn, result.batch_date)
    if progress:
        progress(phase, 0, len(ids))
    for done, item in enumerate(ids, start=1):
        now = clock.now()
        with db.write() as conn:
            if step(conn, item, result.batch_date, now):
                result.counts[COUNTER[phase]] += 1
        if done % HEARTBEAT_EVERY == 0:
            _beat(db, result)
        if progress:
            progress(phase, done, len(ids))
    _beat(db, result)


def _beat(db: Database, result: BatchResult) -> None:
    with db.write() as conn:
        if not repo.beat_batch_run(conn, result.batch_date, result.node, _real_now(),
                                   result.counts):
            raise _TakenOver


def _operation(row: Any, operation_type: str, amount: int, status: str, now: datetime,
               day: str, remittance_id: int | None = None) -> dict[str, Any]:
    return {
        "transaction_id": row.id, "merchant_id": row.merchant_id,
        "transaction_reference": row.transaction_reference, "operation_type": operation_type,
        "amount": amount, "currency_code": row.currency_code, "status": status,
        "response_code": "00", "origin": ORIGIN, "remittance_id": remittance_id,
        "created_at": now, "business_date": day,
    }


def _capture_one(conn: Any, transaction_id: int, day: str, now: datetime) -> bool:
    row = repo.get_transaction_by_id(conn, transaction_id, for_update=True)
    if row is None:
        return False
    try:
        outcome = rules.capture(Status(row.status), amounts_of(row))
    except OperationRefused:  # cancelled or captured since the selection
        return False
    if not repo.change_status_if(conn, transaction_id, Status.TO_CAPTURE.value, {
            "status": outcome.status.value, "captured_amount": outcome.amounts.captured,
            "updated_at": now}):
        return False
    remittance = repo.add_to_remittance(conn, row.merchant_id, day, "CAPTURE",
                                        row.currency_code, outcome.operation_amount, now)
    repo.insert_operation(conn, _operation(row, "CAPTURE", outcome.operation_amount,
                                           outcome.operation_status, now, day, remittance))
    return True


def _expire_one(conn: Any, transaction_id: int, day: str, now: datetime) -> bool:
    row = repo.get_transaction_by_id(conn, transaction_id, for_update=True)
    if row is None:
        return False
    try:
        outcome = rules.expire(Status(row.status), amounts_of(row))
    except OperationRefused:  # validated or cancelled since the selection
        return False
    if not repo.change_status_if(conn, transaction_id, Status.TO_VALIDATE.value, {
            "status": outcome.status.value, "updated_at": now}):
        return False
    repo.insert_operation(conn, _operation(row, "EXPIRE", outcome.operation_amount,
                                           outcome.operation_status, now, day))
    return True


def _credit_one(conn: Any, operation_id: int, day: str, now: datetime) -> bool:
    op = repo.get_operation(conn, operation_id)
    if op is None or op.status != rules.CREDIT_TO_DO:
        return False
    if not repo.credit_operation_if_pending(conn, operation_id):
        return False  # credited meanwhile
    remittance = repo.add_to_remittance(conn, op.merchant_id, day, "CREDIT", op.currency_code,
                                        int(op.amount), now)
    repo.set_operation_remittance(conn, operation_id, remittance)
    return True


def run_for(rt: Runtime, day: date | None = None, **kwargs: Any) -> BatchResult:
    """The batch of ``day`` (default: today's business date on the runtime's clock)."""
    from sogenactif.server.domain.clock import business_date

    abort_expired_redirections(rt)  # sessions past their deadline end ABORTED first
    return run(rt.db, day or business_date(rt.clock.now()), rt.clock, **kwargs)


def due_date(rt: Runtime) -> date | None:
    """The batch date whose cut-off has passed, or None when the scheduled run is off."""
    if rt.settings.batch_cutoff is None:
        return None
    return batch_due_date(rt.clock.now(), parse_cutoff(rt.settings.batch_cutoff))


def run_if_due(rt: Runtime) -> BatchResult | None:
    """Run the due batch unless it is done already (one cheap read when it is)."""
    day = due_date(rt)
    if day is None:
        return None
    with rt.db.read() as conn:
        row = repo.get_batch_run(conn, day.isoformat())
    if row is not None and row.status == "DONE":
        return None
    return run(rt.db, day, rt.clock)


async def scheduler(rt: Runtime, interval: float = 30.0) -> None:
    """The scheduled run inside the server: every ``interval`` seconds, run the batch whose
    cut-off (Settings.batch_cutoff, local Paris time) has passed, if no node ran it yet.

    Start it from the app's lifespan as a task and cancel it at shutdown; with several
    processes or hosts each may run it, the batch_runs row keeps the run single.
    """
    if rt.settings.batch_cutoff is None:
        return
    try:
        parse_cutoff(rt.settings.batch_cutoff)
    except ValueError:
        log.error("SOGENACTIF_BATCH_CUTOFF=%r is not HH:MM: no scheduled batch",
                  rt.settings.batch_cutoff)
        return
    while True:
        try:
            await asyncio.to_thread(abort_expired_redirections, rt)
            result = await asyncio.to_thread(run_if_due, rt)
            if result is not None and result.outcome == "RAN":
                log.warning("scheduled batch %s: %s", result.batch_date, result.counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next tick tries again
            log.exception("scheduled batch failed")
        await asyncio.sleep(interval)
