"""Deterministic procedural media (sequences, mattes, movies) for tests and samples.

Everything here is computed, never downloaded, and is the same on every run. The
foreground patterns put a soft-edged moving disc over alpha 0 *with colour still present
where alpha is 0*, as generators that write straight alpha do: a converter that forgets
to premultiply shows that colour, so tests catch it.


Frames and image sequences are made in :mod:`~aebridge.synthetic.images`, movies and
matting-pass outputs in :mod:`~aebridge.synthetic.movies`.
"""

from __future__ import annotations

from .images import (
    PATTERNS,
    SOLID_RGB,
    frame_pixels,
    write_image,
    write_image_sequence,
    write_matte_sequence,
    write_png_sequence,
)
from .movies import CODECS, RVM_GREEN, write_movie, write_rvm_outputs

__all__ = [
    "CODECS",
    "PATTERNS",
    "RVM_GREEN",
    "SOLID_RGB",
    "frame_pixels",
    "write_image",
    "write_image_sequence",
    "write_matte_sequence",
    "write_movie",
    "write_png_sequence",
    "write_rvm_outputs",
]
