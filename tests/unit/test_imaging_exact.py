"""Fast pixel paths against their reference on every code value, alpha 0 and 1 too.

The references are written out here from OCIO itself:

* 8-bit with alpha (an alpha channel or an 8-bit matte, as movie mattes are read):
  ``OCIO(v / 255)`` in float64 times ``a / 255``, rounded once to the output type;
* opaque integer input: ``OCIO(v / max)`` rounded to the output type;
* 16-bit with alpha: the float path itself (``OCIO(v / 65535)`` as float32 times
  ``a / 65535`` as float32, then the output type).

Tables are indexed by code value, so they are exact whatever scaling ingest applied
to reach those codes (10-bit video scaled to 16 bits, say).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from aebridge import imaging
from aebridge.imaging import PixelPipeline

LIN = "Linear Rec.709 (sRGB)"
SPACES = ["sRGB Encoded Rec.709 (sRGB)", "Gamma 2.4 Encoded Rec.709"]


def ocio_codes(levels: int, cs_in: str) -> npt.NDArray[np.float32]:
    codes = np.arange(levels, dtype=np.float32) / np.float32(levels - 1)
    rgb = np.repeat(codes[:, None], 3, axis=1)
    return imaging.ocio_convert(rgb, cs_in, LIN)[:, 0]


def bits(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Compare floats by their bits (so -0.0 and 0.0 differ, NaN equals itself)."""
    return a.view(np.uint16 if a.dtype == np.float16 else np.uint32)


@pytest.mark.parametrize("cs_in", SPACES)
@pytest.mark.parametrize("half", [True, False], ids=["half", "float"])
def test_8bit_colour_with_an_8bit_matte_every_value_and_coverage(
    cs_in: str, half: bool
) -> None:
    v, a = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    frame = np.stack([v, 255 - v, v], -1).astype(np.uint8)
    matte = a.astype(np.uint8)[..., None]  # a movie matte's luma plane
    p = PixelPipeline(dtype="uint8", channels=3, colorspace_in=cs_in,
                      colorspace_out=LIN, alpha_mode="straight", half=half,
                      matte_dtype="uint8", matte_channels=1)  # fmt: skip
    out = p(frame, matte)
    odt = np.float16 if half else np.float32
    lin = ocio_codes(256, cs_in).astype(np.float64)
    cover = np.arange(256, dtype=np.float64) / 255
    for c, values in enumerate((v, 255 - v, v)):
        want = (lin[values] * cover[a]).astype(odt)
        assert np.array_equal(bits(out[..., c]), bits(want))
    assert np.array_equal(bits(out[..., 3]), bits(cover[a].astype(odt)))
    assert not np.any(out[a == 0]), "alpha 0 must give exact zeros"
    assert np.array_equal(out[..., 0][a == 255], lin[v][a == 255].astype(odt))


@pytest.mark.parametrize("cs_in", SPACES)
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("half", [True, False], ids=["half", "float"])
def test_opaque_integer_input_every_code(
    cs_in: str, dtype: str, channels: int, half: bool
) -> None:
    levels = 256 if dtype == "uint8" else 65536
    codes = np.arange(levels).reshape(-1, 256)
    planes = [codes, levels - 1 - codes, codes][:channels]
    frame = np.stack(planes, -1).astype(dtype)
    p = PixelPipeline(dtype=dtype, channels=channels, colorspace_in=cs_in,
                      colorspace_out=LIN, alpha_mode="none", half=half)  # fmt: skip
    out = p(frame)
    odt = np.float16 if half else np.float32
    lin = ocio_codes(levels, cs_in)
    for c in range(3):
        want = lin[planes[c if channels == 3 else 0]].astype(odt)
        assert np.array_equal(bits(out[..., c]), bits(want))
    assert np.all(out[..., 3] == 1)


@pytest.mark.parametrize("half", [True, False], ids=["half", "float"])
@pytest.mark.parametrize("matte", [False, True], ids=["alpha", "matte"])
def test_16bit_straight_every_code_at_edge_and_middle_coverage(
    half: bool, matte: bool
) -> None:
    codes = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    alphas = [0, 1, 32768, 65534, 65535]
    p = PixelPipeline(dtype="uint16", channels=4 - matte,
                      colorspace_in="Gamma 2.4 Encoded Rec.709", colorspace_out=LIN,
                      alpha_mode="straight", half=half,
                      matte_dtype="uint16" if matte else None,
                      matte_channels=1 if matte else None)  # fmt: skip
    odt = np.float16 if half else np.float32
    lin = ocio_codes(65536, "Gamma 2.4 Encoded Rec.709")
    for alpha in alphas:
        a = np.full_like(codes, alpha)
        colour = [codes, 65535 - codes, codes]
        if matte:
            out = p(np.stack(colour, -1), a[..., None])
        else:
            out = p(np.stack([*colour, a], -1))
        cover = np.float32(alpha) / np.float32(65535)
        for c in range(3):
            want = (lin[colour[c]] * cover).astype(odt)
            assert np.array_equal(bits(out[..., c]), bits(want)), (alpha, c)
        assert np.all(out[..., 3] == odt(cover))
