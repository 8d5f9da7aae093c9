"""Convert one layer: a frame source (plus an optional matte) to an EXR sequence.

The output is ``out_dir/<name>/<name>.<frame>.exr``, numbered from ``start_frame``
(1001) with padding 4 and no gaps, premultiplied, scene-linear, half float by default,
with the metadata described in ``docs/exr-metadata.md``, plus a sidecar
``<name>.aebridge.json`` that describes the sequence (After Effects shows no custom EXR
header attributes, so provenance is kept beside the frames as well).

Frames are converted in chunks on an engine (a local process pool by default, Dask on
request). A movie's chunks start at keyframes, since a chunk decodes from the keyframe
before it; a movie that makes a single chunk (a generated clip often has one keyframe)
runs in this process. A chunk with cores to spare overlaps its stages on threads:
each source decodes on its own thread, frames are converted and written by a small
pool. Each frame is written under a temporary name and renamed, so an interrupted run
never leaves a truncated file that looks complete, and a re-run skips every frame
whose header already records the same source hash and settings.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import __version__, sandbox
from .errors import (
    AebridgeError,
    CanceledError,
    OptionError,
    OutputError,
    SourceError,
)
from .sandbox import Sandbox
from .timing import format_rate, has_timecode, pack_timecode, parse_rate

__all__ = [
    "ALPHA_MODES",
    "DEFAULT_OUTPUT_COLORSPACE",
    "PIPELINE_VERSION",
    "ROLES",
    "ConvertResult",
    "convert",
    "load_provenance",
    "read_sidecar",
]

ALPHA_MODES = ("auto", "straight", "premultiplied", "none")
ROLES = ("background", "foreground", "element", "matte", "guide")
VFR_POLICIES = ("refuse", "resample")
DEFAULT_OUTPUT_COLORSPACE = "Linear Rec.709 (sRGB)"
EXR_METADATA_SCHEMA = "aebridge.exr/1"
SIDECAR_SCHEMA = "aebridge.sequence/1"
# Bump when the pixels written for the same source and settings change, so that a
# re-run after an upgrade redoes frames instead of trusting old ones.
# 2: light under alpha 0 kept for premultiplied linear input; 10/12-bit 4:2:0 movies
#    decoded without the scaler's full-chroma path.
# 3: 9- to 16-bit movies converted from their planes with exact full scale (10-bit
#    white was 0.9961).
# 4: the colour and orientation a file declares are applied (PNG chunks, ICC, EXR
#    chromaticities, wide-gamut and HDR movie tags, EXIF, display matrices).
# 5: a matte movie without alpha is read from its luma plane, not from RGB; the default
#    compression is zip (a change of compression alone is in the settings hash too).
PIPELINE_VERSION = 5

# Provenance keys with a meaning of their own; anything else is kept under "extra".
PROVENANCE_KEYS = (
    "generator",
    "model",
    "prompt",
    "negative_prompt",
    "seed",
    "keyframes",
    "camera_move",
    "style_id",
)

# Decoded frames a source's thread may hold ahead of the pixel work.
_PREFETCH = 2

# What a worker imports to convert frames (see engine.prestart).
_WORKER_MODULES = ("aebridge.imaging", "aebridge.exr", "aebridge.ingest")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertResult:
    """The EXR sequence a conversion produced (what a comp spec calls an EXR sequence).

    ``folder`` holds ``<name>.<frame>.exr`` for every frame from ``first`` to ``last``.
    """

    folder: Path
    name: str
    first: int
    last: int
    padding: int
    rate: Fraction
    width: int
    height: int
    pixel_aspect: Fraction
    colorspace: str
    role: str
    alpha_mode: str
    source: str
    frames_written: int
    frames_skipped: int
    sidecar: Path
    decisions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    light_pixels: int = 0
    light_frames: tuple[int, ...] = ()

    @property
    def frame_count(self) -> int:
        return self.last - self.first + 1

    @property
    def pattern(self) -> str:
        """The sequence as ``name.####.exr``."""
        return f"{self.name}.{'#' * self.padding}.exr"

    def frame_path(self, frame: int) -> Path:
        return self.folder / f"{self.name}.{frame:0{self.padding}d}.exr"


