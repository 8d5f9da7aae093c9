"""What a file declares besides its pixels: colour (PNG chunks, ICC, EXR
chromaticities, ITU-T H.273 tags) and orientation (EXIF, a movie's display matrix).

Everything here reads the file's own bytes or header values, independently of the
pixel decoder, so a faster PNG decoder that reports no chunks changes nothing. Each
reader returns what it found; the ``*_colour`` functions turn a declaration into a
source colour (an OCIO name where the built-in config has the space, else an
:class:`~aebridge.encoding.Encoding`) and one sentence that says so, or raise
:class:`UnsupportedColour` naming what cannot be read.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..encoding import KNOWN_PRIMARIES, ColourIn, Curve, Encoding, same_primaries

__all__ = [
    "ORIENTATIONS",
    "PRIMARY_NAMES",
    "TRANSFER_NAMES",
    "PngChunks",
    "UnsupportedColour",
    "chromaticities_colour",
    "decide_orientation",
    "exif_orientation",
    "icc_colour",
    "orient",
    "oriented_size",
    "png_colour",
    "read_png_chunks",
    "rotation_orientation",
    "tagged_colour",
]


class UnsupportedColour(ValueError):
    """A declared colour aebridge cannot read (the message names it)."""


# ITU-T H.273 code points -> FFmpeg's names (libavutil/pixfmt.h), used by movie tags
# and PNG cICP alike.
TRANSFER_NAMES = {
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
PRIMARY_NAMES = {
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

# Transfer tag -> curve. BT.709, BT.601 (smpte170m) and BT.2020 share one camera
# OETF; their display (BT.1886) is a 2.4 gamma, which is how these pictures were
# viewed when they were made.
_BT1886 = Curve(kind="gamma", params=(2.4,))
_TRANSFER_CURVES: dict[str, Curve] = {
    "bt709": _BT1886,
    "unspecified": _BT1886,
    "smpte170m": _BT1886,
    "bt2020-10": _BT1886,
    "bt2020-12": _BT1886,
    "bt1361e": _BT1886,
    "iec61966-2-1": Curve(kind="srgb"),
    "gamma22": Curve(kind="gamma", params=(2.2,)),
    "gamma28": Curve(kind="gamma", params=(2.8,)),
    "linear": Curve(kind="linear"),
    "smpte2084": Curve(kind="pq"),
    "arib-std-b67": Curve(kind="hlg"),
}
# Primaries tag -> primaries. SD primaries (bt470bg, smpte170m) are close to and
# usually treated as Rec.709 in compositing.
_TAG_PRIMARIES: dict[str, str] = {
    "bt709": "Rec.709",
    "unspecified": "Rec.709",
    "bt470bg": "Rec.709",
    "smpte170m": "Rec.709",
    "bt2020": "Rec.2020",
    "smpte432": "P3-D65",
    "smpte431": "DCI-P3",
}
# (curve, primaries) -> the OCIO space of the built-in config that is exactly that.
_OCIO_NAMES: dict[tuple[Curve, str], str] = {
    (_BT1886, "Rec.709"): "Gamma 2.4 Encoded Rec.709",
    (Curve(kind="srgb"), "Rec.709"): "sRGB Encoded Rec.709 (sRGB)",
    (Curve(kind="gamma", params=(2.2,)), "Rec.709"): "Gamma 2.2 Encoded Rec.709",
    (Curve(kind="gamma", params=(1.8,)), "Rec.709"): "Gamma 1.8 Encoded Rec.709",
    (Curve(kind="linear"), "Rec.709"): "Linear Rec.709 (sRGB)",
    (Curve(kind="srgb"), "P3-D65"): "sRGB Encoded P3-D65",
    (Curve(kind="linear"), "P3-D65"): "Linear P3-D65",
    (Curve(kind="linear"), "Rec.2020"): "Linear Rec.2020",
    (Curve(kind="linear"), "ACES AP0"): "ACES2065-1",
    (Curve(kind="linear"), "ACES AP1"): "ACEScg",
    (Curve(kind="linear"), "Adobe RGB"): "Linear AdobeRGB",
    (Curve(kind="gamma", params=(563 / 256,)), "Adobe RGB"): (
        "Gamma 2.2 Encoded AdobeRGB"
    ),
}


def _colour(curve: Curve, primaries: tuple[float, ...], source: str) -> ColourIn:
    """The OCIO name for (curve, primaries) when the config has it, else an Encoding."""
    for name, known in KNOWN_PRIMARIES.items():
        if same_primaries(primaries, known):
            ocio = _OCIO_NAMES.get((curve, name))
            if ocio is not None:
                return ocio
            return Encoding.from_primaries(
                f"{curve.describe()}, {name} primaries", curve, known, source=source
            )
    numbers = " ".join(f"{v:.4f}" for v in primaries)
    return Encoding.from_primaries(
        f"{curve.describe()}, primaries {numbers}", curve, primaries, source=source
    )


def label(colour: ColourIn) -> str:
    """A source colour in words: the OCIO name, or the encoding's label."""
    return colour.label if isinstance(colour, Encoding) else colour


