"""Writing (atomically) and reading OpenEXR frames and their headers.

Frames are written with the ``OpenEXR`` Python module (the reference implementation's
own binding) rather than OpenImageIO's EXR plug-in, for three measured reasons:

* compression is exact: OpenImageIO 3.2 silently writes zip for a name it does not
  know (``htj2k`` included), while the binding takes the enum itself;
* header attributes get their real EXR types and names (``framesPerSecond`` as a
  rational, ``timeCode``, ``owner``, ``comments``) and nothing is added (OpenImageIO
  adds a ``capDate`` timestamp, which would make re-runs differ byte for byte);
* it is faster per frame on one thread (1080p half RGBA, zip: ~62 ms against ~89 ms),
  which is what matters with one frame per worker process.

Zip frames go further when the ``isal`` package is installed: the blocks are deflated
with Intel ISA-L by a small writer here (~22 ms a 1080p frame, files ~8% larger),
checked against the binding in the tests and read back with it on every write.

Reading goes through the same binding; tests cross-check with OpenImageIO.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from . import sandbox
from .errors import OptionError, OutputError, SourceError
from .fileio import atomic_path

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMPRESSION",
    "CompressionInfo",
    "ExrSettings",
    "alpha_bounds",
    "decode_timecode",
    "read_header",
    "read_pixels",
    "validate_compression",
    "write_frame",
]

#: Chosen by the rule in bench/README.md (write cost + reads x (decode + size /
#: bandwidth), among what After Effects 2023+ reads, lossless): zip, written with ISA-L.
DEFAULT_COMPRESSION = "zip"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressionInfo:
    """One EXR compression as aebridge offers it.

    ``lossy`` is for half-float data (the default output); ``lossy_float`` for 32-bit
    float data. ``warning`` is shown when the compression is chosen.
    """

    name: str
    enum_name: str
    lossy: bool
    lossy_float: bool
    help: str
    warning: str | None = None


def _compressions() -> dict[str, CompressionInfo]:
    import OpenEXR

    table = [
        CompressionInfo(
            name="none",
            enum_name="NO_COMPRESSION",
            lossy=False,
            lossy_float=False,
            help="no compression; largest, fastest to read",
        ),
        CompressionInfo(
            name="rle",
            enum_name="RLE_COMPRESSION",
            lossy=False,
            lossy_float=False,
            help="run-length; lossless, weak on plates",
        ),
        CompressionInfo(
            name="zips",
            enum_name="ZIPS_COMPRESSION",
            lossy=False,
            lossy_float=False,
            help="zlib per scanline; lossless",
        ),
        CompressionInfo(
            name="zip",
            enum_name="ZIP_COMPRESSION",
            lossy=False,
            lossy_float=False,
            help="zlib per 16 scanlines; lossless; the default: cheapest to write "
            "(ISA-L) and to read, about as small as piz on generated plates",
        ),
        CompressionInfo(
            name="piz",
            enum_name="PIZ_COMPRESSION",
            lossy=False,
            lossy_float=False,
            help="wavelet; lossless; about zip's size, but ~3x its write and "
            "~1.5x its read cost",
        ),
        CompressionInfo(
            name="pxr24",
            enum_name="PXR24_COMPRESSION",
            lossy=False,
            lossy_float=True,
            help="lossless for half; LOSSY for 32-bit float (24-bit)",
        ),
        CompressionInfo(
            name="b44",
            enum_name="B44_COMPRESSION",
            lossy=True,
            lossy_float=False,
            help="LOSSY for half (4x4 blocks)",
        ),
        CompressionInfo(
            name="b44a",
            enum_name="B44A_COMPRESSION",
            lossy=True,
            lossy_float=False,
            help="LOSSY for half (4x4 blocks, flat areas smaller)",
        ),
        CompressionInfo(
            name="dwaa",
            enum_name="DWAA_COMPRESSION",
            lossy=True,
            lossy_float=True,
            help="LOSSY (DCT, 32 scanlines)",
        ),
        CompressionInfo(
            name="dwab",
            enum_name="DWAB_COMPRESSION",
            lossy=True,
            lossy_float=True,
            help="LOSSY (DCT, 256 scanlines)",
        ),
    ]
    # HTJ2K arrived in OpenEXR 3.4; offer it only where the binding can write it.
    if hasattr(OpenEXR, "HTJ2K256_COMPRESSION"):
        table.append(
            CompressionInfo(
                name="htj2k",
                enum_name="HTJ2K256_COMPRESSION",
                lossy=False,
                lossy_float=False,
                help="High-Throughput JPEG 2000, 256 scanlines; lossless",
                warning="htj2k needs OpenEXR 3.4+ to read: After Effects and older "
                "readers may not open these files",
            )
        )
    return {c.name: c for c in table}


COMPRESSIONS: Mapping[str, CompressionInfo] = _compressions()


def validate_compression(name: str) -> str:
    """Check a compression name against :data:`COMPRESSIONS` (case-insensitive).

    Args:
        name: a compression name as the user typed it.

    Returns:
        The canonical (lower-case) name.

    Raises:
        OptionError: unknown name; lists the allowed names, lossy ones marked. (An
            unknown name is never passed on: OpenImageIO would silently use zip.)
    """
    text = name.strip().lower() if isinstance(name, str) else ""
    if text not in COMPRESSIONS:
        allowed = [
            f"{c.name} (lossy)" if c.lossy else c.name for c in COMPRESSIONS.values()
        ]
        raise OptionError("--compression", name, allowed)
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class ExrSettings:
    """How frames are written.

    Attributes:
        half: 16-bit half float (True, default) or 32-bit float.
        compression: a name from :data:`COMPRESSIONS`.
        autocrop: crop the data window to the bounding box of the non-zero pixels
            (alpha, or light under alpha 0; the display window stays full frame);
            off by default because After Effects' handling of a smaller data window
            is not established.
    """

    half: bool = True
    compression: str = DEFAULT_COMPRESSION
    autocrop: bool = False


# Header entries that write_frame owns; attributes may not override them.
_RESERVED = frozenset(
    {
        "channels",
        "compression",
        "dataWindow",
        "displayWindow",
        "lineOrder",
        "type",
        "tiles",
        "version",
        "chunkCount",
    }
)


def alpha_bounds(alpha: npt.NDArray[Any]) -> tuple[int, int, int, int] | None:
    """The inclusive bounding box (x0, y0, x1, y1) of alpha != 0, None when empty."""
    nonzero = alpha != 0
    rows = np.flatnonzero(nonzero.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(nonzero[rows[0] : rows[-1] + 1].any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def _bcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0x0F)


@dataclass(frozen=True, slots=True)
class _TimeCode:
    """A packed SMPTE timeCode: (time_and_flags, user_data), as stored in the file."""

    time_and_flags: int
    user_data: int


def _binding_timecode(tc: _TimeCode) -> Any:
    """The binding's TimeCode for a packed word (it has no such constructor)."""
    import OpenEXR

    packed, user = tc.time_and_flags, tc.user_data
    # Field layout of SMPTE 12M as OpenEXR stores it (TimeCode, TV60 packing).
    fields = (
        _bcd(packed >> 24 & 0x3F),  # hours
        _bcd(packed >> 16 & 0x7F),  # minutes
        _bcd(packed >> 8 & 0x7F),  # seconds
        _bcd(packed & 0x3F),  # frame
        packed >> 6 & 1,  # drop frame
        packed >> 7 & 1,  # colour frame
        packed >> 15 & 1,  # field phase
        packed >> 23 & 1,  # bgf0
        packed >> 30 & 1,  # bgf1
        packed >> 31 & 1,  # bgf2
        *((user >> (4 * i)) & 0x0F for i in range(8)),  # binary groups 1..8
    )
    return OpenEXR.TimeCode(*fields)


