"""``aebridge convert`` reads each file as it declares itself: its alpha association
(TIFF ExtraSamples) and its colour space (an EXR's colorInteropID), unless told."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge.convert import convert
from aebridge.exr import read_pixels

W, H = 8, 4


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _write_tiff(path: Path, pixels: np.ndarray, *, unassociated: bool) -> None:
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(W, H, 4, "uint8")
    # TIFF records the association in ExtraSamples: 1 associated, 2 unassociated.
    spec.attribute("oiio:UnassociatedAlpha", int(unassociated))
    out = oiio.ImageOutput.create(str(path))
    assert out is not None
    out.open(str(path), spec)
    out.write_image(pixels)
    out.close()


@pytest.mark.parametrize("unassociated", [True, False])
def test_tiff_alpha_auto_follows_the_files_extrasamples_tag(
    tmp_path: Path, unassociated: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    stored = np.zeros((H, W, 4), np.uint8)
    stored[..., 0], stored[..., 1], stored[..., 3] = 100, 30, 128
    _write_tiff(src / "t.1001.tif", stored, unassociated=unassociated)
    result = convert(src, tmp_path / "out", name="t", fps=24, jobs=1)
    px = read_pixels(tmp_path / "out" / "t" / "t.1001.exr")
    alpha = 128 / 255
    colour = stored[0, 0, :2] / 255
    if not unassociated:
        # Associated (premultiplied) sRGB values: un-premultiply before linearising.
        colour = colour / alpha
    expected = _srgb_to_linear(colour) * alpha
    assert np.allclose(px[0, 0, :2], expected, rtol=2e-3)
    assert np.isclose(px[0, 0, 3], alpha, atol=1e-3)
    mode = "straight" if unassociated else "premultiplied"
    assert any("alpha auto" in d and mode in d for d in result.decisions)


def test_an_exr_declaring_its_colour_space_is_read_in_it(tmp_path: Path) -> None:
    # An ACEScg EXR (colorInteropID lin_ap1_scene, as Nuke, Houdini and aebridge's own
    # --output-colorspace ACEScg write) was read as Linear Rec.709: wrong colours.
    import OpenImageIO as oiio

    from aebridge.imaging import ocio_convert

    src = tmp_path / "src"
    src.mkdir()
    spec = oiio.ImageSpec(W, H, 3, "float")
    spec.attribute("colorInteropID", "lin_ap1_scene")
    stored = np.zeros((H, W, 3), np.float32)
    stored[...] = (0.6, 0.2, 0.05)
    out = oiio.ImageOutput.create(str(src / "p.1001.exr"))
    assert out is not None
    out.open(str(src / "p.1001.exr"), spec)
    out.write_image(stored)
    out.close()
    result = convert(src, tmp_path / "out", name="p", half=False, jobs=1)
    px = read_pixels(tmp_path / "out" / "p" / "p.1001.exr")
    expected = ocio_convert(stored.reshape(-1, 3), "ACEScg", "Linear Rec.709 (sRGB)")
    assert np.allclose(px[..., :3].reshape(-1, 3), expected, rtol=1e-5)
    assert any("'ACEScg'" in d and "declares" in d for d in result.decisions)
    # --colorspace still wins over the file's declaration.
    again = convert(
        src, tmp_path / "out2", name="p", colorspace="Linear Rec.709 (sRGB)", jobs=1
    )
    px = read_pixels(tmp_path / "out2" / "p" / "p.1001.exr")
    assert np.allclose(px[0, 0, :3], stored[0, 0], rtol=1e-3)
    assert any("(given)" in d for d in again.decisions)
