"""A small Python client for the aebridge service (needs ``httpx``).

::

    from aebridge.client import Client

    with Client("http://127.0.0.1:8765", token=None) as client:
        job = client.submit(spec, idempotency_key="shot010-v3")
        job = client.wait(job["id"], timeout=600)
        print(job["status"], job["result"]["script"])

Every error the service answers with becomes a :class:`ServiceError` subclass carrying
the HTTP status, the stable ``code``, ``retryable`` and, for specs, the ``problems``
with their spec paths.
"""

from __future__ import annotations

import builtins
import json
import os
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import AebridgeError, MissingExtraError, Problem

__all__ = [
    "AuthError",
    "Client",
    "ConflictError",
    "InvalidRequestError",
    "JobNotFoundError",
    "PayloadTooLargeError",
    "ServerError",
    "ServiceError",
    "ServiceUnavailableError",
    "WaitTimeoutError",
]

TERMINAL = frozenset({"succeeded", "failed", "canceled"})


class ServiceError(AebridgeError):
    """The service answered with an error.

    Attributes:
        status: the HTTP status (0 when the service could not be reached).
        code: the service's stable error code (``invalid_spec``, ``job_not_found``).
        retryable: whether sending the request again may succeed.
        problems: for a refused spec, every problem with its spec path.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        retryable: bool = False,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        self.problems = tuple(problems)


class InvalidRequestError(ServiceError):
    """400 or 422: the body or the spec was refused; see ``problems``."""


class AuthError(ServiceError):
    """401: no valid bearer token."""


class JobNotFoundError(ServiceError):
    """404: no such job (or artifact)."""


class ConflictError(ServiceError):
    """409: an Idempotency-Key reused with another body, an ended job canceled, or a
    running job deleted."""


class PayloadTooLargeError(ServiceError):
    """413: the request body is larger than the service accepts."""


class ServerError(ServiceError):
    """5xx: the service failed; retrying may help."""


class ServiceUnavailableError(ServiceError):
    """The service could not be reached (connection refused, timeout)."""


class WaitTimeoutError(ServiceError):
    """:meth:`Client.wait` ran out of time before the job ended."""


_BY_STATUS: dict[int, type[ServiceError]] = {
    400: InvalidRequestError,
    401: AuthError,
    404: JobNotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidRequestError,
}


def _error_from(response: Any) -> ServiceError:
    status = int(response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = str(body.get("detail") or response.text or f"HTTP {status}")
    problems = [
        Problem(
            path=str(p.get("path", "")),
            message=str(p.get("message", "")),
            severity=str(p.get("severity", "error")),
        )
        for p in body.get("problems", ())
        if isinstance(p, dict)
    ]
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ServiceError)
    return kind(
        f"HTTP {status}: {detail}",
        status=status,
        code=str(body.get("code", "http_error")),
        retryable=bool(body.get("retryable", status >= 500)),
        problems=problems,
    )


class Client:
    """Talks to one aebridge service.

    Args:
        base_url: e.g. ``http://127.0.0.1:8765``.
        token: the bearer token, if the service needs one (default: the
            ``AEBRIDGE_TOKEN`` environment variable).
        timeout: seconds per request.

    Raises:
        MissingExtraError: httpx is not installed.
    """

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0
    ) -> None:
        try:
            import httpx
        except ImportError as exc:
            raise MissingExtraError("service", "httpx") from exc
        token = token if token is not None else os.environ.get("AEBRIDGE_TOKEN")
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )
        self._httpx = httpx

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except self._httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"cannot reach the aebridge service at {self._http.base_url}: {exc}",
                status=0,
                code="unreachable",
                retryable=True,
            ) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def health(self) -> dict[str, Any]:
        """``GET /v1/health``."""
        return dict(self._request("GET", "/v1/health").json())

    def submit(
        self,
        spec: Mapping[str, Any] | str | os.PathLike[str],
        idempotency_key: str | None = None,
        webhook: Mapping[str, Any] | None = None,
        *,
        preview: bool = False,
        base_dir: str | None = None,
    ) -> dict[str, Any]:
        """Queue a job that builds ``spec``.

        Args:
            spec: the comp spec as a mapping, or a path to its JSON file.
            idempotency_key: resending with the same key and spec returns the same job.
            webhook: ``{"url": ..., "events": [...], "secret": ...}`` (secret optional;
                a generated one comes back as ``webhook_secret``, again on a replay
                with the same key).
            preview: also render the preview.
            base_dir: where the spec's relative paths start, inside an input root of
                the service: relative to its first input root, or absolute as the
                service sees it. For a spec given as a file, the default is that
                file's folder (absolute): right when the service sees this file at
                the same path (the same machine, or a share mounted at the same
                place); otherwise give it relative to the input root. For a mapping,
                the default is the service's first input root.

        Returns:
            The job (``id``, ``status``, ...), plus ``warnings`` and, when generated,
            ``webhook_secret``.

        Raises:
            InvalidRequestError: the spec was refused; ``problems`` has the paths.
            ConflictError: the key was used before with another spec.
            ServiceError: any other refusal.
        """
        if isinstance(spec, Mapping):
            data: Mapping[str, Any] = spec
        else:
            path = Path(spec)
            data = json.loads(path.read_text(encoding="utf-8"))
            if base_dir is None:
                # Relative paths in a spec file start at its folder, as for
                # ``aebridge build``; the service reads only the JSON, so say where.
                base_dir = path.resolve().parent.as_posix()
        body: dict[str, Any] = {"spec": dict(data)}
        if webhook is not None:
            body["webhook"] = dict(webhook)
        if preview:
            body["options"] = {"preview": True}
        if base_dir is not None:
            body["base_dir"] = base_dir
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        return dict(
            self._request("POST", "/v1/jobs", json=body, headers=headers).json()
        )

    def init_spec(
        self, folder: str, *, base_dir: str | None = None, **options: Any
    ) -> dict[str, Any]:
        """``POST /v1/specs/init``: a comp spec from a folder of downloads.

        Args:
            folder: the folder, inside an input root of the service.
            base_dir: where the spec's paths should start (default: the folder).
            **options: as ``aebridge init``'s: ``plate``, ``pairs`` (clip ->
                matte), ``track_mattes``, ``guides``, ``camera``, ``style``,
                ``rate``, ``start_frame``, ``exclude``, ``name``.

        Returns:
            ``spec``, ``base_dir`` (submit the spec with it), ``layers``,
            ``guesses``, ``warnings`` and ``left_out``.

        Raises:
            InvalidRequestError: the request or the folder was refused (two
                candidate plates, a matte without partner: code ``init_refused``).
            ServiceError: any other refusal.
        """
        body: dict[str, Any] = {"folder": folder, "options": options}
        if base_dir is not None:
            body["base_dir"] = base_dir
        return dict(self._request("POST", "/v1/specs/init", json=body).json())

    def get(self, job_id: str) -> dict[str, Any]:
        """``GET /v1/jobs/{id}``: status, stage, progress, failure, result."""
        return dict(self._request("GET", f"/v1/jobs/{job_id}").json())

    def list(
        self,
        status: str | Sequence[str] | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[builtins.list[dict[str, Any]], str | None]:
        """One page of jobs, newest first.

        Returns:
            The jobs and the cursor of the next page (``None`` on the last page).
        """
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            params.extend(("status", s) for s in statuses)
        if cursor is not None:
            params.append(("cursor", cursor))
        data = self._request("GET", "/v1/jobs", params=params).json()
        return list(data["jobs"]), data["next_cursor"]

    def iter_jobs(
        self, status: str | Sequence[str] | None = None, *, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every job, following the cursor from page to page."""
        cursor: str | None = None
        while True:
            jobs, cursor = self.list(status, limit=page_size, cursor=cursor)
            yield from jobs
            if cursor is None:
                return

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a job (a running one stops between frames)."""
        return dict(self._request("POST", f"/v1/jobs/{job_id}/cancel").json())

    def delete(self, job_id: str) -> None:
        """Delete a job that is not running, with its outputs (ConflictError while it
        runs: cancel it and wait first)."""
        self._request("DELETE", f"/v1/jobs/{job_id}")

    def artifacts(self, job_id: str) -> builtins.list[dict[str, Any]]:
        """The downloadable files of a succeeded job (``name``, ``kind``, ``size``)."""
        data = self._request("GET", f"/v1/jobs/{job_id}/artifacts").json()
        return list(data["artifacts"])

    def download(self, job_id: str, name: str) -> bytes:
        """The content of one artifact, by the name :meth:`artifacts` gives."""
        return bytes(
            self._request("GET", f"/v1/jobs/{job_id}/artifacts/{name}").content
        )

    def wait(
        self, job_id: str, timeout: float = 600.0, poll: float = 0.5
    ) -> dict[str, Any]:
        """Poll until the job ends.

        Polls every ``poll`` seconds give or take 25 % (jitter keeps many waiting
        clients from polling in step); a poll that cannot reach the service is retried
        until the timeout.

        Args:
            job_id: the job.
            timeout: seconds to wait at most.
            poll: mean seconds between polls.

        Returns:
            The finished job (succeeded, failed or canceled; check ``status``).

        Raises:
            WaitTimeoutError: the job had not ended after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        job: dict[str, Any] | None = None
        while True:
            try:
                job = self.get(job_id)
                if job["status"] in TERMINAL:
                    return job
            except ServiceError as exc:
                if not exc.retryable:
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                state = job["status"] if job else "unknown"
                raise WaitTimeoutError(
                    f"job {job_id} was still {state} after {timeout:g} s",
                    status=0,
                    code="wait_timeout",
                    retryable=True,
                )
            time.sleep(min(remaining, poll * random.uniform(0.75, 1.25)))
