"""Movie frames (MP4 H.264/H.265, MOV incl. ProRes 4444, WebM VP9 with alpha) via PyAV.

Probe, never trust: the frame count is the number of video packets (demuxing is cheap
and container headers lie or are missing, e.g. WebM has none), the rate is the stream's
exact rational rate checked against the timestamps, and variable rate is detected from
the timestamps themselves.

Colour: YUV is converted to RGB here with an explicit matrix and range, because
FFmpeg's converter assumes BT.601 unless told, which shifts the hues of HD material.
Untagged HD (height >= 720) is read as BT.709, untagged SD as BT.601; the decision is
recorded in ``SourceInfo.colour_decision``.

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
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import sandbox
from ..encoding import ColourIn, Encoding
from ..errors import SourceError
from ..timing import format_rate
from . import MovieInfo, Tags
from .metadata import (
    PRIMARY_NAMES,
    TRANSFER_NAMES,
    UnsupportedColour,
    decide_orientation,
    orient,
    oriented_size,
    rotation_orientation,
    tagged_colour,
)

__all__ = ["probe_movie", "read_movie_frames"]

# FFmpeg enum values -> names (libavutil/pixfmt.h), for tags and messages.
_MATRIX_NAMES = {
    0: "rgb",
    1: "bt709",
    2: "unspecified",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
    11: "smpte2085",
    14: "ictcp",
}
_RANGE_NAMES = {0: "unspecified", 1: "tv", 2: "pc"}
# Matrix tag -> swscale colourspace. smpte170m and bt470bg share BT.601 coefficients.
_SWS_MATRIX = {
    "bt709": "itu709",
    "bt470bg": "itu601",
    "smpte170m": "itu601",
    "smpte240m": "smpte240m",
    "fcc": "fcc",
    "bt2020nc": "bt2020",
}

_SUPPORTED_HINT = "H.264, H.265/HEVC, ProRes, VP9 (and other codecs FFmpeg decodes)"

# Timestamp jitter tolerated in a constant-rate movie: one tick of the time base
# (rounding, e.g. 24000/1001 in milliseconds gives 41 and 42) or 2 % of a frame.
_JITTER = Fraction(2, 100)
# Muxers that keep time in whole milliseconds (Matroska/WebM, and MP4s remuxed from
# them) round every timestamp to the nearest millisecond, whatever finer time base
# the file states: such timestamps lie within half a millisecond of the true
# constant-rate grid, so within a millisecond of the grid through the first and last
# (each of those is itself off by up to half). A variable rate drifts from any grid by
# a large part of a frame.
_ROUNDING = Fraction(1, 1000)
# A stream-declared rate is believed if it matches the timestamps within 1 %.
_RATE_AGREEMENT = Fraction(1, 100)
# Rates within 0.02 % of a standard (integer or NTSC x/1001) rate are snapped to it;
# 24 and 24000/1001 differ by 0.1 %, so they never snap onto each other.
_SNAP = Fraction(2, 10000)


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
        raise SourceError(f"cannot open the movie: {exc}", path=path) from exc


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


def _fits_exr(rate: Fraction) -> bool:
    """Whether a rate fits the EXR rational (int32 numerator, uint32 denominator)."""
    return 0 < rate.numerator < 2**31 and rate.denominator < 2**32


def _snap(rate: Fraction) -> Fraction:
    """The standard rate an inexact rate approximates, else its nearest small rational.

    Only for rates that are approximations (a float such as 23.976023, or an average
    of rounded timestamps): within 0.02 % of an integer or NTSC (x/1001) rate it is
    that rate; otherwise the nearest rational with a denominator up to 1001.
    """
    for candidate in (
        Fraction(round(rate)),
        Fraction(round(rate * 1001 / 1000) * 1000, 1001),
    ):
        if candidate > 0 and abs(rate / candidate - 1) <= _SNAP:
            return candidate
    return rate.limit_denominator(1001)


def _exact_rate(pts: tuple[int, ...], time_base: Fraction) -> Fraction | None:
    """The rate the timestamps state exactly: one frame every ``d`` ticks, every time.

    None when the durations vary (rounded timestamps) or the rate does not fit the EXR
    rational; such rates are approximations and are snapped.
    """
    deltas = {b - a for a, b in itertools.pairwise(pts)}
    if len(deltas) != 1:
        return None
    rate = 1 / (deltas.pop() * time_base)
    return rate if _fits_exr(rate) else None


def _stream_rate(stream: Any, measured: Fraction | None) -> Fraction | None:
    for candidate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if not candidate:
            continue
        value = Fraction(candidate)
        if measured is None or abs(value / measured - 1) <= _RATE_AGREEMENT:
            return _snap(value) if value.denominator not in (1, 1001) else value
    return None


def _decide_rate(
    stream: Any, pts: tuple[int, ...], time_base: Fraction, variable: bool
) -> tuple[Fraction | None, str]:
    """(rate, why): exact when the timestamps state it, else snapped.

    An exact rational from the container (every frame ``d`` ticks of the time base)
    that fits the EXR rational is kept as it is (45000/1499 stays 45000/1499); only an
    inexact approximation is snapped to the standard rate it is near (23.976023 ->
    24000/1001).
    """
    if not variable:
        exact = _exact_rate(pts, time_base)
        if exact is not None:
            d = (1 / (exact * time_base)).numerator
            return exact, (
                f"rate {format_rate(exact)} fps exactly, as the timestamps state it "
                f"(one frame every {d} ticks of {time_base} s)"
            )
    measured = (
        Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
        if len(pts) > 1
        else None
    )
    declared = _stream_rate(stream, None if variable else measured)
    rate = declared or (_snap(measured) if measured else None)
    if rate is not None and measured is not None and not variable:
        rate = _closest_grid(stream, pts, time_base, measured, rate)
    if rate is None:
        return None, ""
    return rate, (
        f"rate {format_rate(rate)} fps: the timestamps are rounded (durations vary by "
        "a tick or a millisecond), so the container's rate "
        + (f"{float(measured):.6f} " if measured else "")
        + "is an approximation, read as the standard rate it is within 0.02 % of (or "
        "its nearest rational with a denominator up to 1001)"
        if len(pts) > 1
        else f"rate {format_rate(rate)} fps: as the container declares it (one frame)"
    )


def _closest_grid(
    stream: Any,
    pts: tuple[int, ...],
    time_base: Fraction,
    measured: Fraction,
    chosen: Fraction,
) -> Fraction:
    """Of the rates the stream states and the standard rate the timestamps are near,
    the one whose frame grid lies closest to the rounded timestamps.

    Within the 1 % the container's rate is believed, 24 and 24000/1001 both agree
    with timestamps rounded to milliseconds, and a muxer may state either; the grid
    tells them apart (24000/1001 in milliseconds stays within half of one of its
    grid, 24 drifts away by a millisecond every 24 seconds).
    """
    candidates = {chosen, _snap(measured)}
    for value in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if value and abs(Fraction(value) / measured - 1) <= _RATE_AGREEMENT:
            candidates.add(_snap(Fraction(value)))

    def drift(rate: Fraction) -> Fraction:
        step = 1 / (rate * time_base)
        return max(abs(p - pts[0] - k * step) for k, p in enumerate(pts))

    # Ties keep the rate chosen before (the container's own statement).
    return min(sorted(candidates, key=lambda r: r != chosen), key=drift)


def _is_variable(pts: tuple[int, ...], time_base: Fraction) -> tuple[bool, str]:
    if len(pts) < 3:
        return False, ""
    deltas = [b - a for a, b in itertools.pairwise(pts)]
    low, high = min(deltas), max(deltas)
    mean = Fraction(pts[-1] - pts[0], len(deltas))
    if high - low <= 1 or high - low <= mean * _JITTER:
        return False, ""
    # Within a millisecond (and a tick) of the grid from the first timestamp to the
    # last: constant rate, rounded.
    tolerance = _ROUNDING / time_base + 1
    if all(abs(p - pts[0] - k * mean) <= tolerance for k, p in enumerate(pts)):
        return False, ""
    ms = [float(d * time_base * 1000) for d in (low, high)]
    return True, f"frame durations vary from {ms[0]:.2f} ms to {ms[1]:.2f} ms"


def _resample(
    pts: tuple[int, ...], time_base: Fraction, rate: Fraction
) -> tuple[int, ...]:
    """Source timestamp shown at each output frame: the latest frame at or before it."""
    deltas = sorted(b - a for a, b in itertools.pairwise(pts))
    last_duration = deltas[len(deltas) // 2] if deltas else 1
    span = (pts[-1] - pts[0] + last_duration) * time_base
    count = max(1, round(span * rate))
    chosen: list[int] = []
    for k in range(count):
        # One tick of slack: timestamps are rounded to the time base.
        at = pts[0] + Fraction(k) / rate / time_base + 1
        i = bisect.bisect_right(pts, at) - 1
        chosen.append(pts[max(i, 0)])
    return tuple(chosen)


def _tag(
    ctx_value: int | None,
    frame_value: int | None,
    names: dict[int, str],
    unspecified: int = 2,
) -> str:
    """A tag's name: the stream's value, else the first frame's (ProRes keeps its
    tags in the frames), ``unspecified`` when neither says."""
    value = ctx_value if ctx_value not in (None, unspecified) else frame_value
    if value is None or value == unspecified:
        return "unspecified"
    return names.get(int(value), f"unknown({value})")


def _output_format(fmt: Any) -> tuple[str, int, bool, int]:
    """(pixel format to convert to, channels, has alpha, bits) for a decoded format."""
    bits = max(c.bits for c in fmt.components)
    alpha = any(c.is_alpha for c in fmt.components)
    deep = bits > 8
    grey = fmt.name.startswith(("gray", "ya")) or len(fmt.components) - alpha == 1
    if grey and not alpha:
        return ("gray16le" if deep else "gray"), 1, False, bits
    if alpha:
        return ("rgba64le" if deep else "rgba"), 4, True, bits
    return ("rgb48le" if deep else "rgb24"), 3, False, bits


def _decide_colour(
    *,
    path: str,
    tags: dict[str, str],
    fmt: Any,
    height: int,
    colorspace: str | None,
) -> tuple[ColourIn, str, str, str]:
    """(source colour, swscale matrix, swscale range, decision sentence)."""
    parts: list[str] = []
    matrix_tag, range_tag = tags["matrix"], tags["range"]
    if fmt.is_rgb or fmt.name.startswith(("gray", "ya")):
        sws_matrix = "itu709"  # no YUV matrix applies to RGB or grey pictures
        parts.append(f"{fmt.name} pictures need no YUV matrix")
    elif matrix_tag in _SWS_MATRIX:
        sws_matrix = _SWS_MATRIX[matrix_tag]
        parts.append(f"YUV matrix {matrix_tag} as tagged")
    elif matrix_tag == "unspecified":
        hd = height >= 720
        sws_matrix = "itu709" if hd else "itu601"
        parts.append(
            f"untagged YUV matrix read as {'BT.709' if hd else 'BT.601'} because the "
            f"picture is {'HD' if hd else 'SD'} ({height} lines"
            f"{' >=' if hd else ' <'} 720)"
        )
    else:
        raise SourceError(
            f"the YUV matrix {matrix_tag!r} is not supported; supported: "
            + ", ".join(sorted(_SWS_MATRIX)),
            path=path,
        )
    jpeg_format = fmt.name.startswith("yuvj")
    if range_tag == "pc" or (range_tag == "unspecified" and jpeg_format):
        sws_range = "JPEG"
        parts.append("full range" + (" as tagged" if range_tag == "pc" else " (yuvj)"))
    else:
        sws_range = "MPEG"
        parts.append(
            "limited range" + (" as tagged" if range_tag == "tv" else " (untagged)")
        )
    transfer, primaries = tags["transfer"], tags["primaries"]
    if colorspace is not None:
        parts.append(f"colour space {colorspace!r} as given (transfer tag {transfer})")
        return colorspace, sws_matrix, sws_range, "; ".join(parts) + "."
    try:
        colour = tagged_colour(transfer, primaries)
    except UnsupportedColour as exc:
        raise SourceError(
            f"{exc}; give --colorspace to read it as a named space", path=path
        ) from exc
    said = colour.label if isinstance(colour, Encoding) else repr(colour)
    if transfer == "unspecified":
        parts.append(f"untagged transfer read as BT.709/BT.1886: {said}")
    else:
        parts.append(f"transfer {transfer}, primaries {primaries} as tagged: {said}")
    if transfer in ("smpte2084", "arib-std-b67"):
        parts.append("HDR scaled so reference white (203 cd/m2, ITU-R BT.2408) is 1.0")
    return colour, sws_matrix, sws_range, "; ".join(parts) + "."


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

    container.seek(0, stream=stream, backward=True, any_frame=False)
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
        variable, why = _is_variable(pts, time_base)
        average, rate_why = _decide_rate(stream, pts, time_base, variable)
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
            frame_pts = _resample(pts, time_base, out_rate)
            notes.append(
                f"resampled from {'variable' if variable else format_rate(average)}"
                f" rate ({len(pts)} frames) to {format_rate(out_rate)} fps "
                f"({len(frame_pts)} frames) by timestamp"
            )
        first = _first_frame(container, stream, decoder, path, decoder_name)
        ctx = stream.codec_context
        tags = {
            "matrix": _tag(ctx.colorspace, first.colorspace, _MATRIX_NAMES),
            "range": _tag(ctx.color_range, first.color_range, _RANGE_NAMES, 0),
            "transfer": _tag(ctx.color_trc, first.color_trc, TRANSFER_NAMES),
            "primaries": _tag(
                ctx.color_primaries, first.color_primaries, PRIMARY_NAMES
            ),
        }
        out_fmt, channels, has_alpha, bits = _output_format(first.format)
        colour, sws_matrix, sws_range, decision = _decide_colour(
            path=path,
            tags=tags,
            fmt=first.format,
            height=first.height,
            colorspace=colorspace,
        )
        if matte and _has_luma_plane(first.format) and not has_alpha:
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
            color_range=sws_range,
            notes=tuple(notes),
            encoding=colour if isinstance(colour, Encoding) else None,
            orientation=applied,
            fields=field_text,
            field_mode=fields if interlaced else "keep",
        )
    finally:
        container.close()


# Luma coefficients (Kr, Kb) of the YUV matrices, by swscale name (ITU-T H.273).
_KR_KB = {
    "itu709": (0.2126, 0.0722),
    "itu601": (0.299, 0.114),
    "smpte240m": (0.212, 0.087),
    "fcc": (0.30, 0.11),
    "bt2020": (0.2627, 0.0593),
}
#: ``MovieInfo.pixel_format`` of a matte read from its luma plane.
LUMA = "luma"


def _has_luma_plane(fmt: Any) -> bool:
    """Whether a decoded format is planar YUV whose first plane is Y alone."""
    return (
        not fmt.is_rgb
        and not fmt.name.startswith(("gray", "ya"))
        and len(fmt.components) >= 3
        and fmt.components[0].plane == 0
        and fmt.components[1].plane != 0
    )


_LUMA_TABLES: dict[tuple[int, str, str], npt.NDArray[np.generic]] = {}


def _luma_table(bits: int, color_range: str, dtype: str) -> npt.NDArray[np.generic]:
    """Y code -> full-scale code of ``dtype``: limited range (16..235 scaled by
    2**(bits-8)) or full range (0..2**bits-1) onto 0..255 / 0..65535, rounded to
    nearest and clipped; the range ends map exactly to 0 and full scale."""
    key = (bits, color_range, dtype)
    table = _LUMA_TABLES.get(key)
    if table is None:
        top = 255 if dtype == "uint8" else 65535
        codes = np.arange(1 << bits, dtype=np.float64)
        if color_range == "MPEG":
            step = 1 << (bits - 8)
            lo, hi = 16 * step, 235 * step
        else:
            lo, hi = 0, (1 << bits) - 1
        scaled = np.floor((codes - lo) * top / (hi - lo) + 0.5)
        table = np.clip(scaled, 0, top).astype(dtype)
        _LUMA_TABLES[key] = table
    return table


def _luma(frame: Any, info: MovieInfo) -> npt.NDArray[np.generic]:
    """The Y plane of a YUV frame at full scale, H x W x 1 (see :func:`_luma_table`)."""
    comp = frame.format.components[0]
    plane = frame.planes[0]
    raw: npt.NDArray[np.unsignedinteger[Any]] = np.frombuffer(
        plane, np.uint16 if comp.bits > 8 else np.uint8
    )
    stride = plane.line_size // raw.itemsize
    y = raw.reshape(-1, stride)[: frame.height, : frame.width]
    table = _luma_table(comp.bits, info.color_range, info.dtype)
    if comp.bits > 8:
        y = y & np.uint16((1 << comp.bits) - 1)  # bits above the depth are padding
    out = np.empty((frame.height, frame.width, 1), dtype=table.dtype)
    for top in range(0, frame.height, 64):  # bands: np.take's intp index stays small
        band = slice(top, top + 64)
        np.take(table, y[band], out=out[band, :, 0], mode="clip")
    return out


def _to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.generic]:
    """A decoded frame as displayed: RGB(A), orientation applied."""
    width, height = oriented_size(info.width, info.height, info.orientation)
    if frame.width != width or frame.height != height:
        raise _SizeChange(int(frame.width), int(frame.height))
    pixels = _stored_array(frame, info)
    if info.field_mode == "interpolate":
        pixels = _interpolate_fields(pixels, bottom=info.fields == "bottom first")
    return orient(pixels, info.orientation)


# AVFieldOrder: 1 progressive, 2 TT, 3 BB, 4 TB, 5 BT (coded, displayed first).
_INTERLACED_ORDERS = frozenset({2, 3, 4, 5})
_BOTTOM_FIRST_ORDERS = frozenset({3, 5})


def _interpolate_fields(
    pixels: npt.NDArray[np.generic], *, bottom: bool
) -> npt.NDArray[np.generic]:
    """Whole frames from the first field: its lines kept, every line of the other
    field the rounded mean of the lines above and below (the edge line repeated)."""
    out = pixels.copy()
    height = pixels.shape[0]
    lines = np.arange(0 if bottom else 1, height, 2)
    above = np.where(lines >= 1, lines - 1, lines + 1)
    below = np.where(lines + 1 < height, lines + 1, lines - 1)
    wide = pixels.astype(np.int64)
    out[lines] = (wide[above] + wide[below] + 1) // 2
    return out


def _stored_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.generic]:
    """A decoded frame's pixels as stored (before orientation and field handling);
    its size was checked by the caller."""
    if info.pixel_format == LUMA:
        return _luma(frame, info)  # a matte, at any depth
    if info.dtype == "uint16":
        return _deep_to_array(frame, info)
    from av.video.reformatter import Interpolation

    # Exact rounding and full chroma interpolation: swscale's fast paths are off by
    # up to a few code values.
    flags = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
    flags |= Interpolation.FULL_CHR_H_INT
    rgb = frame.reformat(
        format=info.pixel_format,
        src_colorspace=info.matrix,
        src_color_range=info.color_range,
        interpolation=flags,
    )
    pixels = rgb.to_ndarray()
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return np.asarray(pixels)


class _SizeChange(Exception):
    """A decoded frame whose size differs from the probed one (caught by the reader)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.width, self.height = width, height


