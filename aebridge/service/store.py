"""The job store: jobs, leases, idempotency keys and the webhook outbox in SQLite.

SQLite runs in WAL mode so readers never wait for the worker's writes. Every state
change that a webhook subscribes to writes its outbox row in the same transaction as
the change itself, so a crash can lose neither the change nor its notification.

A running job holds a lease (owner, expiry) renewed by its worker's heartbeat. Only the
lease holder may record progress or finish the job: when a server is killed, its jobs'
leases expire, another worker requeues and resumes them, and a late write from a
worker that lost its lease is ignored, so no job finishes twice.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..errors import AebridgeError, OptionError

__all__ = [
    "DEFAULT_EVENTS",
    "EVENTS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Failure",
    "IdempotencyConflictError",
    "Job",
    "JobConflictError",
    "JobNotFoundError",
    "JobStatus",
    "Migration",
    "NewerDatabaseError",
    "OutboxMessage",
    "Store",
    "WebhookTarget",
    "iso_time",
    "migrate",
]

# -- schema ---------------------------------------------------------------------------
#
# The database carries its schema as named migrations, applied in order, each in its
# own transaction together with the row that records it (as sqlite-utils'
# migrations.py does). ``PRAGMA user_version`` holds the number applied. A database
# made before versioning (the tables of 0001 without the table of applied
# migrations) adopts 0001 as it is: every statement there is IF NOT EXISTS.


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: a stable name and the statements that take it."""

    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_jobs_and_outbox",
        (
            """CREATE TABLE IF NOT EXISTS jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                status TEXT NOT NULL,
                stage TEXT,
                layer TEXT,
                frames_done INTEGER NOT NULL DEFAULT 0,
                frames_total INTEGER NOT NULL DEFAULT 0,
                request TEXT NOT NULL,
                body_hash TEXT NOT NULL,
                idempotency_key TEXT UNIQUE,
                base_dir TEXT NOT NULL,
                out_dir TEXT NOT NULL,
                webhook_url TEXT,
                webhook_events TEXT,
                webhook_secret TEXT,
                error_code TEXT,
                error_message TEXT,
                retryable INTEGER,
                result TEXT,
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_expires REAL,
                attempts INTEGER NOT NULL DEFAULT 0,
                completions INTEGER NOT NULL DEFAULT 0,
                version INTEGER NOT NULL DEFAULT 1,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                started_at REAL,
                finished_at REAL
            )""",
            "CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq)",
            """CREATE TABLE IF NOT EXISTS outbox (
                id TEXT PRIMARY KEY,
                job_id TEXT NOT NULL,
                event TEXT NOT NULL,
                url TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at REAL NOT NULL,
                next_attempt_at REAL NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                claimed_until REAL NOT NULL DEFAULT 0,
                delivered_at REAL,
                dead INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS outbox_due "
            "ON outbox(delivered_at, dead, next_attempt_at)",
        ),
    ),
    # Starts that ended with the server gone (lease expired): only these count
    # toward max_attempts; a stop that put the job back in the queue does not.
    Migration(
        "0002_job_crashes",
        ("ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0",),
    ),
    # Every status a job passed, with the job as it was: event streams replay them.
    Migration(
        "0003_job_transitions",
        (
            """CREATE TABLE transitions (
                job_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                job TEXT NOT NULL,
                at REAL NOT NULL,
                PRIMARY KEY (job_id, version)
            )""",
        ),
    ),
    # A failed delivery's category is in last_error; the receiver's status here.
    Migration(
        "0004_outbox_last_status",
        ("ALTER TABLE outbox ADD COLUMN last_status INTEGER",),
    ),
    # Retention finds finished jobs by age; deletion finds a job's messages.
    Migration(
        "0005_retention_indexes",
        (
            "CREATE INDEX jobs_finished ON jobs(finished_at) "
            "WHERE finished_at IS NOT NULL",
            "CREATE INDEX outbox_job ON outbox(job_id)",
        ),
    ),
)

#: The schema version this code writes: the number of migrations.
SCHEMA_VERSION = len(MIGRATIONS)

_MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS aebridge_migrations (
    name TEXT PRIMARY KEY,
    applied_at REAL NOT NULL
)"""


class NewerDatabaseError(OptionError):
    """The database was migrated by a newer aebridge than this one."""

    def __init__(self, path: Path, unknown: Sequence[str]) -> None:
        super().__init__(
            "--data",
            str(path.parent),
            "a job database made by this aebridge version or an older one (it has "
            f"schema migrations this version does not know: {', '.join(unknown)}; "
            "upgrade aebridge)",
        )


def migrate(db: sqlite3.Connection, path: Path, *, clock: Any = time.time) -> list[str]:
    """Apply the migrations a database lacks, each in its own transaction.

    Safe when several processes open the same database at once: each migration is
    looked up and applied under ``BEGIN IMMEDIATE``, so exactly one applies it.

    Args:
        db: a connection in autocommit mode (``isolation_level=None``).
        path: the database file, for messages.
        clock: the time source for ``applied_at``.

    Returns:
        The names of the migrations applied now.

    Raises:
        NewerDatabaseError: the database knows migrations this code does not.
    """
    db.execute(_MIGRATIONS_TABLE)
    known = {m.name for m in MIGRATIONS}
    recorded = [r[0] for r in db.execute("SELECT name FROM aebridge_migrations")]
    unknown = sorted(set(recorded) - known)
    if unknown:
        raise NewerDatabaseError(path, unknown)
    applied: list[str] = []
    for migration in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            done = db.execute(
                "SELECT 1 FROM aebridge_migrations WHERE name = ?", (migration.name,)
            ).fetchone()
            if done is None:
                for statement in migration.statements:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO aebridge_migrations (name, applied_at) VALUES (?, ?)",
                    (migration.name, clock()),
                )
                count = db.execute(
                    "SELECT COUNT(*) FROM aebridge_migrations"
                ).fetchone()[0]
                db.execute(f"PRAGMA user_version = {int(count)}")
                applied.append(migration.name)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return applied


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


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One webhook message; ``id`` stays the same on every delivery attempt."""

    id: str
    job_id: str
    event: str
    url: str
    payload: str
    attempts: int
    secret: str


def iso_time(stamp: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC with milliseconds (``None`` stays ``None``)."""
    if stamp is None:
        return None
    return (
        datetime.fromtimestamp(stamp, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


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


class Store:
    """The SQLite job store; safe to share between threads (one connection, a lock).

    Several processes (``aebridge serve`` and ``aebridge watch``) may open the same
    database: SQLite's own locking serialises their writes and leases keep them from
    running the same job.

    Args:
        path: the database file (created with its folder when missing).
        clock: the time source (tests pass a fake one).
    """

    def __init__(self, path: Path, *, clock: Any = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE so a
        # read-then-write never upgrades a shared lock and deadlocks another process.
        self._db = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL, not WAL's usual NORMAL: a 202 promises the job exists, and NORMAL may
        # lose the last commits on a power cut (a killed process loses nothing).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._path = path
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        with self._lock:
            try:
                migrate(self._db, path, clock=clock)
            except BaseException:
                self._db.close()
                raise

    @property
    def schema_version(self) -> int:
        """The number of schema migrations the database carries."""
        return int(self._reader().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the database connections."""
        with self._lock:
            self._db.close()
            for reader in self._readers:
                reader.close()
            self._readers.clear()

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection.

        Writes go through one connection under a lock (SQLite has one writer anyway);
        reads use a connection per thread so that, in WAL mode, an API call never
        waits for a worker's commit and its fsync.
        """
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self._path),
                isolation_level=None,
                check_same_thread=False,
                timeout=30.0,
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------

    def _row_to_job(self, row: sqlite3.Row) -> Job:
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

    def get(self, job_id: str) -> Job:
        """One job by id.

        Raises:
            JobNotFoundError: no job has this id.
        """
        row = (
            self._reader()
            .execute("SELECT * FROM jobs WHERE id = ?", (job_id,))
            .fetchone()
        )
        if row is None:
            raise JobNotFoundError(job_id)
        return self._row_to_job(row)

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
        rows = self._reader().execute(sql, params).fetchall()
        jobs = [self._row_to_job(r) for r in rows[:limit]]
        next_cursor = _encode_cursor(jobs[-1].seq) if len(rows) > limit else None
        return jobs, next_cursor

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state, and of webhook messages still to deliver."""
        db = self._reader()
        db.execute("BEGIN")  # one snapshot for both counts
        try:
            rows = db.execute(
                "SELECT status, COUNT(*) FROM jobs GROUP BY status"
            ).fetchall()
            pending = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead = 0"
            ).fetchone()[0]
        finally:
            db.execute("COMMIT")
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
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        job = self._row_to_job(row)
        if job.webhook is None or event not in job.webhook.events:
            return
        now = self._clock()
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = json.dumps(
            {"type": event, "timestamp": iso_time(now), "data": job.public()},
            sort_keys=True,
            separators=(",", ":"),
        )
        db.execute(
            "INSERT INTO outbox (id, job_id, event, url, payload, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (message_id, job_id, event, job.webhook.url, payload, now, now),
        )

    def _transition(self, db: sqlite3.Connection, job_id: str) -> None:
        """Record the job's new status, as the job now is, for event streams.

        Called inside the transaction that changed the status, so a stream replays
        every status a job passed, however quickly it passed them.
        """
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        job = self._row_to_job(row)
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
        db = self._reader()
        db.execute("BEGIN")
        try:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            steps = db.execute(
                "SELECT version, status, job FROM transitions "
                "WHERE job_id = ? AND version > ? ORDER BY version",
                (job_id, after),
            ).fetchall()
        finally:
            db.execute("COMMIT")
        if row is None:
            raise JobNotFoundError(job_id)
        return self._row_to_job(row), [
            (int(v), str(status), json.loads(data)) for v, status, data in steps
        ]

    def find_idempotent(self, key: str, body_hash: str) -> Job | None:
        """The job an earlier request with this Idempotency-Key made, if any.

        Raises:
            IdempotencyConflictError: the key was used with a different body.
        """
        row = (
            self._reader()
            .execute("SELECT * FROM jobs WHERE idempotency_key = ?", (key,))
            .fetchone()
        )
        if row is None:
            return None
        if row["body_hash"] != body_hash:
            raise IdempotencyConflictError(key, row["id"])
        return self._row_to_job(row)

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
        with self._write() as db:
            if idempotency_key is not None:
                row = db.execute(
                    "SELECT id, body_hash FROM jobs WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
                if row is not None:
                    if row["body_hash"] != body_hash:
                        raise IdempotencyConflictError(idempotency_key, row["id"])
                    existing = db.execute(
                        "SELECT * FROM jobs WHERE id = ?", (row["id"],)
                    ).fetchone()
                    return self._row_to_job(existing), False
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
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row_to_job(row), True

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued job now, or ask its worker to stop a running one.

        A running job stops between frames; its status turns ``canceled`` when the
        worker has stopped. Asking again while it stops changes nothing.

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: the job already ended (succeeded, failed or canceled).
        """
        now = self._clock()
        with self._write() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            status = JobStatus(row["status"])
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
            elif status is JobStatus.RUNNING and not row["cancel_requested"]:
                db.execute(
                    "UPDATE jobs SET cancel_requested = 1, updated_at = ?, "
                    "version = version + 1 WHERE id = ?",
                    (now, job_id),
                )
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row_to_job(row)

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        """Lease the oldest queued job to ``owner`` and mark it running.

        Returns:
            The job, or ``None`` when nothing is queued.
        """
        now = self._clock()
        with self._write() as db:
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
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row_to_job(row)

    def heartbeat(
        self, job_id: str, owner: str, lease_seconds: float
    ) -> tuple[bool, bool]:
        """Renew a lease.

        Returns:
            (the lease is still ``owner``'s, a cancel was requested).
        """
        now = self._clock()
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
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
        with self._write() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            job = self._row_to_job(row)
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
        with self._write() as db:
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
            jobs = [self._row_to_job(row) for row in rows]
            self._purge(db, [job.id for job in jobs])
        return jobs

    @staticmethod
    def _purge(db: sqlite3.Connection, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            db.execute("DELETE FROM outbox WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM transitions WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # -- outbox --------------------------------------------------------------------

    def claim_messages(
        self, *, limit: int, claim_seconds: float
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due webhook messages for ``claim_seconds``.

        A claimed message is not handed to another dispatcher (another process on the
        same database) until the claim runs out, so a slow receiver does not get the
        same message twice at once; after a crash the claim runs out and it is retried.
        """
        now = self._clock()
        with self._write() as db:
            rows = db.execute(
                "SELECT o.*, j.webhook_secret AS secret FROM outbox o "
                "JOIN jobs j ON j.id = o.job_id WHERE o.delivered_at IS NULL "
                "AND o.dead = 0 AND o.next_attempt_at <= ? AND o.claimed_until <= ? "
                "ORDER BY o.next_attempt_at LIMIT ?",
                (now, now, limit),
            ).fetchall()
            for row in rows:
                db.execute(
                    "UPDATE outbox SET claimed_until = ? WHERE id = ?",
                    (now + claim_seconds, row["id"]),
                )
        return [
            OutboxMessage(
                id=row["id"],
                job_id=row["job_id"],
                event=row["event"],
                url=row["url"],
                payload=row["payload"],
                attempts=row["attempts"],
                secret=row["secret"],
            )
            for row in rows
        ]

    def delivered(self, message_id: str) -> None:
        """Record a successful delivery."""
        now = self._clock()
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, "
                "claimed_until = 0, last_error = NULL, last_status = NULL "
                "WHERE id = ?",
                (now, message_id),
            )

    def delivery_failed(
        self,
        message_id: str,
        *,
        error: str,
        retry_at: float | None,
        status: int | None = None,
    ) -> None:
        """Record a failed delivery; ``retry_at`` ``None`` gives the message up.

        Args:
            message_id: the message.
            error: the failure's category (``connect_failed``, ``http_status``...).
            retry_at: when to try again; ``None``: give up.
            status: the receiver's HTTP status, when it answered.
        """
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed_until = 0, "
                "last_error = ?, last_status = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at), "
                "dead = ? WHERE id = ?",
                (
                    error[:100],
                    status,
                    retry_at,
                    1 if retry_at is None else 0,
                    message_id,
                ),
            )

    def messages(self, job_id: str) -> list[dict[str, Any]]:
        """Every webhook message of a job with its delivery state (for people)."""
        rows = (
            self._reader()
            .execute(
                "SELECT id, event, attempts, delivered_at, dead, last_error, "
                "last_status, next_attempt_at FROM outbox WHERE job_id = ? "
                "ORDER BY created_at",
                (job_id,),
            )
            .fetchall()
        )
        return [
            {
                "id": row["id"],
                "event": row["event"],
                "attempts": row["attempts"],
                "delivered_at": iso_time(row["delivered_at"]),
                "given_up": bool(row["dead"]),
                "last_error": row["last_error"],
                "last_status": row["last_status"],
                "next_attempt_at": (
                    None if row["delivered_at"] else iso_time(row["next_attempt_at"])
                ),
            }
            for row in rows
        ]
