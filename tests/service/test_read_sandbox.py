"""Attacks on the input roots: every pattern form, folder sequence names, links
swapped in while a job waits or runs (against a real ``aebridge serve``), and no
server path in any message or result."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import racebuild
from servicekit import Running, ServerProcess, spec_for

from aebridge.client import Client, InvalidRequestError
from aebridge.synthetic import write_png_sequence

FRAMES = 8


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the input roots holding a 'secret' sequence like fg's."""
    folder = tmp_path / "outside"
    write_png_sequence(folder, "fg", frames=4, pattern="solid")
    return folder


@pytest.mark.parametrize(
    "pattern",
    [
        "fg/fg.####.png",
        "fg/fg.#.png",
        "fg/fg.@@@@.png",
        "fg/fg.%04d.png",
        "fg/fg.1001-1004#.png",
        "fg/fg.$F4.png",
        "fg/fg.$F.png",
        "fg",
    ],
)
def test_a_frame_linked_outside_is_refused_in_every_pattern_form(
    server: Running, inputs: Path, outside: Path, pattern: str
) -> None:
    (inputs / "fg" / "fg.1002.png").unlink()
    os.symlink(outside / "fg.1002.png", inputs / "fg" / "fg.1002.png")
    spec = spec_for()
    spec["layers"][0]["source"]["path"] = pattern
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    assert info.value.code == "path_not_allowed"
    (problem,) = info.value.problems
    assert problem.path == "layers[0].source.path"
    assert "fg.1002.png" in problem.message and str(outside) not in problem.message


def exr_layer(folder: str, name: str) -> dict[str, Any]:
    return {
        "id": "pre",
        "source": {
            "folder": folder,
            "name": name,
            "first": 1001,
            "last": 1001,
            "rate": "24",
            "width": 64,
            "height": 36,
        },
    }


