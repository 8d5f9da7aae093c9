"""Worker behaviour that needs a running build: a lost lease stops the build and
records nothing; configuration mistakes are named."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import fakebuild
import pytest
from servicekit import Running, spec_for

from aebridge.errors import OptionError
from aebridge.service.config import ServiceConfig


def test_a_worker_that_loses_its_lease_stops_and_records_nothing(
    start_server: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, "0.1")
    running = start_server(lease_seconds=0.9)
    job_id = running.client.submit(spec_for(frames=40))["id"]
    deadline = time.monotonic() + 20
    while running.client.get(job_id)["progress"]["frames_done"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Another server took the job over (as after a pause longer than the lease).
    db = sqlite3.connect(running.service.config.db_path, isolation_level=None)
    db.execute(
        "UPDATE jobs SET lease_owner = 'other-server', lease_expires = ? WHERE id = ?",
        (time.time() + 3600, job_id),
    )
    folder = running.service.config.outputs / job_id / "shot" / "layers" / "fg0"
    time.sleep(1.5)  # the heartbeat notices within a third of the lease
    written = len(list(folder.glob("*.frame")))
    time.sleep(0.5)
    assert len(list(folder.glob("*.frame"))) == written < 40  # the build stopped
    row = db.execute(
        "SELECT status, lease_owner, completions FROM jobs WHERE id = ?", (job_id,)
    ).fetchone()
    assert row == ("running", "other-server", 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "--workers: 0 is not allowed; allowed: 1 or more"),
        ({"port": 70000}, "--port: 70000 is not allowed"),
        ({"input_roots": (Path("/no/such/folder"),)}, "an existing folder"),
        ({"host": "10.0.0.1"}, "--host: '10.0.0.1' is not allowed"),
        ({"engine": "cluster"}, "--engine: 'cluster' is not allowed"),
        ({"engine": "dask://farm"}, "--engine: 'dask://farm' is not allowed"),
    ],
)
def test_configuration_mistakes_are_named(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    config = ServiceConfig(data_dir=tmp_path, **options)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=message.replace(".", r"\.")):
        config.resolved()


def test_paths_are_made_absolute_and_watch_folders_become_input_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "drop").mkdir()
    config = ServiceConfig(watch_dirs=(Path("drop"),)).resolved()
    assert config.input_roots == (tmp_path.resolve(), (tmp_path / "drop").resolve())
    assert config.db_path == tmp_path.resolve() / "aebridge-data" / "aebridge.db"
    assert config.outputs == tmp_path.resolve() / "aebridge-data" / "output"


def test_builds_run_on_the_configured_engine(
    start_server: Callable[..., Running],
) -> None:
    engines: list[str] = []

    def build(spec: object, out_dir: object, **kwargs: object) -> object:
        engines.append(str(kwargs["engine"]))
        return fakebuild.build(spec, out_dir, **kwargs)  # type: ignore[arg-type]

    running = start_server(build=build, engine="dask://farm:8786")
    job_id = running.client.submit(spec_for(frames=2))["id"]
    assert running.client.wait(job_id, timeout=20)["status"] == "succeeded"
    assert engines == ["dask://farm:8786"]
