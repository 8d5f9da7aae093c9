"""The webhook outbox: one message per event a job's webhook subscribes to.

A message is written by :meth:`Outbox.enqueue` inside the transaction of the job
change it reports (the store calls it there), so a crash can lose neither the change
nor its notification. Dispatchers claim due messages for a while, so two never send
the same message at once, and record each attempt; a message stays until it is
delivered or given up.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .database import Database
from .job import Job, iso_time

__all__ = ["Outbox", "OutboxMessage"]


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


class Outbox:
    """The outbox table of a job database.

    Args:
        db: the job database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- inside a job's transaction --------------------------------------------------

    def enqueue(self, db: sqlite3.Connection, job: Job, event: str) -> None:
        """Write the message for ``event`` if the job's webhook subscribes to it.

        Args:
            db: the connection of the open transaction that changed the job.
            job: the job as the change left it (the payload shows it so).
            event: ``job.queued``, ``job.started``, ...
        """
        if job.webhook is None or event not in job.webhook.events:
            return
        now = self._db.clock()
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = json.dumps(
            {"type": event, "timestamp": iso_time(now), "data": job.public()},
            sort_keys=True,
            separators=(",", ":"),
        )
        db.execute(
            "INSERT INTO outbox (id, job_id, event, url, payload, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (message_id, job.id, event, job.webhook.url, payload, now, now),
        )

    @staticmethod
    def discard(db: sqlite3.Connection, job_ids: Sequence[str]) -> None:
        """Delete every message of these jobs (they are being deleted)."""
        for job_id in job_ids:
            db.execute("DELETE FROM outbox WHERE job_id = ?", (job_id,))

    @staticmethod
    def pending(db: sqlite3.Connection) -> int:
        """The number of messages still to deliver (neither delivered nor given up)."""
        return int(
            db.execute(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead = 0"
            ).fetchone()[0]
        )

    # -- dispatchers ---------------------------------------------------------------

    def claim_messages(
        self, *, limit: int, claim_seconds: float
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due webhook messages for ``claim_seconds``.

        A claimed message is not handed to another dispatcher (another process on the
        same database) until the claim runs out, so a slow receiver does not get the
        same message twice at once; after a crash the claim runs out and it is retried.
        """
        now = self._db.clock()
        with self._db.write() as db:
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
        now = self._db.clock()
        with self._db.write() as db:
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
        with self._db.write() as db:
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

    # -- people --------------------------------------------------------------------

    def messages(self, job_id: str) -> list[dict[str, Any]]:
        """Every webhook message of a job with its delivery state (for people)."""
        rows = (
            self._db.reader()
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
