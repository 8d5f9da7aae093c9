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
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
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
from .job import (
    EVENTS,
    IdempotencyConflictError,
    Job,
    JobConflictError,
    JobNotFoundError,
    JobStatus,
)
from .runtime import Service
from .security import InputRoots, allowed_host_names, host_name, token_matches
from .submission import MalformedBodyError

try:
    import h11
    import uvicorn
    from fastapi import FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import (
        FileResponse,
        JSONResponse,
        Response,
        StreamingResponse,
    )
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import Headers
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ImportError as _exc:  # the service extra is optional
    raise MissingExtraError("service", _exc.name or "fastapi") from _exc

__all__ = [
    "ArtifactNotFoundError",
    "BodyTooLargeError",
    "ServerThread",
    "artifacts",
    "create_app",
    "openapi_document",
    "serve",
]

_log = logging.getLogger("aebridge.service.http")

#: Seconds between looks at a job while streaming its events.
SSE_INTERVAL = 0.2
#: Seconds between keep-alive comments on a quiet event stream.
SSE_KEEPALIVE = 15.0


class ArtifactNotFoundError(AebridgeError):
    """A job has no artifact of the name asked for."""

    code = "not_found"


class BodyTooLargeError(AebridgeError):
    """The request body is larger than the service accepts."""

    code = "body_too_large"


_STATUS: tuple[tuple[type[AebridgeError], int], ...] = (
    (JobNotFoundError, 404),
    (ArtifactNotFoundError, 404),
    (IdempotencyConflictError, 409),
    (JobConflictError, 409),
    (BodyTooLargeError, 413),
    (MalformedBodyError, 400),
    (SpecError, 422),
    (OptionError, 422),
    (InitError, 422),
)

#: Problems any route may answer with, and why.
_ERROR_RESPONSES: dict[int, str] = {
    400: "malformed_body: the body is not a JSON object this service can read",
    401: "unauthorized: the bearer token is missing or wrong",
    403: "origin_not_allowed: a web page from another origin",
    404: "job_not_found or not_found",
    409: "job_conflict or idempotency_key_reused",
    413: "body_too_large",
    415: "unsupported_media_type: bodies must be application/json",
    421: "host_not_allowed: the Host header names another server",
    422: "invalid_spec, invalid_request, path_not_allowed or invalid_option",
    500: "internal_error (the log has the details under the reference given)",
}

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


