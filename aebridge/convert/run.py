"""Converting one layer: probe the source, decide what the options left open (alpha,
colour, rate), then run the chunks on an engine and describe the sequence written.

:func:`convert_layer` takes a :class:`~aebridge.convert.options.ConvertOptions`;
:func:`convert` is the same with the options as keywords (the command line's and
``aebridge.convert(...)``'s form).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import sandbox
from ..errors import OptionError, SourceError
from ..model import AlphaMode, FieldMode, Orientation, Role, VfrPolicy
from ..sequence import FoundSequences
from ..timing import format_rate
from .chunks import WORKER_MODULES, ChunkTask, FrameRecord, convert_chunk, movie_ranges
from .metadata import header_attributes, settings, settings_hash, write_sidecar
from .options import DEFAULT_OUTPUT_COLORSPACE, ConvertOptions
from .result import ConvertResult, light_warning
from .resume import check_writable, clean_folder

if TYPE_CHECKING:
    from ..ingest import SourceInfo

__all__ = ["ProgressCallback", "check_matte", "convert", "convert_layer"]

ProgressCallback = Callable[[int, int], None]

# How the source stores alpha, as headers, settings and the sidecar record it.
STRAIGHT = AlphaMode.STRAIGHT.value
PREMULTIPLIED = AlphaMode.PREMULTIPLIED.value
NONE = AlphaMode.NONE.value


def _auto_alpha(info: Any) -> tuple[str, str]:
    """Choose the alpha mode of a source whose mode the user did not give."""
    if not info.has_alpha:
        return NONE, "alpha auto: the source has no alpha channel, so it is opaque"
    suffix = Path(info.frame_files[0] if info.frame_files else info.path).suffix.lower()
    if suffix == ".exr":
        return (
            PREMULTIPLIED,
            "alpha auto: OpenEXR stores premultiplied (associated) alpha",
        )
    if getattr(info, "alpha_associated", False):
        return (
            PREMULTIPLIED,
            f"alpha auto: the {suffix} file declares its alpha associated "
            "(premultiplied)",
        )
    if info.kind == "movie":
        return (
            STRAIGHT,
            "alpha auto: movie alpha (ProRes 4444, VP9) is stored straight",
        )
    return STRAIGHT, f"alpha auto: {suffix or 'image'} alpha is stored straight"


def _prestart(options_source: str, engine: str, jobs: int | None) -> None:
    from ..engine import prestart
    from ..formats import MOVIE_EXTENSIONS

    if Path(options_source).suffix.lower() not in MOVIE_EXTENSIONS:
        # Workers start (and import the pixel stack) while this process imports its
        # own and probes the source. (A movie often runs here on threads instead.)
        prestart(engine, jobs=jobs, modules=WORKER_MODULES)


def convert(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str,
    alpha: str = AlphaMode.AUTO.value,
    matte: str | os.PathLike[str] | None = None,
    colorspace: str | None = None,
    output_colorspace: str = DEFAULT_OUTPUT_COLORSPACE,
    fps: object | None = None,
    start_frame: int = 1001,
    padding: int = 4,
    half: bool = True,
    compression: str | None = None,
    autocrop: bool = False,
    role: str = Role.ELEMENT.value,
    vfr: str = VfrPolicy.REFUSE.value,
    orientation: str = Orientation.APPLY.value,
    part: str | None = None,
    view: str | None = None,
    fields: str = FieldMode.KEEP.value,
    yuv_matrix: str | None = None,
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

    The options are those of :class:`~aebridge.convert.options.ConvertOptions`
    (``fps`` is its ``rate``, in any form :func:`aebridge.timing.parse_rate` reads);
    the rest are :func:`convert_layer`'s.

    Args:
        source: an image sequence (``fg.####.png``, ``fg.%04d.png``,
            ``fg.1001-1120#.png``, or a folder) or a movie (MP4, MOV, WebM).
        out_dir: frames go to ``out_dir/<name>/<name>.<frame>.exr``.
        name: the layer name (an id: letters, digits, ``_ - .``, not ending in
            ``.``).
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
        yuv_matrix: YUV movies: ``bt709``, ``bt601`` or ``bt2020`` to read them
            with instead of the tag (default: as tagged; untagged HD as BT.709,
            SD as BT.601). Image sequences refuse it.
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
    _prestart(os.fspath(source), engine, jobs)
    options = ConvertOptions(
        source=os.fspath(source),
        name=name,
        alpha=alpha,  # type: ignore[arg-type]  # checked by ConvertOptions
        matte=None if matte is None else os.fspath(matte),
        colorspace=colorspace,
        output_colorspace=output_colorspace,
        rate=fps,  # type: ignore[arg-type]  # parsed by ConvertOptions
        start_frame=start_frame,
        padding=padding,
        half=half,
        compression=compression,
        autocrop=autocrop,
        role=role,  # type: ignore[arg-type]
        vfr=vfr,  # type: ignore[arg-type]
        orientation=orientation,  # type: ignore[arg-type]
        part=part,
        view=view,
        fields=fields,  # type: ignore[arg-type]
        yuv_matrix=yuv_matrix,  # type: ignore[arg-type]
        provenance=provenance or {},
        owner=owner,
        comments=comments,
        pixel_aspect=pixel_aspect,
    )
    return _convert(
        options,
        out_dir,
        info=None,
        matte_info=None,
        sequences=None,
        frames=frames,
        engine=engine,
        jobs=jobs,
        force=force,
        progress=progress,
        cancel=cancel,
        warn=warn,
    )


def convert_layer(
    options: ConvertOptions,
    out_dir: str | os.PathLike[str],
    *,
    info: Any | None = None,
    matte_info: Any | None = None,
    sequences: FoundSequences | None = None,
    frames: Sequence[int] | None = None,
    engine: str = "local",
    jobs: int | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    warn: Callable[[str], None] | None = None,
) -> ConvertResult:
    """Convert one layer, as ``options`` describe, to an EXR sequence.

    Args:
        options: the source and what to make of it.
        out_dir: frames go to ``out_dir/<name>/<name>.<frame>.exr``.
        info: the source as :func:`aebridge.ingest.probe` read it with these
            options (its ``vfr``, ``rate``, ``colorspace``, ``orientation``,
            ``part``, ``view``, ``fields`` and ``yuv_matrix``), when the caller has
            probed it already; default probed here, as is a probe of another
            path, one made with other reading options, or one of a movie changed
            since (:func:`aebridge.ingest.is_current`).
        matte_info: the same for the separate matte, read as
            :meth:`ConvertOptions.matte_probe_arguments` say.
        sequences: the build's listings (see
            :class:`aebridge.sequence.FoundSequences`): an image-sequence source or
            matte the build has listed already is not listed again.
        frames: output frame numbers to convert (a farm chunk); default all.
        engine: ``local``, ``dask://host:port`` or ``dask-local:N``.
        jobs: parallel processes for the local engine (default all cores).
        force: rewrite frames even when they are up to date.
        progress: called with (frames done, frames total) as chunks finish.
        cancel: set it to stop between chunks (CanceledError is raised).
        warn: called with each warning as it arises.

    Returns:
        The sequence written.

    Raises:
        OptionError: ``frames``, ``engine`` or ``jobs`` is not allowed, or the
            source cannot be read as the options ask.
        SourceError: the source or matte is missing, unreadable or inconsistent.
        OutputError: the output cannot be written.
        CanceledError: ``cancel`` was set.
    """
    _prestart(options.source, engine, jobs)
    return _convert(
        options,
        out_dir,
        info=info,
        matte_info=matte_info,
        sequences=sequences,
        frames=frames,
        engine=engine,
        jobs=jobs,
        force=force,
        progress=progress,
        cancel=cancel,
        warn=warn,
    )


def check_matte(info: SourceInfo, matte_info: SourceInfo) -> str | None:
    """Check a separate matte against its source: the same size and at least as many
    frames. Returns the warning for a longer matte (its extra frames are ignored) or
    a movie matte at another rate than a movie source (frames are still paired by
    number: a matte encoded at a tool's default rate is common), else None.

    Raises:
        SourceError: the sizes differ or the matte is shorter (names the matte).
    """
    if (matte_info.width, matte_info.height) != (info.width, info.height):
        raise SourceError(
            f"the matte is {matte_info.width}x{matte_info.height} but the source "
            f"is {info.width}x{info.height}; they must match",
            path=matte_info.path,
        )
    if matte_info.frame_count < info.frame_count:
        raise SourceError(
            f"the matte has {matte_info.frame_count} frames but the source has "
            f"{info.frame_count}; it must have at least as many",
            path=matte_info.path,
        )
    said: list[str] = []
    rate, matte_rate = info.rate, matte_info.rate
    if rate is not None and matte_rate is not None and matte_rate != rate:
        said.append(
            f"the matte runs at {format_rate(matte_rate)} fps, the source at "
            f"{format_rate(rate)} fps; matte frame N is used with source frame N"
        )
    if matte_info.frame_count > info.frame_count:
        said.append(
            f"the matte has {matte_info.frame_count} frames, the source "
            f"{info.frame_count}; the extra matte frames are ignored"
        )
    return "; ".join(said) or None


def _warn_woven(info: SourceInfo, what: str, warn: Callable[[str], None]) -> None:
    """Warn that an interlaced movie's frames are kept as woven fields."""
    if info.fields and info.field_mode == FieldMode.KEEP:
        warn(
            f"{what} is interlaced ({info.fields}): its frames are kept as two "
            "woven fields, which comb where things move; --fields interpolate makes "
            "whole frames from the first field"
        )


def _probed(
    handed: SourceInfo | None,
    path: str,
    reading: dict[str, Any],
    sequences: FoundSequences | None,
) -> SourceInfo:
    """The probe a caller handed over when it is of ``path`` read this way and the
    file is unchanged since, else a new one: another file's probe, one made for
    other options (a matrix, field handling, part, ...) or of a movie replaced
    since (the build's check probed it before the layers ahead were converted)
    would have the frames read one way while the headers (source, source hash,
    settings hash) say another, or a longer movie cut to the old length."""
    from .. import ingest

    if (
        handed is not None
        and handed.path == path
        and handed.read_with == ingest.reading_key(**reading)
        and ingest.is_current(handed)
    ):
        return handed
    return ingest.probe(path, sequences=sequences, **reading)


def _convert(
    options: ConvertOptions,
    out_dir: str | os.PathLike[str],
    *,
    info: Any | None,
    matte_info: Any | None,
    sequences: FoundSequences | None,
    frames: Sequence[int] | None,
    engine: str,
    jobs: int | None,
    force: bool,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    warn: Callable[[str], None] | None,
) -> ConvertResult:
    from .. import exr, ingest
    from ..engine import chunk_ranges, cpu_count, open_engine, parse_engine

    name = options.name
    source = options.source
    warnings: list[str] = []

    def _warn(text: str) -> None:
        warnings.append(text)
        if warn is not None:
            warn(text)

    compression = options.compression
    assert compression is not None  # ConvertOptions sets the default
    if exr.COMPRESSIONS[compression].warning:
        _warn(str(exr.COMPRESSIONS[compression].warning))

    user_rate = options.rate
    colorspace_given = options.colorspace
    info = _probed(info, source, options.probe_arguments(), sequences)
    decisions: list[str] = [str(info.colour_decision)] if info.colour_decision else []
    decisions.extend(str(n) for n in getattr(info, "notes", ()))
    _warn_woven(info, "the movie", _warn)

    handed_matte, matte_info = matte_info, None
    if options.matte is not None:
        matte = options.matte
        reading = options.matte_probe_arguments()
        matte_info = _probed(handed_matte, matte, reading, sequences)
        extra = check_matte(info, matte_info)
        if extra:
            _warn(extra)
        # Beside a progressive source too: a woven matte combs the alpha.
        _warn_woven(matte_info, "the matte", _warn)
        alpha_mode = STRAIGHT
        decisions.append("alpha: from the separate matte (its alpha, else its luma)")
    elif options.alpha is AlphaMode.AUTO:
        alpha_mode, why = _auto_alpha(info)
        decisions.append(why)
    else:
        alpha = options.alpha.value
        alpha_mode = alpha
        if alpha != NONE and not info.has_alpha:
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

    start_frame = options.start_frame
    total = int(info.frame_count)
    if total < 1:
        raise SourceError("the source has no frames", path=source)
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
    check_writable(out_folder)

    movie_sha = ingest.file_sha256(info.path) if info.kind == "movie" else None
    matte_movie_sha = (
        ingest.file_sha256(matte_info.path)
        if matte_info is not None and matte_info.kind == "movie"
        else None
    )
    par = (
        options.pixel_aspect
        if options.pixel_aspect is not None
        else Fraction(info.pixel_aspect)
    )
    recorded = settings(
        options,
        info,
        matte_info=matte_info,
        alpha_mode=alpha_mode,
        colorspace_in=colorspace_in,
        source_colour=source_colour,
        rate=rate,
        pixel_aspect=par,
    )
    hashed = settings_hash(recorded)
    attributes = header_attributes(
        options,
        rate=rate,
        pixel_aspect=par,
        alpha_mode=alpha_mode,
        colorspace_in=colorspace_in,
        decisions=decisions,
        hashed=hashed,
    )

    frame_numbers = {first + i for i in indices}
    removed = clean_folder(
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
    frame_hashes: dict[int, str] = {}

    def count(record: FrameRecord) -> None:
        nonlocal done, written, skipped, light_pixels
        frame_hashes[record.index] = record.source_sha256
        done += 1
        written += record.written
        skipped += not record.written
        light_pixels += record.light
        if record.light:
            light_frames.append(record.frame)

    def on_result(records: list[FrameRecord]) -> None:
        for record in records:
            count(record)
        if progress is not None:
            progress(done, len(indices))

    def on_frame(record: FrameRecord) -> None:
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
        inline = len(movie_ranges(info, indices, local_workers)) == 1
    with open_engine(engine, jobs=1 if inline else jobs) as eng:
        workers = local_workers if inline else eng.workers
        if info.kind == "movie":
            ranges = movie_ranges(info, indices, workers)
        else:
            ranges = chunk_ranges(len(indices), workers=workers, max_chunk=16)
        # Chunks that leave workers idle (a movie with one keyframe is one chunk)
        # share the idle workers out as threads.
        threads = max(1, workers // max(1, min(workers, len(ranges))))
        tasks = [
            ChunkTask(
                info=info,
                matte_info=matte_info,
                indices=tuple(indices[r.start : r.stop]),
                folder=str(out_folder),
                name=name,
                start_frame=start_frame,
                padding=options.padding,
                alpha_mode=alpha_mode,
                colorspace_in=source_colour,
                colorspace_out=options.output_colorspace,
                half=options.half,
                compression=compression,
                autocrop=options.autocrop,
                rate=(rate.numerator, rate.denominator),
                attributes=tuple(sorted(attributes.items())),
                movie_sha256=movie_sha,
                matte_movie_sha256=matte_movie_sha,
                settings_hash=hashed,
                force=force,
                sandbox=sandbox.current(),
                threads=threads,
            )
            for r in ranges
        ]
        if inline:
            # Frames are counted (and a cancel is seen) as they are written.
            run = functools.partial(convert_chunk, on_frame=on_frame, cancel=cancel)
            eng.map_chunks(run, tasks, on_result=lambda _: None, cancel=cancel)
        else:
            eng.map_chunks(convert_chunk, tasks, on_result=on_result, cancel=cancel)

    if light_frames:
        _warn(light_warning(light_pixels, sorted(light_frames)))
    if movie_sha is not None:
        source_sha256 = movie_sha
    else:
        # The frames' own hashes, which the workers made anyway: the sequence is
        # read once for its pixels and once for its hashes, never again.
        digests = "".join(f"{frame_hashes[i]}\n" for i in indices)
        source_sha256 = hashlib.sha256(digests.encode("ascii")).hexdigest()
    result = ConvertResult(
        folder=out_folder,
        name=name,
        first=first,
        last=last,
        padding=options.padding,
        rate=rate,
        width=int(info.width),
        height=int(info.height),
        pixel_aspect=par,
        colorspace=options.output_colorspace,
        role=options.role.value,
        alpha_mode=alpha_mode,
        source=source,
        frames_written=written,
        frames_skipped=skipped,
        sidecar=out_folder / f"{name}.aebridge.json",
        decisions=tuple(decisions),
        warnings=tuple(warnings),
        light_pixels=light_pixels,
        light_frames=tuple(sorted(light_frames)),
        source_sha256=source_sha256,
    )
    write_sidecar(result, info, matte_info, recorded, hashed)
    return result
