"""A job as the store keeps it and the API shows it: its status, failure and webhook
target, the events a webhook may subscribe to, and the errors that name a job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..errors import AebridgeError

__all__ = [
    "DEFAULT_EVENTS",
    "EVENTS",
    "Failure",
    "IdempotencyConflictError",
    "Job",
    "JobConflictError",
    "JobNotFoundError",
    "JobStatus",
    "WebhookTarget",
    "iso_time",
]


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        """True for succeeded, failed and canceled."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)


#: Webhook events a job may subscribe to.
EVENTS = ("job.queued", "job.started", "job.succeeded", "job.failed", "job.canceled")
#: What a webhook without ``events`` receives: the end of the job, whatever it is.
DEFAULT_EVENTS = ("job.succeeded", "job.failed", "job.canceled")


class JobNotFoundError(AebridgeError):
    """No job has this id."""

    code = "job_not_found"

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job with id {job_id!r}")


class JobConflictError(AebridgeError):
    """The job is in a state that does not allow the request (cancel a finished job)."""

    code = "job_conflict"


class IdempotencyConflictError(AebridgeError):
    """An Idempotency-Key was used before with a different request body."""

    code = "idempotency_key_reused"

    def __init__(self, key: str, job_id: str) -> None:
        self.key = key
        self.job_id = job_id
        super().__init__(
            f"Idempotency-Key {key!r} was already used for job {job_id} with a "
            "different request body; send the same body to get that job again, or use "
            "a new key for a new job"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Why a job failed: a stable ``code``, a message for people, and whether a retry
    may help."""

    code: str
    message: str
    retryable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookTarget:
    """Where a job's events go, which events, and the secret that signs them."""

    url: str
    events: tuple[str, ...]
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One job as stored. ``request`` is the accepted request body (JSON text)."""

    id: str
    seq: int
    status: JobStatus
    stage: str | None
    layer: str | None
    frames_done: int
    frames_total: int
    request: str
    base_dir: str
    out_dir: str
    webhook: WebhookTarget | None
    failure: Failure | None
    result: Mapping[str, Any] | None
    cancel_requested: bool
    lease_owner: str | None
    attempts: int
    crashes: int
    completions: int
    version: int
    created_at: float
    updated_at: float
    started_at: float | None
    finished_at: float | None

    def public(self) -> dict[str, Any]:
        """The job as the API shows it (no secrets, no internal lease data)."""
        return {
            "id": self.id,
            "status": self.status.value,
            "stage": self.stage,
            "layer": self.layer,
            "progress": {
                "frames_done": self.frames_done,
                "frames_total": self.frames_total,
            },
            "failure": (
                None
                if self.failure is None
                else {
                    "code": self.failure.code,
                    "message": self.failure.message,
                    "retryable": self.failure.retryable,
                }
            ),
            "result": dict(self.result) if self.result is not None else None,
            "cancel_requested": self.cancel_requested,
            "attempts": self.attempts,
            "webhook": (
                None
                if self.webhook is None
                else {"url": self.webhook.url, "events": list(self.webhook.events)}
            ),
            "created_at": iso_time(self.created_at),
            "updated_at": iso_time(self.updated_at),
            "started_at": iso_time(self.started_at),
            "finished_at": iso_time(self.finished_at),
        }


def iso_time(stamp: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC with milliseconds (``None`` stays ``None``)."""
    if stamp is None:
        return None
    return (
        datetime.fromtimestamp(stamp, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
