"""The HTTP API (FastAPI): jobs, progress, artifacts, server-sent events, health.

Every error is a JSON problem document (RFC 9457, ``application/problem+json``) with a
stable ``code``, a ``detail`` for people, ``retryable``, and for specs the ``problems``
with their spec paths; a stack trace never leaves the server. ``create_app`` needs the
``service`` extra (FastAPI, uvicorn, httpx): importing this module without it raises
:class:`~aebridge.errors.MissingExtraError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import (
    AebridgeError,
    InitError,
    MissingExtraError,
    OptionError,
    OutputError,
    SpecError,
)
from .initspec import REQUEST_SCHEMA as INIT_REQUEST_SCHEMA
from .initspec import RESULT_SCHEMA as INIT_RESULT_SCHEMA
from .jobs import MalformedBodyError
from .runtime import Service
from .security import token_matches
from .store import (
    EVENTS,
    IdempotencyConflictError,
    Job,
    JobConflictError,
    JobNotFoundError,
    JobStatus,
)

try:
    import uvicorn
    from fastapi import Depends, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import (
        FileResponse,
        JSONResponse,
        Response,
        StreamingResponse,
    )
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
except ImportError as _exc:  # the service extra is optional
    raise MissingExtraError("service", _exc.name or "fastapi") from _exc

__all__ = [
    "BodyTooLargeError",
    "ServerThread",
    "UnauthorizedError",
    "artifacts",
    "create_app",
    "openapi_document",
]

_log = logging.getLogger("aebridge.service.http")

#: Seconds between looks at a job while streaming its events.
SSE_INTERVAL = 0.2
#: Seconds between keep-alive comments on a quiet event stream.
SSE_KEEPALIVE = 15.0


class BodyTooLargeError(AebridgeError):
    """The request body is larger than the service accepts."""

    code = "body_too_large"


class UnauthorizedError(AebridgeError):
    """The request has no valid bearer token."""

    code = "unauthorized"


_STATUS: tuple[tuple[type[AebridgeError], int], ...] = (
    (JobNotFoundError, 404),
    (IdempotencyConflictError, 409),
    (JobConflictError, 409),
    (BodyTooLargeError, 413),
    (UnauthorizedError, 401),
    (MalformedBodyError, 400),
    (SpecError, 422),
    (OptionError, 422),
    (InitError, 422),
)

_DESCRIPTION = (
    "Submit a comp spec (aebridge.comp/1) as a job; follow its status, progress and "
    "events; download its After Effects script, build.json and preview; write a comp "
    "spec from a folder of generator downloads (POST /v1/specs/init). Errors are "
    "RFC 9457 problem documents with a stable code. Webhooks are signed as Standard "
    "Webhooks do. See docs/service.md."
)

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "retryable"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "retryable": {"type": "boolean"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "message": {"type": "string"},
                    "severity": {"type": "string", "enum": ["error", "warning"]},
                },
            },
        },
    },
}

_NULLABLE_TEXT: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

_JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "progress", "created_at"],
    "properties": {
        "id": {"type": "string", "examples": ["job_0f3c..."]},
        "status": {"type": "string", "enum": [s.value for s in JobStatus]},
        "stage": _NULLABLE_TEXT,
        "layer": _NULLABLE_TEXT,
        "progress": {
            "type": "object",
            "properties": {
                "frames_done": {"type": "integer"},
                "frames_total": {"type": "integer"},
            },
        },
        "failure": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "retryable": {"type": "boolean"},
                    },
                },
                {"type": "null"},
            ]
        },
        "result": {
            "description": "comp_dir, script, build_json, preview, layers, warnings; "
            "paths relative to the job's output folder",
            "anyOf": [{"type": "object"}, {"type": "null"}],
        },
        "cancel_requested": {"type": "boolean"},
        "attempts": {"type": "integer"},
        "webhook": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "started_at": _NULLABLE_TEXT,
        "finished_at": _NULLABLE_TEXT,
        "warnings": {
            "description": "only in the answer to POST /v1/jobs",
            "type": "array",
            "items": {"type": "object"},
        },
        "webhook_secret": {
            "description": "only in the answer that created the job, when the "
            "secret was generated",
            "type": "string",
        },
    },
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": ref}}}}


_JOB = "#/components/schemas/Job"

_JOB_REQUEST_SCHEMA: dict[str, Any] = {
    "description": (
        "A comp spec (aebridge.comp/1) as the whole body, or an envelope with the spec "
        "and job options."
    ),
    "oneOf": [
        {"type": "object", "description": "a comp spec, schema aebridge.comp/1"},
        {
            "type": "object",
            "required": ["spec"],
            "additionalProperties": False,
            "properties": {
                "spec": {"type": "object", "description": "the comp spec"},
                "base_dir": {
                    "type": "string",
                    "description": "folder the spec's relative paths start from, "
                    "inside an input root (default: the first input root)",
                },
                "options": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"preview": {"type": "boolean", "default": False}},
                },
                "webhook": {
                    "type": "object",
                    "required": ["url"],
                    "additionalProperties": False,
                    "properties": {
                        "url": {"type": "string", "format": "uri"},
                        "events": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(EVENTS)},
                        },
                        "secret": {
                            "type": "string",
                            "description": "whsec_<base64>; generated and returned "
                            "once when absent",
                        },
                    },
                },
            },
        },
    ],
}


def _problem_body(exc: AebridgeError, status: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:aebridge:problem:{exc.code}",
        "title": exc.code.replace("_", " "),
        "status": status,
        "detail": str(exc),
        "code": exc.code,
        "retryable": exc.retryable,
    }
    if isinstance(exc, SpecError):
        body["problems"] = [
            {"path": p.path, "message": p.message, "severity": p.severity}
            for p in exc.problems
        ]
    return body


def _status_of(exc: AebridgeError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def artifacts(job: Job) -> list[dict[str, Any]]:
    """The files a finished job offers for download: its script, build.json, preview.

    Args:
        job: a job; only a succeeded job has artifacts.

    Returns:
        ``[{"name", "kind", "size"}]`` with ``name`` relative to the job's folder.
    """
    if job.status is not JobStatus.SUCCEEDED or not job.result:
        return []
    out_dir = Path(job.out_dir)
    found: list[dict[str, Any]] = []
    for kind in ("script", "build_json", "preview"):
        value = job.result.get(kind)
        names = value if isinstance(value, list) else [value]
        for name in names:
            if not isinstance(name, str) or not name:
                continue
            path = out_dir / name
            files = (
                sorted(p for p in path.rglob("*") if p.is_file())
                if path.is_dir()
                else [path]
            )
            for file in files:
                # Only regular files inside the job's folder, whatever the result
                # says: a symlink or an absolute path never becomes a download.
                inside = file.resolve().is_relative_to(out_dir.resolve())
                if inside and file.is_file() and not file.is_symlink():
                    found.append(
                        {
                            "name": file.relative_to(out_dir).as_posix(),
                            "kind": kind,
                            "size": file.stat().st_size,
                        }
                    )
    return found


def create_app(service: Service, *, manage: bool = True) -> FastAPI:
    """The FastAPI application over a :class:`Service`.

    Args:
        service: the service whose jobs the API shows.
        manage: start the service with the app and stop it on shutdown.

    Returns:
        The app, ready for uvicorn.

    """
    config = service.config
    store = service.store

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage:
            service.start()
        try:
            yield
        finally:
            if manage:
                await run_in_threadpool(service.stop)

    def problem(status: int, body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(
            body, status_code=status, media_type="application/problem+json"
        )

    async def authorize(request: Request) -> None:
        if config.token and not token_matches(
            request.headers.get("authorization"), config.token
        ):
            raise UnauthorizedError(
                "this service needs 'Authorization: Bearer <token>' (the token given "
                "to aebridge serve with --token or AEBRIDGE_TOKEN)"
            )

    problem_ref = {"$ref": "#/components/schemas/Problem"}
    responses: dict[int | str, dict[str, Any]] = {
        code: {"content": {"application/problem+json": {"schema": problem_ref}}}
        for code in (400, 401, 404, 409, 413, 422)
    }
    app = FastAPI(
        title="aebridge",
        version=__version__,
        summary="Build After Effects comps from generated layers, as jobs.",
        lifespan=lifespan,
        responses=responses,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=_DESCRIPTION,
                routes=app.routes,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = _PROBLEM_SCHEMA
            schemas["Job"] = _JOB_SCHEMA
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(AebridgeError)
    async def _aebridge_error(_request: Request, exc: AebridgeError) -> Response:
        status = _status_of(exc)
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        response = problem(status, _problem_body(exc, status))
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "path": ".".join(str(p) for p in err.get("loc", ()) if p != "query"),
                "message": str(err.get("msg", "invalid")),
                "severity": "error",
            }
            for err in exc.errors()
        ]
        return problem(
            422,
            {
                "type": "urn:aebridge:problem:invalid_request",
                "title": "invalid request",
                "status": 422,
                "detail": "; ".join(f"{p['path']}: {p['message']}" for p in problems),
                "code": "invalid_request",
                "retryable": False,
                "problems": problems,
            },
        )

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem(
            exc.status_code,
            {
                "type": f"urn:aebridge:problem:{code}",
                "title": code.replace("_", " "),
                "status": exc.status_code,
                "detail": str(exc.detail),
                "code": code,
                "retryable": False,
            },
        )

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        _log.error("internal error (reference %s)", reference, exc_info=exc)
        return problem(
            500,
            {
                "type": "urn:aebridge:problem:internal_error",
                "title": "internal error",
                "status": 500,
                "detail": "an internal error occurred; the server log has the details "
                f"under reference {reference}",
                "code": "internal_error",
                "retryable": True,
            },
        )

    auth = [Depends(authorize)]

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Whether the service is up (needs no token)."""
        store.counts()  # proves the database answers
        return {"status": "ok", "version": __version__}

    async def read_body(request: Request) -> bytes:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLargeError(
                f"the request body has {declared} bytes; at most {limit} are accepted"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(
                    f"the request body is over {limit} bytes; at most {limit} are "
                    "accepted"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @app.post(
        "/v1/jobs",
        status_code=202,
        dependencies=auth,
        tags=["jobs"],
        response_model=None,
        responses={
            202: {"description": "the job was queued", **_json(_JOB)},
            200: {"description": "an identical earlier request made it", **_json(_JOB)},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _JOB_REQUEST_SCHEMA}},
            },
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "same key and body: the same job; same key, "
                    "another body: 409",
                }
            ],
        },
    )
    async def submit(request: Request) -> Response:
        """Validate a comp spec and queue a job to build it (202 with the job).

        Repeating a request with the same Idempotency-Key and body answers 200 with the
        job the first request made.
        """
        from .jobs import parse_body

        raw = await read_body(request)
        body = parse_body(raw)
        submission = await run_in_threadpool(
            service.submitter.submit,
            body,
            idempotency_key=request.headers.get("idempotency-key"),
        )
        payload = submission.job.public()
        payload["warnings"] = [
            {"path": w.path, "message": w.message, "severity": w.severity}
            for w in submission.warnings
        ]
        if submission.secret is not None:
            payload["webhook_secret"] = submission.secret
        return JSONResponse(
            payload,
            status_code=202 if submission.created else 200,
            headers={
                "location": f"/v1/jobs/{submission.job.id}",
                "idempotent-replayed": "false" if submission.created else "true",
            },
        )

    @app.post(
        "/v1/specs/init",
        dependencies=auth,
        tags=["specs"],
        response_model=None,
        responses={
            200: {
                "description": "the spec and every decision",
                "content": {"application/json": {"schema": INIT_RESULT_SCHEMA}},
            }
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": INIT_REQUEST_SCHEMA}},
            }
        },
    )
    async def init_spec(request: Request) -> dict[str, Any]:
        """Write a comp spec from a folder of generator downloads in an input root.

        As ``aebridge init``: the answer holds the spec (paths relative to
        ``base_dir``), the layer table, every guess with its override, warnings and
        the files left out. Nothing is written on the server. Two candidate plates or
        a matte without a partner answer 422 ``init_refused``.
        """
        from .initspec import run_init
        from .jobs import parse_body

        body = parse_body(await read_body(request))
        return await run_in_threadpool(run_init, body, config)

    @app.get(
        "/v1/jobs",
        dependencies=auth,
        tags=["jobs"],
        response_model=None,
        responses={
            200: {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "jobs": {"type": "array", "items": {"$ref": _JOB}},
                                "next_cursor": _NULLABLE_TEXT,
                            },
                        }
                    }
                }
            }
        },
    )
    def list_jobs(
        status: Sequence[str] = Query(
            default=(), description="keep jobs in these states"
        ),
        limit: int = Query(default=50, ge=1, le=500),
        cursor: str | None = Query(
            default=None, description="next_cursor of the last page"
        ),
    ) -> dict[str, Any]:
        """Jobs, newest first, one page at a time."""
        try:
            wanted = [JobStatus(s) for s in status]
        except ValueError as exc:
            raise OptionError(
                "status", list(status), [s.value for s in JobStatus]
            ) from exc
        jobs, next_cursor = store.list_jobs(statuses=wanted, limit=limit, cursor=cursor)
        return {"jobs": [j.public() for j in jobs], "next_cursor": next_cursor}

    @app.get(
        "/v1/jobs/{job_id}",
        dependencies=auth,
        tags=["jobs"],
        response_model=None,
        responses={200: _json(_JOB)},
    )
    def get_job(job_id: str) -> dict[str, Any]:
        """One job: status, stage, progress, failure, result."""
        return store.get(job_id).public()

    @app.post(
        "/v1/jobs/{job_id}/cancel",
        status_code=202,
        dependencies=auth,
        tags=["jobs"],
        response_model=None,
        responses={202: _json(_JOB)},
    )
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a job; a running job stops between frames (no partial frame)."""
        return store.cancel(job_id).public()

    @app.get("/v1/jobs/{job_id}/artifacts", dependencies=auth, tags=["artifacts"])
    def list_artifacts(job_id: str) -> dict[str, Any]:
        """The script, build.json and preview of a succeeded job."""
        job = store.get(job_id)
        items = artifacts(job)
        for item in items:
            item["url"] = f"/v1/jobs/{job_id}/artifacts/{item['name']}"
        return {"job_id": job_id, "artifacts": items}

    @app.get(
        "/v1/jobs/{job_id}/artifacts/{name:path}",
        dependencies=auth,
        tags=["artifacts"],
        response_class=FileResponse,
    )
    def get_artifact(job_id: str, name: str) -> FileResponse:
        """Download one artifact by the name its listing gives."""
        job = store.get(job_id)
        # Only names from the listing are served: the request never builds a path.
        listed = {item["name"] for item in artifacts(job)}
        if name not in listed:
            raise JobNotFoundError(f"{job_id}/artifacts/{name}")
        return FileResponse(Path(job.out_dir) / name, filename=Path(name).name)

    @app.get("/v1/jobs/{job_id}/webhooks", dependencies=auth, tags=["jobs"])
    def job_webhooks(job_id: str) -> dict[str, Any]:
        """The job's webhook messages and their delivery state."""
        store.get(job_id)
        return {"job_id": job_id, "messages": store.messages(job_id)}

    @app.get(
        "/v1/jobs/{job_id}/events",
        dependencies=auth,
        tags=["jobs"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: the job each time it changes, until it ends.

        Event names: the status when it changed (``queued``, ``running``,
        ``succeeded``, ``failed``, ``canceled``), else ``progress``; ``id`` is the
        job's version, so a reconnect with ``Last-Event-ID`` skips what was seen.
        """
        first = await run_in_threadpool(store.get, job_id)
        last_id = request.headers.get("last-event-id", "")
        seen = int(last_id) if last_id.isdigit() else 0

        async def stream() -> AsyncIterator[str]:
            version = seen
            status: JobStatus | None = None
            quiet = 0.0
            job = first
            while True:
                if job.version != version:
                    name = "progress" if job.status is status else job.status.value
                    version, status, quiet = job.version, job.status, 0.0
                    data = json.dumps(job.public(), sort_keys=True)
                    yield f"id: {version}\nevent: {name}\ndata: {data}\n\n"
                elif quiet >= SSE_KEEPALIVE:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                if job.status.terminal or await request.is_disconnected():
                    return
                await asyncio.sleep(SSE_INTERVAL)
                quiet += SSE_INTERVAL
                job = await run_in_threadpool(store.get, job_id)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    return app


def openapi_document(service: Service) -> dict[str, Any]:
    """The OpenAPI document the service serves at ``/openapi.json``."""
    return create_app(service, manage=False).openapi()


class ServerThread:
    """Run uvicorn with the app in a thread (tests, benchmarks, embedding).

    Args:
        service: the service to serve.
        host: address to bind.
        port: port (``0`` picks a free one; read :attr:`url` after :meth:`start`).
    """

    def __init__(
        self, service: Service, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._host = host
        self.url = ""
        # uvicorn binds the port itself: with a socket handed in through
        # ``sockets=`` every answer took 44 ms here (a delayed-ACK stall), against
        # about 1 ms this way.
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(service),
                host=host,
                port=port,
                log_level="warning",
                lifespan="on",
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving; returns once the server accepts requests.

        Raises:
            OutputError: the server did not start (port taken, app failed to start).
        """
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise OutputError(
                    f"the aebridge server did not start on {self._host}", path=None
                )
            time.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.url = f"http://{self._host}:{sockets[0].getsockname()[1]}"
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving and stop the service (running jobs go back to the queue)."""
        self._server.should_exit = True
        self._thread.join(timeout)
