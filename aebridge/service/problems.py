"""Problem documents (RFC 9457, ``application/problem+json``): every error answer.

One shape for every refusal, from the request edge, a route or the HTTP protocol
itself: ``type`` (``urn:aebridge:problem:<code>``), ``title``, ``status``, ``detail``
for people, a stable ``code``, ``retryable``, and for specs and requests the
``problems`` with their paths, for a folder init found nothing to use in the files it
``left_out``. An :class:`~aebridge.errors.AebridgeError` finds its
status in :data:`STATUS`; a stack trace never leaves the server. Installing the
handlers needs the ``service`` extra (FastAPI).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import AebridgeError, InitError, OptionError, SpecError
from .artifacts import ArtifactNotFoundError
from .job import IdempotencyConflictError, JobConflictError, JobNotFoundError
from .submission import MalformedBodyError

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "STATUS",
    "BodyTooLargeError",
    "add_handlers",
    "problem_bytes",
    "problem_document",
    "status_of",
]

#: The media type of every error answer.
PROBLEM_JSON = "application/problem+json"


class BodyTooLargeError(AebridgeError):
    """The request body is larger than the service accepts."""

    code = "body_too_large"


#: The HTTP status of each kind of error (the first that matches; others are 400).
STATUS: tuple[tuple[type[AebridgeError], int], ...] = (
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


def status_of(exc: AebridgeError) -> int:
    """The HTTP status an error is answered with."""
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def problem_document(
    status: int,
    code: str,
    detail: str,
    *,
    retryable: bool = False,
    problems: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A problem document.

    Args:
        status: the HTTP status.
        code: the stable error code (``invalid_spec``, ``job_not_found``, ...).
        detail: what went wrong, for people.
        retryable: whether the same request may succeed later.
        problems: each problem with its ``path``, ``message`` and ``severity``.
    """
    body: dict[str, Any] = {
        "type": f"urn:aebridge:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        "retryable": retryable,
    }
    if problems is not None:
        body["problems"] = list(problems)
    return body


def problem_bytes(
    status: int, code: str, detail: str, *, retryable: bool = False
) -> bytes:
    """A problem document as the bytes of a response body (sorted keys), for the
    answers given below the routes: the request edge and the HTTP protocol."""
    return json.dumps(
        problem_document(status, code, detail, retryable=retryable), sort_keys=True
    ).encode()


def error_document(
    exc: AebridgeError, status: int, show: Callable[[str], str]
) -> dict[str, Any]:
    """The problem document of an error, its paths shown by ``show`` (relative to
    the input roots: a client never sees the server's folders)."""
    problems = None
    if isinstance(exc, SpecError):
        problems = [
            {"path": p.path, "message": show(p.message), "severity": p.severity}
            for p in exc.problems
        ]
    body = problem_document(
        status, exc.code, show(str(exc)), retryable=exc.retryable, problems=problems
    )
    if isinstance(exc, InitError) and exc.left_out:
        # As init's answer lists them: the client sees what was there and why.
        body["left_out"] = [
            {"path": show(path), "why": show(why)} for path, why in exc.left_out
        ]
    return body


def add_handlers(app: FastAPI, show: Callable[[str], str]) -> None:
    """Answer every error a route raises with a problem document.

    Args:
        app: the application.
        show: rewrites server paths in messages (relative to the input roots).
    """
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    def problem(body: dict[str, Any]) -> JSONResponse:
        return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON)

    @app.exception_handler(AebridgeError)
    async def _aebridge_error(_request: Request, exc: AebridgeError) -> Response:
        status = status_of(exc)
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        response = problem(error_document(exc, status, show))
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
        detail = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        return problem(
            problem_document(422, "invalid_request", detail, problems=problems)
        )

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem(problem_document(exc.status_code, code, str(exc.detail)))
