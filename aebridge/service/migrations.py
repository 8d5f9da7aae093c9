"""The job database's schema: named migrations, applied in order, each in its own
transaction together with the row that records it (as sqlite-utils' migrations.py
does).

``PRAGMA user_version`` holds the number applied. A database made before versioning
(the tables of 0001 without the table of applied migrations) adopts 0001 as it is:
every statement there is IF NOT EXISTS. The names, order and statements below are the
schema's history: a migration, once released, is never edited; a change is a new one
at the end.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OptionError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "NewerDatabaseError", "migrate"]


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
