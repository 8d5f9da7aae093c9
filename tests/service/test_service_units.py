"""The service's parts without HTTP: job store, leases, outbox, signing, path rules."""

from __future__ import annotations

import json
import os
import random
import sqlite3
from pathlib import Path

import pytest

from aebridge.errors import OptionError
from aebridge.service.job import (
    Failure,
    IdempotencyConflictError,
    JobConflictError,
    JobNotFoundError,
    JobStatus,
    WebhookTarget,
)
from aebridge.service.security import (
    PathNotAllowedError,
    check_bind,
    is_loopback,
    resolve_input,
    token_matches,
)
from aebridge.service.store import Store
from aebridge.service.watch import outcome_paths
from aebridge.service.webhooks import (
    WebhookVerificationError,
    decode_secret,
    new_secret,
    retry_delay,
    sign,
    verify,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Store:
    return Store(tmp_path / "db" / "aebridge.db", clock=clock)


HOOK = WebhookTarget(
    url="http://127.0.0.1:9/hook",
    events=("job.started", "job.succeeded", "job.failed", "job.canceled"),
    secret=new_secret(),
)


def create(
    store: Store,
    tmp_path: Path,
    key: str | None = None,
    body: str = "b1",
    webhook: WebhookTarget | None = HOOK,
):
    return store.create(
        request=json.dumps({"spec": {}, "options": {}}),
        body_hash=body,
        idempotency_key=key,
        base_dir=tmp_path,
        output_root=tmp_path / "out",
        webhook=webhook,
    )


def outbox_events(store: Store, job_id: str) -> list[str]:
    return [m["event"] for m in store.outbox.messages(job_id)]


# -- store ---------------------------------------------------------------------------


def test_database_is_in_wal_mode(store: Store, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "db" / "aebridge.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_new_job_is_queued_with_its_own_output_folder(
    store: Store, tmp_path: Path
) -> None:
    job, created = create(store, tmp_path)
    assert created and job.status is JobStatus.QUEUED
    assert job.id.startswith("job_") and job.out_dir == str(tmp_path / "out" / job.id)
    assert store.get(job.id).public()["progress"] == {
        "frames_done": 0,
        "frames_total": 0,
    }


def test_same_idempotency_key_and_body_give_the_same_job(
    store: Store, tmp_path: Path
) -> None:
    first, created1 = create(store, tmp_path, key="k1")
    again, created2 = create(store, tmp_path, key="k1")
    assert (created1, created2) == (True, False) and again.id == first.id
    assert store.counts()["queued"] == 1


def test_same_idempotency_key_with_another_body_is_refused(
    store: Store, tmp_path: Path
) -> None:
    first, _ = create(store, tmp_path, key="k1")
    with pytest.raises(
        IdempotencyConflictError, match="different request body"
    ) as info:
        create(store, tmp_path, key="k1", body="other")
    assert info.value.job_id == first.id and info.value.code == "idempotency_key_reused"


def test_unknown_job_is_not_found(store: Store) -> None:
    with pytest.raises(JobNotFoundError, match="no job with id 'job_x'"):
        store.get("job_x")


def test_list_filters_by_status_and_pages_with_a_cursor(
    store: Store, tmp_path: Path
) -> None:
    ids = [create(store, tmp_path, webhook=None)[0].id for _ in range(5)]
    store.cancel(ids[1])
    page1, cursor = store.list_jobs(limit=2)
    page2, cursor2 = store.list_jobs(limit=2, cursor=cursor)
    page3, cursor3 = store.list_jobs(limit=2, cursor=cursor2)
    assert [j.id for j in page1 + page2 + page3] == ids[::-1]
    assert cursor3 is None
    queued, _ = store.list_jobs(statuses=[JobStatus.QUEUED])
    assert [j.id for j in queued] == [ids[4], ids[3], ids[2], ids[0]]


def test_a_cursor_that_we_did_not_make_is_refused(store: Store) -> None:
    with pytest.raises(OptionError, match="cursor: 'nonsense!' is not allowed"):
        store.list_jobs(cursor="nonsense!")
    with pytest.raises(
        OptionError, match=r"limit: 0 is not allowed; allowed: 1\.\.500"
    ):
        store.list_jobs(limit=0)


def test_claim_leases_the_oldest_job_and_emits_started(
    store: Store, tmp_path: Path
) -> None:
    first, _ = create(store, tmp_path)
    create(store, tmp_path)
    job = store.claim("w1", 10)
    assert job is not None and job.id == first.id
    assert (
        job.status is JobStatus.RUNNING
        and job.lease_owner == "w1"
        and job.attempts == 1
    )
    assert outbox_events(store, first.id) == ["job.started"]


def test_only_the_lease_holder_records_progress_or_finishes(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    create(store, tmp_path)
    job = store.claim("w1", 10)
    assert job is not None
    assert store.progress(
        job.id, "w2", stage="convert", layer="fg", frames_done=1, frames_total=3
    ) == (False, False)
    assert store.finish(job.id, "w2", status=JobStatus.SUCCEEDED, result={}) is False
    assert store.progress(
        job.id, "w1", stage="convert", layer="fg", frames_done=2, frames_total=3
    ) == (True, False)
    assert store.get(job.id).frames_done == 2


def test_expired_lease_is_requeued_and_the_old_worker_cannot_finish(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    create(store, tmp_path)
    job = store.claim("dead-worker", 10)
    assert job is not None
    clock.now += 5
    assert store.requeue_expired(max_attempts=5) == []  # lease still valid
    clock.now += 6
    assert store.requeue_expired(max_attempts=5) == [job.id]
    assert store.get(job.id).status is JobStatus.QUEUED
    again = store.claim("new-worker", 10)
    assert again is not None and again.id == job.id and again.attempts == 2
    assert store.finish(job.id, "dead-worker", status=JobStatus.SUCCEEDED) is False
    assert store.finish(
        job.id, "new-worker", status=JobStatus.SUCCEEDED, result={"a": 1}
    )
    assert store.finish(job.id, "new-worker", status=JobStatus.SUCCEEDED) is False
    done = store.get(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.completions == 1
    # started is sent once (first attempt), the outcome once.
    assert outbox_events(store, job.id) == ["job.started", "job.succeeded"]


def test_heartbeat_keeps_the_lease_alive(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    create(store, tmp_path)
    job = store.claim("w1", 10)
    assert job is not None
    for _ in range(5):
        clock.now += 8
        assert store.heartbeat(job.id, "w1", 10) == (True, False)
        assert store.requeue_expired(max_attempts=5) == []


def test_a_job_that_keeps_killing_its_server_fails(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    create(store, tmp_path)
    for attempt in range(3):
        job = store.claim(f"w{attempt}", 1)
        assert job is not None
        clock.now += 2
        store.requeue_expired(max_attempts=3)
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.failure is not None and failed.failure.code == "too_many_attempts"
    assert "stopped without finishing it 3 times" in failed.failure.message
    assert outbox_events(store, job.id)[-1] == "job.failed"


def test_cancel_queued_is_immediate_running_is_requested_finished_is_refused(
    store: Store, tmp_path: Path
) -> None:
    queued, _ = create(store, tmp_path)
    running, _ = create(store, tmp_path)
    done, _ = create(store, tmp_path)
    store.cancel(queued.id)
    assert store.get(queued.id).status is JobStatus.CANCELED
    assert outbox_events(store, queued.id) == ["job.canceled"]
    assert store.claim("w", 10).id == running.id  # type: ignore[union-attr]
    after = store.cancel(running.id)
    assert after.status is JobStatus.RUNNING and after.cancel_requested
    assert store.heartbeat(running.id, "w", 10) == (True, True)
    assert store.claim("w", 10).id == done.id  # type: ignore[union-attr]
    store.finish(done.id, "w", status=JobStatus.SUCCEEDED, result={})
    with pytest.raises(JobConflictError, match="already succeeded"):
        store.cancel(done.id)
    with pytest.raises(JobConflictError, match="already canceled"):
        store.cancel(queued.id)  # again: a conflict, as documented


def test_failure_fields_are_kept(store: Store, tmp_path: Path) -> None:
    create(store, tmp_path)
    job = store.claim("w", 10)
    assert job is not None
    store.finish(
        job.id,
        "w",
        status=JobStatus.FAILED,
        failure=Failure(
            code="bad_source", message="fg.1002.png: truncated", retryable=False
        ),
    )
    public = store.get(job.id).public()
    assert public["failure"] == {
        "code": "bad_source",
        "message": "fg.1002.png: truncated",
        "retryable": False,
    }


def test_outbox_row_is_written_in_the_same_transaction_as_the_change(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(store, tmp_path)
    job = store.claim("w", 10)
    assert job is not None

    def broken_emit(*_args: object) -> None:
        raise RuntimeError("disk full while writing the outbox")

    monkeypatch.setattr(store, "_emit", broken_emit)
    with pytest.raises(RuntimeError):
        store.finish(job.id, "w", status=JobStatus.SUCCEEDED, result={})
    # The state change rolled back with the outbox row: no silent success.
    assert store.get(job.id).status is JobStatus.RUNNING


def test_webhook_payload_shows_the_job_as_the_event_left_it(
    store: Store, tmp_path: Path
) -> None:
    create(store, tmp_path)
    job = store.claim("w", 10)
    assert job is not None
    store.finish(job.id, "w", status=JobStatus.SUCCEEDED, result={"script": "a.jsx"})
    messages = store.outbox.claim_messages(limit=10, claim_seconds=30)
    payloads = {m.event: json.loads(m.payload) for m in messages}
    assert payloads["job.succeeded"]["data"]["status"] == "succeeded"
    assert payloads["job.succeeded"]["data"]["result"] == {"script": "a.jsx"}
    assert payloads["job.started"]["data"]["status"] == "running"
    assert all(m.secret == HOOK.secret for m in messages)
    # Claimed messages are not handed out twice while the claim lasts.
    assert store.outbox.claim_messages(limit=10, claim_seconds=30) == []


def test_failed_delivery_is_retried_later_then_given_up(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    queued, _ = create(store, tmp_path)
    store.cancel(queued.id)
    (message,) = store.outbox.claim_messages(limit=10, claim_seconds=30)
    store.outbox.delivery_failed(message.id, error="HTTP 503", retry_at=clock.now + 60)
    assert store.outbox.claim_messages(limit=10, claim_seconds=30) == []
    clock.now += 61
    (again,) = store.outbox.claim_messages(limit=10, claim_seconds=30)
    assert again.id == message.id and again.attempts == 1
    store.outbox.delivery_failed(message.id, error="HTTP 503", retry_at=None)
    clock.now += 10_000
    assert store.outbox.claim_messages(limit=10, claim_seconds=30) == []
    (state,) = store.outbox.messages(queued.id)
    assert (
        state["given_up"]
        and state["attempts"] == 2
        and state["last_error"] == "HTTP 503"
    )


# -- webhooks --------------------------------------------------------------------------


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # The example from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_verify_accepts_a_good_message_and_refuses_tampering() -> None:
    secret = new_secret()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1000",
        "webhook-signature": "v1,bogus " + sign(secret, "msg_1", 1000, b"{}"),
    }
    assert verify(secret, headers, b"{}", now=1010) == "msg_1"
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify(secret, headers, b'{"x":1}', now=1010)
    with pytest.raises(WebhookVerificationError, match="more than 300 s from now"):
        verify(secret, headers, b"{}", now=2000)
    with pytest.raises(WebhookVerificationError, match="missing header webhook-id"):
        verify(secret, {}, b"{}", now=1000)


def test_secrets_are_whsec_base64_of_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(decode_secret(secret)) == 24
    assert new_secret() != secret
    with pytest.raises(OptionError, match="'whsec_' followed by base64"):
        decode_secret("plain-text")


def test_retry_delay_doubles_with_jitter_and_a_cap() -> None:
    rand = random.Random(1)
    for attempt, full in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        delays = [
            retry_delay(attempt, base=2.0, cap=60.0, rand=rand) for _ in range(200)
        ]
        assert min(delays) >= full / 2 and max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # jittered, not constant


# -- security --------------------------------------------------------------------------


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "example.com"))


def test_binding_beyond_loopback_needs_a_token() -> None:
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "s3cret")
    with pytest.raises(
        OptionError, match=r"--host: '0\.0\.0\.0' is not allowed.*bearer token"
    ):
        check_bind("0.0.0.0", None)


def test_token_is_checked_as_a_bearer_header() -> None:
    assert token_matches("Bearer s3cret", "s3cret")
    assert token_matches("bearer s3cret", "s3cret")
    assert not token_matches("Bearer wrong", "s3cret")
    assert not token_matches("Basic s3cret", "s3cret")
    assert not token_matches(None, "s3cret")


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    root = (tmp_path / "root").resolve()
    (root / "shot").mkdir(parents=True)
    (root / "shot" / "fg.1001.png").write_bytes(b"x")
    outside = (tmp_path / "outside").resolve()
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"x")
    return root, outside


def test_paths_inside_the_roots_resolve(roots: tuple[Path, Path]) -> None:
    root, _ = roots
    got = resolve_input("shot/fg.####.png", base_dir=root, roots=[root], spec_path="p")
    assert got == root / "shot" / "fg.####.png"
    absolute = str(root / "shot" / "fg.1001.png")
    assert resolve_input(absolute, base_dir=root, roots=[root], spec_path="p") == Path(
        absolute
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("../outside/secret.png", "contains '..'"),
        ("shot/../../outside/secret.png", "contains '..'"),
        ("shot\\..\\..\\outside\\secret.png", "contains '..'"),
        ("/etc/passwd", "is outside the input roots"),
    ],
)
def test_climbing_out_of_the_roots_is_refused(
    roots: tuple[Path, Path], text: str, why: str
) -> None:
    root, _ = roots
    with pytest.raises(PathNotAllowedError) as info:
        resolve_input(
            text, base_dir=root, roots=[root], spec_path="layers[0].source.path"
        )
    (problem,) = info.value.problems
    assert problem.path == "layers[0].source.path" and why in problem.message
    assert info.value.code == "path_not_allowed"


def test_symlink_escapes_are_refused(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    os.symlink(outside, root / "link_dir")
    os.symlink(outside / "secret.png", root / "shot" / "fg.1002.png")
    with pytest.raises(
        PathNotAllowedError, match=r"'link_dir/secret\.png', which leads outside"
    ):
        resolve_input("link_dir/secret.png", base_dir=root, roots=[root], spec_path="p")
    with pytest.raises(
        PathNotAllowedError, match=r"reads 'shot/fg\.1002\.png', which leads outside"
    ):
        resolve_input("shot/fg.####.png", base_dir=root, roots=[root], spec_path="p")
    with pytest.raises(PathNotAllowedError, match="which leads outside the input"):
        resolve_input("shot", base_dir=root, roots=[root], spec_path="p")


def test_hot_folder_outcome_files_sit_beside_the_spec() -> None:
    assert outcome_paths(Path("/drop/sh010.json")) == (
        Path("/drop/sh010.result.json"),
        Path("/drop/sh010.error.json"),
    )


# -- schema and lifecycle in the store -------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL, stage TEXT, layer TEXT,
    frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER NOT NULL DEFAULT 0,
    request TEXT NOT NULL, body_hash TEXT NOT NULL, idempotency_key TEXT UNIQUE,
    base_dir TEXT NOT NULL, out_dir TEXT NOT NULL, webhook_url TEXT,
    webhook_events TEXT, webhook_secret TEXT, error_code TEXT, error_message TEXT,
    retryable INTEGER, result TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT, lease_expires REAL, attempts INTEGER NOT NULL DEFAULT 0,
    completions INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, started_at REAL,
    finished_at REAL
);
CREATE INDEX jobs_status ON jobs(status, seq);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY, job_id TEXT NOT NULL, event TEXT NOT NULL, url TEXT NOT NULL,
    payload TEXT NOT NULL, created_at REAL NOT NULL, next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, claimed_until REAL NOT NULL DEFAULT 0,
    delivered_at REAL, dead INTEGER NOT NULL DEFAULT 0, last_error TEXT
);
CREATE INDEX outbox_due ON outbox(delivered_at, dead, next_attempt_at);
INSERT INTO jobs (id, status, request, body_hash, base_dir, out_dir, created_at,
    updated_at, attempts) VALUES ('job_old', 'queued', '{}', 'h', '/b', '/o', 1, 1, 2);
"""


def test_a_database_from_before_versioning_is_migrated_in_place(
    tmp_path: Path,
) -> None:
    from aebridge.service.migrations import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "aebridge.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    job = store.get("job_old")
    assert (job.status, job.attempts, job.crashes) == (JobStatus.QUEUED, 2, 0)
    names = [
        row[0]
        for row in sqlite3.connect(path).execute(
            "SELECT name FROM aebridge_migrations ORDER BY name"
        )
    ]
    assert names == [m.name for m in MIGRATIONS]
    store.close()
    assert Store(path).schema_version == SCHEMA_VERSION  # idempotent on reopen


def test_a_failing_migration_leaves_the_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aebridge.service import migrations
    from aebridge.service.migrations import Migration

    path = tmp_path / "aebridge.db"
    Store(path).close()
    broken = (
        *migrations.MIGRATIONS,
        Migration(
            "9999_broken",
            ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"),
        ),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        Store(path)
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    assert (
        db.execute("PRAGMA user_version").fetchone()[0]
        == len(migrations.MIGRATIONS) - 1
    )


def test_a_database_from_a_newer_aebridge_is_refused(tmp_path: Path) -> None:
    from aebridge.service.migrations import NewerDatabaseError

    path = tmp_path / "aebridge.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO aebridge_migrations VALUES ('0099_from_the_future', 0)")
    db.commit()
    with pytest.raises(NewerDatabaseError, match="0099_from_the_future; upgrade"):
        Store(path)


def test_stores_opening_one_new_database_at_once_migrate_it_once(
    tmp_path: Path,
) -> None:
    import threading

    from aebridge.service.migrations import SCHEMA_VERSION

    path = tmp_path / "aebridge.db"
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            Store(path).close()
        except BaseException as exc:  # pragma: no cover - the failure shown
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Store(path).schema_version == SCHEMA_VERSION


def test_stores_opening_new_databases_at_once_never_find_them_locked(
    tmp_path: Path,
) -> None:
    """Switching a new database to WAL failed 'database is locked' in about one of
    eight rounds of four stores opening it at once (SQLite answers busy without
    waiting when another connection holds a shared lock)."""
    import threading

    errors: list[BaseException] = []

    def open_store(path: Path) -> None:
        try:
            Store(path).close()
        except BaseException as exc:  # pragma: no cover - the failure shown
            errors.append(exc)

    for round_ in range(60):
        path = tmp_path / f"{round_}.db"
        threads = [threading.Thread(target=open_store, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []


def test_stops_that_requeue_a_job_do_not_count_as_failed_starts(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    """Four clean restarts and one kill -9 used to fail a healthy job."""
    job, _ = create(store, tmp_path)
    for _ in range(4):
        assert store.claim("w", 10) is not None
        assert store.release(job.id, "w")  # SIGTERM: back in the queue
    assert store.claim("killed", 10) is not None
    clock.now += 11
    assert store.requeue_expired(max_attempts=5) == [job.id]
    again = store.get(job.id)
    assert again.status is JobStatus.QUEUED
    assert (again.attempts, again.crashes) == (5, 1)


def test_a_job_whose_server_keeps_dying_fails_after_max_attempts(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    job, _ = create(store, tmp_path)
    for _ in range(3):
        assert store.claim("w", 1) is not None
        clock.now += 2
        store.requeue_expired(max_attempts=3)
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.crashes == 3
    assert failed.failure is not None
    assert "stopped without finishing it 3 times" in failed.failure.message


def test_canceling_a_canceled_job_is_a_conflict(store: Store, tmp_path: Path) -> None:
    job, _ = create(store, tmp_path)
    store.cancel(job.id)
    with pytest.raises(JobConflictError, match="already canceled"):
        store.cancel(job.id)


def test_delete_refuses_a_running_job_and_removes_the_rest(
    store: Store, tmp_path: Path
) -> None:
    running, _ = create(store, tmp_path, key="k")
    store.claim("w", 10)
    with pytest.raises(JobConflictError, match="is running; cancel it"):
        store.delete(running.id)
    store.finish(running.id, "w", status=JobStatus.SUCCEEDED, result={})
    assert store.delete(running.id).id == running.id
    with pytest.raises(JobNotFoundError):
        store.get(running.id)
    assert store.outbox.messages(running.id) == []
    again, created = create(store, tmp_path, key="k")  # the key is free again
    assert created and again.id != running.id


def test_expire_deletes_jobs_finished_before_the_cutoff(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    old, _ = create(store, tmp_path)
    store.cancel(old.id)
    clock.now += 100
    recent, _ = create(store, tmp_path)
    store.cancel(recent.id)
    queued, _ = create(store, tmp_path)
    assert [j.id for j in store.expire(clock.now - 50)] == [old.id]
    assert {j.id for j in store.list_jobs()[0]} == {recent.id, queued.id}


def test_every_status_a_job_passed_is_kept_in_order(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    job, _ = create(store, tmp_path)
    store.claim("w", 10)
    store.release(job.id, "w")
    store.claim("w", 10)
    store.progress(job.id, "w", stage="s", layer="l", frames_done=1, frames_total=2)
    store.finish(job.id, "w", status=JobStatus.SUCCEEDED, result={})
    now, steps = store.changes(job.id, 0)
    assert [status for _v, status, _j in steps] == [
        "queued",
        "running",
        "queued",
        "running",
        "succeeded",
    ]
    versions = [v for v, _s, _j in steps]
    assert versions == sorted(versions) and versions[-1] == now.version
    assert all(data["status"] == status for _v, status, data in steps)
    assert [s for _v, s, _j in store.changes(job.id, versions[2])[1]] == [
        "running",
        "succeeded",
    ]


def test_retention_deletes_every_expired_job_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aebridge.service import runtime
    from aebridge.service.config import ServiceConfig
    from aebridge.service.runtime import Service

    monkeypatch.setattr(runtime, "_EXPIRE_BATCH", 3)
    service = Service(
        ServiceConfig(data_dir=tmp_path / "data", input_roots=(tmp_path,)),
        build=lambda *a, **k: None,
        load_spec=lambda *a, **k: None,
    )
    try:
        ids = []
        for _ in range(7):
            job, _ = service.store.create(
                request="{}",
                body_hash="h",
                idempotency_key=None,
                base_dir=tmp_path,
                output_root=service.config.outputs,
                webhook=None,
            )
            service.store.cancel(job.id)
            (service.config.outputs / job.id).mkdir(parents=True)
            ids.append(job.id)
        monkeypatch.setattr(runtime.time, "time", lambda: 10**12)  # far ahead
        assert sorted(j.id for j in service.expire_jobs()) == sorted(ids)
        assert list(service.config.outputs.iterdir()) == []
    finally:
        service.store.close()


# -- background threads ----------------------------------------------------------------


def test_a_loop_thread_survives_a_failing_round_and_stops_within_its_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging
    import threading

    from aebridge.service.loop import LoopThread

    rounds: list[int] = []
    second = threading.Event()
    finished = threading.Event()

    def step() -> bool:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database is locked")
        if len(rounds) == 2:
            second.set()
        return False

    loop = LoopThread(
        step,
        name="test-loop",
        interval=60.0,
        log=logging.getLogger("test.loop"),
        failure="a test round failed",
        finish=finished.set,
    )
    with caplog.at_level(logging.ERROR, logger="test.loop"):
        loop.start()
        loop.wake()  # the first round raised; the next one comes when woken
        assert second.wait(10)
        loop.stop(timeout=10)
    # Stopped without waiting out the 60 s interval, and closed in its thread.
    assert finished.is_set() and loop.stopping
    assert rounds == [0, 1]
    assert [r.getMessage() for r in caplog.records] == ["a test round failed"]


def test_a_loop_thread_runs_again_at_once_while_its_step_has_more_to_do() -> None:
    import logging
    import threading

    from aebridge.service.loop import LoopThread

    left = [3]
    done = threading.Event()

    def step() -> bool:
        left[0] -= 1
        if left[0] == 0:
            done.set()
        return left[0] > 0

    loop = LoopThread(
        step,
        name="test-loop",
        interval=60.0,
        log=logging.getLogger("test.loop"),
        failure="never",
        wait_first=False,
    )
    loop.start()
    try:
        assert done.wait(10)  # three rounds, none waited for the 60 s interval
    finally:
        loop.stop(timeout=10)


def test_a_loop_thread_that_waits_first_can_be_stopped_before_its_first_round() -> None:
    import logging
    import threading

    from aebridge.service.loop import LoopThread

    rounds: list[None] = []
    finished = threading.Event()
    loop = LoopThread(
        lambda: rounds.append(None),
        name="test-loop",
        interval=60.0,
        log=logging.getLogger("test.loop"),
        failure="never",
        wait_first=True,
        finish=finished.set,
    )
    loop.start()
    loop.stop(timeout=10)
    assert finished.is_set() and rounds == []