# --------------------------------------------------------------------- H.273 tags


def tagged_colour(transfer: str, primaries: str) -> ColourIn:
    """The colour of a movie's (or a PNG cICP's) transfer and primaries tags.

    Raises:
        UnsupportedColour: a transfer or primaries with no curve or primaries here.
    """
    curve = _TRANSFER_CURVES.get(transfer)
    if curve is None:
        raise UnsupportedColour(
            f"the transfer {transfer!r} is not supported; supported: "
            + ", ".join(sorted(_TRANSFER_CURVES))
        )
    name = _TAG_PRIMARIES.get(primaries)
    if name is None:
        raise UnsupportedColour(
            f"the colour primaries {primaries!r} are not supported; supported: "
            + ", ".join(sorted(_TAG_PRIMARIES))
        )
    return _colour(curve, KNOWN_PRIMARIES[name], f"tags {transfer}/{primaries}")


# --------------------------------------------------------------------- EXR


def chromaticities_colour(values: Sequence[float]) -> ColourIn:
    """The scene-linear colour of an EXR ``chromaticities`` attribute.

    Raises:
        UnsupportedColour: the primaries are degenerate.
    """
    primaries = tuple(round(float(v), 6) for v in values)
    try:
        return _colour(Curve(kind="linear"), primaries, "EXR chromaticities")
    except ValueError as exc:
        raise UnsupportedColour(f"the chromaticities cannot be used: {exc}") from exc


# --------------------------------------------------------------------- PNG chunks

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that must come before IDAT; reading stops there (or at eXIf after it).
_WANTED = {b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"eXIf"}


@dataclass(frozen=True, slots=True, kw_only=True)
class PngChunks:
    """The colour and orientation chunks of a PNG, as stored (None when absent)."""

    gamma: int | None = None
    """gAMA: the file gamma times 100000 (45455 is 1/2.2)."""
    chromaticities: tuple[float, ...] | None = None
    """cHRM: white xy then R, G, B xy, in that chunk order, as floats."""
    srgb: int | None = None
    """sRGB: the rendering intent."""
    icc_name: str | None = None
    icc: bytes | None = None
    """iCCP: the profile's name and its decompressed bytes."""
    cicp: tuple[int, int, int, int] | None = None
    """cICP: primaries, transfer, matrix, full-range flag (ITU-T H.273)."""
    exif: bytes | None = None


def read_png_chunks(path: str) -> PngChunks:
    """Read a PNG's colour and EXIF chunks from its bytes (no pixel decoding).

    Raises:
        OSError: the file cannot be read.
        UnsupportedColour: a colour chunk is malformed (its CRC or length is wrong).
    """
    found: dict[str, object] = {}
    with open(path, "rb") as handle:
        if handle.read(8) != _PNG_SIGNATURE:
            return PngChunks()
        after_idat = False
        while True:
            head = handle.read(8)
            if len(head) < 8:
                break
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND":
                break
            if kind == b"IDAT":
                after_idat = True
            if kind not in _WANTED or (after_idat and kind != b"eXIf"):
                handle.seek(length + 4, 1)
                continue
            data = handle.read(length)
            crc = handle.read(4)
            if len(data) != length or struct.unpack(">I", crc)[0] != zlib.crc32(
                kind + data
            ):
                raise UnsupportedColour(f"the {kind.decode()} chunk is damaged")
            _parse_chunk(kind, data, found)
    return PngChunks(**found)  # type: ignore[arg-type]


