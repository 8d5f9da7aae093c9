"""Movie frames (MP4 H.264/H.265, MOV incl. ProRes 4444, WebM VP9 with alpha) via PyAV.

Probe, never trust: the frame count is the number of video packets (demuxing is cheap
and container headers lie or are missing, e.g. WebM has none), the rate is the stream's
exact rational rate checked against the timestamps, and variable rate is detected from
the timestamps themselves.

Colour: YUV is converted to RGB here with an explicit matrix and range, because
FFmpeg's converter assumes BT.601 unless told, which shifts the hues of HD material.
Untagged HD (height >= 720) is read as BT.709, untagged SD as BT.601; the decision is
recorded in ``SourceInfo.colour_decision``.

VP9 alpha lives in side data that FFmpeg's built-in ``vp9`` decoder drops without a
word, so VP9 is always decoded with ``libvpx-vp9``.

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

from ..errors import SourceError
from ..timing import format_rate
from . import SourceInfo, Tags

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
_TRANSFER_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    9: "log100",
    10: "log316",
    11: "iec61966-2-4",
    12: "bt1361e",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    17: "smpte428",
    18: "arib-std-b67",
}
_PRIMARY_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "film",
    9: "bt2020",
    10: "smpte428",
    11: "smpte431",
    12: "smpte432",
    22: "ebu3213",
}

# Matrix tag -> swscale colourspace. smpte170m and bt470bg share BT.601 coefficients.
_SWS_MATRIX = {
    "bt709": "itu709",
    "bt470bg": "itu601",
    "smpte170m": "itu601",
    "smpte240m": "smpte240m",
    "fcc": "fcc",
    "bt2020nc": "bt2020",
}

_GAMMA24 = "Gamma 2.4 Encoded Rec.709"
_SRGB = "sRGB Encoded Rec.709 (sRGB)"
# Transfer tag -> default input colour space. BT.709, BT.601 (smpte170m) and BT.2020
# share one camera OETF; their display (BT.1886) is a 2.4 gamma, which is how these
# pictures were viewed when they were made.
_TRANSFER_SPACES = {
    "bt709": _GAMMA24,
    "unspecified": _GAMMA24,
    "smpte170m": _GAMMA24,
    "bt2020-10": _GAMMA24,
    "bt2020-12": _GAMMA24,
    "bt1361e": _GAMMA24,
    "iec61966-2-1": _SRGB,
    "gamma22": "Gamma 2.2 Encoded Rec.709",
    "linear": "Linear Rec.709 (sRGB)",
}
# Primaries read as Rec.709 without comment (SD primaries are close to and usually
# treated as Rec.709 in compositing).
_REC709_LIKE = {"bt709", "unspecified", "bt470bg", "smpte170m"}

_SUPPORTED_HINT = "H.264, H.265/HEVC, ProRes, VP9 (and other codecs FFmpeg decodes)"

# Timestamp jitter tolerated in a constant-rate movie: one tick of the time base
# (rounding, e.g. 24000/1001 in milliseconds gives 41 and 42) or 2 % of a frame.
_JITTER = Fraction(2, 100)
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


def _open_container(path: str) -> Any:
    import av

    if not os.path.exists(path):
        raise SourceError("the movie file does not exist", path=path)
    try:
        return av.open(path)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot open the movie: {exc}", path=path) from exc


def _video_stream(container: Any, path: str) -> Any:
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "none"
        raise SourceError(
            f"the file has no video stream (streams found: {kinds})", path=path
        )
    return container.streams.video[0]


def _make_decoder(stream: Any, path: str, threads: int = 1) -> tuple[Any, str]:
    """The decoder context: the stream's own, or libvpx-vp9 for VP9 (keeps alpha).

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
    if ctx.name == "vp9":
        try:
            dec = av.CodecContext.create("libvpx-vp9", "r")
        except (av.FFmpegError, ValueError) as exc:
            raise SourceError(
                "VP9 needs the libvpx-vp9 decoder to keep alpha, and this FFmpeg "
                f"build has none ({exc})",
                path=path,
            ) from exc
        if ctx.extradata:
            dec.extradata = ctx.extradata
        dec.width, dec.height = ctx.width, ctx.height
        _set_threads(dec, threads)
        return dec, "libvpx-vp9"
    _set_threads(ctx, threads)
    return ctx, ctx.name


def _set_threads(ctx: Any, threads: int) -> None:
    if threads != 1:
        ctx.thread_type = "AUTO"
        ctx.thread_count = max(0, threads)


