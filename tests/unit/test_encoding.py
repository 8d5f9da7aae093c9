"""Declared colour encodings: every formula against OCIO (an independent reference)."""

from __future__ import annotations

import numpy as np
import pytest

from aebridge.encoding import (
    KNOWN_PRIMARIES,
    Curve,
    Encoding,
    output_matrix,
)
from aebridge.imaging import PixelPipeline, ocio_convert

ocio = pytest.importorskip("PyOpenColorIO")

REC709 = KNOWN_PRIMARIES["Rec.709"]
CODES = np.linspace(-0.05, 1.2, 2000)


def _builtin(name: str, values: np.ndarray) -> np.ndarray:
    config = ocio.Config.CreateRaw()
    cpu = config.getProcessor(ocio.BuiltinTransform(name)).getDefaultCPUProcessor()
    rgb = np.repeat(values.astype(np.float32)[:, None], 3, axis=1).copy()
    cpu.applyRGB(rgb)
    return rgb[:, 0].astype(np.float64)


def test_pq_is_display_light_over_203_nits() -> None:
    codes = np.linspace(0, 1, 1001)
    # OCIO's ST-2084 curve gives 1.0 per 100 cd/m2.
    expected = _builtin("CURVE - ST-2084_to_LINEAR", codes) * 100 / 203
    got = Curve(kind="pq")(codes)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-7)
    # PQ reference white (58 %, 203 cd/m2 in BT.2408) is 1.0.
    assert Curve(kind="pq")(np.array([0.580688]))[0] == pytest.approx(1.0, abs=1e-4)


def test_hlg_reference_white_is_one() -> None:
    codes = np.linspace(0, 1, 1001)
    # OCIO's inverse OETF is scene light times 3 (1.0 -> 3.0).
    reference = _builtin("CURVE - HLG-OETF-INVERSE", codes)
    got = Curve(kind="hlg")(codes)
    white = _builtin("CURVE - HLG-OETF-INVERSE", np.array([0.75]))[0]
    np.testing.assert_allclose(got, reference / white, rtol=2e-5, atol=1e-7)
    assert Curve(kind="hlg")(np.array([0.75]))[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("curve", "primaries", "name"),
    [
        (Curve(kind="gamma", params=(1.8,)), REC709, "Gamma 1.8 Encoded Rec.709"),
        (Curve(kind="gamma", params=(2.2,)), REC709, "Gamma 2.2 Encoded Rec.709"),
        (Curve(kind="srgb"), KNOWN_PRIMARIES["P3-D65"], "sRGB Encoded P3-D65"),
        (
            Curve(kind="gamma", params=(563 / 256,)),  # Adobe RGB (1998): 2.19921875
            KNOWN_PRIMARIES["Adobe RGB"],
            "Gamma 2.2 Encoded AdobeRGB",
        ),
        (Curve(kind="linear"), KNOWN_PRIMARIES["ACES AP0"], "ACES2065-1"),
        (Curve(kind="linear"), KNOWN_PRIMARIES["Rec.2020"], "Linear Rec.2020"),
        (Curve(kind="linear"), KNOWN_PRIMARIES["ACES AP1"], "ACEScg"),
    ],
)
@pytest.mark.parametrize("output", ["Linear Rec.709 (sRGB)", "ACEScg"])
def test_a_declared_encoding_matches_the_ocio_space_it_equals(
    curve: Curve, primaries: tuple[float, ...], name: str, output: str
) -> None:
    encoding = Encoding.from_primaries("test", curve, primaries)
    rng = np.random.default_rng(3)
    rgb = rng.uniform(-0.02, 1.05, (4000, 3))
    rgb[:3] = np.eye(3)
    got = encoding.linearise(rgb) @ output_matrix(encoding, output).T
    expected = ocio_convert(rgb.astype(np.float32), name, output)
    # OCIO's CPU power function is an approximation (2.3e-5 high at 1.0, more where a
    # matrix cancels large terms):
    # the formulas here are exact; they agree far below a half-float step.
    np.testing.assert_allclose(got, expected, rtol=5e-5, atol=3e-5)


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize("alpha", ["straight", "premultiplied", "none"])
def test_the_pipeline_runs_a_declared_encoding_like_the_named_space(
    dtype: str, alpha: str
) -> None:
    # The fused tables of a declared encoding and of OCIO's own space agree.
    top = 255 if dtype == "uint8" else 65535
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, top + 1, (32, 48, 4)).astype(dtype)
    pixels[0, :4] = [[0, 0, 0, 0], [top] * 4, [top, 0, 0, top], [7, 9, 11, 13]]
    if alpha == "premultiplied":
        # Valid premultiplied data (colour <= alpha): far above 1, OCIO's power
        # approximation drifts further from the exact formula.
        pixels[..., :3] = np.minimum(pixels[..., :3], pixels[..., 3:])
    channels = 3 if alpha == "none" else 4
    frame = np.ascontiguousarray(pixels[..., :channels])
    encoding = Encoding.from_primaries(
        "sRGB P3", Curve(kind="srgb"), KNOWN_PRIMARIES["P3-D65"]
    )
    for output in ("Linear Rec.709 (sRGB)", "ACEScg"):
        common = dict(dtype=dtype, channels=channels, colorspace_out=output,
                      alpha_mode=alpha, half=False)  # fmt: skip
        declared = PixelPipeline(colorspace_in=encoding, **common)  # type: ignore[arg-type]
        named = PixelPipeline(colorspace_in="sRGB Encoded P3-D65", **common)  # type: ignore[arg-type]
        np.testing.assert_allclose(declared(frame), named(frame), rtol=5e-5, atol=3e-5)


def test_icc_style_curves_evaluate_their_definitions() -> None:
    table = Curve(kind="table", params=(0.0, 0.25, 1.0))
    np.testing.assert_allclose(table(np.array([0, 0.25, 0.5, 0.75, 1, 2])),
                               [0, 0.125, 0.25, 0.625, 1, 1])  # fmt: skip
    # para type 3 of sRGB: (2.4, 1/1.055, 0.055/1.055, 1/12.92, 0.04045, 0, 0)
    srgb = Curve(
        kind="parametric",
        params=(2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045, 0.0, 0.0),
    )
    np.testing.assert_allclose(srgb(CODES), Curve(kind="srgb")(CODES), rtol=1e-12)
    assert np.all(np.isfinite(Curve(kind="pq")(CODES)))
    with pytest.raises(ValueError, match="curve kind"):
        Curve(kind="log")
