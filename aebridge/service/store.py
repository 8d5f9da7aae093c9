"""The job store: jobs, leases, idempotency keys and status history in SQLite.

Every state change that a webhook subscribes to writes its outbox row
(:mod:`.outbox`) in the same transaction as the change itself, and every status
change its row in the history event streams replay, so a crash can lose neither the
change nor its notification. The connections are :mod:`.database`'s, the schema
:mod:`.migrations`'.

A running job holds a lease (owner, expiry) renewed by its worker's heartbeat. Only the
lease holder may record progress or finish the job: when a server is killed, its jobs'
leases expire, another worker requeues and resumes them, and a late write from a
worker that lost its lease is ignored, so no job finishes twice.

The module is over 600 lines because it is one class whose every write is one
transaction: the lease check, the change, its history row and its outbox row
commit together, so they are written side by side here rather than split apart.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .database import Clock, Database
from .job import (
    Failure,
    IdempotencyConflictError,
    Job,
    JobConflictError,
    JobNotFoundError,
    JobStatus,
    WebhookTarget,
)
from .outbox import Outbox

__all__ = ["Store"]


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("s") or not text[1:].isdigit() or len(text) > 20:
            raise ValueError(text)
        seq = int(text[1:])
        # Sequence numbers are SQLite integers: 1 .. 2**63 - 1.
        if not 0 < seq < 1 << 63:
            raise ValueError(text)
        return seq
    except (ValueError, UnicodeDecodeError) as exc:
        raise OptionError(
            "cursor", cursor, "the next_cursor value of a previous page"
        ) from exc


def _job_from_row(row: sqlite3.Row) -> Job:
    """A job from its row in the jobs table."""
    webhook = None
    if row["webhook_url"]:
        webhook = WebhookTarget(
            url=row["webhook_url"],
            events=tuple(json.loads(row["webhook_events"])),
            secret=row["webhook_secret"],
        )
    failure = None
    if row["error_code"]:
        failure = Failure(
            code=row["error_code"],
            message=row["error_message"],
            retryable=bool(row["retryable"]),
        )
    return Job(
        id=row["id"],
        seq=row["seq"],
        status=JobStatus(row["status"]),
        stage=row["stage"],
        layer=row["layer"],
        frames_done=row["frames_done"],
        frames_total=row["frames_total"],
        request=row["request"],
        base_dir=row["base_dir"],
        out_dir=row["out_dir"],
        webhook=webhook,
        failure=failure,
        result=json.loads(row["result"]) if row["result"] else None,
        cancel_requested=bool(row["cancel_requested"]),
        lease_owner=row["lease_owner"],
        attempts=row["attempts"],
        crashes=row["crashes"],
        completions=row["completions"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def _read_job(db: sqlite3.Connection, job_id: str) -> Job:
    """The job with this id as ``db`` sees it now.

    Raises:
        JobNotFoundError: no job has this id.
    """
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise JobNotFoundError(job_id)
    return _job_from_row(row)


class Store:
    """The SQLite job store; safe to share between threads.

    Several processes (``aebridge serve`` and ``aebridge watch``) may open the same
    database: SQLite's own locking serialises their writes and leases keep them from
    running the same job.

    Args:
        path: the database file (created with its folder when missing).
        clock: the time source (tests pass a fake one).
    """

    def __init__(self, path: Path, *, clock: Clock = time.time) -> None:
        self._db = Database(path, clock=clock)
        self._clock = clock
        #: The webhook outbox, in the same database: its rows are written in the
        #: transactions below that change the jobs they report.
        self.outbox = Outbox(self._db)

    @property
    def schema_version(self) -> int:
        """The number of schema migrations the database carries."""
        return self._db.schema_version

    def close(self) -> None:
        """Close the database connections."""
        self._db.close()

    # -- reading -------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        """One job by id.

        Raises:
            JobNotFoundError: no job has this id.
        """
        return _read_job(self._db.reader(), job_id)

    def list_jobs(
        self,
        *,
        statuses: Sequence[JobStatus] = (),
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """Jobs newest first, optionally only those in ``statuses``, one page at a time.

        Args:
            statuses: keep only jobs in these states (all when empty).
            limit: page size, 1..500.
            cursor: ``next_cursor`` of the previous page.

        Returns:
            The page and the cursor of the next page (``None`` on the last page).

        Raises:
            OptionError: ``limit`` is out of range or ``cursor`` is not one we made.
        """
        if not 1 <= limit <= 500:
            raise OptionError("limit", limit, "1..500")
        where = []
        params: list[Any] = []
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(s.value for s in statuses)
        if cursor is not None:
            where.append("seq < ?")
            params.append(_decode_cursor(cursor))
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._db.reader().execute(sql, params).fetchall()
        jobs = [_job_from_row(r) for r in rows[:limit]]
        next_cursor = _encode_cursor(jobs[-1].seq) if len(rows) > limit else None
        return jobs, next_cursor

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state, and of webhook messages still to deliver."""
        with self._db.snapshot() as db:  # one snapshot for both counts
            rows = db.execute(
                "SELECT status, COUNT(*) FROM jobs GROUP BY status"
            ).fetchall()
            pending = self.outbox.pending(db)
        counts = {s.value: 0 for s in JobStatus}
        counts.update({row[0]: row[1] for row in rows})
        counts["webhooks_pending"] = pending
        return counts

    # -- writing -------------------------------------------------------------------

    def _emit(self, db: sqlite3.Connection, job_id: str, event: str) -> None:
        """Write the outbox row for ``event`` if the job's webhook subscribes to it.

        Called inside the transaction that made the change, after the change, so the
        payload shows the job as the event left it.
        """
        self.outbox.enqueue(db, _read_job(db, job_id), event)

    def _transition(self, db: sqlite3.Connection, job_id: str) -> None:
        """Record the job's new status, as the job now is, for event streams.

        Called inside the transaction that changed the status, so a stream replays
        every status a job passed, however quickly it passed them.
        """
        job = _read_job(db, job_id)
        db.execute(
            "INSERT OR REPLACE INTO transitions (job_id, version, status, job, at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                job_id,
                job.version,
                job.status.value,
                json.dumps(job.public(), sort_keys=True),
                self._clock(),
            ),
        )

    def changes(
        self, job_id: str, after: int
    ) -> tuple[Job, list[tuple[int, str, dict[str, Any]]]]:
        """The job now and the status changes recorded after version ``after``.

        Both come from one snapshot, so nothing between them is missed.

        Returns:
            The job and ``[(version, status, job as it was)]`` in order.

        Raises:
            JobNotFoundError: no job has this id.
        """
        with self._db.snapshot() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            steps = db.execute(
                "SELECT version, status, job FROM transitions "
                "WHERE job_id = ? AND version > ? ORDER BY version",
                (job_id, after),
            ).fetchall()
        if row is None:
            raise JobNotFoundError(job_id)
        return _job_from_row(row), [
            (int(v), str(status), json.loads(data)) for v, status, data in steps
        ]

    def find_idempotent(self, key: str, body_hash: str) -> Job | None:
        """The job an earlier request with this Idempotency-Key made, if any.

        Raises:
            IdempotencyConflictError: the key was used with a different body.
        """
        row = (
            self._db.reader()
            .execute("SELECT * FROM jobs WHERE idempotency_key = ?", (key,))
            .fetchone()
        )
        if row is None:
            return None
        if row["body_hash"] != body_hash:
            raise IdempotencyConflictError(key, row["id"])
        return _job_from_row(row)

    def create(
        self,
        *,
        request: str,
        body_hash: str,
        idempotency_key: str | None,
        base_dir: Path,
        output_root: Path,
        webhook: WebhookTarget | None,
    ) -> tuple[Job, bool]:
        """Queue a new job, or return the job an earlier identical request made.

        Args:
            request: the accepted request body (canonical JSON).
            body_hash: its SHA-256, compared when an idempotency key is reused.
            idempotency_key: the client's ``Idempotency-Key``, if any.
            base_dir: the folder the spec's relative paths start from.
            output_root: the job writes to ``output_root/<job id>``.
            webhook: where the job's events go.

        Returns:
            The job and True when it was created now (False: an earlier request with
            the same key and body made it).

        Raises:
            IdempotencyConflictError: the key was used with a different body.
        """
        now = self._clock()
        with self._db.write() as db:
            if idempotency_key is not None:
                row = db.execute(
                    "SELECT id, body_hash FROM jobs WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
                if row is not None:
                    if row["body_hash"] != body_hash:
                        raise IdempotencyConflictError(idempotency_key, row["id"])
                    return _read_job(db, row["id"]), False
            job_id = f"job_{uuid.uuid4().hex}"
            db.execute(
                "INSERT INTO jobs (id, status, request, body_hash, idempotency_key, "
                "base_dir, out_dir, webhook_url, webhook_events, webhook_secret, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    JobStatus.QUEUED.value,
                    request,
                    body_hash,
                    idempotency_key,
                    str(base_dir),
                    str(output_root / job_id),
                    webhook.url if webhook else None,
                    json.dumps(list(webhook.events)) if webhook else None,
                    webhook.secret if webhook else None,
                    now,
                    now,
                ),
            )
            self._emit(db, job_id, "job.queued")
            self._transition(db, job_id)
            job = _read_job(db, job_id)
        return job, True

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued job now, or ask its worker to stop a running one.

        A running job stops between frames; its status turns ``canceled`` when the
        worker has stopped. Asking again while it stops changes nothing.

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: the job already ended (succeeded, failed or canceled).
        """
        now = self._clock()
        with self._db.write() as db:
            job = _read_job(db, job_id)
            status = job.status
            if status.terminal:
                raise JobConflictError(
                    f"job {job_id} already {status.value}; only queued or running "
                    "jobs can be canceled"
                )
            if status is JobStatus.QUEUED:
                db.execute(
                    "UPDATE jobs SET status = ?, cancel_requested = 1, "
                    "error_code = ?, error_message = ?, retryable = 0, "
                    "finished_at = ?, updated_at = ?, "
                    "version = version + 1 WHERE id = ?",
                    (
                        JobStatus.CANCELED.value,
                        "canceled",
                        "canceled before it started",
                        now,
                        now,
                        job_id,
                    ),
                )
                self._emit(db, job_id, "job.canceled")
                self._transition(db, job_id)
            elif status is JobStatus.RUNNING and not job.cancel_requested:
                db.execute(
                    "UPDATE jobs SET cancel_requested = 1, updated_at = ?, "
                    "version = version + 1 WHERE id = ?",
                    (now, job_id),
                )
            job = _read_job(db, job_id)
        return job

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        """Lease the oldest queued job to ``owner`` and mark it running.

        Returns:
            The job, or ``None`` when nothing is queued.
        """
        now = self._clock()
        with self._db.write() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY seq LIMIT 1",
                (JobStatus.QUEUED.value,),
            ).fetchone()
            if row is None:
                return None
            job_id = row["id"]
            db.execute(
                "UPDATE jobs SET status = ?, lease_owner = ?, lease_expires = ?, "
                "attempts = attempts + 1, started_at = COALESCE(started_at, ?), "
                "updated_at = ?, version = version + 1 WHERE id = ?",
                (
                    JobStatus.RUNNING.value,
                    owner,
                    now + lease_seconds,
                    now,
                    now,
                    job_id,
                ),
            )
            first_start = db.execute(
                "SELECT attempts FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()[0]
            if first_start == 1:
                self._emit(db, job_id, "job.started")
            self._transition(db, job_id)
            job = _read_job(db, job_id)
        return job

    def heartbeat(
        self, job_id: str, owner: str, lease_seconds: float
    ) -> tuple[bool, bool]:
        """Renew a lease.

        Returns:
            (the lease is still ``owner``'s, a cancel was requested).
        """
        now = self._clock()
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? "
                "AND status = ?",
                (now + lease_seconds, job_id, owner, JobStatus.RUNNING.value),
            )
            held = cur.rowcount == 1
            row = db.execute(
                "SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return held, bool(row and row[0])

    def progress(
        self,
        job_id: str,
        owner: str,
        *,
        stage: str | None,
        layer: str | None,
        frames_done: int,
        frames_total: int,
    ) -> tuple[bool, bool]:
        """Record progress; ignored unless ``owner`` holds the lease.

        Returns:
            (``owner`` still holds the lease, a cancel was requested).
        """
        now = self._clock()
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET stage = ?, layer = ?, frames_done = ?, "
                "frames_total = ?, updated_at = ?, version = version + 1 "
                "WHERE id = ? AND lease_owner = ? AND status = ?",
                (
                    stage,
                    layer,
                    frames_done,
                    frames_total,
                    now,
                    job_id,
                    owner,
                    JobStatus.RUNNING.value,
                ),
            )
            row = db.execute(
                "SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            return cur.rowcount == 1, bool(row and row[0])

    def finish(
        self,
        job_id: str,
        owner: str,
        *,
        status: JobStatus,
        failure: Failure | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        """End a running job; only the lease holder can, and only once.

        Args:
            job_id: the job.
            owner: the worker that ran it.
            status: succeeded, failed or canceled.
            failure: why it failed or was canceled.
            result: what a successful build produced.

        Returns:
            True when the job was ended now; False when ``owner`` had lost the lease
            (the job was requeued and belongs to someone else).
        """
        if not status.terminal:
            raise ValueError(f"finish needs a terminal status, not {status.value}")
        now = self._clock()
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, error_code = ?, error_message = ?, "
                "retryable = ?, result = ?, lease_owner = NULL, lease_expires = NULL, "
                "completions = completions + ?, finished_at = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ? AND lease_owner = ? AND status = ?",
                (
                    status.value,
                    failure.code if failure else None,
                    failure.message if failure else None,
                    int(failure.retryable) if failure else None,
                    json.dumps(result, sort_keys=True) if result is not None else None,
                    1 if status is JobStatus.SUCCEEDED else 0,
                    now,
                    now,
                    job_id,
                    owner,
                    JobStatus.RUNNING.value,
                ),
            )
            if cur.rowcount != 1:
                return False
            self._emit(db, job_id, f"job.{status.value}")
            self._transition(db, job_id)
        return True

    def release(self, job_id: str, owner: str) -> bool:
        """Put a running job back in the queue (its server is shutting down).

        Returns:
            True when ``owner`` held the lease and the job is queued again.
        """
        now = self._clock()
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, lease_owner = NULL, lease_expires = NULL, "
                "updated_at = ?, version = version + 1 "
                "WHERE id = ? AND lease_owner = ? AND status = ?",
                (JobStatus.QUEUED.value, now, job_id, owner, JobStatus.RUNNING.value),
            )
            if cur.rowcount == 1:
                self._transition(db, job_id)
            return cur.rowcount == 1

    def requeue_expired(self, max_attempts: int) -> list[str]:
        """Queue again every running job whose lease expired (its server died).

        A job whose server has died under it ``max_attempts`` times fails instead
        with code ``too_many_attempts``: something in it keeps killing the server.
        Starts that a normal stop ended (:meth:`release`) do not count.

        Returns:
            The ids of the jobs requeued or failed.
        """
        now = self._clock()
        touched: list[str] = []
        with self._db.write() as db:
            rows = db.execute(
                "SELECT id, crashes FROM jobs WHERE status = ? AND lease_expires < ?",
                (JobStatus.RUNNING.value, now),
            ).fetchall()
            for row in rows:
                touched.append(row["id"])
                crashes = row["crashes"] + 1
                if crashes >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET status = ?, error_code = 'too_many_attempts', "
                        "error_message = ?, retryable = 0, lease_owner = NULL, "
                        "lease_expires = NULL, crashes = ?, finished_at = ?, "
                        "updated_at = ?, version = version + 1 WHERE id = ?",
                        (
                            JobStatus.FAILED.value,
                            f"the job's server stopped without finishing it {crashes} "
                            "times (killed, or out of memory); it is not tried again",
                            crashes,
                            now,
                            now,
                            row["id"],
                        ),
                    )
                    self._emit(db, row["id"], "job.failed")
                else:
                    db.execute(
                        "UPDATE jobs SET status = ?, lease_owner = NULL, "
                        "lease_expires = NULL, crashes = ?, updated_at = ?, "
                        "version = version + 1 WHERE id = ?",
                        (JobStatus.QUEUED.value, crashes, now, row["id"]),
                    )
                self._transition(db, row["id"])
        return touched

    def set_secret(self, job_id: str, secret: str) -> None:
        """Give a job's webhook a new signing secret.

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: the job has no webhook.
        """
        with self._db.write() as db:
            row = db.execute(
                "SELECT webhook_url FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            if not row["webhook_url"]:
                raise JobConflictError(f"job {job_id} has no webhook")
            db.execute(
                "UPDATE jobs SET webhook_secret = ? WHERE id = ?", (secret, job_id)
            )

    def delete(self, job_id: str) -> Job:
        """Delete a job that is not running, with its webhook messages and history.

        Returns:
            The job as it was (its ``out_dir`` is for the caller to remove).

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: the job is running (cancel it first).
        """
        with self._db.write() as db:
            job = _read_job(db, job_id)
            if job.status is JobStatus.RUNNING:
                raise JobConflictError(
                    f"job {job_id} is running; cancel it and delete it once it has "
                    "stopped"
                )
            self._purge(db, [job_id])
        return job

    def expire(self, finished_before: float, *, limit: int = 500) -> list[Job]:
        """Delete finished jobs that ended before ``finished_before`` (retention).

        Returns:
            The jobs deleted (their ``out_dir`` is for the caller to remove).
        """
        with self._db.write() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? "
                "AND status IN (?, ?, ?) ORDER BY finished_at LIMIT ?",
                (
                    finished_before,
                    JobStatus.SUCCEEDED.value,
                    JobStatus.FAILED.value,
                    JobStatus.CANCELED.value,
                    limit,
                ),
            ).fetchall()
            jobs = [_job_from_row(row) for row in rows]
            self._purge(db, [job.id for job in jobs])
        return jobs

    def _purge(self, db: sqlite3.Connection, job_ids: Sequence[str]) -> None:
        self.outbox.discard(db, job_ids)
        for job_id in job_ids:
            db.execute("DELETE FROM transitions WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
