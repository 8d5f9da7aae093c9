"""Overlapped conversion: decode, pixel work and encode on threads, chunks at keyframes.

Frames must come out whole, in order and bit-identical to the serial path whatever the
threading, and a movie chunk must start where a keyframe does, so no frame is decoded
twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from aebridge import synthetic
from aebridge.convert import convert
from aebridge.convert.chunks import movie_ranges
from aebridge.engine import prefetch
from aebridge.exr import read_header, read_pixels

# ------------------------------------------------------------------ prefetch


def test_prefetch_keeps_order_and_every_item() -> None:
    assert list(prefetch(range(100), 2)) == list(range(100))
    assert list(prefetch(iter([]), 1)) == []


def test_prefetch_raises_the_producers_error_at_its_item() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("frame 3 is corrupt")

    got: list[int] = []
    with pytest.raises(ValueError, match="frame 3 is corrupt"):
        for item in prefetch(items(), 4):
            got.append(item)
    assert got == [1, 2]


def _endless(closed: threading.Event) -> Iterator[int]:
    """Items without end; ``closed`` is set when the generator is closed."""
    try:
        yield from range(10**9)
    finally:
        closed.set()


def test_prefetch_stops_and_closes_the_producer_when_the_consumer_stops() -> None:
    closed = threading.Event()
    it = prefetch(_endless(closed), 2)
    assert next(it) == 0
    it.close()  # type: ignore[attr-defined]
    assert closed.wait(5)


def test_prefetch_produces_before_the_first_item_is_asked_for() -> None:
    # A source and its matte decode at the same time, and the consumer builds its
    # tables meanwhile: each producer starts when its prefetch is made.
    started = [threading.Event(), threading.Event()]

    def items(n: int) -> Iterator[int]:
        started[n].set()
        yield n

    source, matte = prefetch(items(0), 1), prefetch(items(1), 1)
    assert started[0].wait(5) and started[1].wait(5)
    assert (list(source), list(matte)) == ([0], [1])


def test_a_prefetch_dropped_before_its_first_item_stops_its_producer() -> None:
    closed = threading.Event()
    it = prefetch(_endless(closed), 2)
    del it
    assert closed.wait(5)


def test_prefetch_refuses_a_depth_below_one() -> None:
    with pytest.raises(ValueError, match="depth"):
        prefetch(range(3), 0)


# ------------------------------------------------------------------ movie chunks


def _info(frame_pts: list[int], keyframes: list[int]) -> SimpleNamespace:
    return SimpleNamespace(frame_pts=tuple(frame_pts), keyframe_pts=tuple(keyframes))


def test_a_movie_with_one_keyframe_is_one_chunk() -> None:
    info = _info(list(range(120)), [0])
    assert movie_ranges(info, list(range(120)), workers=2) == [range(0, 120)]


def test_movie_chunks_start_at_keyframes_and_cover_every_frame_once() -> None:
    info = _info(list(range(100)), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    ranges = movie_ranges(info, list(range(100)), workers=2)
    assert [i for r in ranges for i in r] == list(range(100))
    assert all(r.start % 10 == 0 for r in ranges)
    assert len(ranges) == 4  # spans joined to about a quarter each (2 workers)


def test_movie_chunks_of_a_frame_subset_start_at_keyframes_too() -> None:
    info = _info(list(range(40)), [0, 12, 24, 36])
    indices = list(range(5, 40, 3))
    ranges = movie_ranges(info, indices, workers=4)
    starts = [indices[r.start] for r in ranges]
    assert starts[0] == 5
    # Every later chunk begins at the first wanted frame of a new keyframe span.
    for s in starts[1:]:
        assert any(k <= s < k + 3 for k in (12, 24, 36))
    assert [i for r in ranges for i in r] == list(range(len(indices)))


def test_a_resampled_movies_repeated_keyframe_does_not_start_a_chunk() -> None:
    info = _info([0, 0, 1, 2, 2, 3], [0, 2])
    ranges = movie_ranges(info, list(range(6)), workers=8)
    assert [r.start for r in ranges] == [0, 3]


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def movie_and_matte(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("overlap")
    fg = synthetic.write_movie(
        folder / "fgr.mp4", frames=30, width=96, height=64, gop=8, pattern="disc"
    )
    matte = synthetic.write_movie(
        folder / "pha.mp4", frames=30, width=96, height=64, gop=30, pattern="disc"
    )
    return fg, matte


@pytest.mark.parametrize("compression", ["piz", "zip"])
def test_threaded_conversion_is_bit_identical_and_in_order(
    movie_and_matte: tuple[str, str], tmp_path: Path, compression: str
) -> None:
    fg, matte = movie_and_matte
    serial = convert(
        fg, tmp_path / "a", name="fg", matte=matte, jobs=1, compression=compression
    )
    threaded = convert(
        fg, tmp_path / "b", name="fg", matte=matte, jobs=3, compression=compression
    )
    assert serial.frames_written == threaded.frames_written == 30
    for frame in range(serial.first, serial.last + 1):
        a, b = serial.frame_path(frame), threaded.frame_path(frame)
        np.testing.assert_array_equal(read_pixels(a), read_pixels(b))
        head = read_header(b)
        assert head["aebridge/frame"] == str(frame)
        assert head["aebridge/sourceFrame"] == str(frame - serial.first)
    assert sorted(p.name for p in (tmp_path / "b" / "fg").iterdir()) == sorted(
        p.name for p in (tmp_path / "a" / "fg").iterdir()
    )


def test_threaded_conversion_of_a_one_keyframe_movie_matches_frame_by_frame(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    # The matte has one keyframe: as the source it makes one chunk on threads.
    _, matte = movie_and_matte
    whole = convert(matte, tmp_path / "w", name="m", jobs=2)
    for frame in (1001, 1015, 1030):
        one = convert(matte, tmp_path / f"f{frame}", name="m", jobs=1, frames=[frame])
        np.testing.assert_array_equal(
            read_pixels(whole.frame_path(frame)), read_pixels(one.frame_path(frame))
        )


def test_a_one_chunk_movie_reports_progress_frame_by_frame(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    _, matte = movie_and_matte  # one keyframe: one chunk, run here on threads
    seen: list[tuple[int, int]] = []
    convert(
        matte,
        tmp_path / "o",
        name="m",
        jobs=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(n, 30) for n in range(31)]


def test_a_cancel_stops_a_one_chunk_movie_between_frames_and_a_rerun_resumes(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    from aebridge.errors import CanceledError

    _, matte = movie_and_matte
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 5:
            cancel.set()

    with pytest.raises(CanceledError, match="canceled"):
        convert(matte, tmp_path / "o", name="m", jobs=2, progress=progress,
                cancel=cancel)  # fmt: skip
    folder = tmp_path / "o" / "m"
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.startswith(".")], "no temporary file is left"
    made = [n for n in names if n.endswith(".exr")]
    assert 5 <= len(made) < 30
    for name in made:  # every frame written is whole
        read_pixels(folder / name)
    again = convert(matte, tmp_path / "o", name="m", jobs=2)
    assert again.frames_skipped == len(made)
    assert again.frames_written == 30 - len(made)


@pytest.mark.dask
def test_movie_chunks_on_a_dask_cluster_match_the_inline_run(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    fg, matte = movie_and_matte  # keyframes every 8 frames: 4 chunks on 2 workers
    inline = convert(fg, tmp_path / "a", name="fg", matte=matte, jobs=1)
    farm = convert(fg, tmp_path / "b", name="fg", matte=matte, engine="dask-local:2")
    assert farm.frames_written == 30
    for frame in range(inline.first, inline.last + 1):
        np.testing.assert_array_equal(
            read_pixels(inline.frame_path(frame)), read_pixels(farm.frame_path(frame))
        )


def test_the_tables_are_built_while_the_first_frames_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The colour tables take tens of milliseconds; built on a pool thread from the
    # probe, they are ready by the time the first frames are (FFmpeg decodes without
    # the GIL), not started after them.
    from aebridge import ingest
    from aebridge.imaging import PixelPipeline

    fg = synthetic.write_movie(tmp_path / "fgr.mp4", frames=4, pattern="disc")
    matte = synthetic.write_movie(tmp_path / "pha.mp4", frames=4, pattern="disc")
    converting = threading.Event()
    real_call = PixelPipeline.__call__

    def call(self: PixelPipeline, *args: object, **kwargs: object) -> object:
        converting.set()
        return real_call(self, *args, **kwargs)  # type: ignore[arg-type]

    real_read = ingest.read_frames
    waited: list[bool] = []

    def read(info: object, start: int, stop: int, **kwargs: object) -> Iterator[object]:
        frames = real_read(info, start, stop, **kwargs)  # type: ignore[arg-type]
        for n, item in enumerate(frames):
            if n == 0:
                waited.append(converting.wait(5))
            yield item

    monkeypatch.setattr(PixelPipeline, "__call__", call)
    monkeypatch.setattr(ingest, "read_frames", read)
    # One keyframe, two cores: one chunk, converted here on threads.
    result = convert(fg, tmp_path / "out", name="fg", matte=matte, jobs=2)
    assert result.frames_written == 4
    assert waited == [True, True]  # the source's and the matte's first frames


def test_with_its_tables_built_the_first_frame_converts_on_a_pool_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tables built while the first frames decode, the first frame needs nothing
    # the others do not: it goes to the pool like them, and this thread hands out
    # the next frames meanwhile, rather than holding both cores' work back for it.
    from aebridge.imaging import PixelPipeline

    fg = synthetic.write_movie(tmp_path / "fgr.mp4", frames=6, pattern="disc")
    matte = synthetic.write_movie(tmp_path / "pha.mp4", frames=6, pattern="disc")
    real_call = PixelPipeline.__call__
    threads: list[str] = []

    def call(self: PixelPipeline, pixels: np.ndarray, *args: object) -> object:
        if pixels.shape[:2] != (1, 1):  # not the one pixel that builds the tables
            threads.append(threading.current_thread().name)
        return real_call(self, pixels, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(PixelPipeline, "__call__", call)
    result = convert(fg, tmp_path / "out", name="fg", matte=matte, jobs=2)
    assert result.frames_written == 6
    assert len(threads) == 6
    assert threading.main_thread().name not in threads
