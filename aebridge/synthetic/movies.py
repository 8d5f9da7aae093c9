"""Procedural movies: any codec of :data:`CODECS` with chosen colour tags (or a
variable rate), and the outputs of a matting pass as Robust Video Matting writes
them."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from ..errors import OptionError, OutputError
from .images import frame_pixels, save_pixels

if TYPE_CHECKING:
    from av.video.stream import VideoStream

__all__ = ["CODECS", "RVM_GREEN", "write_movie", "write_rvm_outputs"]


#: Movie codecs write_movie can produce: name -> (encoder, pixel format, alpha format).
CODECS: dict[str, tuple[str, str, str | None]] = {
    "h264": ("libx264", "yuv420p", None),
    "hevc": ("libx265", "yuv420p", None),
    "prores4444": ("prores_ks", "yuv444p10le", "yuva444p10le"),
    "vp9": ("libvpx-vp9", "yuv420p", "yuva420p"),
}

_CONTAINERS = {
    ".mp4": ("h264", "hevc"),
    ".mov": tuple(CODECS),
    ".mkv": tuple(CODECS),
    ".webm": ("vp9",),
}

# FFmpeg enum values (AVColorSpace, AVColorRange, AVColorTransferCharacteristic,
# AVColorPrimaries) for the tags write_movie can set.
_MATRIX_TAGS = {"bt709": 1, "bt601": 6, "bt2020": 9}
_SWS_MATRIX = {"bt709": "itu709", "bt601": "itu601", "bt2020": "bt2020"}
_TRANSFER_TAGS = {
    "bt709": 1,
    "iec61966-2-1": 13,
    "linear": 8,
    "smpte2084": 16,
    "arib-std-b67": 18,
    "gamma22": 4,
    "log100": 9,
}
_PRIMARY_TAGS = {
    "bt709": 1,
    "bt601": 6,
    "bt2020": 9,
    "smpte432": 12,
    "ebu3213": 22,
}
_RANGE_TAGS = {"tv": 1, "pc": 2}


def write_movie(
    path: str | os.PathLike[str],
    *,
    codec: str = "h264",
    frames: int = 8,
    width: int = 64,
    height: int = 36,
    rate: Fraction = Fraction(24),
    alpha: bool = False,
    pattern: str = "gradient",
    matrix: str | None = "bt709",
    transfer: str | None = "bt709",
    primaries: str | None = "bt709",
    color_range: str = "tv",
    encode_matrix: str | None = None,
    vfr: bool = False,
    gop: int | None = None,
) -> str:
    """Encode a procedural movie with PyAV.

    Args:
        path: ``.mp4`` (h264, hevc), ``.mov`` (any codec), ``.webm`` (vp9), ``.mkv``.
        codec: one of :data:`CODECS`.
        frames: number of frames.
        width: width in pixels (even for 4:2:0 codecs).
        height: height in pixels (even for 4:2:0 codecs).
        rate: the exact frame rate (24000/1001 stays exact).
        alpha: encode alpha (prores4444 and vp9 only).
        pattern: one of :data:`PATTERNS`.
        matrix: YUV matrix tag (``bt709``, ``bt601``, ``bt2020``) or None for untagged.
        transfer: transfer tag (``bt709``, ``iec61966-2-1``, ``smpte2084``, ...) or
            None.
        primaries: primaries tag (``bt709``, ``bt601``, ``bt2020``) or None.
        color_range: ``tv`` (limited) or ``pc`` (full).
        encode_matrix: the matrix actually used to make YUV; defaults to ``matrix``, or
            when untagged to BT.709 for height >= 720 and BT.601 below (the usual
            convention a decoder must follow).
        vfr: make the timestamps irregular, a variable-rate movie: frame durations
            repeat 2, 1, 2 ticks of ``1 / (2 * rate)``.
        gop: keyframe interval (None: the encoder's default).

    Returns:
        ``path`` as a string.

    Raises:
        OptionError: unknown codec, container/codec or alpha combination, tag.
        OutputError: the movie cannot be written.
    """
    import av

    target = os.fspath(path)
    if codec not in CODECS:
        raise OptionError("codec", codec, CODECS)
    ext = os.path.splitext(target)[1].lower()
    if ext not in _CONTAINERS or codec not in _CONTAINERS[ext]:
        allowed = sorted(f"{e} ({', '.join(c)})" for e, c in _CONTAINERS.items())
        raise OptionError("path", target, allowed)
    encoder, pix_fmt, alpha_fmt = CODECS[codec]
    if alpha:
        if alpha_fmt is None:
            raise OptionError("alpha", alpha, "only prores4444 and vp9 carry alpha")
        pix_fmt = alpha_fmt
    for option, value, table in (
        ("matrix", matrix, _MATRIX_TAGS),
        ("transfer", transfer, _TRANSFER_TAGS),
        ("primaries", primaries, _PRIMARY_TAGS),
        ("encode_matrix", encode_matrix, _MATRIX_TAGS),
    ):
        if value is not None and value not in table:
            raise OptionError(option, value, sorted(table))
    if color_range not in _RANGE_TAGS:
        raise OptionError("color_range", color_range, sorted(_RANGE_TAGS))
    used = encode_matrix or matrix or ("bt709" if height >= 720 else "bt601")
    deep = "10le" in pix_fmt
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise OutputError(f"the folder {folder!r} does not exist", path=target)
    try:
        container = av.open(target, "w")
    except (OSError, av.FFmpegError) as exc:
        raise OutputError(f"cannot create the movie: {exc}", path=target) from exc
    try:
        stream: VideoStream = container.add_stream(encoder, rate=rate)  # type: ignore[assignment]
        stream.width = width
        stream.height = height
        stream.pix_fmt = pix_fmt
        ctx = stream.codec_context
        options: dict[str, object] = {}
        if codec == "prores4444":
            options["profile"] = "4444"
        elif codec == "hevc":
            options["x265-params"] = "log-level=error"
        elif codec == "vp9":
            options.update({"crf": "10", "b": "0", "deadline": "realtime"})
        if gop is not None:
            ctx.gop_size = gop
            if codec == "h264":
                options["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
            elif codec == "hevc":
                options["x265-params"] = (
                    f"log-level=error:keyint={gop}:min-keyint={gop}:scenecut=0"
                )
        stream.options = options
        if vfr:
            ctx.time_base = Fraction(1, 1) / (2 * rate)
        if matrix is not None:
            ctx.colorspace = _MATRIX_TAGS[matrix]
        if transfer is not None:
            ctx.color_trc = _TRANSFER_TAGS[transfer]
        if primaries is not None:
            ctx.color_primaries = _PRIMARY_TAGS[primaries]
        ctx.color_range = _RANGE_TAGS[color_range]
        pts = 0
        for i in range(frames):
            pixels = frame_pixels(
                i,
                width,
                height,
                pattern=pattern,
                alpha="straight" if alpha else None,
                bit_depth=16 if deep else 8,
            )
            src = (
                ("rgba64le" if alpha else "rgb48le")
                if deep
                else ("rgba" if alpha else "rgb24")
            )
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(pixels),  # type: ignore[arg-type]
                format=src,
            )
            # Convert to YUV explicitly: FFmpeg's default matrix is BT.601 whatever
            # the tags say, which would make the file disagree with its own tags.
            frame = frame.reformat(
                format=pix_fmt,
                dst_colorspace=_SWS_MATRIX[used],
                dst_color_range="JPEG" if color_range == "pc" else "MPEG",
            )
            frame.pts = pts
            if vfr:
                frame.time_base = ctx.time_base
                pts += 2 if i % 3 == 2 else (1 if i % 3 == 1 else 2)
            else:
                pts += 1
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    except av.FFmpegError as exc:
        raise OutputError(f"cannot encode the movie: {exc}", path=target) from exc
    finally:
        container.close()
    return target


#: RVM's composition background (inference.py: ``bgr = [120, 255, 155] / 255``).
RVM_GREEN: tuple[int, int, int] = (120, 255, 155)


def write_rvm_outputs(
    folder: str | os.PathLike[str],
    *,
    frames: int = 8,
    width: int = 64,
    height: int = 36,
    rate: Fraction = Fraction(24),
    output_type: Literal["video", "png_sequence"] = "video",
    names: tuple[str, str, str | None] = ("fgr", "pha", "com"),
) -> tuple[str, ...]:
    """Write what Robust Video Matting's ``convert_video`` writes, the way it does.

    The foreground is the ``disc`` pattern's colour (colour everywhere, as RVM's
    ``fgr`` is), the alpha is the disc's alpha. As RVM's ``inference_utils`` does:
    ``video`` writes H.264 ``yuv420p`` at the rate text ``f"{rate:.4f}"`` (so
    24000/1001 becomes 2997/125), converting RGB with FFmpeg's default matrix
    (BT.601) and tagging no colour, the alpha as grey RGB, and the composition over
    green :data:`RVM_GREEN`; ``png_sequence`` writes folders of ``0000.png``,
    ``0001.png``, ... (RGB foreground, grey alpha, RGBA composition whose colour is
    zero where alpha is zero).

    Args:
        folder: created if missing.
        frames: number of frames.
        width: width in pixels (even).
        height: height in pixels (even).
        rate: the source rate RVM copies.
        output_type: ``video`` or ``png_sequence``, as RVM's ``--output-type``.
        names: foreground, alpha and composition names without extension (RVM's
            README uses ``fgr``, ``pha``, ``com``); None skips the composition.

    Returns:
        The paths written (movies, or sequence folders).

    Raises:
        OptionError: an unknown output type.
        OutputError: a file cannot be written.
    """
    if output_type not in ("video", "png_sequence"):
        raise OptionError("output_type", output_type, ("video", "png_sequence"))
    os.makedirs(folder, exist_ok=True)
    base = os.fspath(folder)
    green = np.array(RVM_GREEN, np.float64) / 255.0

    def planes(i: int) -> tuple[npt.NDArray[np.uint8], ...]:
        rgba = frame_pixels(i, width, height, pattern="disc", alpha="straight")
        fgr = rgba[..., :3].astype(np.float64) / 255.0
        pha = rgba[..., 3:4].astype(np.float64) / 255.0
        if output_type == "video":
            com = fgr * pha + green * (1.0 - pha)
        else:
            com = np.concatenate([fgr * (pha > 0), pha], axis=2)
        return tuple(
            np.ascontiguousarray((np.clip(p, 0, 1) * 255).astype(np.uint8))
            for p in (fgr, np.repeat(pha, 3, axis=2), com)
        )

    chosen = [(k, n) for k, n in enumerate(names) if n is not None]
    written: list[str] = []
    if output_type == "png_sequence":
        for k, name in chosen:
            sub = os.path.join(base, str(name))
            os.makedirs(sub, exist_ok=True)
            for i in range(frames):
                pixels = planes(i)[k]
                if k == 1:
                    pixels = np.ascontiguousarray(pixels[..., :1])
                save_pixels(os.path.join(sub, f"{i:04d}.png"), pixels, straight=k == 2)
            written.append(sub)
        return tuple(written)
    import av

    paths = [os.path.join(base, f"{name}.mp4") for _, name in chosen]
    containers = []
    try:
        streams = []
        for path in paths:
            container = av.open(path, "w")
            containers.append(container)
            stream = container.add_stream(
                "libx264", rate=Fraction(f"{float(rate):.4f}")
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.bit_rate = 4_000_000
            streams.append(stream)
        for i in range(frames):
            frame_planes = planes(i)
            for (k, _), container, stream in zip(
                chosen, containers, streams, strict=True
            ):
                frame = av.VideoFrame.from_ndarray(frame_planes[k], format="rgb24")
                # PyAV converts to yuv420p with swscale's default (BT.601)
                # coefficients, as RVM's VideoWriter leaves it to.
                frame = frame.reformat(format="yuv420p")
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
        for container, stream in zip(containers, streams, strict=True):
            for packet in stream.encode():
                container.mux(packet)
    except av.FFmpegError as exc:
        raise OutputError(f"cannot encode the movie: {exc}", path=base) from exc
    finally:
        for container in containers:
            container.close()
    return tuple(paths)
