"""The chunk worker: converting some frames of one layer, in a worker process or
inline, and how a movie is cut into chunks.

A :class:`ChunkTask` holds everything a worker needs (picklable); the engine calls
:func:`convert_chunk` with it and gets a :class:`FrameRecord` per frame back.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import sandbox
from ..errors import CanceledError, SourceError
from ..sandbox import Sandbox
from ..timing import has_timecode, pack_timecode
from .resume import LIGHT_ATTRIBUTE, current_light, frame_path

__all__ = [
    "WORKER_MODULES",
    "ChunkTask",
    "FrameRecord",
    "convert_chunk",
    "movie_ranges",
]

# Decoded frames a source's thread may hold ahead of the pixel work.
_PREFETCH = 2

#: What a worker imports to convert frames (see :func:`aebridge.engine.prestart`).
WORKER_MODULES = ("aebridge.imaging", "aebridge.exr", "aebridge.ingest")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkTask:
    """Everything a worker needs to convert some frames; picklable."""

    info: Any  # ingest.SourceInfo
    matte_info: Any | None
    indices: tuple[int, ...]  # 0-based source indices, ascending
    folder: str
    name: str
    start_frame: int
    padding: int
    alpha_mode: str
    colorspace_in: Any  # str (OCIO name) or encoding.Encoding the file declares
    colorspace_out: str
    half: bool
    compression: str
    autocrop: bool
    rate: tuple[int, int]
    attributes: tuple[tuple[str, Any], ...]
    movie_sha256: str | None
    matte_movie_sha256: str | None
    settings_hash: str
    force: bool
    # The reading sandbox active where the task was made (a service job's input
    # roots), so reads in the worker process are checked at the moment they happen.
    sandbox: Sandbox | None = None
    threads: int = 1  # pixel/encode threads and FFmpeg decoder threads

    def describe(self) -> str:
        """The chunk's output frames, for engine error messages."""
        lo = self.start_frame + self.indices[0]
        hi = self.start_frame + self.indices[-1]
        return f"{self.name} frames {lo}-{hi}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameRecord:
    """One frame done (``written``) or found current."""

    frame: int
    index: int
    written: bool
    # Pixels holding light under alpha 0 (PixelPipeline.light_pixels).
    light: int = 0
    # The SHA-256 of the source frame's file (of the movie, for a movie), which the
    # frame's header records: the layer's source hash is made from these.
    source_sha256: str = ""


def decode(
    task: ChunkTask, indices: list[int]
) -> Generator[tuple[int, Any, Any | None], None, None]:
    """Yield (index, pixels, matte pixels) for the given ascending source indices.

    Image sequences read just those files; movies decode forward from one seek over
    the span that needs work and drop the frames that are already done. With
    ``task.threads > 1`` each source decodes on its own thread (and a movie with
    FFmpeg's threads), a few frames ahead of the pixel work.
    """
    from .. import ingest
    from ..engine import prefetch

    def spans() -> Iterator[tuple[int, int]]:
        if task.info.kind == "movie" and (
            task.matte_info is None or task.matte_info.kind == "movie"
        ):
            yield indices[0], indices[-1] + 1
        else:
            for i in indices:
                yield i, i + 1

    def frames(info: Any) -> Iterator[tuple[int, Any]]:
        for lo, hi in spans():
            yield from ingest.read_frames(info, lo, hi, threads=task.threads)

    def ahead(info: Any) -> Iterator[tuple[int, Any]]:
        source = frames(info)
        return prefetch(source, _PREFETCH) if task.threads > 1 else source

    wanted = set(indices)
    frames_iter = ahead(task.info)
    matte_iter = ahead(task.matte_info) if task.matte_info is not None else None
    try:
        for index, pixels in frames_iter:
            matte = None
            if matte_iter is not None:
                m_index, matte = next(matte_iter)
                if m_index != index:  # pragma: no cover - ingest yields in order
                    raise SourceError(
                        f"the matte yielded frame index {m_index} where {index} was "
                        "expected",
                        path=str(getattr(task.matte_info, "path", "")),
                    )
            if index in wanted:
                yield index, pixels, matte
    finally:
        for it in (frames_iter, matte_iter):
            close = getattr(it, "close", None)
            if callable(close):
                close()