def _scan(container: Any, stream: Any, path: str) -> _Timing:
    import av

    pts: list[int] = []
    keys: list[int] = []
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
            pts.append(int(stamp))
            if packet.is_keyframe:
                keys.append(int(stamp))
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
    )


def _snap(rate: Fraction) -> Fraction:
    """Snap a measured rate to the standard integer or NTSC rate it is meant to be."""
    for candidate in (
        Fraction(round(rate)),
        Fraction(round(rate * 1001 / 1000) * 1000, 1001),
    ):
        if candidate > 0 and abs(rate / candidate - 1) <= _SNAP:
            return candidate
    return rate.limit_denominator(1001)


def _stream_rate(stream: Any, measured: Fraction | None) -> Fraction | None:
    for candidate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if not candidate:
            continue
        value = Fraction(candidate)
        if measured is None or abs(value / measured - 1) <= _RATE_AGREEMENT:
            return _snap(value) if value.denominator not in (1, 1001) else value
    return None


def _is_variable(pts: tuple[int, ...], time_base: Fraction) -> tuple[bool, str]:
    if len(pts) < 3:
        return False, ""
    deltas = [b - a for a, b in itertools.pairwise(pts)]
    low, high = min(deltas), max(deltas)
    mean = Fraction(pts[-1] - pts[0], len(deltas))
    if high - low <= 1 or high - low <= mean * _JITTER:
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
) -> tuple[str, str, str, str]:
    """(colour space, swscale matrix, swscale range, decision sentence)."""
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
    if transfer not in _TRANSFER_SPACES:
        raise SourceError(
            f"the transfer {transfer!r} (HDR or otherwise unusual) is not supported "
            "yet; supported: "
            + ", ".join(sorted(_TRANSFER_SPACES))
            + "; give the input colour space explicitly to read it anyway",
            path=path,
        )
    if primaries not in _REC709_LIKE:
        raise SourceError(
            f"the colour primaries {primaries!r} are not supported yet; supported: "
            + ", ".join(sorted(_REC709_LIKE))
            + "; give the input colour space explicitly to read it anyway",
            path=path,
        )
    space = _TRANSFER_SPACES[transfer]
    if transfer == "unspecified":
        parts.append(f"untagged transfer read as BT.709/BT.1886: {space!r}")
    else:
        parts.append(f"transfer {transfer} as tagged: {space!r}")
    return space, sws_matrix, sws_range, "; ".join(parts) + "."


def _first_frame(container: Any, stream: Any, decoder: Any, path: str) -> Any:
    import av

    container.seek(0, stream=stream, backward=True, any_frame=False)
    try:
        for packet in container.demux(stream):
            for frame in decoder.decode(packet):
                return frame
    except av.FFmpegError as exc:
        raise SourceError(
            f"cannot decode the first frame: {exc}", path=path, frame=0
        ) from exc
    raise SourceError("no frame of the video stream can be decoded", path=path, frame=0)


