"""Image-sequence frames (PNG, TIFF, JPEG, EXR) read with OpenImageIO.

Alpha is read exactly as stored: the config hint ``oiio:UnassociatedAlpha=1`` stops
OpenImageIO from premultiplying straight-alpha PNG/TIFF on read (it would do so on the
display-encoded values, which is wrong before linearising). EXR frames with a data
window smaller than the display window are placed into the full display window.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import SourceError
from ..sequence import (
    IMAGE_EXTENSIONS,
    FrameSequence,
    find_sequence,
    is_sequence_pattern,
)
from . import SourceInfo, Tags, png

if TYPE_CHECKING:
    import OpenImageIO as oiio

__all__ = ["probe_images", "read_image_frames"]

# OpenImageIO pixel type -> the numpy dtype name yielded. Anything else (int8, uint32,
# double, ...) is read converted to float32.
_DTYPES = {"uint8": "uint8", "uint16": "uint16", "half": "float16", "float": "float32"}
_OIIO_TYPE = {v: k for k, v in _DTYPES.items()}

_SRGB = "sRGB Encoded Rec.709 (sRGB)"
_LINEAR = "Linear Rec.709 (sRGB)"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    width: int
    height: int
    channels: int
    dtype: str
    has_alpha: bool
    pixel_aspect: Fraction
    file_colorspace: str
    file_format: str
    associated: bool = False


def _config() -> oiio.ImageSpec:
    import OpenImageIO as oiio

    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    return config


def _open(path: str, number: int) -> oiio.ImageInput:
    import OpenImageIO as oiio

    if not os.path.isfile(path):
        raise SourceError("the frame file is missing", path=path, frame=number)
    inp = oiio.ImageInput.open(path, _config())
    if inp is None:
        reason = oiio.geterror() or "unknown reason"
        raise SourceError(
            f"cannot open the image (corrupt or not an image?): {reason}",
            path=path,
            frame=number,
        )
    return inp


def _header(inp: oiio.ImageInput, path: str, number: int) -> _Header:
    spec = inp.spec()
    nch = int(spec.nchannels)
    if nch < 1:
        raise SourceError("the image has no channels", path=path, frame=number)
    channels = min(nch, 4)
    alpha_index = int(spec.alpha_channel)
    if nch == 2 and alpha_index < 0:
        # Grey + alpha files whose second channel is not named A are still Y, A.
        alpha_index = 1
    has_alpha = 0 <= alpha_index < channels and channels in (2, 4)
    aspect = float(spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0)
    file_format = str(inp.format_name())
    # TIFF says how its alpha is stored (ExtraSamples: 1 associated, 2 unassociated).
    # With the UnassociatedAlpha hint OpenImageIO reads both as stored and reports
    # only the unassociated kind, so a TIFF alpha without that report is associated.
    associated = (
        has_alpha
        and file_format == "tiff"
        and spec.get_int_attribute("oiio:UnassociatedAlpha", 0) != 1
    )
    return _Header(
        width=int(spec.full_width) or int(spec.width),
        height=int(spec.full_height) or int(spec.height),
        channels=channels,
        dtype=_DTYPES.get(str(spec.format), "float32"),
        has_alpha=has_alpha,
        pixel_aspect=Fraction(aspect).limit_denominator(1000),
        file_colorspace=str(spec.get_string_attribute("oiio:ColorSpace", "")),
        file_format=file_format,
        associated=associated,
    )


def _resolve(path: str) -> FrameSequence:
    """A pattern, a folder, or a single existing image as a one-frame sequence."""
    if os.path.isdir(path) or is_sequence_pattern(path):
        return find_sequence(path)
    ext = os.path.splitext(path)[1].lower()
    if os.path.isfile(path):
        if ext not in IMAGE_EXTENSIONS:
            raise SourceError(
                "not an image or movie this tool reads; allowed extensions: "
                + ", ".join(sorted(IMAGE_EXTENSIONS))
                + " (images), .mp4, .mov, .webm, .mkv (movies)",
                path=path,
            )
        stem = os.path.splitext(os.path.basename(path))[0]
        digits = stem.rsplit(".", 1)[-1]
        number = int(digits) if digits.isdigit() else 0
        return FrameSequence(
            pattern=path,
            prefix=os.path.splitext(path)[0],
            suffix=ext,
            padding=len(digits) if digits.isdigit() else 0,
            frame_files=(path,),
            frame_numbers=(number,),
        )
    raise SourceError(
        "no such file, folder or sequence pattern (patterns look like "
        "name.####.ext, name.%04d.ext or name.1001-1120#.ext)",
        path=path,
    )


def _mismatch(first: _Header, other: _Header) -> str | None:
    if (other.width, other.height) != (first.width, first.height):
        return (
            f"the size changes to {other.width}x{other.height} "
            f"(the first frame is {first.width}x{first.height})"
        )
    if other.channels != first.channels or other.has_alpha != first.has_alpha:
        return (
            f"the channels change to {other.channels} "
            f"(the first frame has {first.channels})"
        )
    if other.dtype != first.dtype:
        return (
            f"the pixel type changes to {other.dtype} "
            f"(the first frame is {first.dtype})"
        )
    return None


def _declared_colorspace(reported: str) -> str | None:
    """The scene-linear OCIO space an EXR declares, or None.

    OpenImageIO reports an EXR's colour space only when the file names it (the
    ``colorInteropID`` attribute: ``lin_ap1_scene`` for ACEScg, as Nuke, Houdini and
    aebridge write it). Integer formats are left out: OpenImageIO reports its default
    for them whatever the file holds. Display-referred or unknown names are ignored.
    """
    from ..colour import color_config, colorspace_names, is_linear

    if not reported:
        return None
    cc = color_config()
    for name in colorspace_names():
        if reported in (name, str(cc.get_color_interop_id(name) or "")):
            return name if is_linear(name) else None
    return None


def probe_images(path: str, *, colorspace: str | None = None) -> SourceInfo:
    """Describe an image sequence, checking every frame's header.

    Args:
        path: a pattern, a folder holding one sequence, or a single image.
        colorspace: an OCIO name overriding the default input colour space.

    Returns:
        The sequence's SourceInfo (``kind="images"``).

    Raises:
        SourceError: nothing matches, frames are missing, a frame cannot be opened,
            or a frame's size, channels or pixel type differ from the first frame's.
    """
    seq = _resolve(path)
    first: _Header | None = None
    for file, number in zip(seq.frame_files, seq.frame_numbers, strict=True):
        inp = _open(file, number)
        try:
            header = _header(inp, file, number)
        finally:
            inp.close()
        if first is None:
            first = header
            continue
        problem = _mismatch(first, header)
        if problem is not None:
            raise SourceError(problem, path=file, frame=number)
    assert first is not None  # find_sequence never returns an empty sequence
    is_float = first.dtype in ("float16", "float32") or first.file_format == "openexr"
    default = _LINEAR if is_float else _SRGB
    kind_text = (
        f"{first.dtype} {first.file_format} frames"
        if is_float
        else f"{8 if first.dtype == 'uint8' else 16}-bit {first.file_format} frames"
    )
    tag = (
        f" (OpenImageIO reports {first.file_colorspace!r})"
        if first.file_colorspace
        else ""
    )
    declared = (
        _declared_colorspace(first.file_colorspace)
        if first.file_format == "openexr"
        else None
    )
    if colorspace is not None:
        chosen = colorspace
        decision = (
            f"{kind_text}{tag}: using {colorspace!r} as given instead of the default "
            f"{default!r}."
        )
    elif declared is not None:
        chosen = declared
        decision = (
            f"{kind_text}: the file declares its colour space "
            f"({first.file_colorspace!r}): {declared!r}."
        )
    else:
        chosen = default
        rule = "scene-linear" if is_float else "sRGB-encoded"
        decision = (
            f"{kind_text}{tag}: assumed {rule}, the default for "
            f"{'float' if is_float else 'integer'} images: {default!r}."
        )
    return SourceInfo(
        path=path,
        kind="images",
        width=first.width,
        height=first.height,
        frame_count=len(seq.frame_files),
        channels=first.channels,
        has_alpha=first.has_alpha,
        dtype=first.dtype,
        rate=None,
        colorspace=chosen,
        colour_decision=decision,
        colour_tags=Tags(),
        variable_rate=False,
        frame_files=seq.frame_files,
        frame_numbers=seq.frame_numbers,
        pixel_aspect=first.pixel_aspect,
        alpha_associated=first.associated,
    )


def _read_pixels(
    inp: oiio.ImageInput, info: SourceInfo, path: str, number: int
) -> npt.NDArray[np.generic]:
    import OpenImageIO as oiio

    spec = inp.spec()
    data = inp.read_image(0, 0, 0, info.channels, _OIIO_TYPE[info.dtype])
    if data is None:
        reason = inp.geterror() or oiio.geterror() or "unknown reason"
        raise SourceError(
            f"cannot read the pixels (truncated or corrupt?): {reason}",
            path=path,
            frame=number,
        )
    pixels = np.asarray(data)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    x0, y0 = int(spec.x) - int(spec.full_x), int(spec.y) - int(spec.full_y)
    h, w = pixels.shape[:2]
    if (x0, y0, w, h) == (0, 0, info.width, info.height):
        return pixels
    # A data window other than the display window (EXR): place it into the display
    # window; pixels outside the data window are zero, as EXR defines them.
    full = np.zeros((info.height, info.width, info.channels), pixels.dtype)
    dx0, dy0 = max(x0, 0), max(y0, 0)
    dx1, dy1 = min(x0 + w, info.width), min(y0 + h, info.height)
    if dx1 > dx0 and dy1 > dy0:
        full[dy0:dy1, dx0:dx1] = pixels[dy0 - y0 : dy1 - y0, dx0 - x0 : dx1 - x0]
    return full


def read_image_frames(
    info: SourceInfo, start: int, stop: int
) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Stream frames ``start`` .. ``stop - 1`` of a probed image sequence.

    Args:
        info: from :func:`probe_images`.
        start: first 0-based index.
        stop: one past the last index.

    Returns:
        An iterator of ``(index, H x W x C array)`` in the native dtype.

    Raises:
        SourceError: a frame is missing, corrupt, or differs from the probed size,
            channels or pixel type (names the file and frame number).
    """
    expected = _Header(
        width=info.width,
        height=info.height,
        channels=info.channels,
        dtype=info.dtype,
        has_alpha=info.has_alpha,
        pixel_aspect=info.pixel_aspect,
        file_colorspace="",
        file_format="",
    )
    for index in range(start, stop):
        path, number = info.frame_files[index], info.frame_numbers[index]
        inp = _open(path, number)
        try:
            header = _header(inp, path, number)
            problem = _mismatch(expected, header)
            if problem is not None:
                raise SourceError(problem, path=path, frame=number)
            pixels = None
            if header.file_format == "png":
                # Wuffs where it covers the file (exact, faster); else OpenImageIO.
                pixels = png.decode(path, info.channels, info.dtype)
            if pixels is None:
                pixels = _read_pixels(inp, info, path, number)
        finally:
            inp.close()
        yield index, pixels
