"""aebridge converts a straight-alpha PNG as oiiotool does, within half rounding.

The reference is OpenImageIO's own command line doing the same maths:
``oiiotool --no-autopremult in.png --colorconvert <sRGB> <linear> --premult -d half``.
``--no-autopremult`` matters: OpenImageIO otherwise premultiplies PNG alpha on read,
on the encoded values, which is not the conversion a compositor expects.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import OpenImageIO as oiio
import pytest

from aebridge import exr
from aebridge.imaging import PixelPipeline

SRGB = "sRGB Encoded Rec.709 (sRGB)"
LIN = "Linear Rec.709 (sRGB)"
H, W = 36, 64

OIIOTOOL = shutil.which("oiiotool")
pytestmark = pytest.mark.skipif(OIIOTOOL is None, reason="oiiotool is not on PATH")


def straight_png(path: Path, seed: int = 5) -> npt.NDArray[np.uint8]:
    """A straight-alpha RGBA PNG: every alpha level, colour under alpha 0 included."""
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, size=(H, W, 4), dtype=np.uint8)
    px[..., 3] = (np.arange(H * W) % 256).reshape(H, W)  # 0..255 everywhere
    px[:4, :, 3] = 0  # a band of hidden colour
    px[-4:, :, 3] = 255
    spec = oiio.ImageSpec(W, H, 4, oiio.UINT8)
    # Without this OpenImageIO treats the buffer as premultiplied and divides it.
    spec.attribute("oiio:UnassociatedAlpha", 1)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec), oiio.geterror()
    assert out.write_image(px), out.geterror()
    out.close()
    return px


def read_png_as_stored(path: Path) -> npt.NDArray[np.uint8]:
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    assert inp is not None, oiio.geterror()
    data = np.asarray(inp.read_image(0, 0, 0, 4, oiio.UINT8), dtype=np.uint8)
    inp.close()
    return data


def oiiotool_reference(png: Path, out: Path, cs_out: str = LIN) -> npt.NDArray[Any]:
    assert OIIOTOOL is not None
    cmd = [OIIOTOOL, "--no-autopremult", str(png), "--colorconvert", SRGB, cs_out,
           "--premult", "-d", "half", "-o", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return exr.read_pixels(out)


def assert_within_half_rounding(got: npt.NDArray[Any], ref: npt.NDArray[Any]) -> None:
    # oiiotool rounds float32 (value * alpha) to half, aebridge rounds the float64
    # product: at most one half step apart, i.e. 2**-11 relative, 2**-24 near 0.
    np.testing.assert_allclose(got, ref, rtol=2**-10, atol=2**-24)


def test_the_png_round_trips_as_stored(tmp_path: Path) -> None:
    png = tmp_path / "fg.1001.png"
    px = straight_png(png)
    assert np.array_equal(read_png_as_stored(png), px)


def test_pipeline_and_writer_match_oiiotool(tmp_path: Path) -> None:
    png = tmp_path / "fg.1001.png"
    straight_png(png)
    ref = oiiotool_reference(png, tmp_path / "ref.exr")
    pipeline = PixelPipeline(
        dtype="uint8", channels=4, colorspace_in="srgb", colorspace_out="linear",
        alpha_mode="straight", half=True,
    )  # fmt: skip
    rgba = pipeline(read_png_as_stored(png))
    out = tmp_path / "fg.1001.exr"
    exr.write_frame(
        out, rgba, settings=exr.ExrSettings(compression="zip"), attributes={}
    )
    got = exr.read_pixels(out)
    assert_within_half_rounding(got, ref)
    assert np.all(got[:4] == 0.0)  # colour under alpha 0 did not leak
    assert np.array_equal(got[..., 3], ref[..., 3])  # alpha is exact


def test_acescg_output_matches_oiiotool(tmp_path: Path) -> None:
    png = tmp_path / "fg.1001.png"
    straight_png(png, seed=9)
    ref = oiiotool_reference(png, tmp_path / "ref.exr", cs_out="ACEScg")
    pipeline = PixelPipeline(
        dtype="uint8", channels=4, colorspace_in="srgb", colorspace_out="acescg",
        alpha_mode="straight", half=True,
    )  # fmt: skip
    got = pipeline(read_png_as_stored(png)).astype(np.float32)
    assert_within_half_rounding(got, ref)


def test_convert_matches_oiiotool(tmp_path: Path) -> None:
    """The whole chain: aebridge.convert on a two-frame PNG sequence."""
    try:
        import aebridge.engine  # noqa: F401  (convert runs its chunks through it)
    except ImportError as exc:
        pytest.skip(f"aebridge.convert is not complete yet: {exc}")
    from aebridge.convert import convert

    src = tmp_path / "src"
    src.mkdir()
    for i, frame in enumerate((1001, 1002)):
        straight_png(src / f"fg.{frame}.png", seed=20 + i)
    result = convert(
        str(src / "fg.####.png"), tmp_path / "out", name="fg", alpha="straight",
        compression="zip", jobs=1,
    )  # fmt: skip
    for i, frame in enumerate((1001, 1002)):
        ref = oiiotool_reference(src / f"fg.{frame}.png", tmp_path / f"ref.{i}.exr")
        got = exr.read_pixels(Path(result.folder) / f"fg.{1001 + i}.exr")
        assert_within_half_rounding(got, ref)
