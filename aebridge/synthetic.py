"""Deterministic procedural media (sequences, mattes, movies) for tests and samples.

Everything here is computed, never downloaded, and is the same on every run. The
foreground patterns put a soft-edged moving disc over alpha 0 *with colour still present
where alpha is 0*, as generators that write straight alpha do: a converter that forgets
to premultiply shows that colour, so tests catch it.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from .errors import OptionError, OutputError

if TYPE_CHECKING:
    from av.video.stream import VideoStream

__all__ = [
    "CODECS",
    "PATTERNS",
    "frame_pixels",
    "write_image",
    "write_image_sequence",
    "write_matte_sequence",
    "write_movie",
    "write_png_sequence",
    "write_rvm_outputs",
]

#: Procedural patterns: ``gradient`` (moving colour ramps plus the disc's alpha),
#: ``disc`` (a flat-coloured soft disc over a differently coloured alpha-0 field),
#: ``solid`` (one flat colour, handy for exact colour checks).
PATTERNS: tuple[str, ...] = ("gradient", "disc", "solid")

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

#: The colour of ``solid`` and of the disc in ``disc`` (8-bit sRGB-encoded RGB).
SOLID_RGB: tuple[int, int, int] = (200, 30, 60)
_FIELD_RGB = (40, 160, 220)


def _disc_alpha(index: int, width: int, height: int) -> npt.NDArray[np.float64]:
    """Alpha in [0, 1] of a soft disc that moves left to right over the frames."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    cx = width * (0.3 + 0.05 * index) % max(width, 1)
    cy = height * 0.5
    radius = 0.3 * min(width, height)
    soft = max(0.15 * min(width, height), 1.0)
    dist = np.hypot(x + 0.5 - cx, y + 0.5 - cy)
    alpha: npt.NDArray[np.float64] = np.clip((radius - dist) / soft + 0.5, 0.0, 1.0)
    return alpha


def frame_pixels(
    index: int,
    width: int,
    height: int,
    *,
    pattern: str = "gradient",
    alpha: Literal["straight"] | None = "straight",
    bit_depth: int = 8,
) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint16]:
    """The pixels of frame ``index`` of a pattern, as written to disk.

    Args:
        index: 0-based frame index (the picture moves with it).
        width: width in pixels.
        height: height in pixels.
        pattern: one of :data:`PATTERNS`.
        alpha: ``"straight"`` for RGBA with straight alpha, None for opaque RGB.
        bit_depth: 8 (uint8) or 16 (uint16).

    Returns:
        H x W x 4 (or x 3) display-encoded pixels.

    Raises:
        OptionError: unknown pattern, alpha or bit depth.
    """
    if pattern not in PATTERNS:
        raise OptionError("pattern", pattern, PATTERNS)
    if alpha not in ("straight", None):
        raise OptionError("alpha", alpha, ("straight", "None"))
    if bit_depth not in (8, 16):
        raise OptionError("bit_depth", bit_depth, ("8", "16"))
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    a = _disc_alpha(index, width, height)
    rgb = np.empty((height, width, 3), np.float64)
    if pattern == "gradient":
        x = (np.arange(width) + 0.5) / width
        y = (np.arange(height) + 0.5) / height
        rgb[..., 0] = (x[None, :] + 0.07 * index) % 1.0
        rgb[..., 1] = y[:, None]
        rgb[..., 2] = 1.0 - 0.5 * (x[None, :] + y[:, None])
    elif pattern == "disc":
        inside = (a > 0)[..., None]
        disc, field = np.array(SOLID_RGB) / 255, np.array(_FIELD_RGB) / 255
        rgb[...] = np.where(inside, disc, field)
    else:
        rgb[...] = np.array(SOLID_RGB) / 255
        a = np.ones_like(a)
    if pattern == "solid" and bit_depth == 8:
        out = np.empty((height, width, 3), dtype)
        out[...] = SOLID_RGB
    else:
        out = np.rint(rgb * top).astype(dtype)
    if alpha is None:
        return out
    alpha_channel = np.rint(a * top).astype(dtype)[..., None]
    return np.concatenate([out, alpha_channel], axis=2)


def _write_image(path: str, pixels: npt.NDArray[np.generic], *, straight: bool) -> None:
    import OpenImageIO as oiio

    height, width, channels = pixels.shape
    spec = oiio.ImageSpec(width, height, channels, str(pixels.dtype))
    if straight:
        # Without this OpenImageIO assumes premultiplied data and divides by alpha
        # on writing PNG/TIFF, destroying the colour kept under alpha 0.
        spec.attribute("oiio:UnassociatedAlpha", 1)
    out = oiio.ImageOutput.create(path)
    if out is None:
        raise OutputError(f"cannot create a writer: {oiio.geterror()}", path=path)
    try:
        if not out.open(path, spec):
            raise OutputError(f"cannot open for writing: {out.geterror()}", path=path)
        if not out.write_image(pixels):
            raise OutputError(f"cannot write: {out.geterror()}", path=path)
    finally:
        out.close()


