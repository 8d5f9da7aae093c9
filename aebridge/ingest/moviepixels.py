"""Decoded movie frames to arrays, as displayed.

Frames are converted here from their planes by one exact rule, ITU-T H.273's ranges
and matrices evaluated in float64 (:func:`exact_to_array`; swscale puts deep YUV on
an 8-bit scale and rounds 8-bit in fixed point). 8-bit frames whose chroma siting the
rule cannot know (codecs other than H.264 and HEVC) and a few rare 8-bit layouts go
through swscale with exact rounding, which reads the siting from the frame. A
matte's luma plane goes through a table to full scale. Interlaced fields are
interpolated on request and the orientation is applied last.
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


def _colours(fmt: Any) -> int:
    """A pixel format's colour components: 1 for grey, 3 for RGB or Y'CbCr (alpha is
    not counted)."""
    return sum(1 for c in fmt.components if not c.is_alpha)


def output_format(fmt: Any) -> tuple[str, int, bool, int]:
    """(pixel format to convert to, channels, has alpha, bits) for a decoded format."""
    bits = max(c.bits for c in fmt.components)
    alpha = any(c.is_alpha for c in fmt.components)
    deep = bits > 8
    grey = fmt.name.startswith(("gray", "ya")) or _colours(fmt) == 1
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


def luma_table(bits: int, color_range: str, dtype: str) -> npt.NDArray[np.generic]:
    """Y code -> full-scale code of ``dtype``: limited range (16..235 scaled by
    2**(bits-8)) or full range (0..2**bits-1) onto 0..255 / 0..65535, rounded half
    to even and clipped (the grey rule of :func:`exact_to_array`); the range ends
    map exactly to 0 and full scale."""
    rule = yuv_rule(bits, color_range, "itu709", 255.0)
    return _code_table(1 << bits, rule[0], rule[1], dtype)


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
    if info.dtype == "uint16" or (_exact_layout(frame) and _sited_as_rule(frame, info)):
        return exact_to_array(frame, info)
    from av.video.reformatter import Interpolation

    # The 8-bit frames the exact path does not take (RGB, which swscale copies;
    # palettes; chroma subsampled by more than two to one, or sited otherwise than
    # the rule assumes; interlaced fields that do not split evenly): swscale with
    # exact rounding and full chroma interpolation (its fast paths are off by up to
    # a few code values), reading the siting and fields from the frame.
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


# Codecs whose decoders site 4:2:0 and 4:2:2 chroma left (co-sited horizontally,
# between the lines vertically), the siting the rule assumes: H.264 and HEVC's
# default (their VUI can say otherwise, which PyAV does not expose). Measured: on
# their frames the rule and swscale's exact-rounding path differ by at most a code.
# Other codecs' frames are untagged (VP8, VP9, AV1, which swscale reads as centred)
# or tagged otherwise (MJPEG centre): 8-bit ones go through swscale, which reads the
# frame's siting.
LEFT_SITED_CODECS = frozenset({"h264", "hevc"})


def _vertical_fields(frame: Any) -> bool:
    """Whether a frame's chroma is subsampled vertically and its lines are two
    interlaced fields (each field then has its own chroma rows)."""
    fmt = frame.format
    if fmt.is_rgb or _colours(fmt) != 3:
        return False
    return bool(frame.interlaced_frame) and fmt.chroma_height(frame.height) < int(
        frame.height
    )


def _fields_split(height: int, chroma_height: int) -> bool:
    """Whether both fields of an interlaced frame are 4:2:0 on their own: each
    field's chroma rows (every other one) are half its lines, rounded up."""
    return all(
        len(range(f, chroma_height, 2)) == (len(range(f, height, 2)) + 1) // 2
        for f in (0, 1)
    )


def _sited_as_rule(frame: Any, info: MovieInfo) -> bool:
    """Whether the exact rule reads an 8-bit frame's chroma where it is: no chroma
    subsampling, or a codec that sites it left, with interlaced fields that split."""
    fmt = frame.format
    if fmt.is_rgb or _colours(fmt) != 3:
        return True
    width, height = int(frame.width), int(frame.height)
    chroma_width, chroma_height = fmt.chroma_width(width), fmt.chroma_height(height)
    if chroma_width == width and chroma_height == height:
        return True
    if info.codec not in LEFT_SITED_CODECS:
        return False
    return not _vertical_fields(frame) or _fields_split(height, chroma_height)


def _exact_layout(frame: Any) -> bool:
    """Whether an 8-bit frame's layout is one the exact path reads: grey, or Y'CbCr
    with chroma subsampled at most two to one each way, each with or without alpha,
    stored planar or packed (packed ones are first repacked losslessly, see
    _planar). 8-bit RGB is left to swscale, whose copy is the rule's identity."""
    fmt = frame.format
    comps = fmt.components
    if fmt.is_bayer or any(c.bits != 8 for c in comps):
        return False
    colour = _colours(fmt)
    if fmt.is_rgb:
        # 8-bit RGB to 8-bit RGB is the identity under the rule: swscale's copy (or
        # byte shuffle) is the same array without a repack.
        return False
    if colour == 1:
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
    readable = fmt.is_rgb or _colours(fmt) == 1 or _two_by_two(frame)
    if own_planes and native_order and not fmt.is_bayer and readable:
        return frame
    depth = 8 if bits <= 8 else 16 if bits > 12 else 12 if bits > 10 else 10
    suffix = "" if depth == 8 else f"{depth}le"
    if fmt.is_rgb or (_colours(fmt) == 1 and alpha):
        target = f"gbr{'a' if alpha else ''}p{suffix}"
    elif _colours(fmt) == 1:
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


