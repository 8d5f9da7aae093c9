"""Light under alpha 0 (glows, fire in premultiplied linear input) survives the
conversion: kept in the pixels, and inside an autocropped data window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge.convert import convert
from aebridge.exr import read_pixels

W, H = 8, 4


def _premultiplied_exr(path: Path) -> np.ndarray:
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(W, H, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.alpha_channel = 3
    pixels = np.zeros((H, W, 4), np.float32)
    pixels[..., :3] = (0.3, 2.5, 0.05)
    pixels[:, W // 2 :, 3] = 0.5  # left half: alpha 0 with colour (pure emission)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None
    out.open(str(path), spec)
    out.write_image(pixels)
    out.close()
    return pixels


@pytest.mark.parametrize("output", ["Linear Rec.709 (sRGB)", "ACEScg"])
def test_premultiplied_linear_input_keeps_emission_under_alpha_zero(
    tmp_path: Path, output: str
) -> None:
    # In a premultiplied image colour under alpha 0 is added light (fire, glows,
    # flares), not hidden colour: 'over' adds it. It was zeroed.
    src = tmp_path / "src"
    src.mkdir()
    stored = _premultiplied_exr(src / "glow.1001.exr")
    convert(src, tmp_path / "out", name="glow", output_colorspace=output, jobs=1)
    px = read_pixels(tmp_path / "out" / "glow" / "glow.1001.exr").astype(np.float64)
    from aebridge.imaging import ocio_convert

    expected = ocio_convert(
        stored[..., :3].reshape(-1, 3), "Linear Rec.709 (sRGB)", output
    ).reshape(H, W, 3)
    assert np.allclose(px[..., :3], expected, rtol=2e-3)
    assert np.array_equal(px[..., 3], stored[..., 3])


def test_autocrop_keeps_light_under_alpha_zero_inside_the_data_window(
    tmp_path: Path,
) -> None:
    import OpenImageIO as oiio

    src = tmp_path / "src"
    src.mkdir()
    spec = oiio.ImageSpec(W, H, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.alpha_channel = 3
    pixels = np.zeros((H, W, 4), np.float32)
    pixels[1, 5, 3] = pixels[1, 5, 0] = 0.5  # a covered pixel
    pixels[2, 1, 1] = 0.25  # a glow pixel: light, alpha 0
    out = oiio.ImageOutput.create(str(src / "g.1001.exr"))
    assert out is not None
    out.open(str(src / "g.1001.exr"), spec)
    out.write_image(pixels)
    out.close()
    convert(src, tmp_path / "out", name="g", autocrop=True, jobs=1)
    result = oiio.ImageBuf(str(tmp_path / "out" / "g" / "g.1001.exr"))
    got = result.spec()
    assert (got.x, got.y, got.width, got.height) == (1, 1, 5, 2)
    assert (got.full_width, got.full_height) == (W, H)
    full = result.get_pixels(oiio.FLOAT, roi=oiio.ROI(0, W, 0, H, 0, 1, 0, 4))
    assert full is not None
    assert np.array_equal(full, pixels)
