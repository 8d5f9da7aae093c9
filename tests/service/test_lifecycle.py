"""A job's life beyond the happy path: a stop with streams open, a poison file in the
hot folder, deleting and expiring jobs, re-cancel, wrong artifact names, every state
in the event stream, a lost webhook secret, and serve without its extra."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fakebuild
import httpx
import pytest
from servicekit import Running, ServerProcess, spec_for
from test_http_api import read_events

from aebridge.client import Client, ConflictError, JobNotFoundError


def wait_until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow  # a real aebridge serve subprocess
def test_sigterm_with_an_event_stream_open_stops_at_once_and_requeues(
    server_process: ServerProcess,
) -> None:
    server_process.start()
    with Client(server_process.url) as client:
        running = client.submit(spec_for("a", frames=200))["id"]
        waiting = client.submit(spec_for("b", frames=3))["id"]
        wait_until(lambda: client.get(running)["progress"]["frames_done"] >= 2)
    streamed: list[str] = []

    def follow() -> None:
        with httpx.stream(
            "GET", f"{server_process.url}/v1/jobs/{running}/events", timeout=60
        ) as response:
            streamed.extend(response.iter_lines())

    reader = threading.Thread(target=follow)
    reader.start()
    wait_until(lambda: any(line.startswith("event:") for line in streamed))
    assert server_process.proc is not None
    started = time.monotonic()
    server_process.proc.send_signal(signal.SIGTERM)
    server_process.proc.wait(30)
    stopped_in = time.monotonic() - started
    reader.join(10)
    assert not reader.is_alive(), "the event stream did not end"
    assert stopped_in < 5, f"the server took {stopped_in:.1f} s to stop"
    db = sqlite3.connect(server_process.tmp_path / "data" / "aebridge.db")
    rows = dict(
        (row[0], row[1:])
        for row in db.execute(
            "SELECT id, status, lease_owner, attempts, crashes FROM jobs"
        )
    )
    assert rows[running] == ("queued", None, 1, 0)  # back in the queue, no crash
    assert rows[waiting] == ("queued", None, 0, 0)  # never claimed after the signal


def test_a_poison_file_is_moved_aside_and_the_hot_folder_goes_on(
    tmp_path: Path,
    inputs: Path,
    start_server: Callable[..., Running],
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a_deep.json").write_bytes(b"[" * 3000 + b"]" * 3000)
    (folder / "b_surrogate.json").write_bytes(b'{"comp": {"name": "\\udc80"}}')
    (folder / "c_not_json.json").write_bytes(b"{oops")
    good = spec_for("sh010")
    good["layers"][0]["source"]["path"] = str(inputs / "fg" / "fg.####.png")
    (folder / "d_good.json").write_text(json.dumps(good), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="aebridge.service.watch"):
        start_server(watch_dirs=(folder,), watch_interval=0.05)
        result = folder / "d_good.result.json"
        wait_until(result.exists)
        time.sleep(0.3)  # more scans
    assert json.loads(result.read_text())["status"] == "succeeded"
    rejected = folder / "rejected"
    for name, words in [
        ("a_deep", "nested deeper"),
        ("b_surrogate", "lone surrogate"),
        ("c_not_json", "not valid JSON"),
    ]:
        assert not (folder / f"{name}.json").exists()
        assert (rejected / f"{name}.json").exists()
        error = json.loads((rejected / f"{name}.error.json").read_text())
        assert error["failure"]["code"] == "malformed_body"
        assert words in error["failure"]["message"]
        logged = [r for r in caplog.records if f"{name}.json" in r.getMessage()]
        assert len(logged) == 1, logged  # said once, not at every scan


def test_a_job_can_be_deleted_once_it_is_not_running(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, "0.1")
    job_id = server.client.submit(spec_for(frames=40))["id"]
    wait_until(lambda: server.client.get(job_id)["status"] == "running")
    response = httpx.delete(f"{server.url}/v1/jobs/{job_id}")
    assert response.status_code == 409 and response.json()["code"] == "job_conflict"
    server.client.cancel(job_id)
    server.client.wait(job_id, 20, 0.05)
    folder = server.service.config.outputs / job_id
    assert folder.is_dir()
    response = httpx.delete(f"{server.url}/v1/jobs/{job_id}")
    assert response.status_code == 204 and response.content == b""
    assert not folder.exists()
    with pytest.raises(JobNotFoundError):
        server.client.get(job_id)
    assert httpx.delete(f"{server.url}/v1/jobs/{job_id}").status_code == 404


def test_finished_jobs_expire_after_the_retention(
    start_server: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = start_server(retention_days=1.5 / 86400)  # 1.5 s
    job_id = running.client.submit(spec_for())["id"]
    running.client.wait(job_id, 20, 0.05)
    folder = running.service.config.outputs / job_id
    assert folder.is_dir()
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, "0.1")
    unfinished = running.client.submit(spec_for("later", frames=200))["id"]
    wait_until(lambda: not folder.exists(), timeout=10)
    with pytest.raises(JobNotFoundError):
        running.client.get(job_id)
    assert running.client.get(unfinished)["status"] == "running"
    running.client.cancel(unfinished)


def test_canceling_a_canceled_job_answers_409(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, "0.1")
    slowed = server.client.submit(spec_for("first", frames=100))["id"]
    job_id = server.client.submit(spec_for("second"))["id"]
    server.client.cancel(job_id)
    with pytest.raises(ConflictError, match="already canceled") as info:
        server.client.cancel(job_id)
    assert info.value.status == 409 and info.value.code == "job_conflict"
    server.client.cancel(slowed)


@pytest.mark.parametrize("name", ["shot/missing.jsx", "shot/layers/fg0/fg0.1001.frame"])
def test_a_wrong_artifact_name_is_404_not_found(server: Running, name: str) -> None:
    job_id = server.client.submit(spec_for())["id"]
    server.client.wait(job_id, 20, 0.05)
    response = httpx.get(f"{server.url}/v1/jobs/{job_id}/artifacts/{name}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert name not in body["detail"]


def test_the_event_stream_sends_every_state_the_job_passed(server: Running) -> None:
    """A quick job passes queued and running between two looks of the stream."""
    job_id = server.client.submit(spec_for(frames=1))["id"]
    server.client.wait(job_id, 20, 0.05)
    events = read_events(f"{server.url}/v1/jobs/{job_id}/events")
    statuses = [name for _i, name, _d in events if name != "progress"]
    assert statuses == ["queued", "running", "succeeded"]
    assert [data["status"] for _i, name, data in events if name != "progress"] == (
        statuses
    )
    ids = [int(i) for i, _n, _d in events]
    assert ids == sorted(ids)
    # A reconnect after the second event gets the rest only.
    again = read_events_after(server, job_id, ids[1])
    assert [int(i) for i, _n, _d in again] == ids[2:]


def read_events_after(
    server: Running, job_id: str, last: int
) -> list[tuple[str, str, dict[str, Any]]]:
    events = []
    with httpx.stream(
        "GET",
        f"{server.url}/v1/jobs/{job_id}/events",
        headers={"last-event-id": str(last)},
        timeout=20,
    ) as response:
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if not line and "data" in fields:
                events.append(
                    (fields["id"], fields["event"], json.loads(fields["data"]))
                )
                fields = {}
            elif line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
    return events


def test_a_lost_webhook_secret_comes_back_with_a_replay_or_a_rotation(
    server: Running,
) -> None:
    webhook = {"url": "http://127.0.0.1:9/hook"}
    first = server.client.submit(spec_for(), idempotency_key="k", webhook=webhook)
    replay = server.client.submit(spec_for(), idempotency_key="k", webhook=webhook)
    assert replay["id"] == first["id"]
    assert replay["webhook_secret"] == first["webhook_secret"]
    rotated = server.client._request(
        "POST", f"/v1/jobs/{first['id']}/webhook/secret"
    ).json()
    assert rotated["webhook_secret"].startswith("whsec_")
    assert rotated["webhook_secret"] != first["webhook_secret"]
    stored = server.service.store.get(first["id"]).webhook
    assert stored is not None and stored.secret == rotated["webhook_secret"]
    # A secret the client chose is never sent back.
    from aebridge.service.webhooks import new_secret

    chosen = {**webhook, "secret": new_secret()}
    mine = server.client.submit(spec_for("b"), idempotency_key="k2", webhook=chosen)
    again = server.client.submit(spec_for("b"), idempotency_key="k2", webhook=chosen)
    assert "webhook_secret" not in mine and "webhook_secret" not in again
    no_hook = server.client.submit(spec_for("c"))["id"]
    response = httpx.post(f"{server.url}/v1/jobs/{no_hook}/webhook/secret")
    assert response.status_code == 409


def test_serve_without_the_service_extra_says_which_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['uvicorn'] = None; sys.modules['fastapi'] = None\n"
        "from aebridge.cli import main\n"
        f"main(['serve', '--data', {str(tmp_path)!r}])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert "pip install 'aebridge[service]'" in run.stderr
    assert "Traceback" not in run.stderr
