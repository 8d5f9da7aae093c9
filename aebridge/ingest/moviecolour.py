"""A movie's colour: its stream and frame tags by name, and the YUV matrix, range and
source colour decided from them.

YUV is converted to RGB with an explicit matrix and range because FFmpeg's converter
assumes BT.601 unless told, which shifts the hues of HD material. Untagged HD
(height >= 720) is read as BT.709, untagged SD as BT.601; a matrix the user gives
(:class:`~aebridge.model.YuvMatrix`, ``--yuv-matrix``) wins over the tag. The decision
is a sentence recorded in ``MovieInfo.colour_decision``.
"""

from __future__ import annotations

from typing import Any

from ..encoding import ColourIn, Encoding
from ..errors import SourceError
from ..model import YuvMatrix
from .metadata import UnsupportedColour, tagged_colour

__all__ = ["MATRIX_NAMES", "RANGE_NAMES", "decide_colour", "is_yuv", "tag_name"]


# FFmpeg enum values -> names (libavutil/pixfmt.h), for tags and messages.
MATRIX_NAMES = {
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
RANGE_NAMES = {0: "unspecified", 1: "tv", 2: "pc"}
# Matrix tag -> swscale colourspace. smpte170m and bt470bg share BT.601 coefficients.
_SWS_MATRIX = {
    "bt709": "itu709",
    "bt470bg": "itu601",
    "smpte170m": "itu601",
    "smpte240m": "smpte240m",
    "fcc": "fcc",
    "bt2020nc": "bt2020",
}
# A matrix the user gives -> swscale colourspace.
_SWS_GIVEN = {
    YuvMatrix.BT709: "itu709",
    YuvMatrix.BT601: "itu601",
    YuvMatrix.BT2020: "bt2020",
}


def tag_name(
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


def is_yuv(fmt: Any) -> bool:
    """Whether a decoded pixel format is YUV, so a YUV matrix makes it RGB (RGB and
    grey pictures have none)."""
    return not (fmt.is_rgb or fmt.name.startswith(("gray", "ya")))


def decide_colour(
    *,
    path: str,
    tags: dict[str, str],
    fmt: Any,
    height: int,
    colorspace: str | None,
    yuv_matrix: YuvMatrix | None = None,
) -> tuple[ColourIn, str, str, str]:
    """(source colour, swscale matrix, swscale range, decision sentence).

    ``yuv_matrix``, when given, is the matrix used whatever the tag says; for RGB or
    grey pictures, which have none, the decision records it as not applicable.
    """
    parts: list[str] = []
    matrix_tag, range_tag = tags["matrix"], tags["range"]
    if not is_yuv(fmt):
        sws_matrix = "itu709"  # no YUV matrix applies to RGB or grey pictures
        parts.append(f"{fmt.name} pictures need no YUV matrix")
        if yuv_matrix is not None:
            parts.append(f"YUV matrix {yuv_matrix.value} given, not applicable")
    elif yuv_matrix is not None:
        sws_matrix = _SWS_GIVEN[YuvMatrix(yuv_matrix)]
        parts.append(f"YUV matrix {yuv_matrix.value} as given (tag: {matrix_tag})")
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
    # Untagged grey is full range, as swscale and FFmpeg's image codecs take it (a
    # grey matte's 0 and 255 are clear and opaque).
    grey = fmt.name.startswith(("gray", "ya"))
    if range_tag == "pc" or (range_tag == "unspecified" and (jpeg_format or grey)):
        sws_range = "JPEG"
        untagged = " (yuvj)" if jpeg_format else " (untagged grey)"
        parts.append("full range" + (" as tagged" if range_tag == "pc" else untagged))
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
