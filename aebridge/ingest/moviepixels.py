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

from .._native import lookup, yuv_rgb
from . import MovieInfo
from .metadata import orient, oriented_size

__all__ = [
    "LUMA",
    "SizeChange",
    "exact_to_array",
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
    out = np.empty((frame.height, frame.width, 1), dtype=table.dtype)
    # Bits above the depth are padding: masked off.
    lookup(table, y, out[..., 0], (1 << comp.bits) - 1)
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
    if info.dtype == "uint16" or _exact_layout(frame):
        return exact_to_array(frame, info)
    from av.video.reformatter import Interpolation

    # The 8-bit layouts the exact path does not take (palettes, chroma subsampled
    # by more than two to one): swscale with exact rounding and full
    # chroma interpolation (its fast paths are off by up to a few code values).
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


def _two_by_two(frame: Any) -> bool:
    """Whether a YUV frame's chroma is full size or half (rounded up) each way."""
    fmt, width, height = frame.format, int(frame.width), int(frame.height)
    return fmt.chroma_width(width) in (width, (width + 1) // 2) and fmt.chroma_height(
        height
    ) in (height, (height + 1) // 2)


def _exact_layout(frame: Any) -> bool:
    """Whether an 8-bit frame's layout is one the exact path reads: RGB, grey, or
    Y'CbCr with chroma subsampled at most two to one each way, each with or without
    alpha, stored planar or packed (packed ones are first repacked losslessly, see
    _planar)."""
    fmt = frame.format
    comps = fmt.components
    if fmt.is_bayer or any(c.bits != 8 for c in comps):
        return False
    colour = sum(1 for c in comps if not c.is_alpha)
    if fmt.is_rgb or colour == 1:
        return str(fmt.name) != "pal8"
    return colour == 3 and _two_by_two(frame)


def _planar(frame: Any) -> Any:
    """The frame itself when its planes can be read directly, else repacked.

    Semi-planar or packed formats (nv12, yuyv422, p010, rgb24, ...) are repacked by
    swscale to the planar format of the same depth and subsampling, which moves
    samples without scaling them; grey with alpha (ya8, ya16) becomes planar RGB with
    alpha, each colour plane a copy of the grey one.
    """
    fmt = frame.format
    comps = fmt.components
    bits = max(c.bits for c in comps)
    own_planes = len({c.plane for c in comps}) == len(comps)
    native_order = bits == 8 or str(fmt.name).endswith("le")
    alpha = any(c.is_alpha for c in comps)
    readable = fmt.is_rgb or len(comps) - alpha == 1 or _two_by_two(frame)
    if own_planes and native_order and not fmt.is_bayer and readable:
        return frame
    depth = 8 if bits <= 8 else 16 if bits > 12 else 12 if bits > 10 else 10
    suffix = "" if depth == 8 else f"{depth}le"
    if fmt.is_rgb or (len(comps) - alpha == 1 and alpha):
        target = f"gbr{'a' if alpha else ''}p{suffix}"
    elif len(comps) - alpha == 1:
        target = "gray" if depth == 8 else f"gray{depth}le"
    else:
        sub_w = fmt.chroma_width(frame.width) < frame.width
        sub_h = fmt.chroma_height(frame.height) < frame.height
        layout = "420" if sub_w and sub_h else "422" if sub_w else "444"
        target = f"yuv{'a' if alpha else ''}{layout}p{suffix}"
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


def _scaled(
    codes: npt.NDArray[np.integer[Any]], offset: float, span: float, top: float
) -> npt.NDArray[np.float64]:
    """``(code - offset) * top / span`` in float64: the subtraction and product are
    exact, the division correctly rounded, so an exact half (mid grey) stays one."""
    out: npt.NDArray[np.float64] = np.subtract(codes, offset, dtype=np.float64)
    out *= top
    out /= span
    return out


def yuv_rule(
    bits: int, color_range: str, matrix: str, top: float
) -> tuple[float, float, float, float, float, float, float, float, float]:
    """The constants of the Y'CbCr -> R'G'B' rule for ``bits``-bit codes and output
    full scale ``top``: Y offset and span, chroma offset and span, ``top``, then the
    coefficients of Cr in R, Cb and Cr in G, and Cb in B (ITU-T H.273)::

        y = (Y - y_offset) * top / y_span      c = (C - c_offset) * top / c_span
        R = y + k_r Cr      G = y + (k_gb Cb + k_gr Cr)      B = y + k_b Cb

    Limited range maps ``16 << (b - 8)`` .. ``235 << (b - 8)`` luma (``240 << (b - 8)``
    chroma) to 0..1, full range ``0 .. 2**b - 1``. G is (y - Kr R - Kb B) / Kg.
    """
    scale = float(1 << (bits - 8))
    if color_range != "JPEG":
        y_offset, y_span, c_offset, c_span = (
            16 * scale,
            219 * scale,
            128 * scale,
            224 * scale,
        )
    else:
        full = float((1 << bits) - 1)
        y_offset, y_span, c_offset, c_span = 0.0, full, float(1 << (bits - 1)), full
    kr, kb = _KR_KB[matrix]
    kg = 1.0 - kr - kb
    return (
        y_offset, y_span, c_offset, c_span, top,
        2 * (1 - kr), -2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg, 2 * (1 - kb),
    )  # fmt: skip


def exact_to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.unsignedinteger[Any]]:
    """A frame as RGB(A) codes of ``info.dtype``, full scale exactly 255 or 65535.

    This is the one rule by which aebridge reads movie pixels, at every depth: each
    value is ``round(top * v)`` (half to even; values outside 0..1 clipped) of the
    exact formula of ITU-T H.273 (:func:`yuv_rule`), evaluated in float64. Chroma is
    co-sited horizontally (left) and centred vertically, the siting H.264, HEVC and
    ProRes use unless told otherwise and what FFmpeg assumes: a pixel between two
    chroma samples gets their linear interpolation (horizontally the mean, vertically
    0.75 of the nearer row and 0.25 of the other, edges repeated), done on the
    already-scaled chroma terms. Y'CbCr is computed by :func:`aebridge._native.yuv_rgb`
    (the tests hold it to a numpy evaluation of the same operations, and to exact
    rational arithmetic); RGB, grey and alpha codes are rescaled here.

    swscale is not the rule: it converts deep Y'CbCr to 16-bit RGB on an 8-bit scale
    (10-bit limited-range white 940 came out as 65283, 0.9961), and its 8-bit paths
    round in fixed point (its exact-rounding one differs from the formula by a code
    here and there).

    The returned H x W x C array is a view over channel planes (``out[..., c]`` is
    contiguous), like the pixel pipeline's output.
    """
    grey = sum(1 for c in frame.format.components if not c.is_alpha) == 1
    frame = _planar(frame)
    fmt = frame.format
    comps = fmt.components
    bits = max(c.bits for c in comps)
    code_top = float((1 << bits) - 1)
    top = 255.0 if info.dtype == "uint8" else 65535.0
    alpha_index = next((i for i, c in enumerate(comps) if c.is_alpha), None)
    colour = [i for i in range(len(comps)) if i != alpha_index]
    width, height = int(frame.width), int(frame.height)
    out = np.empty((info.channels, height, width), info.dtype)
    planes: list[npt.NDArray[np.float64]] = []
    if grey:  # (grey with alpha arrives as RGB planes, each the grey)
        rule = yuv_rule(bits, info.color_range, "itu709", top)
        luma = _scaled(_codes(frame, colour[0]), rule[0], rule[1], top)
        planes = [luma] * (3 if info.channels >= 3 else 1)
    elif fmt.is_rgb:
        planes = [_scaled(_codes(frame, i), 0.0, code_top, top) for i in colour]
    else:
        y, cb, cr = (_codes(frame, i) for i in colour)
        rule = yuv_rule(bits, info.color_range, info.matrix, top)
        yuv_rgb(y, cb, cr, out[0], out[1], out[2], rule)
    if alpha_index is not None and info.has_alpha:
        planes.append(_scaled(_codes(frame, alpha_index), 0.0, code_top, top))
    first = info.channels - len(planes)
    if first not in (0, 3) or (first == 3) != (not grey and not fmt.is_rgb):
        raise ValueError(f"{fmt.name} frames cannot give {info.channels} channels")
    for c, plane in enumerate(planes, start=first):
        np.clip(plane, 0.0, top, out=plane)
        np.rint(plane, out=plane)
        out[c] = plane
    return out.transpose(1, 2, 0)
