"""kill -9 in the middle of a job, then a restart: the job resumes from the frames
already written, finishes once, every frame is whole, and its webhook arrives.

The server runs as a real subprocess (``aebridge serve``) with a scripted build
(``fakebuild``) slowed to 0.1 s per frame, so the kill lands mid-job.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import fakebuild
import httpx
import pytest
from conftest import Receiver, spec_for

from aebridge.client import Client
from aebridge.service.webhooks import verify

HERE = Path(__file__).parent
FRAMES = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, tmp_path: Path, inputs: Path, port: int) -> None:
        self.tmp_path = tmp_path
        self.inputs = inputs
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.write_log = tmp_path / "writes.log"
        self.build = "fakebuild:build"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
        env[fakebuild.FRAME_DELAY_ENV] = "0.1"
        env[fakebuild.WRITE_LOG_ENV] = str(self.write_log)
        command = [
            sys.executable, "-m", "aebridge", "serve",
            "--port", str(self.port),
            "--data", str(self.tmp_path / "data"),
            "--input-root", str(self.inputs),
            "--lease-seconds", "1.5",
            "--build", self.build,
        ]  # fmt: skip
        log = open(self.tmp_path / "server.log", "ab")  # noqa: SIM115 (lives with proc)
        self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, (self.tmp_path / "server.log").read_text()
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def server_process(tmp_path: Path, inputs: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, inputs, free_port())
    yield process
    process.terminate()


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
