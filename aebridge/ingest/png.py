"""PNG pixels decoded with Wuffs (the ``pywuffs`` package) where it covers the file.

Measured on the benchmark's 1080p straight-alpha frames, Wuffs decodes a PNG in about
three quarters of the time OpenImageIO (libpng) takes, and the tests check that it gives
exactly OpenImageIO's arrays, every code value, for every kind of PNG it is used for:
8-bit grey, grey + alpha, RGB and RGBA, 16-bit grey, and palette images (1 to 8 bits
per index), not interlaced, without a ``tRNS`` colour key outside palettes. 16-bit
colour is not among them (pywuffs refuses 16-bit RGBA destinations). Anything else,
a file Wuffs cannot decode, and machines without ``pywuffs`` go through OpenImageIO
as before (:func:`decode` returns None).

Only pixels come from here: what the file declares (size, channels, colour chunks)
is read by the prober from the file itself, whichever decoder reads the pixels.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import sandbox

__all__ = ["available", "decode"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour types: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA.
_GREY, _RGB, _PALETTE, _GREY_ALPHA, _RGBA = 0, 2, 3, 4, 6


def _formats() -> dict[str, Any] | None:
    try:
        from pywuffs import PixelFormat
    except ImportError:
        return None
    return {
        "y8": PixelFormat.Y,
        "y16": PixelFormat.Y_16LE,
        "rgb8": PixelFormat.RGB,
        "rgba8": PixelFormat.RGBA_NONPREMUL,
    }


_FORMATS = _formats()
# A Wuffs decoder object is not for two threads at once: one set per thread.
_PER_THREAD = threading.local()


def _decoder(key: str) -> Any:
    made: dict[str, Any] = _PER_THREAD.__dict__.setdefault("decoders", {})
    decoder = made.get(key)
    if decoder is None:
        from pywuffs import ImageDecoderType, aux

        assert _FORMATS is not None
        config = aux.ImageDecoderConfig()
        config.enabled_decoders = [ImageDecoderType.PNG]
        config.pixel_format = _FORMATS[key]
        decoder = made[key] = aux.ImageDecoder(config)
    return decoder


def available() -> bool:
    """Whether ``pywuffs`` is installed (else every PNG goes through OpenImageIO)."""
    return _FORMATS is not None


def _layout(head: bytes) -> tuple[int, int, int, int, set[bytes]] | None:
    """(width, height, bit depth, colour type, chunk types before IDAT), or None."""
    if not head.startswith(_SIGNATURE) or len(head) < 33 or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(
        ">IIBBBBB", head[16:29]
    )
    if interlace != 0:
        return None
    chunks: set[bytes] = set()
    pos = 8
    while pos + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[pos : pos + 8])
        if kind == b"IDAT":
            return width, height, depth, colour, chunks
        chunks.add(kind)
        pos += 12 + length
    return None  # no IDAT: let OpenImageIO judge (and name the problem with) the file


def _plan(
    layout: tuple[int, int, int, int, set[bytes]], channels: int, dtype: str
) -> tuple[str, tuple[int, ...] | None] | None:
    """(decoder key, channels to keep or None for all) for a covered PNG."""
    _, _, depth, colour, chunks = layout
    if b"tRNS" in chunks and colour != _PALETTE:
        return None
    deep = depth == 16
    if (dtype == "uint16") != deep or (depth not in (8, 16) and colour != _PALETTE):
        return None
    if colour == _GREY and channels == 1:
        return ("y16" if deep else "y8"), None
    if deep:
        # pywuffs decodes 16-bit colour only to 8 bits (its 16-bit RGBA formats are
        # refused as destinations): OpenImageIO keeps every bit.
        return None
    if colour == _GREY_ALPHA and channels == 2:
        return "rgba8", (0, 3)
    if colour == _RGB and channels == 3:
        return "rgb8", None
    if colour == _RGBA and channels == 4:
        return "rgba8", None
    if colour == _PALETTE and dtype == "uint8" and channels in (3, 4):
        return "rgba8", ((0, 1, 2) if channels == 3 else None)
    return None


def decode(path: str, channels: int, dtype: str) -> npt.NDArray[np.generic] | None:
    """A PNG's pixels as OpenImageIO reads them, or None where Wuffs is not used.

    Args:
        path: the PNG file.
        channels: the channels the prober reported (1, 2, 3 or 4).
        dtype: ``"uint8"`` or ``"uint16"`` as the prober reported.

    Returns:
        H x W x ``channels`` in ``dtype``, values as stored (straight alpha), or
        None: not covered, not decodable by Wuffs, or ``pywuffs`` missing; the
        caller then reads the file with OpenImageIO (which names any error).
    """
    if _FORMATS is None:
        return None
    try:
        # Through the read sandbox like every read (a service job's input roots).
        with sandbox.open_binary(path) as handle:
            data = handle.read()
    except OSError:
        return None
    layout = _layout(data)
    if layout is None:
        return None
    plan = _plan(layout, channels, dtype)
    if plan is None:
        return None
    key, keep = plan
    result = _decoder(key).decode(data)
    if result.error_message:
        return None
    pixels = np.asarray(result.pixbuf)
    width, height = layout[0], layout[1]
    if pixels.dtype == np.uint8 and key.endswith("16"):
        pixels = pixels.view("<u2")
    if pixels.ndim == 2:
        pixels = pixels.reshape(height, width, -1)
    if pixels.shape[:2] != (height, width):
        return None
    if keep is not None:
        pixels = np.ascontiguousarray(pixels[..., list(keep)])
    if pixels.shape[2] != channels:
        return None
    return pixels.astype(dtype, copy=False)