@pytest.mark.parametrize(
    "name",
    ["../../outside/secret", "../outside/secret", "/ABS/secret", "sub/../../x"],
)
def test_a_folder_sequence_name_cannot_leave_its_folder(
    server: Running, inputs: Path, tmp_path: Path, name: str
) -> None:
    """An EXR sequence's ``name`` is a file name prefix: it is refused whether the
    file it points to exists or not (no existence oracle)."""
    secret = tmp_path / "outside" / "secret.1001.exr"
    secret.parent.mkdir(exist_ok=True)
    secret.write_bytes(b"not for you")
    (inputs / "pre").mkdir()
    name = name.replace("/ABS", str(tmp_path / "outside"))
    answers = []
    for exists in (True, False):
        if not exists:
            secret.unlink()
        spec = spec_for()
        spec["layers"] = [exr_layer("pre", name)]
        response = httpx.post(
            f"{server.url}/v1/jobs",
            json=spec,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "path_not_allowed"
        assert [p["path"] for p in body["problems"]] == ["layers[0].source.name"]
        answers.append(body)
    assert answers[0] == answers[1]
    # Nothing but the request's own text names a server path.
    assert str(tmp_path) not in json.dumps(answers).replace(name, "")


def test_a_folder_sequence_frame_linked_outside_is_refused(
    server: Running, inputs: Path, tmp_path: Path
) -> None:
    (inputs / "pre").mkdir()
    secret = tmp_path / "secret.1001.exr"
    secret.write_bytes(b"not for you")
    os.symlink(secret, inputs / "pre" / "pre.1001.exr")
    spec = spec_for()
    spec["layers"] = [exr_layer("pre", "pre")]
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    assert info.value.code == "path_not_allowed"
    assert [p.path for p in info.value.problems] == ["layers[0].source.folder"]


# -- links swapped in while the job waits or runs -------------------------------------


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow  # a real aebridge serve subprocess
@pytest.mark.parametrize(
    ("pause_at", "build_jobs"),
    [
        ("start", 1),  # swapped while the job is queued
        ("probed", 2),  # after every header was read; pixels read in worker processes
        ("2", 1),  # between frames: two written, the rest to come
    ],
)
def test_a_folder_swapped_for_an_outside_link_mid_job_is_not_read(
    server_process: ServerProcess,
    inputs: Path,
    tmp_path: Path,
    pause_at: str,
    build_jobs: int,
) -> None:
    outside = tmp_path / "outside"
    write_png_sequence(inputs / "fg", "fg", frames=FRAMES)
    write_png_sequence(outside, "fg", frames=FRAMES, pattern="solid")
    inside_hashes = {sha(p) for p in (inputs / "fg").iterdir()}
    outside_hashes = {sha(p) for p in outside.iterdir()}
    pause = tmp_path / "pause"
    pause.mkdir()
    server_process.build = "racebuild:build"
    server_process.env = {
        racebuild.PAUSE_DIR_ENV: str(pause),
        racebuild.PAUSE_AT_ENV: pause_at,
    }
    server_process.extra = ["--build-jobs", str(build_jobs)]
    server_process.start()
    with Client(server_process.url) as client:
        job = client.submit(spec_for(frames=FRAMES))
        deadline = time.monotonic() + 60
        while not (pause / "paused").exists():
            assert time.monotonic() < deadline, server_process.log
            time.sleep(0.02)
        (inputs / "fg").rename(inputs / "fg_before")
        os.symlink(outside, inputs / "fg")
        (pause / "go").write_text("")
        done = client.wait(job["id"], timeout=60, poll=0.1)
    assert done["status"] == "failed", done
    failure = done["failure"]
    assert failure["code"] == "path_not_allowed", failure
    assert failure["message"].startswith("fg"), failure  # relative to the root
    text = json.dumps(done)
    assert str(tmp_path) not in text and str(inputs) not in text
    output = tmp_path / "data" / "output" / job["id"]
    from aebridge.exr import read_header

    for frame in output.rglob("*.exr"):
        source = str(read_header(frame)["aebridge/sourceSha256"])
        assert source in inside_hashes and source not in outside_hashes
    for file in output.rglob("*"):
        if file.is_file() and file.suffix != ".exr":
            assert str(outside) not in file.read_text(errors="replace")


# -- no server path in answers -------------------------------------------------------


def test_messages_and_results_show_paths_relative_to_the_roots(
    start_server: Callable[..., Running], inputs: Path, tmp_path: Path
) -> None:
    from aebridge.api import build

    running = start_server(build=build, build_jobs=1)
    missing = spec_for()
    missing["layers"][0]["source"]["path"] = "fg/nothing.####.png"
    refused = httpx.post(f"{running.url}/v1/jobs", json=missing)
    assert refused.status_code == 422
    assert "fg/nothing" in refused.text
    # A frame that breaks after the spec was accepted: the build's own error.
    spec = spec_for(frames=4)
    accepted = running.client.submit(spec)
    done = running.client.wait(accepted["id"], timeout=60, poll=0.1)
    assert done["status"] == "succeeded", done
    (inputs / "fg" / "fg.1003.png").write_bytes(b"broken")
    spec["comp"]["name"] = "again"
    failed = running.client.wait(running.client.submit(spec)["id"], 60, 0.1)
    # The build's source preflight finds it (a spec problem at the source's path).
    assert failed["failure"]["code"] == "invalid_spec"
    assert "fg/fg.1003.png" in failed["failure"]["message"]
    for text in (refused.text, json.dumps(done), json.dumps(failed)):
        assert str(tmp_path) not in text, text


def test_a_hot_folder_spec_linked_outside_is_not_read(
    tmp_path: Path, start_server: Callable[..., Running]
) -> None:
    """A dropped ``x.json`` that links to a JSON file elsewhere on the server: its
    content would come back in the refusal's messages."""
    folder = tmp_path / "drop"
    folder.mkdir()
    secret = tmp_path / "private" / "settings.json"
    secret.parent.mkdir()
    secret.write_text('{"comp": {"name": "db-password-hunter2"}}', encoding="utf-8")
    os.symlink(secret, folder / "x.json")
    start_server(watch_dirs=(folder,), watch_interval=0.05)
    error = folder / "rejected" / "x.error.json"
    deadline = time.monotonic() + 10
    while not error.exists():
        assert time.monotonic() < deadline, sorted(os.listdir(folder))
        time.sleep(0.05)
    text = error.read_text(encoding="utf-8")
    assert json.loads(text)["failure"]["code"] == "path_not_allowed"
    assert "hunter2" not in text and str(tmp_path) not in text
    assert secret.read_text().startswith("{")  # untouched


def test_a_rejected_folder_linked_outside_is_not_written_through(
    tmp_path: Path, start_server: Callable[..., Running]
) -> None:
    """``rejected/`` planted as a link to a folder elsewhere: a poison file moved
    into it, and its error file, would land outside every root (any ``*.json`` the
    service may write, another job's ``build.json`` included, could be replaced)."""
    folder = tmp_path / "drop"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, folder / "rejected")
    (folder / "poison.json").write_bytes(b"{oops")
    start_server(watch_dirs=(folder,), watch_interval=0.05)
    error = folder / "poison.error.json"
    deadline = time.monotonic() + 10
    while not error.exists():
        assert time.monotonic() < deadline, sorted(os.listdir(folder))
        time.sleep(0.05)
    refusal = json.loads(error.read_text(encoding="utf-8"))
    assert refusal["failure"]["code"] == "malformed_body"
    assert "rejected" in refusal["failure"]["message"]
    time.sleep(0.3)  # more scans: the file is done, not read or moved again
    assert os.listdir(elsewhere) == []
    assert (folder / "poison.json").read_bytes() == b"{oops"