_INT32 = range(-(2**31), 2**31)
# Standard attributes whose EXR type is float, whatever number type they arrive as.
_FLOAT_ATTRIBUTES = frozenset({"pixelAspectRatio", "screenWindowWidth"})
_FLOAT32_ATTRIBUTES = _FLOAT_ATTRIBUTES | {"chromaticities", "screenWindowCenter"}


def _attribute(name: str, value: object) -> object:
    """Check one header attribute and give it the Python type of its EXR type.

    Returns a Fraction (rational), _TimeCode (timecode), 8-tuple of floats
    (chromaticities), str (string), int (int, 32-bit) or float (float).
    """
    if name == "framesPerSecond":
        if isinstance(value, (tuple, list)) and len(value) == 2:
            value = Fraction(int(value[0]), int(value[1]))
        if isinstance(value, int) and not isinstance(value, bool):
            value = Fraction(value)
        if not isinstance(value, Fraction):
            # A float would be written as a float attribute, which readers ignore.
            raise TypeError(
                f"framesPerSecond must be a Fraction or (num, den), not {value!r}"
            )
        if value.numerator not in _INT32 or value.denominator >= 2**32:
            raise TypeError(f"framesPerSecond {value} does not fit an EXR rational")
        return value
    if name == "timeCode":
        if not (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(isinstance(v, int) and 0 <= v < 2**32 for v in value)
        ):
            raise TypeError(
                "timeCode must be (time_and_flags, user_data), two uint32 as "
                f"aebridge.timing.pack_timecode returns, not {value!r}"
            )
        return _TimeCode(int(value[0]), int(value[1]))
    if name == "chromaticities":
        values = tuple(float(v) for v in value)  # type: ignore[attr-defined]
        if len(values) != 8:
            raise TypeError(f"chromaticities needs 8 floats, got {len(values)}")
        return values
    if name in _FLOAT_ATTRIBUTES:
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            raise TypeError(f"{name} must be a number, not {value!r}")
        return float(value)  # a Fraction here would be written as a rational
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if value not in _INT32:
            # The binding would silently store 0; say so instead.
            raise TypeError(
                f"header attribute {name!r}: {value} does not fit an EXR int "
                "(32-bit); write it as a string"
            )
        return value
    if isinstance(value, (Fraction, str, float)):
        return value
    raise TypeError(
        f"header attribute {name!r}: {type(value).__name__} cannot be written; use "
        "str, int, float or Fraction"
    )


