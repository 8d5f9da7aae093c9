"""kill -9 in the middle of a job, then a restart: the job resumes from the frames
already written, finishes once, every frame is whole, and its webhook arrives.

The server runs as a real subprocess (``aebridge serve``) with a scripted build
(``fakebuild``) slowed to 0.1 s per frame, so the kill lands mid-job.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import fakebuild
from servicekit import Receiver, ServerProcess, spec_for

from aebridge.client import Client
from aebridge.service.webhooks import verify

HERE = Path(__file__).parent
FRAMES = 30


def test_kill_9_mid_job_then_restart_finishes_the_job_once(
    server_process: ServerProcess, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    server_process.start()
    with Client(server_process.url) as client:
        job = client.submit(spec_for(frames=FRAMES), webhook={"url": hook.url})
        secret = job["webhook_secret"]
        deadline = time.monotonic() + 20
        while client.get(job["id"])["progress"]["frames_done"] < 8:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    server_process.kill9()
    killed_at = len(server_process.write_log.read_text().splitlines())
    assert 8 <= killed_at < FRAMES

    server_process.start()
    with Client(server_process.url) as client:
        done = client.wait(job["id"], timeout=30, poll=0.1)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert done["progress"] == {"frames_done": FRAMES, "frames_total": FRAMES}

    folder = Path(server_process.tmp_path / "data" / "output" / job["id"])
    frames = sorted((folder / "shot" / "layers" / "fg0").glob("*.frame"))
    assert len(frames) == FRAMES
    assert all(fakebuild.frame_is_whole(f) for f in frames)
    # Resumed, not redone: frames written before the kill were not written again
    # (the frame being written at the kill may be written twice).
    writes = Counter(server_process.write_log.read_text().splitlines())
    assert len(writes) == FRAMES
    assert sum(writes.values()) <= FRAMES + 1

    (headers, body), *_rest = hook.wait_for(1)
    assert verify(secret, headers, body).startswith("msg_")
    assert hook.events() == ["job.succeeded"]
    db = sqlite3.connect(server_process.tmp_path / "data" / "aebridge.db")
    assert db.execute(
        "SELECT completions FROM jobs WHERE id = ?", (job["id"],)
    ).fetchone() == (1,)


def test_a_graceful_stop_requeues_the_running_job_without_waiting_for_the_lease(
    server_process: ServerProcess,
) -> None:
    server_process.start()
    with Client(server_process.url) as client:
        job = client.submit(spec_for(frames=FRAMES))
        deadline = time.monotonic() + 20
        while client.get(job["id"])["progress"]["frames_done"] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    server_process.terminate()
    db = sqlite3.connect(server_process.tmp_path / "data" / "aebridge.db")
    assert db.execute(
        "SELECT status, lease_owner FROM jobs WHERE id = ?", (job["id"],)
    ).fetchone() == ("queued", None)
    db.close()
    server_process.start()
    with Client(server_process.url) as client:
        done = client.wait(job["id"], timeout=30, poll=0.1)
    assert done["status"] == "succeeded"
