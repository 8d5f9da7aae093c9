"""The hot folder: specs dropped into a folder become jobs, outcomes appear beside
them; temporary names are ignored; polling mode waits for a stable size."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servicekit import Running, spec_for

from aebridge.service.watch import HotFolder


def absolute_spec(inputs: Path, name: str = "sh010") -> dict[str, Any]:
    spec = spec_for(name)
    # Relative paths start at the hot folder; sources live in another input root.
    spec["layers"][0]["source"]["path"] = str(inputs / "fg" / "fg.####.png")
    return spec


def drop(folder: Path, name: str, data: Any) -> Path:
    """Write then rename, as the hot folder asks writers to."""
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    final = folder / name
    os.replace(tmp, final)
    return final


def wait_for_file(path: Path, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture
def hot(tmp_path: Path, start_server: Callable[..., Running]) -> tuple[Path, Running]:
    folder = tmp_path / "drop"
    folder.mkdir()
    running = start_server(watch_dirs=(folder,), watch_interval=0.05)
    return folder, running


def test_a_dropped_spec_becomes_a_job_and_its_result_appears_beside_it(
    hot: tuple[Path, Running], inputs: Path
) -> None:
    folder, running = hot
    drop(folder, "sh010.json", absolute_spec(inputs))
    result = wait_for_file(folder / "sh010.result.json")
    assert result["status"] == "succeeded" and result["spec"] == "sh010.json"
    assert result["result"]["script"] == "sh010/sh010.jsx"
    assert Path(result["output_dir"], "sh010", "sh010.jsx").is_file()
    assert not (folder / "sh010.error.json").exists()
    time.sleep(0.3)  # more scans: the spec is done and is not submitted again
    assert running.service.store.counts()["succeeded"] == 1


def test_a_refused_spec_gets_an_error_file_with_the_spec_paths(
    hot: tuple[Path, Running], inputs: Path
) -> None:
    folder, running = hot
    spec = absolute_spec(inputs)
    spec["layers"][0]["blend"] = "glow"
    drop(folder, "bad.json", spec)
    error = wait_for_file(folder / "bad.error.json")
    assert error["status"] == "refused" and error["failure"]["code"] == "invalid_spec"
    assert "layers[0].blend" in [p["path"] for p in error["problems"]]
    relative = spec_for()  # fg/ is relative to the hot folder, where it is not
    drop(folder, "missing.json", relative)
    error = wait_for_file(folder / "missing.error.json")
    assert error["failure"]["code"] == "invalid_spec"
    assert [p["path"] for p in error["problems"]] == ["layers[0].source.path"]
    relative["layers"][0]["source"]["path"] = "../inputs/fg/fg.####.png"
    drop(folder, "escape.json", relative)
    error = wait_for_file(folder / "escape.error.json")
    assert error["failure"]["code"] == "path_not_allowed"
    assert running.service.store.counts()["queued"] == 0


def test_a_failed_build_gets_an_error_file(
    tmp_path: Path, inputs: Path, start_server: Callable[..., Running]
) -> None:
    import fakebuild

    folder = tmp_path / "drop"
    folder.mkdir()
    start_server(
        build=fakebuild.failing_build, watch_dirs=(folder,), watch_interval=0.05
    )
    drop(folder, "sh020.json", absolute_spec(inputs, "sh020"))
    error = wait_for_file(folder / "sh020.error.json")
    assert error["status"] == "failed" and error["failure"]["code"] == "bad_source"


def test_temporary_and_partial_names_are_ignored(
    hot: tuple[Path, Running], inputs: Path
) -> None:
    folder, running = hot
    for name in ("a.json.part", "b.json.tmp", ".c.json", "~d.json", "e.txt"):
        (folder / name).write_text(json.dumps(absolute_spec(inputs)), encoding="utf-8")
    time.sleep(0.4)
    assert running.service.store.list_jobs()[0] == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["a.json.part", "b.json.tmp", ".c.json", "~d.json", "e.txt"]
    )


def test_polling_mode_waits_until_the_size_is_stable(
    tmp_path: Path, inputs: Path, server: Running
) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    watcher = HotFolder(
        folder,
        submitter=server.service.submitter,
        store=server.service.store,
        poll=True,
        settle=0.3,
    )
    text = json.dumps(absolute_spec(inputs, "sh030"))
    spec = folder / "sh030.json"
    spec.write_text(text[:20], encoding="utf-8")  # a copy still in progress
    watcher.scan_once()
    time.sleep(0.1)
    spec.write_text(text, encoding="utf-8")
    watcher.scan_once()
    assert server.service.store.list_jobs()[0] == []  # changed: not settled yet
    assert not (folder / "sh030.error.json").exists()
    time.sleep(0.35)
    watcher.scan_once()
    (job,), _ = server.service.store.list_jobs()
    server.client.wait(job.id, 20, 0.05)
    watcher.scan_once()
    assert json.loads((folder / "sh030.result.json").read_text())["id"] == job.id


def test_a_restarted_watcher_finds_the_same_job_instead_of_building_twice(
    tmp_path: Path, inputs: Path, server: Running
) -> None:
    folder = tmp_path / "again"
    folder.mkdir()
    drop(folder, "sh040.json", absolute_spec(inputs, "sh040"))

    def watcher() -> HotFolder:
        return HotFolder(
            folder, submitter=server.service.submitter, store=server.service.store
        )

    watcher().scan_once()
    watcher().scan_once()  # a new watcher after a restart: same idempotency key
    jobs, _ = server.service.store.list_jobs()
    assert len(jobs) == 1
    server.client.wait(jobs[0].id, 20, 0.05)
    watcher().scan_once()
    assert (folder / "sh040.result.json").exists()