# --------------------------------------------------------------------------- chunks


@dataclass(frozen=True, slots=True, kw_only=True)
class _ChunkTask:
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
class _FrameRecord:
    frame: int
    index: int
    written: bool
    # Pixels holding light under alpha 0 (PixelPipeline.light_pixels).
    light: int = 0


def _frame_path(folder: str, name: str, frame: int, padding: int) -> str:
    return os.path.join(folder, f"{name}.{frame:0{padding}d}.exr")


# Header attribute holding a frame's count of light under alpha 0, so a resumed run
# reports it without reading pixels.
_LIGHT_ATTRIBUTE = "aebridge/lightUnderAlpha0"


def _current_light(path: str, source_sha: str, settings_hash: str) -> int | None:
    """The light-under-alpha-0 count of ``path`` when it is a whole aebridge frame made
    from this source and settings (and records the count); None when it must be
    (re)made."""
    from . import exr

    if not os.path.exists(path):
        return None
    try:
        header = exr.read_header(path)
    except AebridgeError:
        return None  # unreadable: redo it
    if (
        header.get("aebridge/sourceSha256") != source_sha
        or header.get("aebridge/settingsHash") != settings_hash
    ):
        return None
    light = header.get(_LIGHT_ATTRIBUTE)
    try:
        return int(str(light))
    except ValueError:
        return None  # written before frames recorded it: redo it once


def _decode(
    task: _ChunkTask, indices: list[int]
) -> Generator[tuple[int, Any, Any | None], None, None]:
    """Yield (index, pixels, matte pixels) for the given ascending source indices.

    Image sequences read just those files; movies decode forward from one seek over
    the span that needs work and drop the frames that are already done. With
    ``task.threads > 1`` each source decodes on its own thread (and a movie with
    FFmpeg's threads), a few frames ahead of the pixel work.
    """
    from . import ingest
    from .engine import prefetch

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


