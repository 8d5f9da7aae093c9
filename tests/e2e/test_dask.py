"""The Dask engine on a real LocalCluster: same frames as the local engine, errors
unchanged, and a worker killed mid-run costs nothing but time.

One cluster of two single-threaded worker processes serves the whole module (it takes
a second or two to start); the test that kills a worker runs last.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from aebridge import synthetic  # noqa: E402
from aebridge.convert import convert  # noqa: E402
from aebridge.engine import (  # noqa: E402
    MALLOC_MMAP_THRESHOLD,
    MALLOC_TRIM_THRESHOLD,
    DaskEngine,
    open_engine,
)
from aebridge.errors import CanceledError, EngineError, SourceError  # noqa: E402

pytestmark = pytest.mark.dask

W, H = 64, 36

# The workers cannot import this test module by name, so its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskEngine]:
    with open_engine("dask-local:2") as engine:
        assert isinstance(engine, DaskEngine)
        yield engine


@pytest.fixture()
def address(cluster: DaskEngine) -> str:
    cluster.client.wait_for_workers(2, timeout=30)
    return cluster.scheduler_address


@pytest.fixture(scope="module")
def png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("src")
    synthetic.write_png_sequence(
        folder, "fg", frames=24, width=W, height=H, alpha="straight", pattern="disc"
    )
    return folder / "fg.####.png"


@pytest.fixture(scope="module")
def local_frames(
    png: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    """The reference: the same sequence converted inline by the local engine."""
    out = tmp_path_factory.mktemp("local")
    convert(png, out, name="fg", fps="24", jobs=1)
    return _exr_bytes(out / "fg")


def _exr_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.exr"))}


# --------------------------------------------------------------------------- workers


def square(x: int) -> int:
    return x * x


def flaky(task: tuple[str, int]) -> int:
    """Fail the first attempt at each chunk (a transient error), succeed on a retry."""
    folder, index = task
    marker = Path(folder, f"tried.{index}")
    if not marker.exists():
        marker.touch()
        raise OSError(f"share hiccup on chunk {index}")
    return index


def always_broken(x: int) -> int:
    raise ZeroDivisionError(f"broken chunk {x}")


def slow_down_frame_writes(delay: float) -> None:
    """Run on each worker: make every EXR write take ``delay`` seconds longer."""
    import aebridge.exr as exr

    original = getattr(exr, "_unslowed_write_frame", exr.write_frame)

    def slow_write(*args: Any, **kwargs: Any) -> None:
        time.sleep(delay)
        original(*args, **kwargs)

    exr._unslowed_write_frame = original  # type: ignore[attr-defined]
    exr.write_frame = slow_write


# --------------------------------------------------------------------------- tests


def test_local_cluster_workers_get_aebridges_malloc_thresholds() -> None:
    import dask

    # Dask's default (a 64 KiB trim threshold) costs frames dearly; the cluster
    # aebridge starts overrides it even when the configuration says otherwise.
    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with dask.config.set({key: 65536}), open_engine("dask-local:1") as engine:
        assert isinstance(engine, DaskEngine)
        values = engine.client.run(
            lambda: (
                os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                os.environ.get("MALLOC_MMAP_THRESHOLD_"),
            )
        )
    assert list(values.values()) == [
        (str(MALLOC_TRIM_THRESHOLD), str(MALLOC_MMAP_THRESHOLD))
    ]


def test_engine_counts_worker_threads(cluster: DaskEngine) -> None:
    assert cluster.workers == 2
    assert cluster.name == "dask-local:2"


def test_results_come_back_from_the_cluster(address: str) -> None:
    with open_engine(address) as engine:
        results: list[int] = []
        engine.map_chunks(square, list(range(10)), on_result=results.append)
        assert sorted(results) == [x * x for x in range(10)]


def test_dask_output_equals_local_output_byte_for_byte(
    png: Path, local_frames: dict[str, bytes], address: str, tmp_path: Path
) -> None:
    result = convert(png, tmp_path, name="fg", fps="24", engine=address)
    assert result.frames_written == 24
    frames = _exr_bytes(tmp_path / "fg")
    assert list(frames) == list(local_frames)
    assert frames == local_frames


def test_dask_url_spelling_reaches_the_same_cluster(
    png: Path, local_frames: dict[str, bytes], address: str, tmp_path: Path
) -> None:
    spec = address.replace("tcp://", "dask://")
    convert(png, tmp_path, name="fg", fps="24", engine=spec, frames=[1003, 1004])
    frames = _exr_bytes(tmp_path / "fg")
    assert frames == {k: local_frames[k] for k in ("fg.1003.exr", "fg.1004.exr")}


def test_a_source_error_on_a_worker_arrives_unchanged(
    address: str, tmp_path: Path
) -> None:
    synthetic.write_png_sequence(tmp_path / "src", "bad", frames=4, width=W, height=H)
    broken = tmp_path / "src" / "bad.1003.png"
    broken.write_bytes(broken.read_bytes()[:60])  # truncated file
    with pytest.raises(SourceError) as on_dask:
        convert(tmp_path / "src" / "bad.####.png", tmp_path / "d", name="bad",
                fps="24", engine=address)  # fmt: skip
    with pytest.raises(SourceError) as inline:
        convert(tmp_path / "src" / "bad.####.png", tmp_path / "l", name="bad",
                fps="24", jobs=1)  # fmt: skip
    assert type(on_dask.value) is type(inline.value)
    assert str(on_dask.value) == str(inline.value)
    assert (on_dask.value.path, on_dask.value.frame) == (
        inline.value.path,
        inline.value.frame,
    )


def test_transient_errors_are_retried(address: str, tmp_path: Path) -> None:
    with open_engine(address) as engine:
        results: list[int] = []
        engine.map_chunks(
            flaky, [(str(tmp_path), i) for i in range(4)], on_result=results.append
        )
    assert sorted(results) == [0, 1, 2, 3]


def test_errors_that_persist_become_engine_errors(address: str) -> None:
    with pytest.raises(EngineError) as info, open_engine(address) as engine:
        engine.map_chunks(always_broken, [5], on_result=print)
    assert str(info.value) == (
        f"chunk 1 of 1 (5) failed on {address}: ZeroDivisionError: broken chunk 5"
    )
    assert "in always_broken" in "".join(info.value.__notes__)


def test_cancel_waits_for_submitted_chunks(
    png: Path, address: str, cluster: DaskEngine, tmp_path: Path
) -> None:
    cluster.client.run(slow_down_frame_writes, 0.05)
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done:
            cancel.set()

    try:
        with pytest.raises(CanceledError):
            convert(png, tmp_path, name="fg", fps="24", engine=address,
                    progress=progress, cancel=cancel)  # fmt: skip
    finally:
        cluster.client.run(slow_down_frame_writes, 0.0)
    written = sorted(p.name for p in (tmp_path / "fg").glob("*.exr"))
    assert 0 < len(written) < 24
    time.sleep(0.5)  # nothing is still running on the workers
    assert sorted(p.name for p in (tmp_path / "fg").glob("*.exr")) == written


def test_a_killed_worker_loses_no_frame(
    png: Path,
    local_frames: dict[str, bytes],
    address: str,
    cluster: DaskEngine,
    tmp_path: Path,
) -> None:
    client = cluster.client
    client.run(slow_down_frame_writes, 0.1)
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        # After the first chunk, while the others are running: SIGKILL, no goodbye.
        if done and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    start = time.monotonic()
    result = convert(png, tmp_path, name="fg", fps="24", engine=address,
                     progress=progress)  # fmt: skip
    assert killed and killed[0] < 24  # the worker died mid-run
    assert time.monotonic() - start < 40
    # Frames the dead worker finished are kept (and skipped by the retry).
    assert result.frames_written + result.frames_skipped == 24
    assert _exr_bytes(tmp_path / "fg") == local_frames
    assert victim not in client.run(os.getpid).values()  # the nanny replaced it
