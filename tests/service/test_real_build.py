"""The service with the real build (``aebridge.api.build``): EXR frames, the script,
artifacts, and a kill -9 in the middle of a real conversion."""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servicekit import Receiver, Running, ServerProcess, free_port, spec_for

from aebridge.client import Client
from aebridge.service.webhooks import verify

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("aebridge.engine") is None,
    reason="aebridge.engine (the conversion engines) is not in this checkout yet",
)


def test_a_real_build_through_the_service(
    start_server: Callable[..., Running], receiver: Callable[..., Receiver]
) -> None:
    from aebridge.api import build

    hook = receiver()
    running = start_server(build=build, build_jobs=1)
    job = running.client.submit(spec_for(frames=4), webhook={"url": hook.url})
    done = running.client.wait(job["id"], timeout=60, poll=0.1)
    assert done["status"] == "succeeded", done["failure"]
    assert done["progress"]["frames_done"] == done["progress"]["frames_total"] == 4
    names = {a["name"]: a["kind"] for a in running.client.artifacts(job["id"])}
    assert (
        names["shot/shot.jsx"] == "script" and names["shot/build.json"] == "build_json"
    )
    script = running.client.download(job["id"], "shot/shot.jsx").decode()
    assert "shot" in script
    frames = sorted((Path(running.service.config.outputs) / job["id"]).rglob("*.exr"))
    assert len(frames) == 4  # the whole 4-frame source
    (headers, body), *_ = hook.wait_for(1)
    assert verify(job["webhook_secret"], headers, body).startswith("msg_")


def test_progress_knows_every_layers_frames_once_the_sources_are_probed(
    start_server: Callable[..., Running],
) -> None:
    """The job's frames_total was the sum over the layers started so far, so it
    grew layer by layer and (the writes being throttled) every recorded progress
    of a many-layer build had frames_done == frames_total: a useless bar. The
    build counts every layer's frames once it has probed the sources, and done
    rises to that total."""
    from aebridge.api import build

    running = start_server(build=build, build_jobs=1)
    store = running.service.store
    recorded: list[tuple[str | None, int, int]] = []
    record_progress = store.progress

    def spy(job_id: str, owner: str, **fields: Any) -> tuple[bool, bool]:
        recorded.append(
            (fields["stage"], fields["frames_done"], fields["frames_total"])
        )
        return record_progress(job_id, owner, **fields)

    store.progress = spy  # type: ignore[method-assign]
    job = running.client.submit(spec_for(frames=4, layers=6))
    done = running.client.wait(job["id"], timeout=120, poll=0.1)
    assert done["status"] == "succeeded", done["failure"]
    assert done["progress"] == {"frames_done": 24, "frames_total": 24}
    converting = [(d, t) for stage, d, t in recorded if stage == "convert"]
    assert converting and {t for _d, t in converting} == {24}, recorded
    dones = [d for _stage, d, _t in recorded]
    assert dones == sorted(dones), recorded
    assert any(0 < d < 24 for d, _t in converting), recorded


def test_kill_9_during_a_real_conversion_then_restart(
    tmp_path: Path, inputs: Path, receiver: Callable[..., Receiver]
) -> None:
    import OpenImageIO as oiio

    hook = receiver()
    server = ServerProcess(tmp_path, inputs, free_port())
    server.build = "slowbuild:build"
    try:
        server.start()
        with Client(server.url) as client:
            job = client.submit(spec_for(frames=4, layers=3), webhook={"url": hook.url})
            deadline = time.monotonic() + 30
            while client.get(job["id"])["progress"]["frames_done"] < 1:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        server.kill9()
        server.start()
        with Client(server.url) as client:
            done = client.wait(job["id"], timeout=60, poll=0.1)
        assert done["status"] == "succeeded", done["failure"]
        assert done["attempts"] == 2
        # The second run resumed: frames written before the kill were kept.
        skipped = sum(layer["frames_skipped"] for layer in done["result"]["layers"])
        assert 0 < skipped < 12
        frames = sorted((tmp_path / "data" / "output" / job["id"]).rglob("*.exr"))
        assert len(frames) == 12
        for frame in frames:
            image = oiio.ImageInput.open(str(frame))
            assert image is not None, f"{frame} is not a whole EXR"
            pixels = image.read_image()
            image.close()
            assert pixels is not None and pixels.shape == (36, 64, 4)
        assert hook.wait_for(1) and hook.events() == ["job.succeeded"]
        db = sqlite3.connect(tmp_path / "data" / "aebridge.db")
        assert db.execute("SELECT completions FROM jobs").fetchall() == [(1,)]
    finally:
        server.terminate()