def _parse_chunk(kind: bytes, data: bytes, found: dict[str, object]) -> None:
    name = kind.decode()
    try:
        if kind == b"gAMA":
            found["gamma"] = struct.unpack(">I", data)[0]
        elif kind == b"cHRM":
            found["chromaticities"] = tuple(
                v / 100000 for v in struct.unpack(">8I", data)
            )
        elif kind == b"sRGB":
            found["srgb"] = data[0]
        elif kind == b"iCCP":
            profile_name, rest = data.split(b"\0", 1)
            found["icc_name"] = profile_name.decode("latin-1")
            found["icc"] = zlib.decompress(rest[1:])  # rest[0]: method 0 (zlib)
        elif kind == b"cICP":
            found["cicp"] = tuple(data[:4])
        elif kind == b"eXIf":
            found["exif"] = bytes(data)
    except (struct.error, IndexError, ValueError, zlib.error) as exc:
        raise UnsupportedColour(f"the {name} chunk is malformed: {exc}") from exc


# Decoding exponents with a space of their own in the config (file gamma 1/g).
_NAMED_GAMMAS = (1.0, 1.8, 2.2, 2.4)


def png_colour(chunks: PngChunks) -> tuple[ColourIn, str] | None:
    """The colour a PNG declares and how, by the PNG precedence (3rd edition):
    cICP, then iCCP, then sRGB, then cHRM and gAMA. None when it declares none.

    Raises:
        UnsupportedColour: the declaration cannot be read (names it).
    """
    if chunks.cicp is not None:
        primaries_code, transfer_code, matrix, full = chunks.cicp
        if matrix != 0:
            raise UnsupportedColour(
                f"cICP declares YCbCr matrix {matrix}; PNG pixels must be RGB (0)"
            )
        transfer = TRANSFER_NAMES.get(transfer_code, f"code {transfer_code}")
        named = PRIMARY_NAMES.get(primaries_code, f"code {primaries_code}")
        if not full:
            raise UnsupportedColour("cICP declares narrow range; PNG is full range")
        colour = tagged_colour(transfer, named)
        return colour, f"cICP chunk ({named} primaries, {transfer} transfer)"
    if chunks.icc is not None:
        name = chunks.icc_name or "unnamed"
        return icc_colour(chunks.icc, name), f"iCCP chunk (ICC profile {name!r})"
    if chunks.srgb is not None:
        return "sRGB Encoded Rec.709 (sRGB)", "sRGB chunk"
    if chunks.gamma is None and chunks.chromaticities is None:
        return None
    notes = []
    if chunks.gamma is not None:
        if chunks.gamma <= 0:
            raise UnsupportedColour(f"gAMA {chunks.gamma} is not a gamma")
        exponent = 100000 / chunks.gamma
        for round_gamma in _NAMED_GAMMAS:
            # gAMA holds 5 decimals of 1/g (45455 for 2.2): within 0.1 % is that g.
            if abs(exponent / round_gamma - 1) < 1e-3:
                exponent = round_gamma
        curve = (
            Curve(kind="linear")
            if exponent == 1.0
            else Curve(kind="gamma", params=(exponent,))
        )
        notes.append(
            f"gAMA {chunks.gamma / 100000:.5f} (decoding gamma {exponent:.4g})"
        )
    else:
        curve = Curve(kind="srgb")
        notes.append("no gAMA, so the sRGB curve")
    if chunks.chromaticities is not None:
        wx, wy, *rgb = chunks.chromaticities
        primaries = (*rgb, wx, wy)
        notes.append("cHRM primaries")
    else:
        primaries = KNOWN_PRIMARIES["Rec.709"]
        notes.append("no cHRM, so Rec.709 primaries")
    try:
        colour = _colour(curve, primaries, "PNG gAMA/cHRM")
    except ValueError as exc:
        raise UnsupportedColour(f"cHRM cannot be used: {exc}") from exc
    return colour, ", ".join(notes)


# --------------------------------------------------------------------- ICC


def _s15(data: bytes, offset: int, count: int) -> tuple[float, ...]:
    return tuple(v / 65536 for v in struct.unpack_from(f">{count}i", data, offset))


