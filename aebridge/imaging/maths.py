"""Pixel maths on arrays: source values to 0..1, (un)premultiplying, a matte's
coverage, and OCIO conversion of float colour through OpenImageIO."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import OptionError
from ..model import AlphaMode

__all__ = [
    "ALPHA_MODES",
    "DTYPES",
    "LUMA_WEIGHTS",
    "dtype_max",
    "linear_premultiply",
    "matte_to_alpha",
    "normalise",
    "ocio_convert",
    "premultiply",
    "unpremultiply",
]


FloatArray = npt.NDArray[np.floating[Any]]

#: How a source stores alpha once ``auto`` is decided: the model's :class:`AlphaMode`
#: without ``auto`` (convert decides it from the format before building a pipeline).
ALPHA_MODES: tuple[str, ...] = tuple(
    m.value for m in AlphaMode if m is not AlphaMode.AUTO
)
DTYPES: tuple[str, ...] = ("uint8", "uint16", "float16", "float32")

# Rec.709 luma weights, applied to the *encoded* matte values. A matte is an 8- or
# 16-bit greyscale picture of coverage: its code values are the coverage (that is how
# keyers and generators export them), so they are weighted as stored, not linearised.
LUMA_WEIGHTS: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)


def dtype_max(dtype: str) -> float:
    """The value that means 1.0 for a source dtype: 255, 65535, or 1.0 for floats.

    Raises:
        OptionError: dtype is not one of :data:`DTYPES`.
    """
    if dtype == "uint8":
        return 255.0
    if dtype == "uint16":
        return 65535.0
    if dtype in ("float16", "float32"):
        return 1.0
    raise OptionError("dtype", dtype, DTYPES)


def normalise(pixels: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Source values as float32, 1.0 = full scale (integers divided by their max)."""
    scale = dtype_max(str(pixels.dtype))
    out = pixels.astype(np.float32)
    if scale != 1.0:
        # A true division: k / 255 correctly rounded (a multiply by 1/255 is not).
        out /= np.float32(scale)
    return out


def premultiply(rgb: FloatArray, alpha: FloatArray) -> npt.NDArray[np.float32]:
    """Multiply colour by alpha; where alpha is 0 the colour is exactly 0.

    Args:
        rgb: H x W x 3 colour (any float dtype).
        alpha: H x W alpha.

    Returns:
        H x W x 3 float32. Colour under alpha 0 (NaN and Inf included) becomes 0.
    """
    a = np.asarray(alpha, dtype=np.float32)[..., None]
    with np.errstate(invalid="ignore"):
        out = np.asarray(rgb, dtype=np.float32) * a
    # 0 * Inf and 0 * NaN are NaN; colour hidden under alpha 0 must not survive.
    np.copyto(out, np.float32(0.0), where=(a == 0))
    return out


# The plain name the architecture notes use for this step.
linear_premultiply = premultiply


def unpremultiply(rgb: FloatArray, alpha: FloatArray) -> npt.NDArray[np.float32]:
    """Divide colour by alpha where alpha > 0; 0 where alpha <= 0.

    Args:
        rgb: H x W x 3 premultiplied colour.
        alpha: H x W alpha.

    Returns:
        H x W x 3 float32 straight colour. Values above 1 (colour brighter than the
        coverage allows, found in badly premultiplied files) are kept, not clipped.
    """
    a = np.asarray(alpha, dtype=np.float32)[..., None]
    out = np.zeros(np.shape(rgb), dtype=np.float32)
    np.divide(np.asarray(rgb, dtype=np.float32), a, out=out, where=(a > 0))
    return out


def matte_to_alpha(matte: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Turn a matte frame into an H x W float32 alpha in 0..1 (for integer mattes).

    The matte's alpha channel is used when it has one (2 or 4 channels); otherwise its
    luma: Rec.709 weights (:data:`LUMA_WEIGHTS`) on the encoded values, so a grey matte
    is its own coverage. Integer values are divided by 255 or 65535.

    Args:
        matte: H x W or H x W x C, C in 1..4, dtype uint8/uint16/float16/float32.

    Returns:
        H x W float32 alpha.

    Raises:
        ValueError: the matte's shape or dtype is not supported.
    """
    if str(matte.dtype) not in DTYPES:
        raise ValueError(
            f"matte dtype {matte.dtype} is not supported; allowed: {', '.join(DTYPES)}"
        )
    if matte.ndim == 2:
        return normalise(matte)
    if matte.ndim != 3 or not 1 <= matte.shape[2] <= 4:
        raise ValueError(f"matte shape {matte.shape} is not H x W x C with C in 1..4")
    channels = matte.shape[2]
    if channels in (2, 4):
        return normalise(matte[..., channels - 1])
    if channels == 1:
        return normalise(matte[..., 0])
    scale = np.float32(1.0 / dtype_max(str(matte.dtype)))
    w = np.asarray(LUMA_WEIGHTS, dtype=np.float32) * scale
    return np.asarray(np.dot(matte[..., :3].astype(np.float32), w), dtype=np.float32)


def ocio_convert(
    rgb: npt.NDArray[np.float32], colorspace_in: str, colorspace_out: str
) -> npt.NDArray[np.float32]:
    """Convert float colour between two OCIO colour spaces with OpenImageIO.

    Args:
        rgb: ... x 3 float32 colour (straight, not premultiplied).
        colorspace_in: canonical OCIO name of the source space.
        colorspace_out: canonical OCIO name of the target space.

    Returns:
        float32 array of the same shape.

    Raises:
        ValueError: OpenImageIO reported an error.
    """
    if colorspace_in == colorspace_out:
        return np.array(rgb, dtype=np.float32, copy=True)
    import OpenImageIO as oiio
    from OpenImageIO import ImageBufAlgo

    shape = rgb.shape
    flat = np.ascontiguousarray(rgb, dtype=np.float32).reshape(1, -1, 3)
    src = oiio.ImageBuf(flat)
    dst = ImageBufAlgo.colorconvert(src, colorspace_in, colorspace_out, False)
    if dst.has_error:
        raise ValueError(
            f"colour conversion {colorspace_in!r} -> {colorspace_out!r} failed: "
            f"{dst.geterror()}"
        )
    out = np.asarray(dst.get_pixels(oiio.FLOAT), dtype=np.float32)
    return out.reshape(shape)
