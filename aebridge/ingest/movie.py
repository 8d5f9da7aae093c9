"""Movie frames (MP4 H.264/H.265, MOV incl. ProRes 4444, WebM VP9 with alpha) via PyAV.

Probe, never trust: the frame count is the number of video packets (demuxing is cheap
and container headers lie or are missing, e.g. WebM has none), the rate is the stream's
exact rational rate checked against the timestamps, and variable rate is detected from
the timestamps themselves.

Colour: YUV is converted to RGB with an explicit matrix and range, decided by
:mod:`~aebridge.ingest.moviecolour` from the tags (untagged HD is BT.709, untagged SD
BT.601) and recorded in ``MovieInfo.colour_decision``. The rate and any resampling are
decided by :mod:`~aebridge.ingest.movierate`, and decoded frames become arrays in
:mod:`~aebridge.ingest.moviepixels`; this module opens, probes and decodes.

VP8 and VP9 alpha lives in side data (Matroska BlockAdditional) that FFmpeg's own
``vp8``/``vp9`` decoders drop without a word, so a stream that declares alpha
(``alpha_mode`` 1) or carries that side data is decoded with libvpx (``libvpx`` for
VP8, ``libvpx-vp9`` for VP9); every other VP8/VP9 stream uses FFmpeg's own decoder,
which also decodes 10- and 12-bit VP9 (profiles 2 and 3) that libvpx here cannot.

A movie probed as a matte (``matte=True``) without an alpha channel yields its luma
plane Y, scaled from its range to full scale by a table (limited-range 8-bit 16..235 ->
0..255, 10-bit 64..940 -> 0..65535), one channel: the coverage the matting pass wrote,
with no trip through RGB (whose chroma rounding would only add noise) and at a fraction
of its cost.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import sandbox
from ..encoding import Encoding
from ..errors import SourceError
from ..formats import MOVIE_EXTENSIONS
from ..model import YuvMatrix
from ..timing import format_rate
from . import MovieInfo, Tags
from .metadata import (
    PRIMARY_NAMES,
    TRANSFER_NAMES,
    decide_orientation,
    oriented_size,
    rotation_orientation,
)
from .moviecolour import MATRIX_NAMES, RANGE_NAMES, decide_colour, is_yuv, tag_name
from .moviepixels import LUMA, SizeChange, has_luma_plane, output_format, to_array
from .movierate import decide_rate, is_variable, resample

__all__ = ["probe_movie", "read_movie_frames"]

_SUPPORTED_HINT = "H.264, H.265/HEVC, ProRes, VP9 (and other codecs FFmpeg decodes)"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Timing:
    pts: tuple[int, ...]
    keyframes: tuple[int, ...]
    header_frames: int
    alpha_side_data: bool = False
    discarded: int = 0


def _open_container(path: str) -> Any:
    import av

    if not os.path.exists(path):
        raise SourceError("the movie file does not exist", path=path)
    try:
        # Through the sandbox when one is active (opened now, beneath its roots).
        with sandbox.readable(path) as name:
            return av.open(name)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"cannot open the movie: {_reason(exc)}; {_ALLOWED}", path=path
        ) from exc


#: What is read as a movie, for the messages that refuse a file.
_ALLOWED = (
    "allowed: a movie FFmpeg reads ("
    + ", ".join(sorted(ext.lstrip(".").upper() for ext in MOVIE_EXTENSIONS))
    + ")"
)


def _reason(exc: BaseException) -> str:
    """FFmpeg's reason alone: PyAV's message adds an errno and the file name again."""
    return getattr(exc, "strerror", None) or str(exc)


def _video_stream(container: Any, path: str) -> Any:
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "none"
        raise SourceError(
            f"the file has no video stream (streams found: {kinds})", path=path
        )
    return container.streams.video[0]


# Codecs whose alpha travels as side data that only libvpx decodes.
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}
_ALPHA_SIDE_DATA = "matroska_block_additional"


def _choose_decoder(stream: Any, alpha_side_data: bool) -> tuple[str, str]:
    """(decoder name, why): libvpx only where the stream has alpha to keep."""
    ctx = stream.codec_context
    name = str(ctx.name)
    alpha_decoder = _ALPHA_DECODERS.get(name)
    if alpha_decoder is None:
        return name, ""
    declared = str(stream.metadata.get("alpha_mode", "")) == "1"
    if declared or alpha_side_data:
        why = "declares alpha (alpha_mode 1)" if declared else "carries alpha side data"
        return alpha_decoder, (
            f"decoder {alpha_decoder}: the {name.upper()} stream {why}, which only "
            "libvpx decodes"
        )
    return name, f"decoder {name} (FFmpeg's): the {name.upper()} stream has no alpha"


def _make_decoder(stream: Any, path: str, name: str, threads: int = 1) -> Any:
    """The decoder context: the stream's own, or the named one (libvpx for alpha).

    ``threads`` above 1 turns on FFmpeg's frame and slice threads with that many
    threads (0: as many as FFmpeg sees cores); frames still come out in order.
    """
    import av

    ctx = stream.codec_context
    if ctx is None:
        raise SourceError(
            f"no decoder for this video codec; supported: {_SUPPORTED_HINT}",
            path=path,
        )
    if name == ctx.name:
        _set_threads(ctx, threads)
        return ctx
    try:
        dec: Any = av.CodecContext.create(name, "r")
    except (av.FFmpegError, ValueError) as exc:
        raise SourceError(
            f"the stream's alpha needs the {name} decoder, and this FFmpeg build has "
            f"none ({exc}); re-encode it as ProRes 4444 or an RGB movie plus a "
            "matte movie",
            path=path,
        ) from exc
    if ctx.extradata:
        dec.extradata = ctx.extradata
    dec.width, dec.height = ctx.width, ctx.height
    _set_threads(dec, threads)
    return dec


def _set_threads(ctx: Any, threads: int) -> None:
    if threads != 1:
        ctx.thread_type = "AUTO"
        ctx.thread_count = max(0, threads)


def _scan(container: Any, stream: Any, path: str) -> _Timing:
    import av

    pts: list[int] = []
    keys: list[int] = []
    side_data = False
    discarded = 0
    look_for_alpha = stream.codec_context.name in _ALPHA_DECODERS
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the flush packet at the end
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None:
                raise SourceError(
                    f"video packet {len(pts)} has no timestamp; remux the movie "
                    "(e.g. to .mov or .mp4) so frames can be timed",
                    path=path,
                    frame=len(pts),
                )
            if packet.is_keyframe:
                # A keyframe the edit list hides is still where decoding starts.
                keys.append(int(stamp))
            if packet.is_discard:
                # Before the edit list's start (or after its end): decoded as a
                # reference, never presented, so not a frame of the movie.
                discarded += 1
                continue
            pts.append(int(stamp))
            if look_for_alpha and not side_data:
                side_data = any(
                    str(sd.data_type) == _ALPHA_SIDE_DATA
                    for sd in packet.iter_sidedata()
                )
    except av.FFmpegError as exc:
        raise SourceError(
            f"cannot read the movie after {len(pts)} frames: {exc}",
            path=path,
            frame=len(pts),
        ) from exc
    if not pts:
        raise SourceError("the video stream holds no frames", path=path)
    ordered = sorted(pts)
    if len(set(ordered)) != len(ordered):
        raise SourceError(
            "two video frames share a timestamp; the movie is broken", path=path
        )
    return _Timing(
        pts=tuple(ordered),
        keyframes=tuple(sorted(keys)) or (ordered[0],),
        header_frames=int(stream.frames or 0),
        alpha_side_data=side_data,
        discarded=discarded,
    )


def _decode_failure(stream: Any, decoder_name: str, exc: Exception) -> str:
    """Why decoding failed, naming the real cause where it is known."""
    ctx = stream.codec_context
    fmt = str(ctx.pix_fmt or "")
    deep = any(f"p{bits}" in fmt for bits in (10, 12, 16))
    if decoder_name.startswith("libvpx") and deep:
        return (
            f"the {ctx.name.upper()} stream is {fmt} ({ctx.profile or 'high depth'}) "
            f"with alpha: this FFmpeg's {decoder_name} decodes 8-bit only, "
            f"and FFmpeg's own {ctx.name} decoder drops the alpha ({exc}); re-encode "
            "it as 8-bit VP9 or ProRes 4444"
        )
    return f"the {decoder_name} decoder failed on the data: {exc}"


def _first_frame(
    container: Any, stream: Any, decoder: Any, path: str, decoder_name: str
) -> Any:
    import av

    try:
        container.seek(0, stream=stream, backward=True, any_frame=False)
    except (av.FFmpegError, OSError) as exc:
        # A raw stream (FFmpeg opens a .m4v by its name as raw MPEG-4 video) cannot
        # seek, and every chunk of a conversion starts with a seek.
        raise SourceError(
            f"cannot seek in the movie ({container.format.name} format): "
            f"{_reason(exc)}; {_ALLOWED}, in a container that can seek (rewrap "
            "it: ffmpeg -i IN -c copy OUT.mp4)",
            path=path,
        ) from exc
    try:
        for packet in container.demux(stream):
            for frame in decoder.decode(packet):
                return frame
    except av.FFmpegError as exc:
        raise SourceError(
            "cannot decode the first frame: "
            + _decode_failure(stream, decoder_name, exc),
            path=path,
            frame=0,
        ) from exc
    raise SourceError("no frame of the video stream can be decoded", path=path, frame=0)


def probe_movie(
    path: str,
    *,
    vfr: str = "refuse",
    rate: Fraction | None = None,
    colorspace: str | None = None,
    orientation: str = "apply",
    fields: str = "keep",
    matte: bool = False,
    yuv_matrix: YuvMatrix | None = None,
) -> MovieInfo:
    """Describe a movie: exact rate, real frame count, colour tags and decisions.

    Args:
        path: the movie file.
        vfr: ``"refuse"`` or ``"resample"`` (see :func:`aebridge.ingest.probe`).
        rate: the constant rate to resample to (``vfr="resample"``); default the
            movie's average rate. Given for a constant-rate movie with a different
            rate, the movie is resampled to it by timestamp as well.
        colorspace: an OCIO name overriding the colour the tags declare.
        orientation: ``"apply"`` the display matrix's rotation or ``"keep"`` the
            stored pixels.
        fields: ``"keep"`` an interlaced movie's woven fields or ``"interpolate"``
            the first field into whole frames.
        matte: the movie is a matte: without an alpha channel, its frames are its
            luma plane (one channel, see the module docstring).
        yuv_matrix: the YUV matrix to read it with instead of its tag.

    Returns:
        The movie's MovieInfo (``kind="movie"``).

    Raises:
        SourceError: missing or unreadable file, no video stream, no decoder,
            undecodable first frame, variable rate with ``vfr="refuse"``, or an
            unsupported matrix, transfer or primaries.
    """
    container = _open_container(path)
    try:
        stream = _video_stream(container, path)
        timing = _scan(container, stream, path)
        decoder_name, decoder_why = _choose_decoder(stream, timing.alpha_side_data)
        decoder = _make_decoder(stream, path, decoder_name)
        time_base = Fraction(stream.time_base)
        pts = timing.pts
        variable, why = is_variable(pts, time_base)
        average, rate_why = decide_rate(stream, pts, time_base, variable)
        if average is None:
            raise SourceError(
                "the movie declares no frame rate and has one frame; cannot time it",
                path=path,
            )
        notes: list[str] = [n for n in (decoder_why, rate_why) if n]
        if timing.discarded:
            notes.append(
                f"the edit list hides {timing.discarded} coded frame(s); the "
                f"{len(pts)} frames it presents are converted"
            )
        elif timing.header_frames and timing.header_frames != len(pts):
            notes.append(
                f"the container header says {timing.header_frames} frames; "
                f"{len(pts)} were found"
            )
        frame_pts = pts
        out_rate = average
        if variable and vfr == "refuse":
            raise SourceError(
                f"variable frame rate: {why} (average {float(average):.3f} fps); the "
                "EXR sequence needs a constant rate: use --vfr resample (optionally "
                "with --fps) to resample it by timestamp",
                path=path,
            )
        if variable or (vfr == "resample" and rate is not None and rate != average):
            out_rate = rate if rate is not None else average
            frame_pts = resample(pts, time_base, out_rate)
            notes.append(
                f"resampled from {'variable' if variable else format_rate(average)}"
                f" rate ({len(pts)} frames) to {format_rate(out_rate)} fps "
                f"({len(frame_pts)} frames) by timestamp"
            )
        first = _first_frame(container, stream, decoder, path, decoder_name)
        ctx = stream.codec_context
        tags = {
            "matrix": tag_name(ctx.colorspace, first.colorspace, MATRIX_NAMES),
            "range": tag_name(ctx.color_range, first.color_range, RANGE_NAMES, 0),
            "transfer": tag_name(ctx.color_trc, first.color_trc, TRANSFER_NAMES),
            "primaries": tag_name(
                ctx.color_primaries, first.color_primaries, PRIMARY_NAMES
            ),
        }
        out_fmt, channels, has_alpha, bits = output_format(first.format)
        colour, sws_matrix, sws_range, decision = decide_colour(
            path=path,
            tags=tags,
            fmt=first.format,
            height=first.height,
            colorspace=colorspace,
            yuv_matrix=yuv_matrix,
        )
        if matte and has_luma_plane(first.format) and not has_alpha:
            out_fmt, channels = LUMA, 1
            bits = first.format.components[0].bits
            decision += (
                f" Matte: its {bits}-bit luma plane, "
                f"{'limited' if sws_range == 'MPEG' else 'full'} range scaled to "
                "full scale."
            )
        sar = stream.sample_aspect_ratio or ctx.sample_aspect_ratio
        aspect = Fraction(sar) if sar else Fraction(1)
        applied, width, height, turned = decide_orientation(
            rotation_orientation(float(first.rotation or 0)),
            f"display matrix rotation {float(first.rotation or 0):g} degrees",
            orientation,
            int(first.width),
            int(first.height),
        )
        if turned:
            notes.append(turned)
        field_order = int(getattr(ctx, "field_order", 0) or 0)
        interlaced = bool(first.interlaced_frame) or field_order in _INTERLACED_ORDERS
        field_text = ""
        if interlaced:
            field_text = (
                "bottom first" if field_order in _BOTTOM_FIRST_ORDERS else "top first"
            )
            guess = "" if field_order in _INTERLACED_ORDERS else " (order untagged)"
            if fields == "interpolate":
                notes.append(
                    f"interlaced ({field_text}{guess}): the first field kept, the "
                    "other field's lines interpolated from it (--fields interpolate)"
                )
            else:
                notes.append(
                    f"interlaced ({field_text}{guess}): frames kept as two woven "
                    "fields, which comb where things move; --fields interpolate "
                    "makes whole frames from the first field"
                )
        return MovieInfo(
            path=path,
            width=width,
            height=height,
            frame_count=len(frame_pts),
            channels=channels,
            has_alpha=has_alpha,
            dtype="uint16" if bits > 8 else "uint8",
            rate=out_rate,
            colorspace=colour.label if isinstance(colour, Encoding) else colour,
            colour_decision=decision,
            colour_tags=Tags(tags),
            variable_rate=variable,
            pixel_aspect=aspect if aspect > 0 else Fraction(1),
            codec=str(ctx.name),
            decoder=decoder_name,
            stream_index=int(stream.index),
            time_base=time_base,
            frame_pts=frame_pts,
            keyframe_pts=timing.keyframes,
            pixel_format=out_fmt,
            matrix=sws_matrix,
            yuv=is_yuv(first.format),
            color_range=sws_range,
            yuv_matrix=yuv_matrix,
            notes=tuple(notes),
            encoding=colour if isinstance(colour, Encoding) else None,
            orientation=applied,
            fields=field_text,
            field_mode=fields if interlaced else "keep",
        )
    finally:
        container.close()


# AVFieldOrder: 1 progressive, 2 TT, 3 BB, 4 TB, 5 BT (coded, displayed first).
_INTERLACED_ORDERS = frozenset({2, 3, 4, 5})
_BOTTOM_FIRST_ORDERS = frozenset({3, 5})


def _decoded(container: Any, stream: Any, decoder: Any) -> Iterator[Any]:
    for packet in container.demux(stream):
        yield from decoder.decode(packet)


def read_movie_frames(
    info: MovieInfo, start: int, stop: int, *, threads: int = 1
) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Decode frames ``start`` .. ``stop - 1`` from the keyframe before ``start``.

    Args:
        info: from :func:`probe_movie` (possibly in another process).
        start: first 0-based index.
        stop: one past the last index.
        threads: FFmpeg decoder threads (frame and slice threads); 1 decodes on
            the calling thread, 0 lets FFmpeg use every core.

    Returns:
        An iterator of ``(index, H x W x C array)``: uint8 RGB(A) for 8-bit
        sources, uint16 for deeper ones, grey as one channel.

    Raises:
        SourceError: the movie cannot be opened or decoded, or a frame the probe
            counted cannot be decoded (names the file and frame index).
    """
    import av

    if start >= stop:
        return
    path = info.path
    wanted = info.frame_pts[start:stop]
    container = _open_container(path)
    try:
        stream = container.streams[info.stream_index]
        decoder = _make_decoder(stream, path, info.decoder, threads)
        key = info.keyframe_pts[
            max(bisect.bisect_right(info.keyframe_pts, wanted[0]) - 1, 0)
        ]
        for attempt in ("keyframe", "start"):
            target = key if attempt == "keyframe" else info.keyframe_pts[0]
            if target > info.frame_pts[0] or attempt == "start":
                container.seek(target, stream=stream, backward=True, any_frame=False)
                if decoder is not stream.codec_context:
                    decoder.flush_buffers()
            position = 0  # next entry of `wanted` to yield
            seen = False  # whether any frame was decoded since the seek
            restart = False
            try:
                for frame in _decoded(container, stream, decoder):
                    stamp = frame.pts
                    if stamp is None:
                        raise SourceError(
                            "a decoded frame has no timestamp",
                            path=path,
                            frame=start + position,
                        )
                    if stamp > wanted[position]:
                        if not seen and attempt == "keyframe":
                            restart = True  # the seek landed too late
                            break
                        raise SourceError(
                            "the frame cannot be decoded (the decoder skipped it; the "
                            "movie may be damaged)",
                            path=path,
                            frame=start + position,
                        )
                    seen = True
                    if stamp < wanted[position]:
                        continue
                    if frame.is_corrupt:
                        # FFmpeg concealed missing or damaged data in this picture.
                        raise SourceError(
                            "the decoder reports this frame damaged (it concealed "
                            "missing or corrupt data); re-export or repair the movie",
                            path=path,
                            frame=start + position,
                        )
                    try:
                        pixels = to_array(frame, info)
                    except SizeChange as change:
                        size = oriented_size(info.width, info.height, info.orientation)
                        raise SourceError(
                            f"the picture size changes from {size[0]}x{size[1]} to "
                            f"{change.width}x{change.height} at this "
                            "frame; an EXR sequence has one size: split or re-encode "
                            "the movie",
                            path=path,
                            frame=start + position,
                        ) from None
                    while position < len(wanted) and wanted[position] == stamp:
                        # A resampled movie repeats frames: give each its own array.
                        yield (
                            start + position,
                            (
                                pixels
                                if position == 0 or wanted[position - 1] != stamp
                                else pixels.copy()
                            ),
                        )
                        position += 1
                    if position == len(wanted):
                        return
            except av.FFmpegError as exc:
                raise SourceError(
                    "cannot decode the movie: "
                    + _decode_failure(stream, info.decoder, exc),
                    path=path,
                    frame=start + position,
                ) from exc
            if not restart:
                break
            container.close()
            container = _open_container(path)
            stream = container.streams[info.stream_index]
            decoder = _make_decoder(stream, path, info.decoder, threads)
        raise SourceError(
            f"the movie ended early: {start + position} of {info.frame_count} frames "
            "decoded",
            path=path,
            frame=start + position,
        )
    finally:
        container.close()