def _icc_curve(data: bytes, offset: int, name: str) -> Curve:
    kind = data[offset : offset + 4]
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", data, offset + 8)
        if count == 0:
            return Curve(kind="linear")
        if count == 1:
            (g,) = struct.unpack_from(">H", data, offset + 12)
            return Curve(kind="gamma", params=(g / 256,))
        table = struct.unpack_from(f">{count}H", data, offset + 12)
        return Curve(kind="table", params=tuple(v / 65535 for v in table))
    if kind == b"para":
        (function,) = struct.unpack_from(">H", data, offset + 8)
        counts = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
        if function not in counts:
            raise UnsupportedColour(
                f"ICC profile {name!r}: parametric curve type {function} is unknown"
            )
        p = _s15(data, offset + 12, counts[function])
        g, a, b = p[0], (p[1] if len(p) > 1 else 1.0), (p[2] if len(p) > 2 else 0.0)
        # Every type as type 4: Y = (aX + b)^g + e for X >= d, else cX + f.
        if function == 0:
            params = (g, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        elif function == 1:
            params = (g, a, b, 0.0, -b / a, 0.0, 0.0)
        elif function == 2:
            params = (g, a, b, 0.0, -b / a, p[3], p[3])
        elif function == 3:
            params = (g, a, b, p[3], p[4], 0.0, 0.0)
        else:
            params = (g, a, b, p[3], p[4], p[5], p[6])
        return Curve(kind="parametric", params=params)
    raise UnsupportedColour(
        f"ICC profile {name!r}: tone curve type {kind!r} is not supported"
    )


def icc_colour(data: bytes, name: str) -> Encoding:
    """The encoding of a matrix/TRC ICC profile (RGB or grey).

    The colorants are relative to the PCS white (D50) and are adapted to the output
    white with Bradford, as littleCMS does through an sRGB output profile (relative
    colorimetric). LUT-based profiles (A2B0 only) are refused.

    Raises:
        UnsupportedColour: not an RGB/grey profile, LUT-only, or malformed (names it).
    """
    try:
        return _icc(data, name)
    except (struct.error, IndexError, ZeroDivisionError) as exc:
        raise UnsupportedColour(f"ICC profile {name!r} is malformed: {exc}") from exc


def _icc(data: bytes, name: str) -> Encoding:
    if len(data) < 132 or data[36:40] != b"acsp":
        raise UnsupportedColour(f"ICC profile {name!r} is not an ICC profile")
    space = data[16:20]
    (count,) = struct.unpack_from(">I", data, 128)
    tags: dict[bytes, int] = {}
    for k in range(count):
        sig, offset, _size = struct.unpack_from(">4sII", data, 132 + 12 * k)
        tags[sig] = offset
    description = _icc_description(data, tags.get(b"desc")) or name
    if space == b"GRAY" and b"kTRC" in tags:
        curve = _icc_curve(data, tags[b"kTRC"], description)
        return Encoding.from_primaries(
            f"ICC profile {description!r} (grey, {curve.describe()})",
            curve,
            KNOWN_PRIMARIES["Rec.709"],
            source=f"ICC profile {description!r}",
        )
    if space != b"RGB ":
        raise UnsupportedColour(
            f"ICC profile {description!r} is for {space.decode('latin-1').strip()} "
            "data; aebridge reads RGB and grey profiles"
        )
    wanted = (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC")
    if not all(t in tags for t in wanted):
        raise UnsupportedColour(
            f"ICC profile {description!r} is LUT-based (no matrix and tone curves); "
            "aebridge applies matrix/TRC profiles"
        )
    columns = [_s15(data, tags[t] + 8, 3) for t in wanted[:3]]
    matrix = np.array(columns, dtype=np.float64).T  # colorants are the columns
    curves = tuple(_icc_curve(data, tags[t], description) for t in wanted[3:])
    shared = curves[0] if curves[0] == curves[1] == curves[2] else None
    return Encoding(
        label=f"ICC profile {description!r} ("
        + (shared.describe() if shared else "per-channel curves")
        + ")",
        curves=(shared,) if shared else curves,
        matrix=tuple(float(v) for v in matrix.ravel()),
        white=(0.3457, 0.3585),  # the ICC PCS white, D50
        source=f"ICC profile {description!r}",
    )


def _icc_description(data: bytes, offset: int | None) -> str:
    if offset is None:
        return ""
    kind = data[offset : offset + 4]
    if kind == b"desc":
        (length,) = struct.unpack_from(">I", data, offset + 8)
        return (
            data[offset + 12 : offset + 12 + length].split(b"\0")[0].decode("latin-1")
        )
    if kind == b"mluc":
        records, _ = struct.unpack_from(">II", data, offset + 8)
        if records:
            _, length, start = struct.unpack_from(">4sII", data, offset + 16)
            raw = data[offset + start : offset + start + length]
            return raw.decode("utf-16-be", errors="replace")
    return ""


# --------------------------------------------------------------------- orientation

#: EXIF orientation codes -> what displaying the stored pixels takes.
ORIENTATIONS: dict[int, str] = {
    1: "as stored",
    2: "mirrored left-right",
    3: "rotated 180 degrees",
    4: "mirrored top-bottom",
    5: "transposed (mirrored along the main diagonal)",
    6: "rotated 90 degrees clockwise",
    7: "transversed (mirrored along the anti-diagonal)",
    8: "rotated 90 degrees counter-clockwise",
}


def exif_orientation(data: bytes) -> int:
    """The Orientation tag (0x0112) of TIFF-structured EXIF data; 1 when absent."""
    start = 6 if data.startswith(b"Exif\0\0") else 0
    head = data[start : start + 8]
    if head[:2] == b"II":
        order = "<"
    elif head[:2] == b"MM":
        order = ">"
    else:
        return 1
    try:
        (ifd,) = struct.unpack_from(order + "I", data, start + 4)
        (count,) = struct.unpack_from(order + "H", data, start + ifd)
        for k in range(count):
            entry = start + ifd + 2 + 12 * k
            tag, _type, _n = struct.unpack_from(order + "HHI", data, entry)
            if tag == 0x0112:
                (value,) = struct.unpack_from(order + "H", data, entry + 8)
                return value if value in ORIENTATIONS else 1
    except struct.error:
        return 1
    return 1


def rotation_orientation(degrees: float) -> int:
    """The EXIF code of a display rotation (counter-clockwise degrees, as FFmpeg's
    display matrix gives it): 90 -> 8, 180 -> 3, -90/270 -> 6."""
    turns = round(degrees / 90) % 4
    return {0: 1, 1: 8, 2: 3, 3: 6}[turns]


def decide_orientation(
    code: int, what: str, mode: str, width: int, height: int
) -> tuple[int, int, int, str]:
    """(code applied, width, height, note) for a declared orientation ``code``.

    Args:
        code: the EXIF code the file declares (1: none, then no note).
        what: where it was declared, e.g. ``EXIF orientation 6``.
        mode: ``apply`` or ``keep`` (``--orientation``).
        width: the stored width.
        height: the stored height.
    """
    if code == 1:
        return 1, width, height, ""
    said = f"{what} ({ORIENTATIONS[code]})"
    if mode != "apply":
        return 1, width, height, f"{said}: not applied (--orientation keep)"
    shown_w, shown_h = oriented_size(width, height, code)
    return (
        code,
        shown_w,
        shown_h,
        (
            f"{said}: applied, frames are {shown_w}x{shown_h} as shown "
            "(--orientation keep keeps the stored pixels)"
        ),
    )


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The displayed (width, height) of a stored picture."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def orient(
    pixels: npt.NDArray[np.generic], orientation: int
) -> npt.NDArray[np.generic]:
    """The stored H x W x C pixels as displayed, for an EXIF orientation code."""
    if orientation == 1:
        return pixels
    if orientation == 2:
        out = pixels[:, ::-1]
    elif orientation == 3:
        out = pixels[::-1, ::-1]
    elif orientation == 4:
        out = pixels[::-1]
    elif orientation == 5:
        out = pixels.transpose(1, 0, 2)
    elif orientation == 6:
        out = pixels.transpose(1, 0, 2)[:, ::-1]
    elif orientation == 7:
        out = pixels.transpose(1, 0, 2)[::-1, ::-1]
    else:  # 8
        out = pixels.transpose(1, 0, 2)[::-1]
    return np.ascontiguousarray(out)