def write_image(
    path: str | os.PathLike[str],
    pixels: npt.NDArray[np.generic],
    *,
    straight: bool = False,
) -> str:
    """Write one image (PNG, TIFF, JPEG, EXR by extension), e.g. a keyframe still.

    Args:
        path: the file to write; its folder must exist.
        pixels: H x W x C pixels in the dtype to store.
        straight: the alpha channel (if any) is straight, so colour under alpha 0
            is kept.

    Returns:
        ``path`` as a string.

    Raises:
        OutputError: the file cannot be written.
    """
    target = os.fspath(path)
    _write_image(target, np.ascontiguousarray(pixels), straight=straight)
    return target


def write_image_sequence(
    folder: str | os.PathLike[str],
    name: str,
    *,
    frames: int = 6,
    width: int = 64,
    height: int = 36,
    start: int = 1001,
    ext: str = "png",
    alpha: Literal["straight"] | None = "straight",
    bit_depth: int = 8,
    pattern: str = "gradient",
    padding: int = 4,
) -> list[str]:
    """Write ``folder/name.<frame>.<ext>`` for a procedural pattern.

    Args:
        folder: created if missing.
        name: the file name prefix (``name.1001.png``).
        frames: number of frames.
        width: width in pixels.
        height: height in pixels.
        start: first frame number.
        ext: ``png``, ``tif``, ``jpg`` (8-bit, no alpha) or ``exr`` (half float,
            pixels scaled to 0..1 and premultiplied as EXR requires).
        alpha: ``"straight"`` or None (opaque).
        bit_depth: 8 or 16 (ignored for jpg and exr).
        pattern: one of :data:`PATTERNS`.
        padding: digits in the frame number.

    Returns:
        The written paths in frame order.

    Raises:
        OptionError: an unsupported extension/alpha combination.
        OutputError: a file cannot be written.
    """
    ext = ext.lower().lstrip(".")
    if ext not in ("png", "tif", "tiff", "jpg", "jpeg", "exr"):
        raise OptionError("ext", ext, ("png", "tif", "jpg", "exr"))
    if ext in ("jpg", "jpeg") and (alpha is not None or bit_depth != 8):
        raise OptionError("alpha/bit_depth", (alpha, bit_depth), "jpg is 8-bit opaque")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(frames):
        path = os.path.join(os.fspath(folder), f"{name}.{start + i:0{padding}d}.{ext}")
        pixels = frame_pixels(
            i, width, height, pattern=pattern, alpha=alpha, bit_depth=bit_depth
        )
        if ext == "exr":
            top = 255.0 if bit_depth == 8 else 65535.0
            values = pixels.astype(np.float32) / top
            if alpha is not None:
                values[..., :3] *= values[..., 3:4]
            _write_image(path, values.astype(np.float16), straight=False)
        else:
            _write_image(path, pixels, straight=alpha is not None)
        paths.append(path)
    return paths


def write_png_sequence(
    folder: str | os.PathLike[str],
    name: str,
    *,
    frames: int = 6,
    width: int = 64,
    height: int = 36,
    start: int = 1001,
    alpha: Literal["straight"] | None = "straight",
    bit_depth: int = 8,
    pattern: str = "gradient",
) -> list[str]:
    """Write a PNG sequence ``folder/name.####.png`` (see :func:`write_image_sequence`).

    Args:
        folder: created if missing.
        name: the file name prefix.
        frames: number of frames.
        width: width in pixels.
        height: height in pixels.
        start: first frame number.
        alpha: ``"straight"`` (RGBA, colour kept under alpha 0) or None (RGB).
        bit_depth: 8 or 16.
        pattern: one of :data:`PATTERNS`.

    Returns:
        The written paths in frame order.

    Raises:
        OptionError: unknown pattern, alpha or bit depth.
        OutputError: a file cannot be written.
    """
    return write_image_sequence(
        folder,
        name,
        frames=frames,
        width=width,
        height=height,
        start=start,
        ext="png",
        alpha=alpha,
        bit_depth=bit_depth,
        pattern=pattern,
    )


def write_matte_sequence(
    folder: str | os.PathLike[str],
    name: str,
    *,
    frames: int = 6,
    width: int = 64,
    height: int = 36,
    start: int = 1001,
    bit_depth: int = 8,
) -> list[str]:
    """Write a single-channel grey PNG matte: the disc's alpha of :func:`frame_pixels`.

    Args:
        folder: created if missing.
        name: the file name prefix.
        frames: number of frames.
        width: width in pixels.
        height: height in pixels.
        start: first frame number.
        bit_depth: 8 or 16.

    Returns:
        The written paths in frame order.

    Raises:
        OptionError: unknown bit depth.
        OutputError: a file cannot be written.
    """
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(frames):
        rgba = frame_pixels(i, width, height, pattern="disc", bit_depth=bit_depth)
        path = os.path.join(os.fspath(folder), f"{name}.{start + i:04d}.png")
        _write_image(path, np.ascontiguousarray(rgba[..., 3:4]), straight=False)
        paths.append(path)
    return paths


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
                _write_image(os.path.join(sub, f"{i:04d}.png"), pixels, straight=k == 2)
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
