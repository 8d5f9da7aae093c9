"""Pixel maths: display-encoded sources become premultiplied scene-linear RGBA."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aebridge import imaging
from aebridge.colour import validate_colorspace
from aebridge.errors import OptionError
from aebridge.imaging import PixelPipeline

SRGB = "sRGB Encoded Rec.709 (sRGB)"
LIN = "Linear Rec.709 (sRGB)"
# OCIO's built-in sRGB curve differs from the textbook formula by up to 2.5e-5.
OCIO_VS_FORMULA = 3e-5


def srgb_to_linear(v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The IEC 61966-2-1 sRGB decoding formula (the independent reference)."""
    x = np.asarray(v, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def ocio(v: npt.ArrayLike, cs_in: str = SRGB, cs_out: str = LIN) -> Any:
    """OCIO itself on float values (the reference the tables must reproduce)."""
    arr = np.asarray(v, dtype=np.float32)
    rgb = np.repeat(arr.reshape(-1, 1), 3, axis=1) if arr.ndim <= 1 else arr
    return imaging.ocio_convert(rgb.astype(np.float32), cs_in, cs_out)


def pipe(**kw: Any) -> PixelPipeline:
    base: dict[str, Any] = {
        "dtype": "uint8",
        "channels": 4,
        "colorspace_in": "srgb",
        "colorspace_out": "linear",
        "alpha_mode": "straight",
        "half": True,
    }
    base.update(kw)
    return PixelPipeline(**base)


def px(*rgba: int, dtype: str = "uint8") -> npt.NDArray[Any]:
    """A 1 x 1 frame."""
    return np.array([[rgba]], dtype=dtype)


# ------------------------------------------------------------------ pure functions


def test_premultiply_multiplies_and_zeroes_colour_under_alpha_zero() -> None:
    rgb = np.array([[[0.5, 1.0, 2.0], [np.inf, np.nan, 3.0]]], dtype=np.float32)
    alpha = np.array([[0.5, 0.0]], dtype=np.float32)
    out = imaging.premultiply(rgb, alpha)
    assert out.tolist() == [[[0.25, 0.5, 1.0], [0.0, 0.0, 0.0]]]
    assert imaging.linear_premultiply is imaging.premultiply


def test_unpremultiply_divides_where_alpha_is_positive_only() -> None:
    rgb = np.array([[[0.25, 0.5, 0.75], [0.2, 0.2, 0.2], [0.5, 0.25, 0.0]]], np.float32)
    alpha = np.array([[0.5, 0.0, 0.25]], dtype=np.float32)
    out = imaging.unpremultiply(rgb, alpha)
    # colour above the coverage (0.5 under 0.25) is kept, not clipped
    assert out.tolist() == [[[0.5, 1.0, 1.5], [0.0, 0.0, 0.0], [2.0, 1.0, 0.0]]]


def test_matte_alpha_channel_is_used_when_there_is_one() -> None:
    m = np.array([[[10, 20, 30, 255], [200, 200, 200, 0]]], dtype=np.uint8)
    assert imaging.matte_to_alpha(m).tolist() == [[1.0, 0.0]]
    m2 = np.array([[[0, 65535], [65535, 32768]]], dtype=np.uint16)
    assert imaging.matte_to_alpha(m2).tolist() == [[1.0, np.float32(32768 / 65535)]]


def test_matte_luma_uses_rec709_weights_on_the_encoded_values() -> None:
    m = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [51, 102, 204]]], np.uint8)
    got = imaging.matte_to_alpha(m)
    want = [0.2126, 0.7152, 0.0722, (0.2126 * 51 + 0.7152 * 102 + 0.0722 * 204) / 255]
    np.testing.assert_allclose(got[0], want, rtol=1e-6)


def test_single_channel_and_2d_mattes_are_their_own_alpha() -> None:
    m = np.array([[0, 51, 255]], dtype=np.uint8)
    want = [[0.0, np.float32(0.2), 1.0]]
    assert imaging.matte_to_alpha(m).tolist() == want
    assert imaging.matte_to_alpha(m[..., None]).tolist() == want


def test_float_mattes_are_not_rescaled() -> None:
    m = np.array([[[0.25, 0.75]]], dtype=np.float32)
    assert imaging.matte_to_alpha(m).tolist() == [[0.75]]


def test_a_matte_with_five_channels_is_refused() -> None:
    with pytest.raises(ValueError, match=r"C in 1\.\.4"):
        imaging.matte_to_alpha(np.zeros((2, 2, 5), np.uint8))