def convert_chunk(
    task: ChunkTask,
    on_frame: Callable[[FrameRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[FrameRecord]:
    """Worker: convert the frames of one chunk (see :func:`convert_frames`), under
    the reading sandbox active where the task was made (a service job's input roots),
    so reads in a worker process are checked at the moment they happen."""
    with sandbox.active(task.sandbox):
        return convert_frames(task, on_frame, cancel)


def convert_frames(
    task: ChunkTask,
    on_frame: Callable[[FrameRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[FrameRecord]:
    """Convert the frames of one chunk. Runs in a worker process or inline.

    Run inline, ``on_frame`` is called (on this thread) with each frame as it is done
    or found current, and a set ``cancel`` stops the chunk between frames: frames
    being written are finished, then :class:`CanceledError` is raised.

    With ``task.threads > 1`` decoding, pixel work and encoding overlap: the sources
    decode on their own threads and up to ``threads`` frames are converted and
    written at once (numpy, OpenEXR and ISA-L release the GIL). Each frame is still
    written whole (temporary name, then rename) to its own numbered file, and at
    most ``threads`` frames plus the decode queues are in memory at a time.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from .. import exr, ingest
    from ..imaging import PixelPipeline

    info = task.info
    rate = Fraction(*task.rate)
    settings = exr.ExrSettings(
        half=task.half, compression=task.compression, autocrop=task.autocrop
    )
    static = dict(task.attributes)
    records: list[FrameRecord] = []

    def add(record: FrameRecord) -> None:
        records.append(record)
        if on_frame is not None:
            on_frame(record)

    def frame_hash(source: Any, index: int) -> str:
        try:
            return str(ingest.file_sha256(source.frame_files[index]))
        except SourceError as exc:
            # A frame gone since the listing: name its frame number as the reader does
            # (the same kind of error: a read the sandbox refused stays one).
            raise type(exc)(
                exc.message, path=exc.path, frame=source.frame_numbers[index]
            ) from exc

    def source_hash(index: int) -> str:
        if task.movie_sha256 is not None:
            return task.movie_sha256
        return frame_hash(info, index)

    def matte_hash(index: int) -> str | None:
        m = task.matte_info
        if m is None:
            return None
        if task.matte_movie_sha256 is not None:
            return task.matte_movie_sha256
        return frame_hash(m, index)

    # Decide which frames need work before decoding anything: a resumed run of an
    # image sequence then reads only the headers and hashes of finished frames.
    todo: dict[int, tuple[str, str | None]] = {}
    for index in task.indices:
        frame = task.start_frame + index
        path = frame_path(task.folder, task.name, frame, task.padding)
        src_sha = source_hash(index)
        m_sha = matte_hash(index)
        combined = src_sha if m_sha is None else f"{src_sha}+{m_sha}"
        light = (
            None if task.force else current_light(path, combined, task.settings_hash)
        )
        if light is not None:
            add(
                FrameRecord(
                    frame=frame,
                    index=index,
                    written=False,
                    light=light,
                    source_sha256=src_sha,
                )
            )
        else:
            todo[index] = (src_sha, m_sha)
    if not todo:
        return records

    def make_pipeline(
        frame: tuple[str, int], matte: tuple[str, int] | None
    ) -> PixelPipeline:
        """The pipeline for frames (and matte frames) of this (dtype, channels)."""
        return PixelPipeline(
            dtype=frame[0],
            channels=frame[1],
            colorspace_in=task.colorspace_in,
            colorspace_out=task.colorspace_out,
            alpha_mode=task.alpha_mode,
            half=task.half,
            matte_dtype=None if matte is None else matte[0],
            matte_channels=None if matte is None else matte[1],
        )

    def layout(pixels: Any) -> tuple[str, int]:
        return str(pixels.dtype), pixels.shape[2] if pixels.ndim == 3 else 1

    def first_pipeline(
        ready: Future[PixelPipeline | None] | None, pixels: Any, matte: Any | None
    ) -> tuple[PixelPipeline, bool]:
        """The pipeline for the first frame, and whether its tables are built: the
        one built while it decoded, when the frame is as the probe said; else a new
        one, whose tables its first frame builds."""
        wanted = (layout(pixels), None if matte is None else layout(matte))
        built = None if ready is None else ready.result()
        if built is not None and wanted == (
            (built.dtype, built.channels),
            None
            if built.matte_dtype is None
            else (built.matte_dtype, built.matte_channels),
        ):
            return built, True
        return make_pipeline(*wanted), False

    def prepare() -> PixelPipeline | None:
        """The pipeline for frames as the probe describes them, its tables built by
        converting one pixel (the tables take tens of milliseconds: built on a pool
        thread, that time passes while the sources open and decode their first
        frames). None when that fails."""
        import numpy as np

        matte_info = task.matte_info
        frame = (str(info.dtype), int(info.channels))
        matte = (
            None
            if matte_info is None
            else (str(matte_info.dtype), int(matte_info.channels))
        )
        try:
            pipeline = make_pipeline(frame, matte)
            pipeline(
                np.zeros((1, 1, frame[1]), dtype=frame[0]),
                None if matte is None else np.zeros((1, 1, matte[1]), dtype=matte[0]),
            )
        except Exception:
            # The first frame then makes its pipeline as it always did, and what
            # failed here fails again there, reported with its file and frame.
            return None
        return pipeline

    def convert_frame(
        pipeline: PixelPipeline, index: int, pixels: Any, matte: Any | None
    ) -> FrameRecord:
        frame = task.start_frame + index
        src_file = info.frame_files[index] if info.frame_files else info.path
        try:
            rgba = pipeline(pixels, matte)
        except ValueError as exc:
            raise SourceError(str(exc), path=src_file, frame=frame) from exc
        src_sha, m_sha = todo[index]
        attrs = dict(static)
        if has_timecode(rate):
            # The timecode counts the output frame number at the rate.
            attrs["timeCode"] = pack_timecode(task.start_frame + index, rate)
        attrs["aebridge/sourceSha256"] = (
            src_sha if m_sha is None else f"{src_sha}+{m_sha}"
        )
        attrs["aebridge/sourceFile"] = str(src_file)
        attrs["aebridge/sourceFrame"] = str(
            info.frame_numbers[index] if info.frame_numbers else index
        )
        if task.matte_info is not None:
            m = task.matte_info
            attrs["aebridge/matteFile"] = str(
                m.frame_files[index] if m.frame_files else m.path
            )
        attrs["aebridge/frame"] = str(frame)
        light = pipeline.light_pixels(rgba)
        attrs[LIGHT_ATTRIBUTE] = str(light)
        path = frame_path(task.folder, task.name, frame, task.padding)
        exr.write_frame(path, rgba, settings=settings, attributes=attrs)
        return FrameRecord(
            frame=frame, index=index, written=True, light=light, source_sha256=src_sha
        )

    pipeline: PixelPipeline | None = None
    pool = ThreadPoolExecutor(task.threads) if task.threads > 1 else None
    ready = (
        None if pool is None else pool.submit(contextvars.copy_context().run, prepare)
    )
    running: set[Future[FrameRecord]] = set()

    def collect(block: bool) -> None:
        nonlocal running
        if not running:
            return
        done, running = wait(
            running, timeout=None if block else 0, return_when=FIRST_COMPLETED
        )
        for fut in done:
            add(fut.result())

    decoded = decode(task, sorted(todo))
    try:
        for index, pixels, matte in decoded:
            if cancel is not None and cancel.is_set():
                while running:
                    collect(block=True)
                raise CanceledError(
                    f"the run was canceled; {len(records)} frame(s) of "
                    f"{task.describe()} were finished, nothing more was started"
                )
            if pixels.shape[0] != info.height or pixels.shape[1] != info.width:
                raise SourceError(
                    f"size changed to {pixels.shape[1]}x{pixels.shape[0]} inside the "
                    f"sequence; the first frame is {info.width}x{info.height}",
                    path=info.frame_files[index] if info.frame_files else info.path,
                    frame=task.start_frame + index,
                )
            if pipeline is None:
                pipeline, built = first_pipeline(ready, pixels, matte)
                if not built:
                    # Converted here, so its tables are built before any thread
                    # needs them.
                    add(convert_frame(pipeline, index, pixels, matte))
                    continue
            if pool is None:
                add(convert_frame(pipeline, index, pixels, matte))
                continue
            while len(running) >= task.threads:
                collect(block=True)
            # In a copy of this thread's context: the reading sandbox goes along.
            running.add(
                pool.submit(
                    contextvars.copy_context().run,
                    convert_frame,
                    pipeline,
                    index,
                    pixels,
                    matte,
                )
            )
            collect(block=False)
        while running:
            collect(block=True)
    finally:
        decoded.close()  # stops the decoding threads and closes the movies
        if pool is not None:
            for fut in running:
                fut.cancel()
            pool.shutdown(wait=True)
    done_indices = {r.index for r in records}
    missing = sorted(set(task.indices) - done_indices)
    if missing:
        raise SourceError(
            f"the source ended before frame index {missing[0]} "
            f"(it reported {info.frame_count} frames)",
            path=info.path,
            frame=task.start_frame + missing[0],
        )
    return sorted(records, key=lambda r: r.index)


def movie_ranges(info: Any, indices: Sequence[int], workers: int) -> list[range]:
    """Chunks of ``indices`` (positions) for a movie, each starting at a keyframe.

    A chunk decodes from the keyframe at or before its first frame, so a chunk that
    starts between keyframes decodes frames that another chunk decodes again: for a
    movie with one keyframe (a generated 5 s clip) eight chunks would decode it 4.5
    times over. Chunks therefore start only where a keyframe does, spans between
    keyframes are joined until a chunk holds about ``1 / (2 * workers)`` of the
    frames, and a chunk that gets a whole worker to itself decodes with threads.
    """
    if not indices:
        return []
    keyframes = set(info.keyframe_pts)
    starts = [0]
    for pos in range(1, len(indices)):
        index = indices[pos]
        pts = info.frame_pts[index]
        if pts in keyframes and info.frame_pts[index - 1] != pts:
            starts.append(pos)
    starts.append(len(indices))
    target = -(-len(indices) // (2 * workers))
    ranges: list[range] = []
    lo = 0
    for hi in starts[1:]:
        if hi - lo >= target or hi == len(indices):
            ranges.append(range(lo, hi))
            lo = hi
    return ranges
