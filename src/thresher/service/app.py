"""The FastAPI app: decide, policy info and hot reload, health, readiness, metrics.

``create_app(policy_path, audit_url)`` builds it; ``thresher serve`` runs it under uvicorn.
Every error is JSON: ``{"detail": [{"loc", "path", "msg", "type"}]}`` for a bad body (422, the
field path in ``path``) and ``{"detail": "..."}`` otherwise (401, 403, 409, 413, 503).
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import logging
import os
import time
from contextlib import asynccontextmanager

import numba
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from thresher.errors import PolicyError
from thresher.service.active import ActivePolicy
from thresher.service.audit.store import AuditError, open_store, redact
from thresher.service.audit.writer import AuditWriter
from thresher.service.cases import RequestError
from thresher.service.decide import policy_entry, warm_up
from thresher.service.metrics import Metrics
from thresher.service.openapi import DECIDE_BODY, DECIDE_RESPONSES, POLICY_BODY

log = logging.getLogger("thresher.service")
BYTES_PER_CASE = 2048  # body limit per case of --max-batch: generous for ids and segment values
ADMIN_TOKEN_ENV = "THRESHER_ADMIN_TOKEN"
UNEXPECTED = "Internal error ({name}); the decision was not returned. The server log has the traceback."


def _json(document, status: int = 200, headers=None) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, detail, headers=None) -> Response:
    return _json({"detail": detail}, status, headers)


def _too_big(limit: int) -> RequestError:
    return RequestError(413, f"The request body is over {limit:,} bytes ({BYTES_PER_CASE:,} per case of "
                             "--max-batch); send fewer cases per request.")


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_big(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_big(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class ClientGone(Exception):
    """The client disconnected before its request body arrived: nothing to answer."""


async def _receive_body(scope, receive, limit: int) -> bytes:
    """The request body straight from the ASGI messages (what ``_read_body`` does through a Request)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise _too_big(limit)
            break
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_big(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send_json(send, status: int, payload: bytes, extra: tuple = ()) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json"),
                            *extra]})
    await send({"type": "http.response.body", "body": payload})