def probe_movie(
    path: str,
    *,
    vfr: str = "refuse",
    rate: Fraction | None = None,
    colorspace: str | None = None,
    matte: bool = False,
) -> SourceInfo:
    """Describe a movie: exact rate, real frame count, colour tags and decisions.

    Args:
        path: the movie file.
        vfr: ``"refuse"`` or ``"resample"`` (see :func:`aebridge.ingest.probe`).
        rate: the constant rate to resample to (``vfr="resample"``); default the
            movie's average rate. Given for a constant-rate movie with a different
            rate, the movie is resampled to it by timestamp as well.
        colorspace: an OCIO name overriding the default input colour space.
        matte: the movie is a matte: without an alpha channel, its frames are its
            luma plane (one channel, see the module docstring).

    Returns:
        The movie's SourceInfo (``kind="movie"``).

    Raises:
        SourceError: missing or unreadable file, no video stream, no decoder,
            undecodable first frame, variable rate with ``vfr="refuse"``, or an
            unsupported matrix, transfer or primaries.
    """
    container = _open_container(path)
    try:
        stream = _video_stream(container, path)
        decoder, decoder_name = _make_decoder(stream, path)
        timing = _scan(container, stream, path)
        time_base = Fraction(stream.time_base)
        pts = timing.pts
        measured = (
            Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
            if len(pts) > 1
            else None
        )
        variable, why = _is_variable(pts, time_base)
        stream_rate = _stream_rate(stream, None if variable else measured)
        average = stream_rate or (_snap(measured) if measured else None)
        if average is None:
            raise SourceError(
                "the movie declares no frame rate and has one frame; cannot time it",
                path=path,
            )
        notes: list[str] = []
        if timing.header_frames and timing.header_frames != len(pts):
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
        first = _first_frame(container, stream, decoder, path)
        ctx = stream.codec_context
        tags = {
            "matrix": _tag(ctx.colorspace, first.colorspace, _MATRIX_NAMES),
            "range": _tag(ctx.color_range, first.color_range, _RANGE_NAMES, 0),
            "transfer": _tag(ctx.color_trc, first.color_trc, _TRANSFER_NAMES),
            "primaries": _tag(
                ctx.color_primaries, first.color_primaries, _PRIMARY_NAMES
            ),
        }
        out_fmt, channels, has_alpha, bits = _output_format(first.format)
        space, sws_matrix, sws_range, decision = _decide_colour(
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
        return SourceInfo(
            path=path,
            kind="movie",
            width=int(first.width),
            height=int(first.height),
            frame_count=len(frame_pts),
            channels=channels,
            has_alpha=has_alpha,
            dtype="uint16" if bits > 8 else "uint8",
            rate=out_rate,
            colorspace=space,
            colour_decision=decision,
            colour_tags=Tags(tags),
            variable_rate=variable,
            frame_files=(),
            frame_numbers=(),
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
        )
    finally:
        container.close()


#: ``SourceInfo.pixel_format`` of a matte read from its luma plane.
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


def _luma(frame: Any, info: SourceInfo) -> npt.NDArray[np.generic]:
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


def _to_array(frame: Any, info: SourceInfo) -> npt.NDArray[np.generic]:
    from av.video.reformatter import Interpolation

    if info.pixel_format == LUMA:
        pixels = _luma(frame, info)
        if pixels.shape != (info.height, info.width, 1):
            raise ValueError(f"decoded shape {pixels.shape}")
        return pixels

    # Exact rounding and full chroma interpolation: swscale's fast paths are off by
    # up to a few code values.
    flags = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
    fmt = frame.format
    deep_420 = info.dtype == "uint16" and fmt.chroma_height(frame.height) < frame.height
    if not deep_420:
        # Not for 10/12-bit 4:2:0 (HEVC Main10): this swscale's full-chroma path to
        # 16-bit RGB zeroes red and green there (measured: 10000, 30000, 50000 came
        # back 0, 0, 50061); without it the same frame is within 70 code values.
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
    if info.has_alpha and info.dtype == "uint16":
        pixels[:, :, 3] = _alpha16(frame)
    if pixels.shape != (info.height, info.width, info.channels):
        raise ValueError(f"decoded shape {pixels.shape}")
    return np.asarray(pixels)


def _alpha16(frame: Any) -> npt.NDArray[np.uint16]:
    """The alpha plane scaled exactly to 16 bits.

    swscale widens 10/12-bit alpha by shifting (4095 -> 65520), so opaque pixels would
    come out at 0.99977; full scale must stay full scale.
    """
    fmt = frame.format
    index = next(i for i, c in enumerate(fmt.components) if c.is_alpha)
    bits = fmt.components[index].bits
    plane = frame.planes[fmt.components[index].plane]
    raw = np.frombuffer(plane, np.uint16 if bits > 8 else np.uint8)
    stride = plane.line_size // raw.itemsize
    alpha = raw.reshape(-1, stride)[: frame.height, : frame.width].astype(np.uint32)
    top = (1 << bits) - 1
    scaled: npt.NDArray[np.uint16] = ((alpha * 65535 + top // 2) // top).astype(
        np.uint16
    )
    return scaled


def _decoded(container: Any, stream: Any, decoder: Any) -> Iterator[Any]:
    for packet in container.demux(stream):
        yield from decoder.decode(packet)


def read_movie_frames(
    info: SourceInfo, start: int, stop: int, *, threads: int = 1
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
        decoder, _ = _make_decoder(stream, path, threads)
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
                    pixels = _to_array(frame, info)
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
                    f"cannot decode the movie: {exc}", path=path, frame=start + position
                ) from exc
            if not restart:
                break
            container.close()
            container = _open_container(path)
            stream = container.streams[info.stream_index]
            decoder, _ = _make_decoder(stream, path, threads)
        raise SourceError(
            f"the movie ended early: {start + position} of {info.frame_count} frames "
            "decoded",
            path=path,
            frame=start + position,
        )
    finally:
        container.close()