def _convert_chunk(
    task: _ChunkTask,
    on_frame: Callable[[_FrameRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[_FrameRecord]:
    """Worker: convert the frames of one chunk (see :func:`_convert_frames`), under
    the reading sandbox active where the task was made (a service job's input roots),
    so reads in a worker process are checked at the moment they happen."""
    with sandbox.active(task.sandbox):
        return _convert_frames(task, on_frame, cancel)


def _convert_frames(
    task: _ChunkTask,
    on_frame: Callable[[_FrameRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[_FrameRecord]:
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

    from . import exr, ingest
    from .imaging import PixelPipeline

    info = task.info
    rate = Fraction(*task.rate)
    settings = exr.ExrSettings(
        half=task.half, compression=task.compression, autocrop=task.autocrop
    )
    static = dict(task.attributes)
    records: list[_FrameRecord] = []

    def add(record: _FrameRecord) -> None:
        records.append(record)
        if on_frame is not None:
            on_frame(record)

    def source_hash(index: int) -> str:
        if task.movie_sha256 is not None:
            return task.movie_sha256
        return str(ingest.file_sha256(info.frame_files[index]))

    def matte_hash(index: int) -> str | None:
        m = task.matte_info
        if m is None:
            return None
        if task.matte_movie_sha256 is not None:
            return task.matte_movie_sha256
        return str(ingest.file_sha256(m.frame_files[index]))

    # Decide which frames need work before decoding anything: a resumed run of an
    # image sequence then reads only the headers and hashes of finished frames.
    todo: dict[int, tuple[str, str | None]] = {}
    for index in task.indices:
        frame = task.start_frame + index
        path = _frame_path(task.folder, task.name, frame, task.padding)
        src_sha = source_hash(index)
        m_sha = matte_hash(index)
        combined = src_sha if m_sha is None else f"{src_sha}+{m_sha}"
        light = (
            None if task.force else _current_light(path, combined, task.settings_hash)
        )
        if light is not None:
            add(_FrameRecord(frame=frame, index=index, written=False, light=light))
        else:
            todo[index] = (src_sha, m_sha)
    if not todo:
        return records

    def make_pipeline(pixels: Any, matte: Any | None) -> PixelPipeline:
        return PixelPipeline(
            dtype=str(pixels.dtype),
            channels=pixels.shape[2] if pixels.ndim == 3 else 1,
            colorspace_in=task.colorspace_in,
            colorspace_out=task.colorspace_out,
            alpha_mode=task.alpha_mode,
            half=task.half,
            matte_dtype=None if matte is None else str(matte.dtype),
            matte_channels=(
                None if matte is None else (matte.shape[2] if matte.ndim == 3 else 1)
            ),
        )

    def convert_frame(
        pipeline: PixelPipeline, index: int, pixels: Any, matte: Any | None
    ) -> _FrameRecord:
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
        attrs[_LIGHT_ATTRIBUTE] = str(light)
        path = _frame_path(task.folder, task.name, frame, task.padding)
        exr.write_frame(path, rgba, settings=settings, attributes=attrs)
        return _FrameRecord(frame=frame, index=index, written=True, light=light)

    pipeline: PixelPipeline | None = None
    pool = ThreadPoolExecutor(task.threads) if task.threads > 1 else None
    running: set[Future[_FrameRecord]] = set()

    def collect(block: bool) -> None:
        nonlocal running
        if not running:
            return
        done, running = wait(
            running, timeout=None if block else 0, return_when=FIRST_COMPLETED
        )
        for fut in done:
            add(fut.result())

    decoded = _decode(task, sorted(todo))
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
                # The first frame is converted here: it builds the tables once,
                # before any thread needs them.
                pipeline = make_pipeline(pixels, matte)
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


def _movie_ranges(info: Any, indices: Sequence[int], workers: int) -> list[range]:
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


# --------------------------------------------------------------------------- options


def _check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise OptionError(option, value, choices)
    return value


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise OptionError(
            "--name",
            name,
            "1-128 characters: letters, digits, '_', '-', '.', starting with a letter "
            "or digit (it becomes a folder and file name)",
        )
    return name


def load_provenance(
    sidecar: str | os.PathLike[str] | None, meta: Mapping[str, str] | None
) -> dict[str, Any]:
    """Merge provenance from a JSON sidecar file and ``--meta key=value`` pairs.

    Args:
        sidecar: a JSON object file (``generator``, ``model``, ``prompt``, ``seed``,
            ``keyframes``, ``camera_move``, ``style_id``, anything else is kept too).
        meta: key/value pairs that override the sidecar's.

    Returns:
        The merged mapping, keys sorted.

    Raises:
        SourceError: the sidecar is missing, not JSON, or not an object.
    """
    merged: dict[str, Any] = {}
    if sidecar is not None:
        path = Path(sidecar)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SourceError("provenance file not found", path=str(path)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"cannot read provenance file: {exc}", path=str(path)
            ) from exc
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"provenance file is not valid JSON (line {exc.lineno}, column "
                f"{exc.colno}: {exc.msg})",
                path=str(path),
            ) from exc
        if not isinstance(data, dict):
            raise SourceError(
                "provenance file must hold a JSON object such as "
                '{"generator": "...", "prompt": "...", "seed": 7}',
                path=str(path),
            )
        merged.update(data)
    for key, value in (meta or {}).items():
        if not key or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise OptionError(
                "--meta", f"{key}={value}", "KEY=VALUE with KEY like prompt"
            )
        merged[key] = value
    return dict(sorted(merged.items()))


def _provenance_attributes(provenance: Mapping[str, Any]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for key, value in provenance.items():
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
        )
        attrs[f"aebridge/provenance/{key}"] = text
    return attrs


def _settings_hash(settings: Mapping[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def _auto_alpha(info: Any) -> tuple[str, str]:
    """Choose the alpha mode of a source whose mode the user did not give."""
    if not info.has_alpha:
        return "none", "alpha auto: the source has no alpha channel, so it is opaque"
    suffix = Path(info.frame_files[0] if info.frame_files else info.path).suffix.lower()
    if suffix == ".exr":
        return (
            "premultiplied",
            "alpha auto: OpenEXR stores premultiplied (associated) alpha",
        )
    if getattr(info, "alpha_associated", False):
        return (
            "premultiplied",
            f"alpha auto: the {suffix} file declares its alpha associated "
            "(premultiplied)",
        )
    if info.kind == "movie":
        return (
            "straight",
            "alpha auto: movie alpha (ProRes 4444, VP9) is stored straight",
        )
    return "straight", f"alpha auto: {suffix or 'image'} alpha is stored straight"


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder: {exc.strerror}", path=str(folder)
        ) from exc
    probe = folder / f".aebridge-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"the output folder is not writable: {exc.strerror}", path=str(folder)
        ) from exc


def _clean_folder(
    folder: Path, name: str, keep: range | None, frames: set[int]
) -> list[str]:
    """Remove temporary files of the frames about to be written and, on a full run,
    frames of this name outside the new range (so After Effects imports no stale tail).
    """
    removed: list[str] = []
    frame_re = re.compile(rf"^{re.escape(name)}\.(\d+)\.exr$")
    tmp_re = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.exr\.tmp")
    for entry in os.scandir(folder):
        m = tmp_re.match(entry.name)
        if m and int(m.group(1)) in frames:
            os.unlink(entry.path)
            continue
        m = frame_re.match(entry.name)
        if m and keep is not None and int(m.group(1)) not in keep:
            os.unlink(entry.path)
            removed.append(entry.name)
    return sorted(removed)


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    text = json.dumps(
        data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
    )
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror}", path=str(path)) from exc


def read_sidecar(
    folder: str | os.PathLike[str], name: str | None = None
) -> dict[str, Any]:
    """Read the ``<name>.aebridge.json`` sidecar of a converted sequence folder.

    Raises:
        SourceError: no sidecar, or it is not valid.
    """
    folder = Path(folder)
    if name is None:
        found = sorted(folder.glob("*.aebridge.json"))
        if len(found) != 1:
            raise SourceError(
                "expected exactly one *.aebridge.json sidecar in the folder, found "
                f"{len(found)}",
                path=str(folder),
            )
        path = found[0]
    else:
        path = folder / f"{name}.aebridge.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(
            "no aebridge sidecar here (not converted?)", path=str(path)
        ) from exc
    except (OSError, ValueError) as exc:
        raise SourceError(f"unreadable sidecar: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or data.get("schema") != SIDECAR_SCHEMA:
        raise SourceError(f"not an {SIDECAR_SCHEMA} sidecar", path=str(path))
    return data


# --------------------------------------------------------------------------- convert


def convert(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str,
    alpha: str = "auto",
    matte: str | os.PathLike[str] | None = None,
    colorspace: str | None = None,
    output_colorspace: str = DEFAULT_OUTPUT_COLORSPACE,
    fps: object | None = None,
    start_frame: int = 1001,
    padding: int = 4,
    half: bool = True,
    compression: str | None = None,
    autocrop: bool = False,
    role: str = "element",
    vfr: str = "refuse",
    orientation: str = "apply",
    part: str | None = None,
    view: str | None = None,
    fields: str = "keep",
    frames: Sequence[int] | None = None,
    provenance: Mapping[str, Any] | None = None,
    owner: str | None = None,
    comments: str | None = None,
    pixel_aspect: Fraction | None = None,
    engine: str = "local",
    jobs: int | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    warn: Callable[[str], None] | None = None,
) -> ConvertResult:
    """Convert one layer to a premultiplied, scene-linear EXR sequence.

    Args:
        source: an image sequence (``fg.####.png``, ``fg.%04d.png``,
            ``fg.1001-1120#.png``, or a folder) or a movie (MP4, MOV, WebM).
        out_dir: frames go to ``out_dir/<name>/<name>.<frame>.exr``.
        name: the layer name (letters, digits, ``_ - .``).
        alpha: ``straight``, ``premultiplied``, ``none`` or ``auto`` (from the format).
        matte: a separate matte source (its alpha, or its luma when it has none).
        colorspace: the input colour space (OCIO name); default sRGB for stills,
            the probed Rec.709 transfer for movies.
        output_colorspace: ``Linear Rec.709 (sRGB)`` (default) or ``ACEScg``.
        fps: the rate (``24``, ``23.976``, ``24000/1001``); default the movie's own
            rate, or 24 for image sequences.
        start_frame: the number of the first output frame.
        padding: digits in frame numbers.
        half: half float (default) or 32-bit float.
        compression: EXR compression (see ``aebridge.exr.COMPRESSIONS``); default
            ``aebridge.exr.DEFAULT_COMPRESSION`` (zip).
        autocrop: crop the data window to the alpha bounding box.
        role: background, foreground, element, matte or guide.
        vfr: for variable-rate movies, ``refuse`` or ``resample`` to constant rate.
        orientation: ``apply`` the orientation the file declares (EXIF, a movie's
            display matrix) or ``keep`` the stored pixels.
        part: EXR sources: the part (name or index) to read; default the first
            part with a picture for the view.
        view: EXR sources: the view to read; default the file's default view.
        fields: interlaced movies: ``keep`` the woven fields (a warning says so) or
            ``interpolate`` whole frames from the first field.
        frames: output frame numbers to convert (a farm chunk); default all.
        provenance: generator, model, prompt, seed, keyframes, camera_move, style_id...
        owner: the EXR ``owner`` attribute.
        comments: the EXR ``comments`` attribute.
        pixel_aspect: override the source's pixel aspect ratio.
        engine: ``local`` or ``dask://host:port``.
        jobs: parallel processes for the local engine (default all cores).
        force: rewrite frames even when they are up to date.
        progress: called with (frames done, frames total) as chunks finish.
        cancel: set it to stop between chunks (CanceledError is raised).
        warn: called with each warning as it arises.

    Returns:
        The sequence written.

    Raises:
        OptionError: an option has a value that is not allowed.
        SourceError: the source or matte is missing, unreadable or inconsistent.
        OutputError: the output cannot be written.
        CanceledError: ``cancel`` was set.
    """
    from .engine import chunk_ranges, cpu_count, open_engine, parse_engine, prestart
    from .ingest import MOVIE_EXTENSIONS

    if Path(source).suffix.lower() not in MOVIE_EXTENSIONS:
        # Workers start (and import the pixel stack) while this process imports its
        # own and probes the source. (A movie often runs here on threads instead.)
        prestart(engine, jobs=jobs, modules=_WORKER_MODULES)
    from . import colour, exr, ingest

    name = _check_name(name)
    _check_choice("--alpha", alpha, ALPHA_MODES)
    _check_choice("--role", role, ROLES)
    _check_choice("--vfr", vfr, VFR_POLICIES)
    compression = exr.validate_compression(
        exr.DEFAULT_COMPRESSION if compression is None else compression
    )
    output_colorspace = colour.validate_colorspace(
        output_colorspace, option="--output-colorspace"
    )
    if output_colorspace not in colour.OUTPUT_COLORSPACES:
        raise OptionError(
            "--output-colorspace", output_colorspace, colour.OUTPUT_COLORSPACES
        )
    if not 1 <= padding <= 10:
        raise OptionError("--padding", padding, "1 to 10")
    if start_frame < 0:
        raise OptionError("--start-frame", start_frame, "0 or more")
    if matte is not None and alpha not in ("auto", "straight"):
        raise OptionError(
            "--alpha",
            alpha,
            "auto or straight with --matte (the matte becomes the alpha; colour is "
            "treated as straight)",
        )
    warnings: list[str] = []

    def _warn(text: str) -> None:
        warnings.append(text)
        if warn is not None:
            warn(text)

    if exr.COMPRESSIONS[compression].warning:
        _warn(str(exr.COMPRESSIONS[compression].warning))

    user_rate = parse_rate(fps, option="--fps") if fps is not None else None
    colorspace_given = (
        colour.validate_colorspace(colorspace, option="--colorspace")
        if colorspace is not None
        else None
    )
    info = ingest.probe(
        source,
        vfr=vfr,
        rate=user_rate,
        colorspace=colorspace_given,
        orientation=orientation,
        part=part,
        view=view,
        fields=fields,
    )
    decisions: list[str] = [str(info.colour_decision)] if info.colour_decision else []
    decisions.extend(str(n) for n in getattr(info, "notes", ()))
    if info.fields and info.field_mode == "keep":
        _warn(
            f"the movie is interlaced ({info.fields}): its frames are kept as two "
            "woven fields, which comb where things move; --fields interpolate makes "
            "whole frames from the first field"
        )

    matte_info = None
    if matte is not None:
        # The matte's colour space does not matter (its values become alpha), so its
        # transfer is never a reason to refuse it.
        matte_info = ingest.probe(
            matte,
            vfr=vfr,
            rate=user_rate,
            colorspace="Raw",
            orientation=orientation,
            matte=True,
        )
        if (matte_info.width, matte_info.height) != (info.width, info.height):
            raise SourceError(
                f"the matte is {matte_info.width}x{matte_info.height} but the source "
                f"is {info.width}x{info.height}; they must match",
                path=str(matte),
            )
        if matte_info.frame_count < info.frame_count:
            raise SourceError(
                f"the matte has {matte_info.frame_count} frames but the source has "
                f"{info.frame_count}",
                path=str(matte),
            )
        if matte_info.frame_count > info.frame_count:
            _warn(
                f"the matte has {matte_info.frame_count} frames, the source "
                f"{info.frame_count}; the extra matte frames are ignored"
            )
        alpha_mode = "straight"
        decisions.append("alpha: from the separate matte (its alpha, else its luma)")
    elif alpha == "auto":
        alpha_mode, why = _auto_alpha(info)
        decisions.append(why)
    else:
        alpha_mode = alpha
        if alpha != "none" and not info.has_alpha:
            raise OptionError(
                "--alpha",
                alpha,
                "none or auto: the source has no alpha channel (give --matte for a "
                "separate matte)",
            )
        decisions.append(f"alpha: {alpha} (given)")

    # The source colour: as given, else as the file declares it (an OCIO name, or an
    # encoding the config has no name for), else the default; colorspace_in is its
    # name in the header, source_colour what the pixels are converted from.
    source_colour: Any
    if colorspace_given is not None:
        colorspace_in = source_colour = colorspace_given
        decisions.append(f"input colour space: {colorspace_in} (given)")
    else:
        colorspace_in = str(info.colorspace)
        source_colour = info.encoding if info.encoding is not None else colorspace_in

    if user_rate is not None:
        rate = user_rate
        if info.rate is not None and info.rate != user_rate:
            _warn(
                f"the movie runs at {format_rate(info.rate)} fps; its frames are "
                f"conformed to {format_rate(user_rate)} fps as --fps asks"
            )
    elif info.rate is not None:
        rate = Fraction(info.rate)
    else:
        rate = Fraction(24)
        decisions.append("rate: 24 fps (an image sequence carries no rate; give --fps)")
        _warn("no --fps given for an image sequence; using 24 fps")

    total = int(info.frame_count)
    if total < 1:
        raise SourceError("the source has no frames", path=str(source))
    first, last = start_frame, start_frame + total - 1
    if frames is None:
        indices = list(range(total))
    else:
        bad = [f for f in frames if not first <= f <= last]
        if bad:
            raise OptionError(
                "--frames",
                bad[0],
                f"frames {first}-{last} (the source has {total} frames)",
            )
        indices = sorted({f - first for f in frames})
        if not indices:
            raise OptionError("--frames", "", f"at least one frame in {first}-{last}")

    out_folder = Path(out_dir) / name
    _check_writable(out_folder)

    movie_sha = ingest.file_sha256(info.path) if info.kind == "movie" else None
    matte_movie_sha = (
        ingest.file_sha256(matte_info.path)
        if matte_info is not None and matte_info.kind == "movie"
        else None
    )
    par = (
        Fraction(pixel_aspect)
        if pixel_aspect is not None
        else Fraction(info.pixel_aspect)
    )
    provenance = dict(provenance or {})

    settings: dict[str, Any] = {
        "pipeline": PIPELINE_VERSION,
        "alpha": alpha_mode,
        "matte": matte_info is not None,
        "colorspace_in": colorspace_in,
        "colorspace_out": output_colorspace,
        "orientation": int(info.orientation),
        "fields": info.field_mode,
        "exr": None
        if info.exr is None
        else {"part": info.exr.part, "channels": list(info.exr.names)},
        "half": half,
        "compression": compression,
        "autocrop": autocrop,
        "rate": format_rate(rate),
        "start_frame": start_frame,
        "vfr": vfr,
        "pixel_aspect": str(par),
        "role": role,
        "owner": owner,
        "comments": comments,
        "provenance": provenance,
    }
    if not isinstance(source_colour, str):
        # A declared encoding is hashed by its full definition (curves, matrix).
        settings["encoding"] = _settings_hash({"encoding": repr(source_colour)})
    settings_hash = _settings_hash(settings)

    attributes: dict[str, Any] = {
        "framesPerSecond": (rate.numerator, rate.denominator),
        "chromaticities": colour.chromaticities(output_colorspace),
        "colorInteropID": colour.interop_id(output_colorspace),
        "pixelAspectRatio": float(par),
        "aebridge/schema": EXR_METADATA_SCHEMA,
        "aebridge/version": __version__,
        "aebridge/layer": name,
        "aebridge/role": role,
        "aebridge/source": str(source),
        "aebridge/sourceAlpha": alpha_mode,
        "aebridge/inputColorspace": colorspace_in,
        "aebridge/outputColorspace": output_colorspace,
        "aebridge/decisions": json.dumps(decisions, ensure_ascii=False),
        "aebridge/settingsHash": settings_hash,
    }
    if matte is not None:
        attributes["aebridge/matte"] = str(matte)
    if owner:
        attributes["owner"] = owner
    if comments:
        attributes["comments"] = comments
    attributes.update(_provenance_attributes(provenance))

    frame_numbers = {first + i for i in indices}
    removed = _clean_folder(
        out_folder,
        name,
        range(first, last + 1) if frames is None else None,
        frame_numbers,
    )
    if removed:
        _warn(
            f"removed {len(removed)} frame(s) outside {first}-{last} left by an "
            f"earlier run in {out_folder} (first: {removed[0]})"
        )

    done = 0
    written = 0
    skipped = 0
    light_pixels = 0
    light_frames: list[int] = []

    def count(record: _FrameRecord) -> None:
        nonlocal done, written, skipped, light_pixels
        done += 1
        written += record.written
        skipped += not record.written
        light_pixels += record.light
        if record.light:
            light_frames.append(record.frame)

    def on_result(records: list[_FrameRecord]) -> None:
        for record in records:
            count(record)
        if progress is not None:
            progress(done, len(indices))

    def on_frame(record: _FrameRecord) -> None:
        count(record)
        if progress is not None:
            progress(done, len(indices))

    if progress is not None:
        progress(0, len(indices))
    kind, _ = parse_engine(engine)
    local_workers = (cpu_count() if jobs is None else jobs) if kind == "local" else 0
    inline = False
    if info.kind == "movie" and local_workers > 1:
        # A movie whose frames make one chunk (one keyframe, or a short span) runs
        # here on threads: a pool worker would only add its start-up and imports.
        inline = len(_movie_ranges(info, indices, local_workers)) == 1
    with open_engine(engine, jobs=1 if inline else jobs) as eng:
        workers = local_workers if inline else eng.workers
        if info.kind == "movie":
            ranges = _movie_ranges(info, indices, workers)
        else:
            ranges = chunk_ranges(len(indices), workers=workers, max_chunk=16)
        # Chunks that leave workers idle (a movie with one keyframe is one chunk)
        # share the idle workers out as threads.
        threads = max(1, workers // max(1, min(workers, len(ranges))))
        tasks = [
            _ChunkTask(
                info=info,
                matte_info=matte_info,
                indices=tuple(indices[r.start : r.stop]),
                folder=str(out_folder),
                name=name,
                start_frame=start_frame,
                padding=padding,
                alpha_mode=alpha_mode,
                colorspace_in=source_colour,
                colorspace_out=output_colorspace,
                half=half,
                compression=compression,
                autocrop=autocrop,
                rate=(rate.numerator, rate.denominator),
                attributes=tuple(sorted(attributes.items())),
                movie_sha256=movie_sha,
                matte_movie_sha256=matte_movie_sha,
                settings_hash=settings_hash,
                force=force,
                sandbox=sandbox.current(),
                threads=threads,
            )
            for r in ranges
        ]
        if inline:
            # Frames are counted (and a cancel is seen) as they are written.
            run = functools.partial(_convert_chunk, on_frame=on_frame, cancel=cancel)
            eng.map_chunks(run, tasks, on_result=lambda _: None, cancel=cancel)
        else:
            eng.map_chunks(_convert_chunk, tasks, on_result=on_result, cancel=cancel)

    if light_frames:
        _warn(light_warning(light_pixels, sorted(light_frames)))
    result = ConvertResult(
        folder=out_folder,
        name=name,
        first=first,
        last=last,
        padding=padding,
        rate=rate,
        width=int(info.width),
        height=int(info.height),
        pixel_aspect=par,
        colorspace=output_colorspace,
        role=role,
        alpha_mode=alpha_mode,
        source=str(source),
        frames_written=written,
        frames_skipped=skipped,
        sidecar=out_folder / f"{name}.aebridge.json",
        decisions=tuple(decisions),
        warnings=tuple(warnings),
        light_pixels=light_pixels,
        light_frames=tuple(sorted(light_frames)),
    )
    _write_json_atomic(
        result.sidecar,
        _sidecar_data(result, info, matte_info, provenance, settings, settings_hash),
    )
    return result


def light_report(result: ConvertResult) -> dict[str, Any]:
    """Light under alpha 0 in a converted sequence, for sidecars and build.json:
    ``{"pixels": N, "frames": "1001-1010,1020"}`` (frames as ranges, "" for none)."""
    from .sequence import format_frame_ranges

    return {
        "pixels": result.light_pixels,
        "frames": format_frame_ranges(result.light_frames),
    }


def light_warning(pixels: int, frames: Sequence[int]) -> str:
    """The warning for light kept under alpha 0 (frames in increasing order)."""
    from .sequence import format_frame_ranges

    ranges = format_frame_ranges(list(frames))
    return (
        f"{pixels} pixel(s) in {len(frames)} frame(s) ({ranges}) hold light under "
        "alpha 0 (glows, fire in premultiplied input): After "
        "Effects drops it when it unpremultiplies the footage; in a comp spec, "
        "light_under_alpha 'add' on the layer keeps it as an additive copy"
    )


def _sidecar_data(
    result: ConvertResult,
    info: Any,
    matte_info: Any | None,
    provenance: Mapping[str, Any],
    settings: Mapping[str, Any],
    settings_hash: str,
) -> dict[str, Any]:
    # Deterministic: no timestamps, no host names, so a re-run rewrites the same bytes.
    return {
        "schema": SIDECAR_SCHEMA,
        "aebridge_version": __version__,
        "name": result.name,
        "pattern": result.pattern,
        "first": result.first,
        "last": result.last,
        "padding": result.padding,
        "rate": format_rate(result.rate),
        "width": result.width,
        "height": result.height,
        "pixel_aspect": str(result.pixel_aspect),
        "colorspace": result.colorspace,
        "alpha": "premultiplied",
        "role": result.role,
        "source": {
            "path": result.source,
            "kind": info.kind,
            "alpha_mode": result.alpha_mode,
            "colorspace": settings["colorspace_in"],
            "colour_tags": dict(info.colour_tags),
            "frame_count": info.frame_count,
            "rate": None if info.rate is None else format_rate(Fraction(info.rate)),
        },
        "matte": None
        if matte_info is None
        else {"path": str(matte_info.path), "kind": matte_info.kind},
        "settings": dict(settings),
        "settings_hash": settings_hash,
        "provenance": dict(provenance),
        "decisions": list(result.decisions),
        "light_under_alpha0": light_report(result),
    }