def _planar(frame: Any) -> Any:
    """The frame itself when its deep planes can be read directly, else repacked.

    Semi-planar or packed deep formats (p010, y210, ...) are repacked by swscale to
    the planar format of the same depth and subsampling, which moves samples without
    scaling them.
    """
    fmt = frame.format
    name = str(fmt.name)
    if fmt.is_planar and name.endswith("le") and not fmt.is_bayer:
        return frame
    bits = max(c.bits for c in fmt.components)
    depth = 16 if bits > 12 else 12 if bits > 10 else 10
    alpha = any(c.is_alpha for c in fmt.components)
    if fmt.is_rgb:
        target = f"gbr{'a' if alpha else ''}p{depth}le"
    elif len(fmt.components) - alpha == 1:
        target = f"gray{depth}le"
    else:
        sub_w = fmt.chroma_width(frame.width) < frame.width
        sub_h = fmt.chroma_height(frame.height) < frame.height
        layout = "420" if sub_w and sub_h else "422" if sub_w else "444"
        target = f"yuv{'a' if alpha else ''}{layout}p{depth}le"
    return frame.reformat(format=target)


def _codes(frame: Any, index: int) -> npt.NDArray[np.integer[Any]]:
    """Component ``index`` of a planar frame: its integer code values (a view)."""
    comp = frame.format.components[index]
    plane = frame.planes[comp.plane]
    raw: npt.NDArray[np.integer[Any]] = np.frombuffer(
        plane, np.uint16 if comp.bits > 8 else np.uint8
    )
    rows = raw.reshape(-1, plane.line_size // raw.itemsize)
    return rows[: plane.height, : plane.width]


def _plus_upsampled(
    full: npt.NDArray[np.float64], term: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``full`` plus a chroma-resolution ``term`` brought to full size.

    Chroma is co-sited horizontally (left) and centred vertically: the siting H.264,
    HEVC and ProRes use unless told otherwise ("left"), and what FFmpeg assumes. A
    pixel between two chroma samples gets their linear interpolation. The terms are
    already-scaled parts of the RGB sums (linear in the chroma code), so
    interpolating them is interpolating the chroma.
    """
    height, width = full.shape
    h, w = term.shape
    if w < width:
        right = np.concatenate((term[:, 1:], term[:, -1:]), axis=1)
        right += term
        right *= 0.5
        wide = np.empty((h, width))
        wide[:, 0::2] = term[:, : (width + 1) // 2]
        wide[:, 1::2] = right[:, : width // 2]
        term = wide
    if h < height:
        up = np.concatenate((term[:1], term[:-1]), axis=0)
        down = np.concatenate((term[1:], term[-1:]), axis=0)
        up *= 0.25
        down *= 0.25
        near = term * 0.75
        up += near
        down += near
        out = np.empty_like(full)
        np.add(full[0::2], up[: (height + 1) // 2], out=out[0::2])
        np.add(full[1::2], down[: height // 2], out=out[1::2])
        return out
    return full + term


def _scaled(
    codes: npt.NDArray[np.integer[Any]], offset: float, span: float
) -> npt.NDArray[np.float64]:
    """``(code - offset) * 65535 / span`` in float64: the subtraction and product are
    exact, the division correctly rounded, so an exact half (mid grey) stays one."""
    out: npt.NDArray[np.float64] = np.subtract(codes, offset, dtype=np.float64)
    out *= 65535.0
    out /= span
    return out


def _deep_to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.uint16]:
    """A 9- to 16-bit frame as uint16 RGB(A), full scale exactly 65535.

    swscale converts deep YUV to 16-bit RGB on an 8-bit scale (10-bit limited-range
    white 940 came out as 65283, 0.9961), so deep frames are converted here from
    their planes with the exact ranges of ITU-T H.273: limited range maps
    ``16 << (b - 8)`` .. ``235 << (b - 8)`` luma (``240 << (b - 8)`` chroma) to 0..1,
    full range ``0 .. 2**b - 1``. Each value is ``round(65535 * v)`` of the exact
    formula (float64; values outside 0..1 are clipped, as 16 bits cannot hold them):
    this is the reference a faster path must reproduce.

    The returned H x W x C array is a view over channel planes (``out[..., c]`` is
    contiguous), like the pixel pipeline's output.
    """
    frame = _planar(frame)
    fmt = frame.format
    comps = fmt.components
    bits = max(c.bits for c in comps)
    top = float((1 << bits) - 1)
    alpha_index = next((i for i, c in enumerate(comps) if c.is_alpha), None)
    colour = [i for i in range(len(comps)) if i != alpha_index]
    width, height = int(frame.width), int(frame.height)
    limited = info.color_range != "JPEG" and not fmt.is_rgb  # RGB is full range
    scale = float(1 << (bits - 8))
    offset, span = (16 * scale, 219 * scale) if limited else (0.0, top)
    planes: list[npt.NDArray[np.float64]]
    if fmt.is_rgb:
        planes = [_scaled(_codes(frame, i), 0.0, top) for i in colour]
    elif len(colour) == 1:
        grey = _scaled(_codes(frame, colour[0]), offset, span)
        planes = [grey] * (3 if info.channels >= 3 else 1)
    else:
        c_offset, c_span = (
            (128 * scale, 224 * scale) if limited else (float(1 << (bits - 1)), top)
        )
        kr, kb = _KR_KB[info.matrix]
        kg = 1.0 - kr - kb
        cb, cr = (_scaled(_codes(frame, i), c_offset, c_span) for i in colour[1:])
        # R = Y + 2(1 - Kr) Cr; B = Y + 2(1 - Kb) Cb; G = (Y - Kr R - Kb B) / Kg.
        terms = (
            cr * (2 * (1 - kr)),
            cb * (-2 * kb * (1 - kb) / kg) + cr * (-2 * kr * (1 - kr) / kg),
            cb * (2 * (1 - kb)),
        )
        y = _scaled(_codes(frame, colour[0]), offset, span)
        planes = [_plus_upsampled(y, t) for t in terms]
    if alpha_index is not None and info.has_alpha:
        planes.append(_scaled(_codes(frame, alpha_index), 0.0, top))
    out = np.empty((info.channels, height, width), np.uint16)
    for c in range(info.channels):
        plane = np.clip(planes[c], 0.0, 65535.0)
        np.rint(plane, out=plane)
        out[c] = plane
    return out.transpose(1, 2, 0)


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
                        pixels = _to_array(frame, info)
                    except _SizeChange as change:
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
