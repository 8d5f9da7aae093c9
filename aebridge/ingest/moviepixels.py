"""Decoded movie frames to arrays, as displayed.

8-bit frames go through swscale with exact rounding; 9- to 16-bit frames are
converted here from their planes with the exact ranges of ITU-T H.273 (swscale puts
deep YUV on an 8-bit scale); a matte's luma plane goes through a table to full scale.
Interlaced fields are interpolated on request and the orientation is applied last.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import MovieInfo
from .metadata import orient, oriented_size

__all__ = [
    "LUMA",
    "SizeChange",
    "deep_to_array",
    "has_luma_plane",
    "luma_table",
    "output_format",
    "to_array",
]


def output_format(fmt: Any) -> tuple[str, int, bool, int]:
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


def has_luma_plane(fmt: Any) -> bool:
    """Whether a decoded format is planar YUV whose first plane is Y alone."""
    return (
        not fmt.is_rgb
        and not fmt.name.startswith(("gray", "ya"))
        and len(fmt.components) >= 3
        and fmt.components[0].plane == 0
        and fmt.components[1].plane != 0
    )


_LUMA_TABLES: dict[tuple[int, str, str], npt.NDArray[np.generic]] = {}


def luma_table(bits: int, color_range: str, dtype: str) -> npt.NDArray[np.generic]:
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
    """The Y plane of a YUV frame at full scale, H x W x 1 (see :func:`luma_table`)."""
    comp = frame.format.components[0]
    plane = frame.planes[0]
    raw: npt.NDArray[np.unsignedinteger[Any]] = np.frombuffer(
        plane, np.uint16 if comp.bits > 8 else np.uint8
    )
    stride = plane.line_size // raw.itemsize
    y = raw.reshape(-1, stride)[: frame.height, : frame.width]
    table = luma_table(comp.bits, info.color_range, info.dtype)
    if comp.bits > 8:
        y = y & np.uint16((1 << comp.bits) - 1)  # bits above the depth are padding
    out = np.empty((frame.height, frame.width, 1), dtype=table.dtype)
    for top in range(0, frame.height, 64):  # bands: np.take's intp index stays small
        band = slice(top, top + 64)
        np.take(table, y[band], out=out[band, :, 0], mode="clip")
    return out


def to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.generic]:
    """A decoded frame as displayed: RGB(A), orientation applied."""
    width, height = oriented_size(info.width, info.height, info.orientation)
    if frame.width != width or frame.height != height:
        raise SizeChange(int(frame.width), int(frame.height))
    pixels = _stored_array(frame, info)
    if info.field_mode == "interpolate":
        pixels = _interpolate_fields(pixels, bottom=info.fields == "bottom first")
    return orient(pixels, info.orientation)


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
        return deep_to_array(frame, info)
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


class SizeChange(Exception):
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


def deep_to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.uint16]:
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