def test_dtype_max() -> None:
    assert [imaging.dtype_max(d) for d in imaging.DTYPES] == [255.0, 65535.0, 1.0, 1.0]
    with pytest.raises(OptionError, match="uint8, uint16, float16, float32"):
        imaging.dtype_max("int32")


# ------------------------------------------------------------------ 8-bit straight


def test_8bit_straight_opaque_is_the_srgb_decoding() -> None:
    codes = np.arange(256, dtype=np.uint8)
    frame = np.stack([codes, codes, codes, np.full(256, 255, np.uint8)], -1)[None]
    out = pipe(half=False)(frame)
    np.testing.assert_allclose(
        out[0, :, 0], srgb_to_linear(codes / 255), atol=OCIO_VS_FORMULA
    )
    assert out[0, 0, :3].tolist() == [0.0, 0.0, 0.0]
    assert np.all(out[..., 3] == 1.0)


def test_8bit_straight_alpha_zero_gives_exact_zero_colour() -> None:
    # straight PNGs often carry colour under alpha 0; it must not leak
    out = pipe()(px(255, 128, 7, 0))
    assert out.tolist() == [[[0.0, 0.0, 0.0, 0.0]]]


def test_8bit_straight_mid_alpha_multiplies_linear_colour() -> None:
    out = pipe(half=False)(px(188, 128, 64, 128))
    lin = srgb_to_linear(np.array([188, 128, 64]) / 255)
    np.testing.assert_allclose(out[0, 0, :3], lin * 128 / 255, atol=OCIO_VS_FORMULA)
    assert out[0, 0, 3] == np.float32(128 / 255)


def test_8bit_straight_every_value_alpha_pair_matches_ocio_in_half() -> None:
    """All 65536 (value, alpha) pairs: the fused table equals OCIO then multiply."""
    v, a = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    frame = np.stack([v, v, v, a], -1).astype(np.uint8)
    out = pipe()(frame)
    lin = ocio(np.arange(256) / 255)[:, 0].astype(np.float64)
    want = (lin[:, None] * (np.arange(256) / 255)[None, :]).astype(np.float16)
    assert out.dtype == np.float16
    assert np.array_equal(out[..., 0], want)
    assert np.array_equal(out[..., 3], (a / 255).astype(np.float16))


def test_8bit_straight_matches_float_maths_within_half_rounding() -> None:
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, size=(36, 64, 4), dtype=np.uint8)
    got = pipe()(frame).astype(np.float64)
    a = frame[..., 3:] / 255
    want = srgb_to_linear(frame[..., :3] / 255) * a
    # half has 11 significant bits: 2**-11 relative, plus OCIO's own difference
    np.testing.assert_allclose(got[..., :3], want, rtol=2**-11, atol=OCIO_VS_FORMULA)


# ------------------------------------------------------------------ 8-bit premultiplied


def test_8bit_premultiplied_is_unpremultiplied_linearised_and_premultiplied() -> None:
    out = pipe(alpha_mode="premultiplied", half=False)(px(64, 32, 0, 128))
    straight = np.array([64, 32, 0]) / 128  # encoded straight colour = v / a
    want = srgb_to_linear(straight) * 128 / 255
    np.testing.assert_allclose(out[0, 0, :3], want, atol=OCIO_VS_FORMULA)
    assert out[0, 0, 3] == np.float32(128 / 255)


def test_8bit_premultiplied_alpha_zero_and_one() -> None:
    p = pipe(alpha_mode="premultiplied", half=False)
    assert p(px(40, 40, 40, 0)).tolist() == [[[0.0, 0.0, 0.0, 0.0]]]
    opaque = p(px(200, 100, 50, 255))
    straight = pipe(half=False)(px(200, 100, 50, 255))
    assert np.array_equal(opaque, straight)


def test_8bit_premultiplied_every_pair_matches_ocio() -> None:
    v, a = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    frame = np.stack([v, v, v, a], -1).astype(np.uint8)
    out = pipe(alpha_mode="premultiplied", half=False)(frame)
    ratio = np.divide(v, a, out=np.zeros((256, 256)), where=a > 0)
    lin = ocio(ratio.ravel())[:, 0].reshape(256, 256).astype(np.float64)
    want = np.where(a > 0, lin * a / 255, 0.0).astype(np.float32)
    assert np.array_equal(out[..., 0], want)


# ------------------------------------------------------------------ alpha modes


