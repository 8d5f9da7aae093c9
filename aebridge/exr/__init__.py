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
with Intel ISA-L by a small writer, :mod:`aebridge.exr.scanlines` (~22 ms a 1080p
frame, files ~8% larger), checked against the binding in the tests and read back with
it on every write. Header attribute values are checked and typed in
:mod:`aebridge.exr.attributes`.

Reading goes through the same binding; tests cross-check with OpenImageIO.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import sandbox
from ..errors import OptionError, OutputError, SourceError
from ..fileio import atomic_path
from .attributes import (
    FLOAT32_ATTRIBUTES,
    binding_value,
    check_attribute,
    decode_timecode,
)
from .scanlines import fast_deflate, write_scanlines

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


#: ISA-L's deflate for zip frames (:mod:`aebridge.exr.scanlines`), None without
#: ``isal``: write_frame then leaves zip to the binding (tests and benchmarks set it).
_FAST_DEFLATE = fast_deflate()


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

    checked = {name: check_attribute(name, value) for name, value in attributes.items()}
    header: dict[str, object] = {
        name: binding_value(value) for name, value in checked.items()
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
                write_scanlines(
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


def _plain(name: str, value: Any) -> object:
    """Header values as plain, JSON-friendly Python values."""
    import OpenEXR

    if name in ("dataWindow", "displayWindow"):
        return _box(value)
    if name == "compression":
        return _compression_name(value)
    if name in FLOAT32_ATTRIBUTES:
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