def _binding_value(value: object) -> object:
    return _binding_timecode(value) if isinstance(value, _TimeCode) else value


# ----------------------------------------------------------------- fast zip writer
#
# EXR zip is zlib over each block of 16 scanlines, after a byte split and a delta
# predictor. OpenEXR deflates with libdeflate; on grainy 1080p half frames that is
# ~47 of the ~62 ms a frame takes to write, and its lower levels are no faster on
# such data. Intel ISA-L (the ``isal`` package) deflates the same blocks in ~13 ms
# at a similar size, so when it is installed zip frames are laid out here (the
# single-part scanline layout of the OpenEXR file format is small and fixed) and
# deflated with it. Every frame is read back with the OpenEXR binding before it is
# renamed, and the tests compare these files with the binding's own, bit for bit
# in the pixels and attribute for attribute in the header.

_PIXEL_TYPES = {np.dtype(np.float16): 1, np.dtype(np.float32): 2}
_COMPRESSION_IDS = {"none": 0, "zips": 2, "zip": 3}
_LINES_PER_BLOCK = {"none": 1, "zips": 1, "zip": 16}
_LONG_NAMES = 0x400  # version flag: attribute names longer than 31 bytes
_BATCH_BYTES = 1 << 20


def _fast_deflate() -> Any:
    """ISA-L's zlib compress at level 1, or None when ``isal`` is not installed."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None

    def deflate(data: Any) -> bytes:
        return bytes(isal_zlib.compress(data, 1))

    return deflate


_FAST_DEFLATE = _fast_deflate()


def _encode_attribute(name: str, value: object) -> tuple[str, bytes]:
    """(EXR type name, payload) of one checked attribute, as OpenEXR lays it out."""
    if isinstance(value, Fraction):
        return "rational", struct.pack("<iI", value.numerator, value.denominator)
    if isinstance(value, _TimeCode):
        return "timecode", struct.pack("<II", value.time_and_flags, value.user_data)
    if isinstance(value, tuple):
        return "chromaticities", struct.pack("<8f", *value)
    if isinstance(value, str):
        return "string", value.encode("utf-8")
    if isinstance(value, int):
        return "int", struct.pack("<i", value)
    if isinstance(value, float):
        return "float", struct.pack("<f", value)
    raise TypeError(f"header attribute {name!r}: cannot encode {value!r}")


def _predicted(planes: list[npt.NDArray[Any]], lines: int) -> npt.NDArray[np.uint8]:
    """Every block's bytes after EXR zip's byte split and delta predictor.

    Returns a (blocks x bytes per block) array for the blocks of ``lines`` whole
    scanlines; ``planes`` (channels in file order, each H x W, H a multiple of
    ``lines``) may be strided views. A block's raw bytes are, scanline by scanline,
    each channel's row; the byte split puts the even bytes first, then the odd ones,
    and the predictor stores ``d[i] = t[i] - t[i-1] + 128`` (mod 256), as Imf's zip
    compressor does. For half data the split is done straight from the planes (low
    bytes, then high bytes): no interleaved copy is ever made.
    """
    height, width = planes[0].shape
    blocks = height // lines
    channels = len(planes)
    if planes[0].dtype == np.float16 and sys.byteorder == "little":
        # (block, low/high byte, line, channel, x): the raw order, split.
        split = np.empty((blocks, 2, lines, channels, width), dtype=np.uint8)
        for c, plane in enumerate(planes):
            # Little-endian words: byte 0 is the low byte (the even stream).
            pairs = plane.view(np.uint8).reshape(blocks, lines, width, 2)
            np.copyto(split[:, 0, :, c], pairs[..., 0])
            np.copyto(split[:, 1, :, c], pairs[..., 1])
        flat = split.reshape(blocks, -1)
    else:
        rows = np.stack(planes, axis=1).reshape(blocks, -1).view(np.uint8)
        flat = np.concatenate((rows[:, 0::2], rows[:, 1::2]), axis=1)
    delta = np.empty_like(flat)
    delta[:, 0] = flat[:, 0]
    np.subtract(flat[:, 1:], flat[:, :-1], out=delta[:, 1:])
    delta[:, 1:] += np.uint8(128)
    return delta


def _raw(planes: list[npt.NDArray[Any]], y0: int, y1: int) -> bytes:
    """Scanlines ``y0 .. y1 - 1`` as EXR stores them uncompressed."""
    return np.stack([p[y0:y1] for p in planes], axis=1).tobytes()


def _blocks(
    planes: list[npt.NDArray[Any]], lines: int, deflate: Any | None
) -> list[bytes]:
    """The pixel data of each block of ``lines`` scanlines, compressed as EXR does.

    ``planes`` are the channels in file (alphabetical) order, each H x W.
    """
    height = planes[0].shape[0]
    starts = range(0, height, lines)
    if deflate is None:
        return [_raw(planes, y, min(y + lines, height)) for y in starts]
    # A few blocks at a time (about 1 MiB): the split, the predictor and the deflate
    # of a batch stay in cache, and a frame never needs two more full-size copies.
    row_bytes = sum(p.shape[1] * p.itemsize for p in planes)
    batch = lines * max(1, _BATCH_BYTES // (row_bytes * lines))
    whole = height - height % lines
    segments = [(lo, min(lo + batch, whole), lines) for lo in range(0, whole, batch)]
    if whole < height:  # the last, shorter block
        segments.append((whole, height, height - whole))
    out: list[bytes] = []
    for lo, hi, size in segments:
        predicted = _predicted([p[lo:hi] for p in planes], size)
        for y, block in zip(range(lo, hi, size), predicted, strict=True):
            packed = deflate(block)
            # A block that does not shrink is stored raw (before the split and the
            # predictor); readers tell by its size.
            out.append(
                packed if len(packed) < block.size else _raw(planes, y, y + size)
            )
    return out


def _write_scanlines(
    path: str,
    *,
    planes: Mapping[str, npt.NDArray[Any]],
    compression: str,
    window: tuple[int, int, int, int],
    display: tuple[int, int, int, int],
    attributes: Mapping[str, object],
    deflate: Any | None,
) -> None:
    """Write a single-part scanline EXR (none, zips or zip), deflating with ``deflate``.

    ``attributes`` are checked values from :func:`_attribute`.
    """
    names = sorted(planes)
    pixel_type = _PIXEL_TYPES[planes[names[0]].dtype]
    chlist = b"".join(
        n.encode() + b"\0" + struct.pack("<iB3xii", pixel_type, 0, 1, 1) for n in names
    )
    header: dict[str, tuple[str, bytes]] = {
        name: _encode_attribute(name, value) for name, value in attributes.items()
    }
    header.update(
        {
            "channels": ("chlist", chlist + b"\0"),
            "compression": ("compression", bytes([_COMPRESSION_IDS[compression]])),
            "dataWindow": ("box2i", struct.pack("<4i", *window)),
            "displayWindow": ("box2i", struct.pack("<4i", *display)),
            "lineOrder": ("lineOrder", b"\0"),  # increasing y
            "type": ("string", b"scanlineimage"),
        }
    )
    header.setdefault("pixelAspectRatio", ("float", struct.pack("<f", 1.0)))
    header.setdefault("screenWindowCenter", ("v2f", struct.pack("<2f", 0.0, 0.0)))
    header.setdefault("screenWindowWidth", ("float", struct.pack("<f", 1.0)))
    flags = 2  # file format version 2, single-part scanline
    parts = []
    for name in sorted(header, key=str.encode):
        type_name, payload = header[name]
        if max(len(name.encode()), len(type_name)) > 31:
            flags |= _LONG_NAMES
        parts.append(
            name.encode() + b"\0" + type_name.encode() + b"\0"
            + struct.pack("<i", len(payload)) + payload
        )  # fmt: skip
    head = b"v/1\x01" + struct.pack("<i", flags) + b"".join(parts) + b"\0"
    lines = _LINES_PER_BLOCK[compression]
    blocks = _blocks([planes[n] for n in names], lines, deflate)
    offsets = []
    position = len(head) + 8 * len(blocks)
    for data in blocks:
        offsets.append(position)
        position += 8 + len(data)
    with open(path, "wb") as f:
        f.write(head)
        f.write(struct.pack(f"<{len(offsets)}Q", *offsets))
        for k, data in enumerate(blocks):
            f.write(struct.pack("<ii", window[1] + k * lines, len(data)))
            f.write(data)


def write_frame(
    path: str | os.PathLike[str],
    rgba: npt.NDArray[Any],
    *,
    settings: ExrSettings,
    attributes: Mapping[str, object],
) -> None:
    """Write one RGBA frame as a scanline EXR, atomically.

    The file is written under a temporary name beside ``path``
    (:func:`aebridge.fileio.atomic_path`), its header is read back to check the
    compression and windows, and only then renamed over ``path``; on any failure the
    temporary file is removed and ``path`` is left as it was.

    Args:
        path: the final ``.exr`` path.
        rgba: H x W x 4 premultiplied RGBA, float16 or float32 (converted to the
            precision ``settings.half`` asks for).
        settings: precision, compression and autocrop.
        attributes: header attributes: ``framesPerSecond`` (Fraction or (num, den),
            written as a rational), ``timeCode`` ((time_and_flags, user_data)),
            ``chromaticities`` (8 floats), and str / int / float values written as
            string / int / float attributes (``colorInteropID``, ``pixelAspectRatio``,
            ``owner``, ``comments``, ``aebridge/...``).

    Raises:
        OutputError: the file cannot be written (names the path).
        ValueError: rgba is not H x W x 4 float, or an attribute overrides a
            structural header entry.
        TypeError: an attribute value cannot be written.
    """
    import OpenEXR

    final = os.fspath(path)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype.kind != "f":
        raise ValueError(
            f"write_frame needs H x W x 4 float RGBA, got {rgba.dtype} {rgba.shape}"
        )
    compression = validate_compression(settings.compression)
    info = COMPRESSIONS[compression]
    reserved = _RESERVED.intersection(attributes)
    if reserved:
        raise ValueError(f"attributes may not set {', '.join(sorted(reserved))}")
    out_dtype = np.float16 if settings.half else np.float32
    if rgba.dtype != out_dtype:
        with np.errstate(over="ignore"):
            rgba = rgba.astype(out_dtype)
    height, width = rgba.shape[:2]
    display = (0, 0, width - 1, height - 1)
    window = display
    if settings.autocrop:
        # Every non-zero pixel, not only alpha: a premultiplied source's light under
        # alpha 0 (glows) is kept and must stay inside the data window. An empty
        # frame still needs a data window: one pixel at the origin.
        window = alpha_bounds((rgba != 0).any(axis=2)) or (0, 0, 0, 0)
    x0, y0, x1, y1 = window
    crop = rgba[y0 : y1 + 1, x0 : x1 + 1]
    # EXR stores each channel as its own plane: hand the binding planes (free when
    # the array is a view over planes, as PixelPipeline returns) rather than an
    # interleaved array it would have to split.
    channels = {
        name: np.ascontiguousarray(crop[..., c]) for c, name in enumerate("RGBA")
    }

    checked = {name: _attribute(name, value) for name, value in attributes.items()}
    header: dict[str, object] = {
        name: _binding_value(value) for name, value in checked.items()
    }
    header.update(
        {
            "compression": getattr(OpenEXR, info.enum_name),
            "type": OpenEXR.scanlineimage,
            "dataWindow": (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32)),
            "displayWindow": (
                np.array(display[:2], np.int32),
                np.array(display[2:], np.int32),
            ),
        }
    )
    try:
        with atomic_path(final, what="the EXR frame") as tmp_path:
            tmp = os.fspath(tmp_path)
            # One thread: aebridge runs one frame per worker process, and the
            # binding's encoder threads would only compete with the other workers.
            if compression == "zip" and _FAST_DEFLATE is not None:
                _write_scanlines(
                    tmp, planes=channels, compression=compression, window=window,
                    display=display, attributes=checked, deflate=_FAST_DEFLATE,
                )  # fmt: skip
            else:
                OpenEXR.File(header, channels, num_threads=1).write(tmp)
            check = OpenEXR.File(tmp, header_only=True).header()
            written = _compression_name(check.get("compression"))
            if written != compression:
                raise OutputError(
                    f"asked for {compression} compression, the file has {written}",
                    path=final,
                )
            if _box(check.get("dataWindow")) != window:
                raise OutputError(
                    f"the data window came back as {_box(check.get('dataWindow'))}, "
                    f"expected {window}",
                    path=final,
                )
    except (RuntimeError, ValueError) as exc:
        # The binding's errors; atomic_path has removed the temporary already.
        raise OutputError(f"cannot write the EXR frame: {exc}", path=final) from exc


def _compression_name(value: object) -> str:
    for info in COMPRESSIONS.values():
        if str(value).endswith("." + info.enum_name) or str(value) == info.enum_name:
            return info.name
    name = str(value).rsplit(".", 1)[-1]
    return name.removesuffix("_COMPRESSION").lower()


def _box(value: Any) -> tuple[int, int, int, int]:
    lo, hi = value
    return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def decode_timecode(time_and_flags: int) -> str:
    """``HH:MM:SS:FF`` (``;`` before FF for drop-frame) from a packed timeCode."""
    hh = _bcd(time_and_flags >> 24 & 0x3F)
    mm = _bcd(time_and_flags >> 16 & 0x7F)
    ss = _bcd(time_and_flags >> 8 & 0x7F)
    ff = _bcd(time_and_flags & 0x3F)
    sep = ";" if time_and_flags >> 6 & 1 else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


def _plain(name: str, value: Any) -> object:
    """Header values as plain, JSON-friendly Python values."""
    import OpenEXR

    if name in ("dataWindow", "displayWindow"):
        return _box(value)
    if name == "compression":
        return _compression_name(value)
    if name in _FLOAT32_ATTRIBUTES:
        # Stored as float32: show the shortest decimal that is that float32 (0.64,
        # not 0.6399999856948853).
        values = np.atleast_1d(np.asarray(value, dtype=np.float32))
        shown = tuple(float(np.format_float_positional(v)) for v in values)
        return shown if name in ("chromaticities", "screenWindowCenter") else shown[0]
    if isinstance(value, OpenEXR.TimeCode):
        packed = (
            (value.hours // 10) << 28
            | (value.hours % 10) << 24
            | (value.minutes // 10) << 20
            | (value.minutes % 10) << 16
            | (value.seconds // 10) << 12
            | (value.seconds % 10) << 8
            | int(value.dropFrame) << 6
            | (value.frame // 10) << 4
            | value.frame % 10
        )
        return decode_timecode(packed)
    if isinstance(value, (Fraction, str, int, float)):
        return value
    if isinstance(value, np.ndarray):
        return tuple(v.item() for v in value.ravel())
    if isinstance(value, tuple):
        return tuple(_plain(name, v) for v in value)
    if isinstance(value, list):
        return tuple(
            v.name if hasattr(v, "name") and not isinstance(v, str) else _plain(name, v)
            for v in value
        )
    if isinstance(value, np.generic):
        return value.item()
    text = str(value)
    return text.rsplit(".", 1)[-1] if "." in text and " " not in text else text


def read_header(path: str | os.PathLike[str]) -> dict[str, object]:
    """Every header attribute of an EXR file, as plain Python values.

    ``dataWindow`` and ``displayWindow`` are inclusive ``(x0, y0, x1, y1)`` tuples,
    ``framesPerSecond`` a :class:`~fractions.Fraction`, ``timeCode`` a string
    ``HH:MM:SS:FF`` (``;`` for drop-frame), ``compression`` its aebridge name,
    ``channels`` a tuple of channel names, ``chromaticities`` 8 floats, and the
    ``aebridge/...`` attributes strings as written.

    Raises:
        SourceError: the file is missing or not a readable EXR (names the path).
    """
    import OpenEXR

    name = os.fspath(path)
    try:
        header = OpenEXR.File(name, header_only=True).header()
    except (OSError, RuntimeError, ValueError) as exc:
        raise SourceError(f"not a readable OpenEXR file: {exc}", path=name) from exc
    return {key: _plain(key, value) for key, value in sorted(header.items())}


def read_pixels(path: str | os.PathLike[str]) -> npt.NDArray[np.float32]:
    """The pixels of an EXR frame as display-window H x W x 4 float32 RGBA.

    The data window is placed inside the display window (outside it is 0); a file
    without alpha gets alpha 1, a luminance-only (Y) file is spread to RGB.

    Raises:
        SourceError: the file is missing, unreadable or has no RGB/Y channels.
    """
    import OpenEXR

    name = os.fspath(path)
    try:
        # Through the sandbox when one is active (a service job's preview reads
        # pre-converted sequences from its input roots).
        with sandbox.readable(name) as readable_name:
            f = OpenEXR.File(readable_name, separate_channels=True)
        header = f.header()
        channels = {k: np.asarray(v.pixels) for k, v in f.channels().items()}
    except (OSError, RuntimeError, ValueError) as exc:
        raise SourceError(f"not a readable OpenEXR file: {exc}", path=name) from exc
    dx0, dy0, dx1, dy1 = _box(header["dataWindow"])
    wx0, wy0, wx1, wy1 = _box(header["displayWindow"])
    out = np.zeros((wy1 - wy0 + 1, wx1 - wx0 + 1, 4), dtype=np.float32)
    if "R" in channels and "G" in channels and "B" in channels:
        planes = [channels["R"], channels["G"], channels["B"]]
    elif "Y" in channels:
        planes = [channels["Y"]] * 3
    else:
        raise SourceError(
            f"has no R, G, B or Y channel (channels: {', '.join(sorted(channels))})",
            path=name,
        )
    alpha = channels.get("A")
    # Intersection of the data window with the display window, in both frames.
    ix0, iy0 = max(dx0, wx0), max(dy0, wy0)
    ix1, iy1 = min(dx1, wx1), min(dy1, wy1)
    if ix0 > ix1 or iy0 > iy1:
        return out
    src = (slice(iy0 - dy0, iy1 - dy0 + 1), slice(ix0 - dx0, ix1 - dx0 + 1))
    dst = (slice(iy0 - wy0, iy1 - wy0 + 1), slice(ix0 - wx0, ix1 - wx0 + 1))
    for c, plane in enumerate(planes):
        out[dst[0], dst[1], c] = plane[src]
    if alpha is None:
        out[dst[0], dst[1], 3] = 1.0
    else:
        out[dst[0], dst[1], 3] = alpha[src]
    return out