class _ASGIEndpoint:
    """An ASGI callable that Starlette routes as it is (a function would get a Request wrapper)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    async def __call__(self, scope, receive, send) -> None:
        await self.endpoint(scope, receive, send)


class DecisionApp(FastAPI):
    """FastAPI, except that ``POST /v1/decide`` goes straight to its endpoint, ahead of the middleware
    stack (server-error, telemetry, body-limit, exception and exit-stack layers: a tenth of a single
    decision's time, and the endpoint answers every error itself). Added middleware, or a root path,
    turns the shortcut off: then the request takes the ordinary route to the same endpoint."""

    decide_endpoint = None  # set by create_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/decide" and scope["method"] == "POST" \
                and self.decide_endpoint and not self.user_middleware and not self.root_path:
            try:
                await self.decide_endpoint(scope, receive, send)
            except Exception as exc:  # pragma: no cover - a bug, not bad input: as the exception handler does
                log.exception("unexpected error on POST /v1/decide")
                await _send_json(send, 500, orjson.dumps({"detail": UNEXPECTED.format(name=type(exc).__name__)}))
            return
        await super().__call__(scope, receive, send)


def create_app(policy_path, audit_url: str = "sqlite:///thresher-audit.db", *, max_batch: int = 10_000,
               admin_token: str | None = None, reload_interval: float = 1.0, audit_timeout: float = 30.0) -> FastAPI:
    """The decision service for one policy file and one audit log.

    ``admin_token`` enables ``PUT /v1/policy`` (``None``: read from ``$THRESHER_ADMIN_TOKEN``; empty:
    disabled). ``reload_interval`` seconds between checks of the policy file (0: never).
    """
    if admin_token is None:
        admin_token = os.environ.get(ADMIN_TOKEN_ENV, "")
    metrics = Metrics()
    active = ActivePolicy(policy_path, max_batch=max_batch, metrics=metrics)
    body_limit = 4096 + max_batch * BYTES_PER_CASE
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = await asyncio.to_thread(open_store, audit_url)
        writer = AuditWriter(store, metrics=metrics)
        state["writer"] = writer
        d = active.current
        entry = policy_entry(d)
        await writer.call(lambda s: s.register_policy(entry))
        # a batch is at most --max-batch rows, far below the kernels' parallel chunk (65,536 rows): waking
        # numba's thread pool per request costs more than it saves, and requests already run side by side
        numba.set_num_threads(1)
        warm_up(d)
        # what start-up loaded (FastAPI, pydantic, numpy, pyarrow, the policy) lives as long as the process:
        # out of the collector's sight, the full collections that large batches set off stay short
        gc.collect()
        gc.freeze()
        poller = asyncio.create_task(_poll()) if reload_interval > 0 else None
        log.info("serving policy %s v%s, audit log %s", d.name, d.version, redact(audit_url))
        try:
            yield
        finally:
            if poller:
                poller.cancel()
            await asyncio.to_thread(writer.close)

    async def _poll():
        while True:
            await asyncio.sleep(reload_interval)
            await active.check_file(state["writer"])

    app = DecisionApp(title="thresher decision service", version="1", lifespan=lifespan,
                  description="Decisions from a thresher policy; every decision is in the audit log before "
                              "the response is sent.")

    async def decide(scope, receive, send) -> None:
        """POST /v1/decide as a plain ASGI endpoint: no Request or Response objects on the hot path."""
        start = time.perf_counter()
        decider = active.current  # one snapshot per request: never two versions in one answer
        try:
            outcome = decider.decide(await _receive_body(scope, receive, body_limit))
            await state["writer"].write(outcome.audit, audit_timeout)
        except RequestError as exc:
            metrics.request("decide", exc.status)
            return await _send_json(send, exc.status, orjson.dumps({"detail": exc.detail}))
        except AuditError as exc:
            metrics.request("decide", 503)
            detail = (f"The decision could not be recorded in the audit log, so it is not returned: {exc} "
                      "Retry the request.")
            return await _send_json(send, 503, orjson.dumps({"detail": detail}))
        except ClientGone:
            return
        metrics.decided(outcome.counts, outcome.kind, time.perf_counter() - start)
        metrics.request("decide", 200)
        await _send_json(send, 200, outcome.body, ((b"x-request-id", outcome.audit.request_id.encode()),))

    @app.post("/v1/decide", openapi_extra=DECIDE_BODY, responses=DECIDE_RESPONSES, response_class=Response,
              summary="Decide one case or a batch")
    async def decide_described():  # pragma: no cover - never routed: the OpenAPI description only
        raise NotImplementedError

    # A plain Starlette route placed first answers POST /v1/decide (no dependency solving, no query
    # parsing); the FastAPI route above stays for the OpenAPI description.
    app.router.routes.insert(0, Route("/v1/decide", _ASGIEndpoint(decide), methods=["POST"]))
    app.decide_endpoint = decide

    @app.get("/v1/policy", summary="The policy being served")
    async def get_policy():
        return _json({**active.current.describe, "file": str(active.path),
                      "reload_interval_s": reload_interval, "last_reload_error": active.last_reload_error})

    @app.put("/v1/policy", openapi_extra=POLICY_BODY, summary="Replace the policy (bearer token)",
             responses={401: {"description": "no bearer token"}, 403: {"description": "wrong token, or disabled"},
                        409: {"description": "the version is taken by other rules"},
                        422: {"description": "invalid policy; the old one keeps serving"}})
    async def put_policy(request: Request):
        if not admin_token:
            metrics.request("policy", 403)
            return _error(403, f"Policy updates over HTTP are disabled: start the server with {ADMIN_TOKEN_ENV} "
                               "set to a secret token, or edit the policy file (it is reloaded when it changes).")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            metrics.request("policy", 401)
            return _error(401, "Missing bearer token: send 'Authorization: Bearer <token>' with the admin token.",
                          {"www-authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), admin_token.encode()):
            metrics.request("policy", 403)
            return _error(403, "The bearer token is not the admin token; the policy was not changed.")
        current = active.current
        try:
            result = await active.put(await _read_body(request, 16 << 20), request.headers.get("content-type", ""),
                                      state["writer"])
        except RequestError as exc:
            return _error(exc.status, exc.detail)
        except PolicyError as exc:
            active.rejected("PUT /v1/policy", exc)
            status = 409 if "already in the audit log" in str(exc) else 422
            metrics.request("policy", status)
            return _json({"detail": str(exc), "active": {"name": current.name, "version": current.version}}, status)
        except AuditError as exc:
            metrics.request("policy", 503)
            return _error(503, f"The policy was not activated: {exc}")
        except OSError as exc:
            metrics.request("policy", 500)
            return _error(500, f"The policy is valid but could not be written to {active.path} ({exc}); it was not "
                               "activated. Check the file's permissions.")
        metrics.request("policy", 200)
        return _json(result)

    @app.get("/healthz", summary="Liveness: the process answers")
    async def healthz():
        return _json({"status": "ok"})

    @app.get("/readyz", summary="Readiness: a policy is loaded and the audit log answers")
    async def readyz():
        writer = state.get("writer")
        if writer is None:
            return _error(503, "Starting: the audit log is not open yet.")
        if not writer.alive:
            return _error(503, "The audit writer has stopped; restart the server.")
        try:
            await asyncio.wait_for(writer.call(lambda s: s.ping()), 5.0)
        except (AuditError, asyncio.TimeoutError) as exc:
            return _error(503, f"The audit log is not writable: {exc or 'no answer within 5s'}")
        d = active.current
        return _json({"status": "ready", "policy": d.name, "policy_version": d.version,
                      "audit_backlog": writer.backlog_rows, "last_audit_error": writer.last_error})

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus():
        writer = state.get("writer")
        d = active.current
        text = metrics.render(backlog=writer.backlog_rows if writer else 0, policy_name=d.name,
                              policy_version=d.version)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # pragma: no cover - a bug, not bad input
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, UNEXPECTED.format(name=type(exc).__name__))

    app.state.active = active
    app.state.metrics = metrics
    return app


def app_from_env() -> FastAPI:
    """The factory ``thresher serve`` hands uvicorn (each worker process calls it): the settings
    travel in ``$THRESHER_SERVE_CONFIG`` as JSON."""
    config = json.loads(os.environ["THRESHER_SERVE_CONFIG"])
    return create_app(config["policy"], config["audit"], max_batch=config["max_batch"],
                      reload_interval=config["reload_interval"], audit_timeout=config["audit_timeout"],
                      admin_token=os.environ.get(config.get("admin_token_env", ADMIN_TOKEN_ENV), ""))
