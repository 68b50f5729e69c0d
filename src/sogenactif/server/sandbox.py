"""The sandbox (test mode only): move the shared clock, run the batch now.

``GET  /sandbox/clock``  -> {"now", "businessDate", "offsetSeconds"}
``POST /sandbox/clock``  {"advanceDays": N} | {"advanceSeconds": S} | {"offsetSeconds": S}
                         | {"reset": true}  -> the same answer as GET
``POST /sandbox/batch``  {"date": "YYYY-MM-DD"} (default: today on the sandbox clock),
                         optional {"again": true} -> what the batch did

In production mode these routes do not exist (404). The offset lives in the settings table,
so every process and host on the database sees the same "now" at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sogenactif.server.domain.clock import business_date, iso
from sogenactif.server.runtime import SANDBOX_OFFSET, Runtime
from sogenactif.server.store import repositories as repo
from sogenactif.server.store.db import Database

DAY = 86_400


def read_offset(conn: Connection) -> float:
    return float(repo.get_setting(conn, SANDBOX_OFFSET) or 0)


def set_offset(db: Database, seconds: float) -> float:
    with db.write() as conn:
        repo.put_setting(conn, SANDBOX_OFFSET, _text(seconds))
    return seconds


def advance(db: Database, seconds: float) -> float:
    """Move the clock forward (or back, with a negative number); returns the new offset."""
    with db.write() as conn:
        offset = read_offset(conn) + seconds
        repo.put_setting(conn, SANDBOX_OFFSET, _text(offset))
    return offset


def get_offset(db: Database) -> float:
    with db.read() as conn:
        return read_offset(conn)


def _text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def describe(offset: float) -> dict[str, Any]:
    now = datetime.now(UTC) + timedelta(seconds=offset)
    return {"now": iso(now), "businessDate": business_date(now).isoformat(),
            "offsetSeconds": offset}


class BadRequest(Exception):
    pass


def _number(body: dict[str, Any], name: str) -> float:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(name)
    return float(value)


def change_clock(db: Database, body: Any) -> float:
    """Apply one clock request body; raises BadRequest naming the faulty field."""
    if not isinstance(body, dict):
        raise BadRequest("body")
    if body.get("reset") is True:
        return set_offset(db, 0)
    if "offsetSeconds" in body:
        return set_offset(db, _number(body, "offsetSeconds"))
    if "advanceDays" in body:
        return advance(db, _number(body, "advanceDays") * DAY)
    if "advanceSeconds" in body:
        return advance(db, _number(body, "advanceSeconds"))
    raise BadRequest("advanceDays")


def _json(message: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(message), status_code=status, media_type="application/json")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("body") from None


def routes(rt: Runtime) -> list[Route]:
    """The sandbox routes; none in production mode."""
    if not rt.test_mode:
        return []

    async def show_clock(_request: Request) -> Response:
        return _json(describe(await run_in_threadpool(get_offset, rt.db)))

    async def move_clock(request: Request) -> Response:
        try:
            body = await _body(request)
            offset = await run_in_threadpool(change_clock, rt.db, body)
        except BadRequest as error:
            return _json({"error": "bad request", "field": str(error)}, 400)
        return _json(describe(offset))

    async def run_batch(request: Request) -> Response:
        from sogenactif.server import batch

        try:
            body = await _body(request)
            if not isinstance(body, dict):
                raise BadRequest("body")
            day = date.fromisoformat(body["date"]) if body.get("date") else None
        except (BadRequest, ValueError, TypeError):
            return _json({"error": "bad request", "field": "date"}, 400)
        result = await run_in_threadpool(batch.run_for, rt, day,
                                         again=body.get("again") is True)
        return _json(result.as_dict())

    return [
        Route("/sandbox/clock", show_clock, methods=["GET"]),
        Route("/sandbox/clock", move_clock, methods=["POST"]),
        Route("/sandbox/batch", run_batch, methods=["POST"]),
    ]
