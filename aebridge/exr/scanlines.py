"""aebridge's own writer of single-part scanline EXR files (none, zips, zip), which
deflates zip blocks with Intel ISA-L when the ``isal`` package is installed."""

from __future__ import annotations

import struct
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .._native import zip_split
from .attributes import encode_attribute

__all__ = ["fast_deflate", "write_scanlines"]


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


def fast_deflate() -> Any:
    """ISA-L's zlib compress at level 1, or None when ``isal`` is not installed."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None

    def deflate(data: Any) -> bytes:
        return bytes(isal_zlib.compress(data, 1))

    return deflate


def _predicted(planes: list[npt.NDArray[Any]], lines: int) -> npt.NDArray[np.uint8]:
    """Every block's bytes after EXR zip's byte split and delta predictor.

    Returns a (blocks x bytes per block) array for the blocks of ``lines`` whole
    scanlines; ``planes`` (channels in file order, each H x W, H a multiple of
    ``lines``) may be views with strided rows. A block's raw bytes are, scanline by
    scanline, each channel's row (little-endian values); the byte split puts the
    even bytes first, then the odd ones, and the predictor stores
    ``d[i] = t[i] - t[i-1] + 128`` (mod 256), as Imf's zip compressor does. Done by
    :func:`aebridge._native.zip_split`, straight from the planes.
    """
    height, width = planes[0].shape
    row_bytes = sum(width * p.itemsize for p in planes)
    out = np.empty((height // lines, lines * row_bytes), dtype=np.uint8)
    if sys.byteorder == "little":
        zip_split(tuple(planes), lines, out)
    else:  # pragma: no cover - no big-endian machine runs the tests
        swapped = tuple(p.astype(p.dtype.newbyteorder("<")) for p in planes)
        zip_split(swapped, lines, out)
    return out


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


def write_scanlines(
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

    ``attributes`` are checked values from :func:`check_attribute`.
    """
    names = sorted(planes)
    pixel_type = _PIXEL_TYPES[planes[names[0]].dtype]
    chlist = b"".join(
        n.encode() + b"\0" + struct.pack("<iB3xii", pixel_type, 0, 1, 1) for n in names
    )
    header: dict[str, tuple[str, bytes]] = {
        name: encode_attribute(name, value) for name, value in attributes.items()
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
