"""Movie decoding for speed: mattes read from their luma plane, decoder threads."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")

from aebridge.ingest import moviepixels, probe, read_frames  # noqa: E402
from aebridge.synthetic import write_movie  # noqa: E402


def read_all(info: object, **kw: int) -> list[np.ndarray]:
    frames = list(read_frames(info, 0, info.frame_count, **kw))  # type: ignore[attr-defined]
    assert [i for i, _ in frames] == list(range(info.frame_count))  # type: ignore[attr-defined]
    return [p for _, p in frames]


@pytest.mark.parametrize(
    ("codec", "suffix", "color_range", "dtype"),
    [
        ("h264", ".mp4", "tv", "uint8"),
        ("h264", ".mp4", "pc", "uint8"),
        ("prores4444", ".mov", "tv", "uint16"),
    ],
)
def test_a_matte_movie_is_its_luma_plane_scaled_to_full_range(
    tmp_path, codec: str, suffix: str, color_range: str, dtype: str
) -> None:
    path = write_movie(
        tmp_path / f"m{suffix}", codec=codec, frames=3, color_range=color_range
    )
    rgb = probe(path)
    info = probe(path, matte=True, colorspace="Raw")
    assert (info.channels, info.dtype, info.pixel_format) == (
        1,
        dtype,
        moviepixels.LUMA,
    )
    assert "luma plane" in info.colour_decision
    # Independently: the decoded Y plane, scaled with the range's own formula.
    container = av.open(path)
    try:
        frames = list(container.decode(video=0))
    finally:
        container.close()
    got = read_all(info)
    for frame, pixels in zip(frames, got, strict=True):
        comp = frame.format.components[0]
        raw = np.frombuffer(frame.planes[0], np.uint16 if comp.bits > 8 else np.uint8)
        y = raw.reshape(frame.height, -1)[:, : frame.width].astype(np.int64)
        y = np.mod(y, 2**comp.bits)
        top = 255 if dtype == "uint8" else 65535
        if color_range == "tv":
            step = 2 ** (comp.bits - 8)
            lo, span = 16 * step, 219 * step
        else:
            lo, span = 0, 2**comp.bits - 1
        # (y - lo) * top / span in integers, rounded half to even, clipped.
        q, r = np.divmod((y - lo) * top, span)
        q += (2 * r > span) | ((2 * r == span) & (q % 2 == 1))
        want = np.clip(q, 0, top)
        assert pixels.shape == (info.height, info.width, 1)
        assert pixels.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(pixels[..., 0], want)
    # The same picture as the RGB read, within the chroma's rounding noise.
    luma = np.dot(read_all(rgb)[0].astype(np.float64), [0.2126, 0.7152, 0.0722])
    top = 255.0 if dtype == "uint8" else 65535.0
    assert np.abs(luma - got[0][..., 0]).max() <= 0.02 * top


def test_range_ends_map_exactly_to_zero_and_full_scale() -> None:
    t8 = moviepixels.luma_table(8, "MPEG", "uint8")
    assert (t8[16], t8[235], t8[0], t8[255]) == (0, 255, 0, 255)
    t10 = moviepixels.luma_table(10, "MPEG", "uint16")
    assert (t10[64], t10[940], t10[1023]) == (0, 65535, 65535)
    f10 = moviepixels.luma_table(10, "JPEG", "uint16")
    assert (f10[0], f10[1023]) == (0, 65535)
    assert np.all(np.diff(t10.astype(np.int64)) >= 0)


def test_a_matte_with_alpha_keeps_its_alpha(tmp_path) -> None:
    path = write_movie(tmp_path / "a.mov", codec="prores4444", alpha=True, frames=2)
    info = probe(path, matte=True, colorspace="Raw")
    assert info.channels == 4 and info.pixel_format != moviepixels.LUMA


@pytest.mark.parametrize("threads", [0, 2, 3])
def test_threaded_decoding_gives_the_same_frames_in_order(
    tmp_path, threads: int
) -> None:
    path = write_movie(
        tmp_path / "t.mp4", codec="h264", frames=20, gop=6, pattern="disc"
    )
    info = probe(path)
    plain = read_all(info)
    threaded = read_all(info, threads=threads)
    for a, b in zip(plain, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    # A chunk from the middle, from its keyframe.
    part = list(read_frames(info, 7, 15, threads=threads))
    assert [i for i, _ in part] == list(range(7, 15))
    for i, pixels in part:
        np.testing.assert_array_equal(pixels, plain[i])


def test_a_matte_read_from_its_luma_is_turned_as_the_file_says(
    tmp_path, ffmpeg
) -> None:
    # A phone matte stores landscape luma and a display matrix: the luma must come
    # out turned like the colour clip it belongs to (applied or kept alike).
    stored = write_movie(tmp_path / "m.mp4", frames=2, color_range="pc")
    turned = ffmpeg(
        "-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90",
        output=tmp_path / "turned.mp4",
    )  # fmt: skip
    flat = read_all(probe(stored, matte=True, colorspace="Raw"))[0]
    info = probe(turned, matte=True, colorspace="Raw")
    assert info.pixel_format == moviepixels.LUMA
    assert (info.width, info.height) == (flat.shape[0], flat.shape[1])
    upright = read_all(info)[0]
    assert upright.shape == (flat.shape[1], flat.shape[0], 1)
    kept = read_all(probe(turned, matte=True, colorspace="Raw", orientation="keep"))
    np.testing.assert_array_equal(kept[0], flat)
    # Turned the way the colour read is turned: the same picture, within the
    # chroma's rounding noise (the gradient differs along both axes).
    colour = read_all(probe(turned))[0].astype(np.float64)
    luma = np.dot(colour, [0.2126, 0.7152, 0.0722])
    assert np.abs(luma - upright[..., 0]).max() <= 0.02 * 255
