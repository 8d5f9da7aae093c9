"""Frame sources behind one interface: probe a sequence or movie, stream its frames.

``probe`` looks at a source once (in the parent process) and returns a picklable
:class:`SourceInfo`; ``read_frames(info, start, stop)`` streams any chunk of it, so a
worker process or Dask worker decodes just its own frames. Image sequences live in
:mod:`aebridge.ingest.images` (OpenImageIO), movies in :mod:`aebridge.ingest.movie`
(PyAV); each is imported only when a source of its kind is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from .. import sandbox
from ..colour import colorspace_names
from ..encoding import Encoding
from ..errors import OptionError, SourceError

# Which files are read, by name, is aebridge.formats'; kept here by their 0.x names.
from ..formats import MOVIE_EXTENSIONS, READABLE, unread_extension
from ..model import FieldMode, Orientation, VfrPolicy, YuvMatrix
from ..sequence import FoundSequences
from .exrparts import ExrChoice

__all__ = [
    "FIELD_MODES",
    "MOVIE_EXTENSIONS",
    "ORIENTATION_MODES",
    "READABLE",
    "VFR_MODES",
    "ImageSequenceInfo",
    "MovieInfo",
    "SourceInfo",
    "Tags",
    "file_sha256",
    "is_current",
    "probe",
    "read_frames",
    "reading_key",
    "unread_extension",
]

#: What to do with a variable-frame-rate movie: the model's :class:`VfrPolicy`.
VFR_MODES: tuple[str, ...] = tuple(p.value for p in VfrPolicy)

#: What to do with an orientation the file declares (EXIF, a movie's display matrix):
#: the model's :class:`Orientation` (``apply`` it, so frames come out as a viewer
#: shows them, or ``keep`` the stored one).
ORIENTATION_MODES: tuple[str, ...] = tuple(o.value for o in Orientation)

#: What to do with an interlaced movie: ``keep`` each frame's two fields woven as
#: stored (combing where things move; a warning says so), or ``interpolate``: keep
#: the first field and rebuild the other's lines from it (no combing, half the
#: vertical detail, one frame per frame): the model's :class:`FieldMode`.
FIELD_MODES: tuple[str, ...] = tuple(f.value for f in FieldMode)

_HASH_CHUNK = 1 << 20


class Tags(Mapping[str, str]):
    """An immutable, hashable, picklable ``str -> str`` mapping (a movie's colour tags).

    A plain dict would make :class:`SourceInfo` unhashable, so it could not be a cache
    key or a set member.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"Tags({self._items!r})"

    def __reduce__(self) -> tuple[type[Tags], tuple[dict[str, str]]]:
        return (Tags, (self._items,))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Source:
    """What probing any source finds; everything a worker needs to read any chunk.

    Frames are addressed by 0-based index; arrays are H x W x ``channels`` in
    ``dtype``, display-encoded, with alpha exactly as stored (straight or
    premultiplied).
    """

    path: str
    """The source as the user gave it (pattern, folder or movie path)."""
    width: int
    height: int
    frame_count: int
    channels: int
    """Channels of the arrays read_frames yields (1 grey, 2 grey+alpha, 3, 4)."""
    has_alpha: bool
    dtype: str
    """``"uint8"``, ``"uint16"``, ``"float16"`` or ``"float32"`` as yielded."""
    colorspace: str
    """Default input colour space, an OCIO name of OpenImageIO's built-in config."""
    colour_decision: str
    """One sentence: how ``colorspace`` (and a movie's YUV matrix) was chosen."""
    pixel_aspect: Fraction
    notes: tuple[str, ...] = field(default=())
    """Anything else probing decided that a user may want to know."""
    encoding: Encoding | None = None
    """A colour the file declares that the OCIO config has no name for (a PNG gAMA of
    1.8 with cHRM, an ICC profile, EXR chromaticities, BT.2020 PQ tags). When set,
    it is the source colour and ``colorspace`` holds its label."""
    orientation: int = 1
    """The EXIF orientation code (1-8) that read_frames applies to the stored pixels
    (1: none); ``width`` and ``height`` are the size after it."""
    read_with: tuple[tuple[str, object], ...] = ()
    """The reading arguments :func:`probe` was given (``vfr``, ``rate``,
    ``colorspace``, ``orientation``, ``part``, ``view``, ``fields``, ``matte``,
    ``yuv_matrix``) as sorted (name, value) pairs, so code handed a probe can tell
    whether it was read the way it needs (:func:`reading_key`)."""
    stamp: tuple[int, int, int, int, int] | None = None
    """A movie file's (device, inode, size, modification and change times in ns)
    when it was probed, so a probe kept for later can tell the file was replaced
    since (:func:`is_current`), even by a copy of the same size that kept the old
    modification time; None for image sequences, whose frames are each opened when
    read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MovieInfo(_Source):
    """A probed movie (PyAV). Its image-sequence attributes read as empty."""

    kind: ClassVar[Literal["movie"]] = "movie"
    rate: Fraction
    """The exact constant rate of the yielded frames."""
    colour_tags: Mapping[str, str] = field(default_factory=Tags)
    """Matrix, range, transfer, primaries as probed. Probing stores a hashable
    :class:`Tags`, so the info can be hashed."""
    variable_rate: bool = False
    """True when the timestamps are irregular (the movie is then resampled)."""
    codec: str = ""
    """The codec name as FFmpeg reports it (``h264``, ``prores``, ``vp9``)."""
    decoder: str = ""
    """The decoder used: ``libvpx``/``libvpx-vp9`` for VP8/VP9 streams with alpha
    (only they decode its side data), else FFmpeg's own (``vp9``, ``h264``)."""
    stream_index: int = 0
    """Index of the video stream among the container's streams."""
    time_base: Fraction | None = None
    """The stream's time base, the unit of ``frame_pts``."""
    frame_pts: tuple[int, ...] = ()
    """The source timestamp shown at each index (repeats when resampled)."""
    keyframe_pts: tuple[int, ...] = ()
    """Timestamps of keyframes, ascending: where a chunk can start decoding."""
    pixel_format: str = ""
    """The FFmpeg pixel format converted to (``rgb24``, ``rgba64le``, ...)."""
    matrix: str = ""
    """The YUV->RGB matrix applied (swscale name: ``itu709``, ``itu601``)."""
    yuv: bool = False
    """The pictures are YUV, made RGB with ``matrix`` (False: RGB or grey)."""
    color_range: str = ""
    """The YUV range applied (``MPEG`` limited, ``JPEG`` full)."""
    yuv_matrix: YuvMatrix | None = None
    """The YUV matrix the caller gave instead of the tag (None: decided from it)."""
    fields: str = ""
    """``""`` when progressive, else ``"top first"`` or ``"bottom first"``."""
    field_mode: str = "keep"
    """The field handling read_frames applies (:data:`FIELD_MODES`)."""

    # An image sequence's attributes, empty: code that handles either kind reads them.
    frame_files: ClassVar[tuple[str, ...]] = ()
    frame_numbers: ClassVar[tuple[int, ...]] = ()
    alpha_associated: ClassVar[bool] = False
    exr: ClassVar[None] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageSequenceInfo(_Source):
    """A probed image sequence, folder or single image (OpenImageIO). Its movie
    attributes read as empty (``rate`` None: the spec or the command line gives it)."""

    kind: ClassVar[Literal["images"]] = "images"
    frame_files: tuple[str, ...]
    """The file of each frame index."""
    frame_numbers: tuple[int, ...]
    """The number in each file name."""
    alpha_associated: bool = False
    """The file declares its alpha associated (premultiplied), as a TIFF's
    ExtraSamples tag does; ``--alpha auto`` then reads it premultiplied."""
    exr: ExrChoice | None = None
    """EXR sequences: the part, view channels and kind (RGB, Y, YC, deep) read."""

    # A movie's attributes, empty: code that handles either kind reads them.
    rate: ClassVar[None] = None
    colour_tags: ClassVar[Mapping[str, str]] = Tags()
    variable_rate: ClassVar[bool] = False
    codec: ClassVar[str] = ""
    decoder: ClassVar[str] = ""
    stream_index: ClassVar[int] = 0
    time_base: ClassVar[None] = None
    frame_pts: ClassVar[tuple[int, ...]] = ()
    keyframe_pts: ClassVar[tuple[int, ...]] = ()
    pixel_format: ClassVar[str] = ""
    matrix: ClassVar[str] = ""
    yuv: ClassVar[bool] = False
    color_range: ClassVar[str] = ""
    yuv_matrix: ClassVar[None] = None
    fields: ClassVar[str] = ""
    field_mode: ClassVar[str] = "keep"


#: What :func:`probe` returns: one class per kind of source, each with every attribute
#: (the other kind's read as empty), told apart by ``kind`` or ``isinstance``.
SourceInfo: TypeAlias = MovieInfo | ImageSequenceInfo


def reading_key(**reading: object) -> tuple[tuple[str, object], ...]:
    """The :attr:`~_Source.read_with` record :func:`probe` gives when called with
    these reading arguments (the others at its defaults): probe's own signature is
    the one list of them and of their defaults."""
    bound = _PROBE_SIGNATURE.bind("", **reading)
    bound.apply_defaults()
    arguments = bound.arguments
    return tuple(sorted((k, v) for k, v in arguments.items() if k not in _NOT_READING))


#: probe's arguments that say which file, not how it is read.
_NOT_READING = frozenset({"path", "sequences"})


def probe(
    path: str | os.PathLike[str],
    *,
    vfr: str = "refuse",
    rate: Fraction | None = None,
    colorspace: str | None = None,
    orientation: str = "apply",
    part: str | None = None,
    view: str | None = None,
    fields: str = "keep",
    matte: bool = False,
    sequences: FoundSequences | None = None,
    yuv_matrix: str | None = None,
) -> SourceInfo:
    """Look at a source once and describe it.

    Args:
        path: an image sequence pattern (``fg.####.png``, ``fg.%04d.png``,
            ``fg.1001-1120#.png``, ``fg.@@@@.png``), a folder holding one sequence, a
            single image, or a movie (``.mp4``, ``.mov``, ``.webm``, ``.mkv``, ...).
        vfr: for a variable-frame-rate movie, ``"refuse"`` (a SourceError) or
            ``"resample"`` to a constant rate by timestamp.
        rate: with ``vfr="resample"``, the constant rate to produce (default: the
            movie's average rate). Ignored for image sequences.
        colorspace: an OCIO colour-space name that overrides the default input space
            (and lets a movie with a transfer aebridge does not map, such as PQ or
            HLG, be read at all). The decision text records the override.
        orientation: ``"apply"`` the orientation the file declares (EXIF in
            JPEG/TIFF/PNG, a movie's display matrix) or ``"keep"`` the stored one.
        part: EXR: the part (name or index) to read; default the first part with a
            picture for the view.
        view: EXR: the view to read; default the file's default view.
        fields: an interlaced movie's field handling, one of :data:`FIELD_MODES`.
        matte: the source is a matte: a YUV movie without alpha then yields its
            luma plane (one channel) instead of RGB. Image sequences are unchanged.
        sequences: the build's listings: an image sequence (a pattern or a folder)
            it has listed already is not listed again (see
            :class:`aebridge.sequence.FoundSequences`); default listed here.
        yuv_matrix: a :class:`~aebridge.model.YuvMatrix` value: a YUV movie is read
            with it whatever its tag says (an RGB or grey movie records it as not
            applicable). Image sequences refuse it.

    Returns:
        A picklable description for :func:`read_frames`.

    Raises:
        OptionError: ``vfr``, ``colorspace``, ``orientation`` or ``yuv_matrix`` is
            not allowed.
        SourceError: the source is missing, unreadable, inconsistent or unsupported
            (or an image sequence given a YUV matrix); the message names the file
            and frame.
    """
    arguments = dict(locals())  # the arguments alone: nothing is assigned before
    reading = {k: v for k, v in arguments.items() if k not in _NOT_READING}
    # Before reading: a file replaced meanwhile then differs.
    before = _stamp(path) if _is_movie(os.fspath(path)) else None
    info = _probe(path, sequences=sequences, **reading)
    stamp = before if info.kind == "movie" else None
    return dataclasses.replace(info, read_with=reading_key(**reading), stamp=stamp)


def is_current(info: SourceInfo) -> bool:
    """Whether the file a probe read is still the one it read: a movie is the same
    file (device and inode), of the same size, and neither written nor replaced
    since (modification and change times; a copy can keep the first, not the
    second). An image sequence's frames are each opened, and checked against the
    probe, when read."""
    return info.stamp is None or _stamp(info.path) == info.stamp


def _is_movie(path: str) -> bool:
    """Whether probe reads ``path`` as a movie (by its extension; not a folder)."""
    return os.path.splitext(path)[1].lower() in MOVIE_EXTENSIONS and not (
        os.path.isdir(path)
    )


def _stamp(path: str | os.PathLike[str]) -> tuple[int, int, int, int, int] | None:
    """A file's (device, inode, size, modification and change times in ns), read
    through the active sandbox; None when it cannot be opened (the probe then says
    why)."""
    try:
        with sandbox.readable(path) as name:
            status = os.stat(name)
    except (OSError, SourceError):
        return None
    return (
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


#: The one list of the reading arguments and their defaults (see :func:`reading_key`).
_PROBE_SIGNATURE = inspect.signature(probe)


def _probe(
    path: str | os.PathLike[str],
    *,
    vfr: str,
    rate: Fraction | None,
    colorspace: str | None,
    orientation: str,
    part: str | None,
    view: str | None,
    fields: str,
    matte: bool,
    sequences: FoundSequences | None,
    yuv_matrix: str | None,
) -> SourceInfo:
    text = os.fspath(path)
    if vfr not in VFR_MODES:
        raise OptionError("vfr", vfr, VFR_MODES)
    if orientation not in ORIENTATION_MODES:
        raise OptionError("--orientation", orientation, ORIENTATION_MODES)
    if fields not in FIELD_MODES:
        raise OptionError("--fields", fields, FIELD_MODES)
    if colorspace is not None:
        _check_colorspace(colorspace)
    matrix: YuvMatrix | None = None
    if yuv_matrix is not None:
        try:
            matrix = YuvMatrix(yuv_matrix)
        except ValueError:
            raise OptionError(
                "--yuv-matrix", yuv_matrix, [m.value for m in YuvMatrix]
            ) from None
    if _is_movie(text):
        from . import movie
        from .exrparts import refuse_selection

        refuse_selection(part, view, kind="movie", path=text)

        return movie.probe_movie(
            text,
            vfr=vfr,
            rate=rate,
            colorspace=colorspace,
            orientation=orientation,
            fields=fields,
            matte=matte,
            yuv_matrix=matrix,
        )
    if matrix is not None:
        raise SourceError(
            f"a YUV matrix ({matrix.value}; yuv_matrix, --yuv-matrix) applies only "
            "to YUV movies, and this is an image sequence or still; remove it",
            path=text,
            field="yuv_matrix",
        )
    from . import images

    return images.probe_images(
        text,
        colorspace=colorspace,
        orientation=orientation,
        part=part,
        view=view,
        sequences=sequences,
    )


def read_frames(
    info: SourceInfo, start: int, stop: int, *, threads: int = 1
) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Stream frames ``start`` .. ``stop - 1`` of a probed source.

    Only one decoded frame is held at a time. Movies seek to the nearest keyframe
    at or before ``start`` and decode forward, so any chunk can be read on its own.

    Args:
        info: what :func:`probe` returned (possibly in another process).
        start: first 0-based frame index.
        stop: one past the last index; ``0 <= start <= stop <= info.frame_count``.
        threads: movies: FFmpeg decoder threads (1 decodes on the calling thread,
            0 uses every core); image sequences ignore it.

    Returns:
        An iterator of ``(index, pixels)``.

    Raises:
        OptionError: the range is outside the source.
        SourceError: a frame is missing, corrupt or differs from the first frame in
            size or channels (the message names the file and frame).
    """
    if not (0 <= start <= stop <= info.frame_count):
        raise OptionError(
            "frame range", (start, stop), f"0 <= start <= stop <= {info.frame_count}"
        )
    if isinstance(info, MovieInfo):
        from . import movie

        return movie.read_movie_frames(info, start, stop, threads=threads)
    if isinstance(info, ImageSequenceInfo):
        from . import images

        return images.read_image_frames(info, start, stop)
    raise OptionError("SourceInfo.kind", info.kind, ("images", "movie"))


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes as lowercase hex, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        64 hex digits.

    Raises:
        SourceError: the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with sandbox.open_binary(path) as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SourceError(
            f"cannot read the file to hash it: {exc.strerror or exc}",
            path=os.fspath(path),
        ) from exc
    return digest.hexdigest()


def _check_colorspace(name: str) -> None:
    names = colorspace_names()
    if name not in names:
        raise OptionError("colorspace", name, names)