def test_alpha_none_makes_the_frame_opaque_and_ignores_stored_alpha() -> None:
    out = pipe(alpha_mode="none", half=False)(px(255, 0, 128, 0))
    want = srgb_to_linear(np.array([255, 0, 128]) / 255)
    np.testing.assert_allclose(out[0, 0, :3], want, atol=OCIO_VS_FORMULA)
    assert out[0, 0, 3] == 1.0


def test_rgb_sources_are_opaque_whatever_the_alpha_mode() -> None:
    for mode in imaging.ALPHA_MODES:
        out = pipe(channels=3, alpha_mode=mode)(px(10, 20, 30))
        assert out.shape == (1, 1, 4)
        assert out[0, 0, 3] == 1.0


def test_grey_sources_spread_to_rgb() -> None:
    grey = pipe(channels=1, half=False)(np.array([[128]], np.uint8))
    assert grey[0, 0, 0] == grey[0, 0, 1] == grey[0, 0, 2]
    assert grey[0, 0, 3] == 1.0
    ga = pipe(channels=2, half=False)(np.array([[[128, 51]]], np.uint8))
    np.testing.assert_allclose(ga[0, 0, :3], grey[0, 0, :3] * 0.2, rtol=1e-6)
    assert ga[0, 0, 3] == np.float32(0.2)


# ------------------------------------------------------------------ 16-bit


def test_16bit_straight_uses_the_65536_entry_curve() -> None:
    out = pipe(dtype="uint16", half=False)(px(32768, 65535, 0, 16384, dtype="uint16"))
    want = srgb_to_linear(np.array([32768, 65535, 0]) / 65535) * (16384 / 65535)
    np.testing.assert_allclose(out[0, 0, :3], want, atol=OCIO_VS_FORMULA)
    assert out[0, 0, 3] == np.float32(16384 / 65535)


def test_16bit_alpha_zero_gives_exact_zero_colour() -> None:
    for mode in ("straight", "premultiplied"):
        out = pipe(dtype="uint16", alpha_mode=mode)(px(60000, 1, 2, 0, dtype="uint16"))
        assert out.tolist() == [[[0.0, 0.0, 0.0, 0.0]]]


def test_16bit_premultiplied_matches_the_8bit_maths_on_equal_values() -> None:
    frame8 = px(64, 32, 16, 128)
    frame16 = frame8.astype(np.uint16) * 257
    p8 = pipe(alpha_mode="premultiplied", half=False)(frame8)
    p16 = pipe(dtype="uint16", alpha_mode="premultiplied", half=False)(frame16)
    np.testing.assert_allclose(p16, p8, atol=1e-6)


# ------------------------------------------------------------------ float input


def test_float_straight_input_goes_through_ocio() -> None:
    frame = np.array([[[0.5, 0.25, 1.0, 0.5]]], dtype=np.float32)
    out = pipe(dtype="float32", half=False)(frame)
    want = ocio([0.5, 0.25, 1.0])[:, 0] * 0.5
    np.testing.assert_allclose(out[0, 0, :3], want, rtol=1e-6)
    assert out[0, 0, 3] == 0.5


def test_float_premultiplied_input() -> None:
    frame = np.array([[[0.25, 0.125, 0.0, 0.5]]], dtype=np.float16)
    out = pipe(dtype="float16", alpha_mode="premultiplied", half=False)(frame)
    want = ocio([0.5, 0.25, 0.0])[:, 0] * 0.5
    np.testing.assert_allclose(out[0, 0, :3], want, rtol=1e-6)


def test_light_under_alpha_zero_is_counted_in_the_conversion() -> None:
    # Premultiplied linear input keeps light under alpha 0 (a glow): 3 such pixels,
    # one transparent black pixel, one covered pixel.
    frame = np.array(
        [
            [[0.5, 0.2, 0.0, 0.0], [0.0, 0.0, 0.3, 0.0], [1.0, 1.0, 1.0, 0.0]],
            [[0.0, 0.0, 0.0, 0.0], [0.2, 0.2, 0.2, 0.5], [0.0, 0.0, 0.0, 1.0]],
        ],
        dtype=np.float32,
    )
    p = pipe(dtype="float32", alpha_mode="premultiplied", colorspace_in="linear")
    out = p(frame)
    assert p.keeps_light
    assert p.light_pixels(out) == 3
    assert np.count_nonzero(np.any(out[..., :3][out[..., 3] == 0] != 0, axis=1)) == 3
    # The count is of the frame given.
    assert p.light_pixels(p(np.zeros((2, 3, 4), dtype=np.float32))) == 0
    assert p.light_pixels(out) == 3
    # Every other path drops hidden colour, so nothing is counted.
    straight = pipe(dtype="float32", alpha_mode="straight", colorspace_in="linear")
    assert not straight.keeps_light
    assert straight.light_pixels(straight(frame)) == 0
    eight = pipe(alpha_mode="premultiplied")
    assert not eight.keeps_light
    assert eight.light_pixels(eight(px(200, 100, 0, 0))) == 0
    # The pipeline holds no per-frame state: frames of a chunk may be converted on
    # several threads at once, and a pickled pipeline is its settings.
    assert not hasattr(p, "__dict__")
    assert pickle.loads(pickle.dumps(p)).__getstate__() == p.__getstate__()