def _problem_body(
    exc: AebridgeError, status: int, show: Callable[[str], str]
) -> dict[str, Any]:
    """The problem document of an error, its paths shown by ``show`` (relative to
    the input roots: a client never sees the server's folders)."""
    body: dict[str, Any] = {
        "type": f"urn:aebridge:problem:{exc.code}",
        "title": exc.code.replace("_", " "),
        "status": status,
        "detail": show(str(exc)),
        "code": exc.code,
        "retryable": exc.retryable,
    }
    if isinstance(exc, SpecError):
        body["problems"] = [
            {"path": p.path, "message": show(p.message), "severity": p.severity}
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


# -- the request edge -----------------------------------------------------------------


class _ClientGone(Exception):
    """The client went away before its request body arrived: nothing to answer."""


def _problem_bytes(status: int, code: str, detail: str) -> bytes:
    return json.dumps(
        {
            "type": f"urn:aebridge:problem:{code}",
            "title": code.replace("_", " "),
            "status": status,
            "detail": detail,
            "code": code,
            "retryable": False,
        },
        sort_keys=True,
    ).encode()


#: Request headers a browser page on an allowed origin may send.
_CORS_HEADERS = "authorization, content-type, idempotency-key, last-event-id"
#: Response headers such a page may read.
_CORS_EXPOSE = "location, idempotent-replayed, www-authenticate"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Edge:
    """Who may talk to the service, checked before any route runs (pure ASGI).

    In order: the ``Host`` header must name this server (421 ``host_not_allowed``:
    a page whose name was rebound to this address sends its own name); an ``Origin``
    other than the service's own must be allowed with ``--cors-origin`` (403
    ``origin_not_allowed``; allowed ones get CORS answers, preflights included); the
    bearer token, when configured, on every path but ``/v1/health`` (401); a body
    must be ``application/json`` (415 ``unsupported_media_type``: a page can send
    ``text/plain`` or a form anywhere without asking). Anything a route raises that
    is not an :class:`AebridgeError` becomes one logged 500 problem here, and the
    connection stays usable.
    """

    def __init__(self, app: ASGIApp, *, config: Any) -> None:
        self.app = app
        self.token: str | None = config.token
        self.any_host = "*" in config.allowed_hosts
        self.hosts = allowed_host_names(config.host, config.allowed_hosts)
        self.origins = frozenset(o.rstrip("/") for o in config.cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method = scope["method"]
        host = headers.get("host")
        if host is not None and not self._host_allowed(host, scope):
            await self._refuse(
                send,
                421,
                "host_not_allowed",
                f"this server does not answer to the host {host!r}; it answers to "
                "its own address and the names given with --allowed-host",
            )
            return
        origin = headers.get("origin")
        cors: str | None = None
        if origin is not None:
            if origin.rstrip("/") in self.origins:
                cors = origin
            elif not self._same_origin(origin, host, scope):
                await self._refuse(
                    send,
                    403,
                    "origin_not_allowed",
                    f"requests from the web origin {origin!r} are refused; allow one "
                    "with --cors-origin",
                )
                return
        if method == "OPTIONS" and "access-control-request-method" in headers:
            if cors is None:
                await self._refuse(
                    send, 403, "origin_not_allowed", "no CORS for this origin"
                )
                return
            await self._preflight(send, cors)
            return
        if (
            self.token
            and scope["path"] != "/v1/health"
            and not token_matches(headers.get("authorization"), self.token)
        ):
            await self._refuse(
                send,
                401,
                "unauthorized",
                "this service needs 'Authorization: Bearer <token>' (the token given "
                "to aebridge serve with --token or AEBRIDGE_TOKEN)",
                extra=[(b"www-authenticate", b"Bearer")],
                cors=cors,
            )
            return
        if method in _BODY_METHODS and not self._json_body(headers, scope["path"]):
            await self._refuse(
                send,
                415,
                "unsupported_media_type",
                "request bodies must be sent with 'Content-Type: application/json' "
                f"(got {headers.get('content-type')!r})",
                cors=cors,
            )
            return
        started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if cors is not None:
                    message = dict(message)
                    message["headers"] = [
                        *message.get("headers", []),
                        *self._cors_headers(cors),
                    ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_cors)
        except _ClientGone:
            return  # nobody to answer; not an error
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _log.error("internal error (reference %s)", reference, exc_info=exc)
            if not started:
                await self._refuse(
                    send,
                    500,
                    "internal_error",
                    "an internal error occurred; the server log has the details "
                    f"under reference {reference}",
                    retryable=True,
                    cors=cors,
                )

    def _host_allowed(self, header: str, scope: Scope) -> bool:
        if self.any_host:
            return True
        name = host_name(header)
        if name is None:
            return False
        if name in self.hosts:
            return True
        # The address the client connected to, written as an address: no name,
        # so nothing to rebind.
        server = scope.get("server")
        return server is not None and _same_address(name, str(server[0]))

    @staticmethod
    def _same_origin(origin: str, host: str | None, scope: Scope) -> bool:
        scheme = scope.get("scheme", "http")
        return host is not None and origin.lower() == f"{scheme}://{host}".lower()

    @staticmethod
    def _json_body(headers: Headers, path: str) -> bool:
        ctype = headers.get("content-type")
        if ctype is None:
            has_body = headers.get("content-length", "0") != "0" or (
                "transfer-encoding" in headers
            )
            return not has_body and path != "/v1/jobs"
        media = ctype.split(";", 1)[0].strip().lower()
        return media == "application/json"

    @staticmethod
    def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", _CORS_EXPOSE.encode()),
            (b"vary", b"Origin"),
        ]

    async def _preflight(self, send: Send, origin: str) -> None:
        headers = [
            *self._cors_headers(origin),
            (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
            (b"access-control-allow-headers", _CORS_HEADERS.encode()),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(
        self,
        send: Send,
        status: int,
        code: str,
        detail: str,
        *,
        extra: Sequence[tuple[bytes, bytes]] = (),
        cors: str | None = None,
        retryable: bool = False,
    ) -> None:
        body = json.loads(_problem_bytes(status, code, detail))
        body["retryable"] = retryable
        data = json.dumps(body, sort_keys=True).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(data)).encode()),
            *extra,
            *(self._cors_headers(cors) if cors else []),
        ]
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": data})


