"""The HTTP API (FastAPI): its routes and their OpenAPI description.

Jobs, progress, artifacts, server-sent events (:mod:`.events`), health and
``POST /v1/specs/init``. Who may call is checked before any route by the request
edge (:mod:`.edge`); every error is a problem document (:mod:`.problems`); uvicorn
serves the app (:mod:`.server`). ``create_app`` needs the ``service`` extra
(FastAPI, uvicorn, httpx): importing this module without it raises
:class:`~aebridge.errors.MissingExtraError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from .._version import __version__
from ..errors import MissingExtraError, OptionError
from .artifacts import artifact_file, artifacts
from .edge import ClientGone, Edge
from .events import last_seen, stream_events
from .initspec import LEFT_OUT_SCHEMA
from .initspec import REQUEST_SCHEMA as INIT_REQUEST_SCHEMA
from .initspec import RESULT_SCHEMA as INIT_RESULT_SCHEMA
from .job import EVENTS, JobStatus
from .openapi import COMP_SPEC_REF, comp_spec_schemas
from .problems import BodyTooLargeError, add_handlers
from .runtime import Service
from .security import InputRoots

try:
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import (
        FileResponse,
        JSONResponse,
        Response,
        StreamingResponse,
    )
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import ClientDisconnect
except ImportError as _exc:  # the service extra is optional
    raise MissingExtraError("service", _exc.name or "fastapi") from _exc

__all__ = ["create_app", "openapi_document"]

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
        "left_out": {
            **LEFT_OUT_SCHEMA,
            "description": "init_refused for a folder where nothing could be used: "
            "each file left out, and why",
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
        {"$ref": COMP_SPEC_REF},
        {
            "type": "object",
            "required": ["spec"],
            "additionalProperties": False,
            "properties": {
                "spec": {"$ref": COMP_SPEC_REF},
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
            schemas.update(comp_spec_schemas())
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
    app.add_middleware(Edge, config=config)

    add_handlers(app, roots.show)

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
            raise ClientGone from None
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
        a matte without a partner answer 422 ``init_refused``; an option refused
        answers 422 ``invalid_request`` at its field (``options.start_frame``).
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
        path = artifact_file(store.get(job_id), name)
        return FileResponse(path, filename=path.name)

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
        return StreamingResponse(
            stream_events(
                store,
                job_id,
                after=last_seen(request.headers.get("last-event-id")),
                stopping=service.stopping,
                disconnected=request.is_disconnected,
            ),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    return app


def openapi_document(service: Service) -> dict[str, Any]:
    """The OpenAPI document the service serves at ``/openapi.json``."""
    return create_app(service, manage=False).openapi()