def test_nan_in_visible_colour_is_an_error_naming_the_pixel() -> None:
    frame = np.array([[[0.5, 0.5, 0.5, 1.0], [np.nan, 0.5, 0.5, 1.0]]], np.float32)
    with pytest.raises(
        ValueError, match=r"NaN or Inf \(first at x=1, y=0, channel R\)"
    ):
        pipe(dtype="float32")(frame)


def test_nan_under_alpha_zero_is_dropped_like_any_hidden_colour() -> None:
    frame = np.array([[[np.nan, np.inf, 0.5, 0.0]]], np.float32)
    assert pipe(dtype="float32")(frame).tolist() == [[[0.0, 0.0, 0.0, 0.0]]]


def test_values_beyond_half_range_ask_for_float_output() -> None:
    frame = np.array([[[1e6, 0.5, 0.5]]], np.float32)
    p = pipe(dtype="float32", channels=3, colorspace_in="linear")
    with pytest.raises(ValueError, match="overflow half float, use --float"):
        p(frame)
    out = pipe(dtype="float32", channels=3, colorspace_in="linear", half=False)(frame)
    assert out[0, 0, 0] == np.float32(1e6)


# ------------------------------------------------------------------ mattes


def test_a_matte_replaces_alpha_and_treats_colour_as_straight() -> None:
    p = pipe(
        alpha_mode="premultiplied", half=False, matte_dtype="uint8", matte_channels=4
    )
    frame = px(255, 255, 255, 0)  # the source's own alpha is ignored
    out = p(frame, np.array([[[0, 0, 0, 51]]], np.uint8))
    np.testing.assert_allclose(out[0, 0, :3], [0.2, 0.2, 0.2], atol=OCIO_VS_FORMULA)
    assert out[0, 0, 3] == np.float32(0.2)


def test_an_rgb_matte_gives_its_luma() -> None:
    p = pipe(channels=3, half=False, matte_dtype="uint8", matte_channels=3)
    out = p(px(255, 255, 255), np.array([[[255, 0, 0]]], np.uint8))
    np.testing.assert_allclose(out[0, 0], [0.2126] * 4, atol=OCIO_VS_FORMULA)


def test_a_16bit_matte_on_8bit_colour() -> None:
    p = pipe(channels=3, half=False, matte_dtype="uint16", matte_channels=1)
    matte = np.array([[[13107], [0]]], np.uint16)  # 13107 / 65535 = 0.2
    out = p(np.array([[[255, 255, 255], [255, 0, 255]]], np.uint8), matte)
    np.testing.assert_allclose(out[0, 0], [0.2] * 4, atol=OCIO_VS_FORMULA)
    assert out[0, 1].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_matte_frames_must_match_the_frame_size_and_be_present() -> None:
    p = pipe(matte_dtype="uint8", matte_channels=1)
    with pytest.raises(ValueError, match="matte is 2x1, the frame is 1x1"):
        p(px(1, 2, 3, 4), np.zeros((1, 2), np.uint8))
    with pytest.raises(ValueError, match="a matte frame is required"):
        p(px(1, 2, 3, 4))
    with pytest.raises(ValueError, match="has no matte"):
        pipe()(px(1, 2, 3, 4), np.zeros((1, 1), np.uint8))


# ------------------------------------------------------------------ output spaces


@pytest.mark.parametrize("mode", ["straight", "premultiplied", "none"])
@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_acescg_output_matches_ocio_on_random_colours(mode: str, dtype: str) -> None:
    rng = np.random.default_rng(3)
    top = 255 if dtype == "uint8" else 65535
    frame = rng.integers(0, top + 1, size=(8, 16, 4)).astype(dtype)
    frame[0, 0, 3] = 0
    out = pipe(dtype=dtype, colorspace_out="acescg", alpha_mode=mode, half=False)(frame)
    x = frame.astype(np.float32) / top
    a = x[..., 3:] if mode != "none" else np.ones_like(x[..., 3:])
    rgb = x[..., :3]
    if mode == "premultiplied":
        rgb = np.divide(rgb, a, out=np.zeros_like(rgb), where=a > 0)
    want = np.where(
        a > 0, ocio(rgb.reshape(-1, 3), SRGB, "ACEScg").reshape(rgb.shape) * a, 0
    )
    np.testing.assert_allclose(out[..., :3], want, rtol=2e-6, atol=2e-6)
    assert out[0, 0].tolist() == [0.0, 0.0, 0.0, 0.0] or mode == "none"