_CODE_TABLES: dict[tuple[int, float, float, str], npt.NDArray[np.generic]] = {}


def _code_table(
    codes: int, offset: float, span: float, dtype: str
) -> npt.NDArray[np.generic]:
    """Code -> ``round(top * (code - offset) / span)`` clipped to 0..top, for every
    code a plane of ``codes`` values can hold (the rule of :func:`exact_to_array`
    for one RGB, grey or alpha plane, evaluated once per code)."""
    key = (codes, offset, span, dtype)
    table = _CODE_TABLES.get(key)
    if table is None:
        top = 255.0 if dtype == "uint8" else 65535.0
        values = _scaled(np.arange(codes), offset, span, top)
        np.clip(values, 0.0, top, out=values)
        table = np.rint(values).astype(dtype)
        _CODE_TABLES[key] = table
    return table


def exact_to_array(frame: Any, info: MovieInfo) -> npt.NDArray[np.unsignedinteger[Any]]:
    """A frame as RGB(A) codes of ``info.dtype``, full scale exactly 255 or 65535.

    This is the one rule by which aebridge reads movie pixels, at every depth: each
    value is ``round(top * v)`` (half to even; values outside 0..1 clipped) of the
    exact formula of ITU-T H.273 (:func:`yuv_rule`), evaluated in float64. Chroma is
    taken as co-sited horizontally (left) and centred vertically, H.264's and HEVC's
    default siting (8-bit frames of other codecs go to swscale, see
    :data:`LEFT_SITED_CODECS`): a pixel between two chroma samples gets their linear
    interpolation (horizontally the mean, vertically 0.75 of the nearer row and 0.25
    of the other, edges repeated), done on the already-scaled chroma terms, and an
    interlaced frame's two fields are converted apart. Y'CbCr is computed by
    :func:`aebridge._native.yuv_rgb` (the tests hold it to a numpy evaluation of the
    same operations, and to exact rational arithmetic); RGB, grey and alpha planes
    go through a table of the same rule per code value.

    swscale is not the rule: it converts deep Y'CbCr to 16-bit RGB on an 8-bit scale
    (10-bit limited-range white 940 came out as 65283, 0.9961), and its 8-bit paths
    round in fixed point (its exact-rounding one differs from the formula by a code
    here and there).

    The returned H x W x C array is a view over channel planes (``out[..., c]`` is
    contiguous, the array itself is not), like the pixel pipeline's output.
    """
    grey = _colours(frame.format) == 1
    fields = _vertical_fields(frame)
    frame = _planar(frame)
    fmt = frame.format
    comps = fmt.components
    bits = max(c.bits for c in comps)
    codes = 1 << (8 if bits <= 8 else 16)  # every value the plane's words can hold
    code_top = float((1 << bits) - 1)
    alpha_index = next((i for i, c in enumerate(comps) if c.is_alpha), None)
    colour = [i for i in range(len(comps)) if i != alpha_index]
    width, height = int(frame.width), int(frame.height)
    out = np.empty((info.channels, height, width), info.dtype)
    # (plane, table) of each output channel computed from one plane of codes.
    lookups: list[tuple[npt.NDArray[Any], npt.NDArray[np.generic]]] = []
    if grey:  # (grey with alpha arrives as RGB planes, each the grey)
        rule = yuv_rule(bits, info.color_range, "itu709", 255.0)
        table = _code_table(codes, rule[0], rule[1], info.dtype)
        luma = _codes(frame, colour[0])
        lookups = [(luma, table)] * (3 if info.channels >= 3 else 1)
    elif fmt.is_rgb:
        table = _code_table(codes, 0.0, code_top, info.dtype)
        lookups = [(_codes(frame, i), table) for i in colour]
    else:
        y, cb, cr = (_codes(frame, i) for i in colour)
        top = 255.0 if info.dtype == "uint8" else 65535.0
        rule = yuv_rule(bits, info.color_range, info.matrix, top)
        if fields and _fields_split(height, cb.shape[0]):
            # Interlaced 4:2:0: each field is converted on its own (its chroma rows
            # are every other one), as swscale does.
            for f in (0, 1):
                rows = slice(f, None, 2)
                yuv_rgb(y[rows], cb[rows], cr[rows], out[0, rows], out[1, rows],
                        out[2, rows], rule)  # fmt: skip
        else:
            yuv_rgb(y, cb, cr, out[0], out[1], out[2], rule)
    colours = len(lookups) if lookups else 3
    for c, (plane, table) in enumerate(lookups):
        lookup(table, plane, out[c], 0xFFFFFFFF)
    if info.channels > colours:  # the alpha channel
        if alpha_index is not None:
            table = _code_table(codes, 0.0, code_top, info.dtype)
            lookup(table, _codes(frame, alpha_index), out[colours], 0xFFFFFFFF)
        else:  # a frame without the alpha its stream started with: opaque
            out[colours] = 255 if info.dtype == "uint8" else 65535
    return out.transpose(1, 2, 0)
