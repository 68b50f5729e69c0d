"""The ASGI application: HTTP concerns only (content type, size, routing, encoding)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sogenactif.protocol import catalogue, openapi
from sogenactif.server import batch, inline, sandbox
from sogenactif.server.operations import pipeline
from sogenactif.server.operations.registry import OPERATIONS
from sogenactif.server.pages import acs, provider
from sogenactif.server.runtime import Runtime, Settings, build_runtime

log = logging.getLogger("sogenactif.app")

UNSUPPORTED_MEDIA_TYPE = """<html>
<head>
<title>415 Unsupported Media Type</title>
</head>
<body>
<h1>Unsupported Media Type</h1>
<p>The supplied request data is not in a format
acceptable for processing by this resource.</p>
</body>
</html>
"""


#: Services run on the event loop (server.inline) rather than in a worker thread: their only
#: waits are the key read and Database.submit's durable commit, which both know how to
#: suspend. Any other service may block (Database.write() and its lock), so it gets a thread.
#: SOGENACTIF_INLINE=0 puts every service on worker threads.
INLINE_SERVICES = frozenset({"cardOrder"})


class BodyTooLarge(Exception):
    pass


def _json(message: dict[str, Any], status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(message), status_code=status, headers=headers,
                    media_type="application/json")


def _bad_body() -> Response:
    return _json({"responseCode": "30", "errorFieldName": "body"}, status=400)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _decode(request: Request, limit: int) -> dict[str, Any] | Response:
    """The request's JSON object, or the HTTP answer that refuses it (415, 413, 400)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return HTMLResponse(UNSUPPORTED_MEDIA_TYPE, status_code=415)
    try:
        body = await _read_body(request, limit)
    except BodyTooLarge:
        return _json({"responseCode": "30", "errorFieldName": "body"}, status=413)
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _bad_body()
    if not isinstance(message, dict):
        return _bad_body()
    return message


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """The Office Server; builds its runtime (migrations, seed) unless one is given."""
    rt = runtime or build_runtime(settings or Settings())
    inline_ok = os.environ.get("SOGENACTIF_INLINE", "1") == "1"

    async def office(request: Request) -> Response:
        svc = catalogue.BY_KEY.get(
            f"{request.path_params['family']}/{request.path_params['service']}")
        if svc is None:
            return HTMLResponse("<h1>404 Not Found</h1>", status_code=404)
        message = await _decode(request, rt.settings.max_body_bytes)
        if isinstance(message, Response):
            return message
        if inline_ok and svc.name in INLINE_SERVICES:
            answer = await inline.run_inline(
                pipeline.handle, rt, svc, OPERATIONS.get(svc.name), message)
        else:
            answer = await run_in_threadpool(
                pipeline.handle, rt, svc, OPERATIONS.get(svc.name), message)
        return _json(answer.message, headers=answer.headers)

    async def bench_ceiling(request: Request) -> Response:
        """`sogenactif bench`'s baseline: the office route's HTTP work and the seal, no
        database and no thread hop (pipeline.ceiling)."""
        message = await _decode(request, rt.settings.max_body_bytes)
        if isinstance(message, Response):
            return message
        answer = pipeline.ceiling(rt, message)
        return _json(answer.message, headers=answer.headers)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi.document(str(request.base_url).rstrip("/")))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "mode": rt.settings.mode.value})

    async def index(request: Request) -> Response:
        rows = "".join(
            f"<tr><td>{s.family.value}</td><td><code>{s.path}</code></td><td>{s.summary}</td>"
            f"<td>{'yes' if s.name in OPERATIONS else 'not yet'}</td></tr>"
            for s in catalogue.SERVICES)
        return HTMLResponse(
            "<!doctype html><title>sogenactif Office Server</title>"
            "<h1>sogenactif Office Server</h1>"
            f"<p>Mode: {rt.settings.mode.value}. "
            "Machine-readable catalogue: <a href='/openapi.json'>/openapi.json</a></p>"
            "<table border=1 cellpadding=4><tr><th>family</th><th>path</th><th>service</th>"
            f"<th>served</th></tr>{rows}</table>")

    routes = [
        Route("/rs-services/v2/{family}/{service}", office, methods=["POST"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/", index, methods=["GET"]),
        *acs.routes(rt), *provider.routes(rt),
        *sandbox.routes(rt),
    ]
    if rt.settings.bench_ceiling:
        routes.append(Route("/bench/ceiling", bench_ceiling, methods=["POST"]))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # The daily batch at the cut-off; batch_runs keeps it single across processes.
        scheduled = asyncio.create_task(batch.scheduler(rt))
        try:
            yield
        finally:
            scheduled.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduled
            await rt.db.close_inline()
            rt.db.dispose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = rt
    return app


def create_app_from_environment() -> Starlette:
    """Factory for uvicorn workers: settings come from SOGENACTIF_* variables."""
    app = create_app(Settings.from_environment())
    # What start-up built (modules, catalogue, engines) lives as long as the process: keep it
    # out of the garbage collector's full passes, which otherwise walk all of it every few
    # thousand requests and stall every request in flight for tens of milliseconds.
    gc.collect()
    gc.freeze()
    return app