def _same_address(name: str, address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(address)
    except ValueError:
        return False


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
    roots = InputRoots(config.input_roots)

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

    problem_ref = {"$ref": "#/components/schemas/Problem"}
    # Every route may answer these (the edge checks come before any route).
    responses: dict[int | str, dict[str, Any]] = {
        code: {
            "description": why,
            "content": {"application/problem+json": {"schema": problem_ref}},
        }
        for code, why in _ERROR_RESPONSES.items()
    }
    responses[401]["headers"] = {
        "WWW-Authenticate": {"schema": {"type": "string", "enum": ["Bearer"]}}
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
            components = document.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["Problem"] = _PROBLEM_SCHEMA
            schemas["Job"] = _JOB_SCHEMA
            # FastAPI's own 422 body is never sent: validation errors are problems.
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            components["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the token given to aebridge serve (--token or "
                    "AEBRIDGE_TOKEN); needed only when one is configured",
                }
            }
            document["security"] = [{"bearer": []}]
            for path, item in document["paths"].items():
                for operation in item.values():
                    if path == "/v1/health":
                        operation["security"] = []
                        operation["responses"].pop("401", None)
                    bad = operation["responses"].get("422", {})
                    content = bad.get("content", {})
                    if "application/json" in content:
                        del content["application/json"]
                        content["application/problem+json"] = {"schema": problem_ref}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(_Edge, config=config)

    @app.exception_handler(AebridgeError)
    async def _aebridge_error(_request: Request, exc: AebridgeError) -> Response:
        status = _status_of(exc)
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        response = problem(status, _problem_body(exc, status, roots.show))
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

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Whether the service is up (needs no token)."""
        store.counts()  # proves the database answers
        return {
            "status": "ok",
            "version": __version__,
            "schema_version": store.schema_version,
        }

    async def read_body(request: Request) -> bytes:
        limit = config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLargeError(
                f"the request body has {declared} bytes; at most {limit} are accepted"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLargeError(
                        f"the request body is over {limit} bytes; at most {limit} "
                        "are accepted"
                    )
                chunks.append(chunk)
        except ClientDisconnect:
            raise _ClientGone from None
        return b"".join(chunks)

    @app.post(
        "/v1/jobs",
        status_code=202,
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
    async def submit(
        request: Request,
        base_dir: str | None = Query(
            default=None,
            description="where the spec's relative paths start, inside an input root "
            "(for a bare spec, as curl sends a file; an envelope says it itself)",
        ),
    ) -> Response:
        """Validate a comp spec and queue a job to build it (202 with the job).

        Repeating a request with the same Idempotency-Key and body answers 200 with the
        job the first request made.
        """
        from .submission import parse_body, with_base_dir

        raw = await read_body(request)
        body = with_base_dir(parse_body(raw), base_dir)
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
        from .submission import parse_body

        body = parse_body(await read_body(request))
        return await run_in_threadpool(run_init, body, config.input_roots)

    @app.get(
        "/v1/jobs",
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
        tags=["jobs"],
        response_model=None,
        responses={202: _json(_JOB)},
    )
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a job; a running job stops between frames (no partial frame).

        A job that already ended (succeeded, failed or canceled) answers 409.
        """
        return store.cancel(job_id).public()

    @app.delete(
        "/v1/jobs/{job_id}",
        status_code=204,
        tags=["jobs"],
        response_class=Response,
        responses={204: {"description": "the job and its output folder are gone"}},
    )
    def delete_job(job_id: str) -> Response:
        """Delete a job, its output folder and its webhook messages (409 while it
        runs: cancel it first)."""
        service.delete_job(job_id)
        return Response(status_code=204)

    @app.post(
        "/v1/jobs/{job_id}/webhook/secret",
        tags=["jobs"],
        response_model=None,
        responses={
            200: {
                "description": "the job's new webhook secret",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["job_id", "webhook_secret"],
                            "properties": {
                                "job_id": {"type": "string"},
                                "webhook_secret": {"type": "string"},
                            },
                        }
                    }
                },
            }
        },
    )
    def rotate_secret(job_id: str) -> dict[str, Any]:
        """Give the job's webhook a new secret and return it (the messages not yet
        delivered are signed with it). 409 when the job has no webhook or the
        service signs every webhook with one secret (--webhook-secret)."""
        return {"job_id": job_id, "webhook_secret": service.rotate_secret(job_id)}

    @app.get("/v1/jobs/{job_id}/artifacts", tags=["artifacts"])
    def list_artifacts(job_id: str) -> dict[str, Any]:
        """The script, build.json and preview of a succeeded job."""
        job = store.get(job_id)
        items = artifacts(job)
        for item in items:
            item["url"] = f"/v1/jobs/{job_id}/artifacts/{item['name']}"
        return {"job_id": job_id, "artifacts": items}

    @app.get(
        "/v1/jobs/{job_id}/artifacts/{name:path}",
        tags=["artifacts"],
        response_class=FileResponse,
    )
    def get_artifact(job_id: str, name: str) -> FileResponse:
        """Download one artifact by the name its listing gives."""
        job = store.get(job_id)
        # Only names from the listing are served: the request never builds a path.
        listed = {item["name"] for item in artifacts(job)}
        if name not in listed:
            raise ArtifactNotFoundError(
                f"job {job_id} has no artifact of that name; "
                f"GET /v1/jobs/{job_id}/artifacts lists them"
            )
        return FileResponse(Path(job.out_dir) / name, filename=Path(name).name)

    @app.get("/v1/jobs/{job_id}/webhooks", tags=["jobs"])
    def job_webhooks(job_id: str) -> dict[str, Any]:
        """The job's webhook messages and their delivery state."""
        store.get(job_id)
        return {"job_id": job_id, "messages": store.outbox.messages(job_id)}

    @app.get(
        "/v1/jobs/{job_id}/events",
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
        await run_in_threadpool(store.get, job_id)  # 404 before the stream starts
        last_id = request.headers.get("last-event-id", "")
        seen = int(last_id) if last_id.isdigit() and len(last_id) < 19 else 0

        async def stream() -> AsyncIterator[str]:
            last = seen
            shown: str | None = None  # the status of the last event sent
            quiet = 0.0
            while True:
                try:
                    job, steps = await run_in_threadpool(store.changes, job_id, last)
                except JobNotFoundError:
                    return  # deleted meanwhile
                for version, status, data in steps:
                    # Every status the job passed, as it was then, however quickly.
                    yield _event(version, status, data)
                    last, shown, quiet = version, status, 0.0
                if job.version > last:
                    status = job.status.value
                    name = "progress" if shown == status else status
                    yield _event(job.version, name, job.public())
                    last, shown, quiet = job.version, job.status.value, 0.0
                elif quiet >= SSE_KEEPALIVE:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                if (
                    job.status.terminal
                    or service.stopping.is_set()
                    or await request.is_disconnected()
                ):
                    return
                await asyncio.sleep(SSE_INTERVAL)
                quiet += SSE_INTERVAL

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    return app


def _event(version: int, name: str, data: Any) -> str:
    text = json.dumps(data, sort_keys=True)
    return f"id: {version}\nevent: {name}\ndata: {text}\n\n"


def openapi_document(service: Service) -> dict[str, Any]:
    """The OpenAPI document the service serves at ``/openapi.json``."""
    return create_app(service, manage=False).openapi()


def _protocol(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol with time limits on reading a request.

    uvicorn limits only how long an idle keep-alive connection lives, and any byte
    received resets that: a client sending its headers a byte at a time held a
    connection (and a slot) forever. Here a request's headers must arrive within
    ``header_timeout`` seconds of the connection (or of the previous answer), and
    its body within ``body_timeout`` seconds of the headers; otherwise the client
    gets a 408 problem (or, having sent nothing, just the closed connection).
    """

    class _Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _stage: str | None = None
        _partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._follow()

        def data_received(self, data: bytes) -> None:
            if self._stage == "headers":
                self._partial = True
            super().data_received(data)
            self._follow()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._follow()

        def connection_lost(self, exc: Exception | None) -> None:
            self._arm(None)
            super().connection_lost(exc)

        def _follow(self) -> None:
            state = self.conn.their_state
            if state is h11.IDLE:
                if self._stage != "headers":
                    self._partial = False
                    self._arm("headers")
            elif state is h11.SEND_BODY:
                if self._stage != "body":
                    self._arm("body")
            else:
                self._arm(None)

        def _arm(self, stage: str | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._stage = stage
            if stage is not None:
                seconds = header_timeout if stage == "headers" else body_timeout
                self._deadline = self.loop.call_later(seconds, self._expired)

        def _expired(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            answered = cycle is not None and cycle.response_started
            late = not answered if self._stage == "body" else self._partial
            if late:
                what = "headers" if self._stage == "headers" else "body"
                limit = header_timeout if self._stage == "headers" else body_timeout
                body = _problem_bytes(
                    408,
                    "request_timeout",
                    f"the request {what} did not arrive within {limit:g} s",
                )
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\n"
                    b"content-type: application/problem+json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n"
                    b"connection: close\r\n\r\n" + body
                )
            self.transport.close()

    return _Protocol


def _uvicorn_config(service: Service, host: str, port: int) -> uvicorn.Config:
    config = service.config
    return uvicorn.Config(
        create_app(service),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=_protocol(config.header_timeout, config.body_timeout),
        # A backstop: streams end and builds stop at the signal (see _Server), so
        # connections close within a moment of it.
        timeout_graceful_shutdown=5,
    )


class _Server(uvicorn.Server):
    """uvicorn, but a stop signal stops the service's work at once.

    uvicorn's own shutdown waits for every open connection before the application
    hears of it, so an open event stream held a stop for as long as it lasted and
    workers kept claiming jobs meanwhile. Here the signal itself stops the workers
    from claiming, cancels running builds between frames (their jobs go back to the
    queue) and ends event streams, then uvicorn closes the connections.
    """

    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self._service = service

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._service.begin_stop()
        super().handle_exit(sig, frame)


def serve(service: Service) -> None:
    """Run the service with uvicorn until a stop signal (Ctrl-C, SIGTERM)."""
    config = service.config
    _Server(_uvicorn_config(service, config.host, config.port), service).run()


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
        self._service = service
        self.url = ""
        # uvicorn binds the port itself: with a socket handed in through
        # ``sockets=`` every answer took 44 ms here (a delayed-ACK stall), against
        # about 1 ms this way.
        self._server = _Server(_uvicorn_config(service, host, port), service)
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
        self._service.begin_stop()
        self._server.should_exit = True
        self._thread.join(timeout)