@pytest.mark.parametrize("cs_in", ["rec709", "ACEScct", "sRGB Encoded AP1"])
def test_other_input_spaces_match_ocio_on_every_code(cs_in: str) -> None:
    codes = np.arange(256, dtype=np.uint8)
    frame = np.stack([codes, codes[::-1], codes], -1)[None]
    canonical = validate_colorspace(cs_in, option="x")
    for out_cs in ("Linear Rec.709 (sRGB)", "ACEScg"):
        out = pipe(channels=3, colorspace_in=cs_in, colorspace_out=out_cs, half=False)(
            frame
        )
        want = ocio(frame[0].astype(np.float32) / 255, canonical, out_cs)
        np.testing.assert_allclose(out[0, :, :3], want, rtol=2e-6, atol=2e-6)


# ------------------------------------------------------------------ the pipeline object


def test_the_pipeline_pickles_as_its_settings_and_converts_the_same() -> None:
    p = pipe(colorspace_out="acescg")
    frame = np.random.default_rng(1).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    q = pickle.loads(pickle.dumps(p))
    assert repr(q) == repr(p)
    assert len(pickle.dumps(p)) < 1000  # no tables travel to the workers
    assert np.array_equal(q(frame), p(frame))


@pytest.mark.parametrize(
    "kw",
    [{}, {"colorspace_out": "acescg"}, {"dtype": "uint16"}, {"dtype": "float32"},
     {"channels": 1}],
)  # fmt: skip
def test_output_is_rgba_over_contiguous_planes_in_the_requested_precision(
    kw: dict[str, Any],
) -> None:
    dtype = kw.get("dtype", "uint8")
    frame = np.zeros((36, 64, kw.get("channels", 4)), dtype)
    for half, out_dtype in ((True, np.float16), (False, np.float32)):
        out = pipe(half=half, **kw)(frame)
        assert out.dtype == out_dtype
        assert out.shape == (36, 64, 4)
        # the EXR writer takes each channel plane without a copy
        assert all(out[..., c].flags["C_CONTIGUOUS"] for c in range(4))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"alpha_mode": "auto"},
            "--alpha: 'auto' is not allowed; allowed: straight, premultiplied, none",
        ),
        ({"dtype": "int8"}, "dtype: 'int8' is not allowed"),
        ({"channels": 5}, "channels: 5 is not allowed; allowed: 1, 2, 3 or 4"),
        ({"colorspace_in": "bogus"}, "--colorspace: 'bogus' is not allowed"),
        ({"colorspace_out": "bogus"}, "--output-colorspace: 'bogus' is not allowed"),
        ({"matte_dtype": "uint8"}, "matte: ('uint8', None) is not allowed"),
    ],
)
def test_bad_settings_name_the_option(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError) as err:
        pipe(**kw)
    assert str(err.value).startswith(message)


def test_a_frame_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="frame is uint16 with shape"):
        pipe()(px(1, 2, 3, 4, dtype="uint16"))
    with pytest.raises(ValueError, match="uint8 with 4 channel"):
        pipe()(px(1, 2, 3))


# ------------------------------------------------------------------ properties


@settings(max_examples=60, deadline=None)
@given(
    frame=arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(4))),
    mode=st.sampled_from(["straight", "premultiplied"]),
    out=st.sampled_from(["linear", "acescg"]),
)
def test_any_8bit_frame_gives_premultiplied_output(
    frame: npt.NDArray[np.uint8], mode: str, out: str
) -> None:
    rgba = pipe(alpha_mode=mode, colorspace_out=out, half=False)(frame)
    alpha = rgba[..., 3]
    assert np.array_equal(alpha, (frame[..., 3] / 255).astype(np.float32))
    assert np.all(rgba[alpha == 0][:, :3] == 0)
    assert np.all(np.isfinite(rgba))
    if out == "linear" and mode == "straight":
        # scene-linear straight colour never exceeds 1 for display-encoded input,
        # so premultiplied colour never exceeds alpha (OCIO's 2.5e-5 aside)
        assert np.all(rgba[..., :3] <= alpha[..., None] * (1 + 1e-4))
