"""The per-pixel loops in C (_kernels.c). Arguments are numpy arrays (or other
buffers): 1-D tables, 2-D planes whose rows may be strided; shapes and item sizes are
checked (ValueError), dtypes are the caller's business."""

from typing import Any

def yuv_rgb(
    y: Any,
    cb: Any,
    cr: Any,
    r: Any,
    g: Any,
    b: Any,
    rule: tuple[float, float, float, float, float, float, float, float, float],
    /,
) -> None:
    """Planar Y'CbCr codes (uint8 or uint16; chroma full or half size each way) to
    R'G'B' codes (uint8 or uint16) by ``rule`` (ingest.moviepixels.yuv_rule)."""

def lookup(table: Any, index: Any, out: Any, mask: int, /) -> None:
    """``out = table[index & mask]``, indexes past the table reading its last entry."""

def gather2d(
    tables: tuple[Any, ...],
    values: tuple[Any, ...],
    alpha: Any,
    outs: tuple[Any, ...],
    /,
) -> None:
    """``outs[c] = tables[c or 0][values[c] << 8 | alpha]`` (uint8 codes, tables of
    65536 2- or 4-byte entries)."""

def zip_split(planes: tuple[Any, ...], lines: int, out: Any, /) -> None:
    """EXR zip's byte split and delta predictor of each block of ``lines`` scanlines
    of ``planes`` into the rows of ``out`` (uint8, blocks x bytes per block)."""
