"""Pixel maths: display-encoded source pixels -> premultiplied scene-linear RGBA.

The conversion of a frame is, per pixel::

    straight       rgb_out = T(rgb) * a
    premultiplied  rgb_out = T(rgb / a) * a        (where a > 0)
    none           rgb_out = T(rgb),  a = 1
    matte          a = matte alpha (or luma), then as straight

with ``T`` the OCIO conversion from the input to the output colour space, done by
OpenImageIO's colour configuration, and every colour where ``a == 0`` set to 0 (straight
PNGs often carry colour under alpha 0, which must not leak into a premultiplied image).
Premultiplied float input in a linear space is the exception: ``T`` is then a matrix,
applied to the premultiplied values as stored, so light under alpha 0 (glows) is kept.

Speed comes from lookup tables that are exact to the OCIO config, because they are
made by running OCIO itself on every possible code value:

* 8-bit straight or premultiplied input: one 256 x 256 table indexed by (value, alpha)
  holding the final premultiplied output value, already in the output precision
  (half or float). A frame is then one integer gather per channel; linearise,
  premultiply and the half conversion are fused. An 8-bit matte with the same depth
  uses the same table.
* 8-bit without alpha and 16-bit straight input: a per-channel curve table of 256 /
  65536 entries, then a float32 multiply by alpha. 16-bit premultiplied input has no
  exact table (``v / a`` is not an integer) and goes through OCIO on floats.
* When the input and output spaces differ in primaries (sRGB -> ACEScg) the table
  linearises to the input space's own linear space and a 3x3 matrix, measured from OCIO
  and checked against OCIO on random values, finishes the conversion. A conversion
  that does not split this way (checked the same way) falls back to OCIO on floats.
* Float input goes through OCIO directly.

Output is written as four contiguous channel planes (returned as an H x W x 4 view),
the layout EXR stores, so the writer takes them without splitting pixels.
Everything here is pure numpy plus OCIO; no file I/O.

The package holds :mod:`~aebridge.imaging.maths` (the per-array formulas),
:mod:`~aebridge.imaging.tables` (the curve + matrix split and its checks) and
:mod:`~aebridge.imaging.pipeline` (:class:`PixelPipeline`, which plans and applies
them per frame).
"""

from __future__ import annotations

from ..encoding import ColourIn
from .maths import (
    ALPHA_MODES,
    DTYPES,
    LUMA_WEIGHTS,
    dtype_max,
    linear_premultiply,
    matte_to_alpha,
    normalise,
    ocio_convert,
    premultiply,
    unpremultiply,
)
from .pipeline import PixelPipeline

__all__ = [
    "ALPHA_MODES",
    "DTYPES",
    "LUMA_WEIGHTS",
    "ColourIn",
    "PixelPipeline",
    "dtype_max",
    "linear_premultiply",
    "matte_to_alpha",
    "normalise",
    "ocio_convert",
    "premultiply",
    "unpremultiply",
]
