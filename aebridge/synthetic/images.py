"""Procedural frames and image sequences: the patterns, single images, PNG/TIFF/EXR
sequences and mattes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from ..errors import OptionError, OutputError

if TYPE_CHECKING:
    pass

__all__ = [
    "PATTERNS",
    "frame_pixels",
    "save_pixels",
    "write_image",
    "write_image_sequence",
    "write_matte_sequence",
    "write_png_sequence",
]

#: Procedural patterns: ``gradient`` (moving colour ramps plus the disc's alpha),
#: ``disc`` (a flat-coloured soft disc over a differently coloured alpha-0 field),
#: ``solid`` (one flat colour, handy for exact colour checks).
PATTERNS: tuple[str, ...] = ("gradient", "disc", "solid")

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


def save_pixels(path: str, pixels: npt.NDArray[np.generic], *, straight: bool) -> None:
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
    save_pixels(target, np.ascontiguousarray(pixels), straight=straight)
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
            save_pixels(path, values.astype(np.float16), straight=False)
        else:
            save_pixels(path, pixels, straight=alpha is not None)
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
        save_pixels(path, np.ascontiguousarray(rgba[..., 3:4]), straight=False)
        paths.append(path)
    return paths
