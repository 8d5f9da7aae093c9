"""Procedural test media: deterministic pixels, straight alpha, files and movie tags."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from aebridge.errors import OptionError, OutputError
from aebridge.synthetic import (
    SOLID_RGB,
    frame_pixels,
    write_image_sequence,
    write_matte_sequence,
    write_movie,
    write_png_sequence,
    write_rvm_outputs,
)

av = pytest.importorskip("av")


def test_pixels_are_deterministic() -> None:
    first = frame_pixels(3, 64, 36)
    np.testing.assert_array_equal(first, frame_pixels(3, 64, 36))
    assert first.shape == (36, 64, 4) and first.dtype == np.uint8


def test_straight_alpha_keeps_colour_where_alpha_is_zero() -> None:
    pixels = frame_pixels(0, 64, 36, pattern="disc")
    alpha = pixels[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255
    assert ((alpha > 0) & (alpha < 255)).any()  # a soft edge
    assert pixels[alpha == 0][:, :3].max() > 100  # colour under alpha 0


def test_the_shape_moves_between_frames() -> None:
    a0 = frame_pixels(0, 64, 36)[..., 3]
    a1 = frame_pixels(1, 64, 36)[..., 3]
    assert not np.array_equal(a0, a1)


@pytest.mark.parametrize(
    ("kwargs", "shape", "dtype", "top"),
    [
        ({"alpha": None}, (36, 64, 3), np.uint8, 255),
        ({"bit_depth": 16}, (36, 64, 4), np.uint16, 65535),
        ({"bit_depth": 16, "alpha": None}, (36, 64, 3), np.uint16, 65535),
    ],
)
def test_depth_and_alpha_options(
    kwargs: dict[str, object], shape: tuple[int, ...], dtype: type, top: int
) -> None:
    pixels = frame_pixels(2, 64, 36, **kwargs)  # type: ignore[arg-type]
    assert pixels.shape == shape and pixels.dtype == dtype
    assert pixels.max() <= top and pixels.max() > top // 2


def test_solid_is_exactly_the_solid_colour() -> None:
    pixels = frame_pixels(0, 8, 4, pattern="solid")
    assert (pixels[..., :3] == SOLID_RGB).all() and (pixels[..., 3] == 255).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern": "noise"}, "pattern: 'noise' is not allowed; allowed: gradient"),
        ({"alpha": "premultiplied"}, "alpha: 'premultiplied' is not allowed"),
        ({"bit_depth": 10}, "bit_depth: 10 is not allowed; allowed: 8, 16"),
    ],
)
def test_bad_pixel_options_are_option_errors(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        frame_pixels(0, 8, 4, **kwargs)  # type: ignore[arg-type]


def test_png_sequence_names_and_contents(tmp_path: Path) -> None:
    paths = write_png_sequence(tmp_path / "new", "fg", frames=3, start=7)
    assert paths == [str(tmp_path / "new" / f"fg.000{n}.png") for n in (7, 8, 9)]
    inp = oiio.ImageInput.open(paths[1])
    assert inp is not None
    assert (inp.spec().width, inp.spec().height, inp.spec().nchannels) == (64, 36, 4)
    inp.close()


def test_matte_sequence_is_one_grey_channel(tmp_path: Path) -> None:
    paths = write_matte_sequence(tmp_path, "m", frames=2)
    inp = oiio.ImageInput.open(paths[0])
    assert inp is not None
    assert inp.spec().nchannels == 1
    pixels = inp.read_image(0, 0, 0, 1, "uint8")
    inp.close()
    np.testing.assert_array_equal(pixels[..., 0], frame_pixels(0, 64, 36)[..., 3])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ext": "gif"}, "ext: 'gif' is not allowed"),
        ({"ext": "jpg"}, "jpg is 8-bit opaque"),
    ],
)
def test_bad_sequence_options_are_option_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        write_image_sequence(tmp_path, "x", **kwargs)  # type: ignore[arg-type]


def test_movie_tags_rate_and_keyframes_are_written(tmp_path: Path) -> None:
    path = write_movie(
        tmp_path / "t.mp4",
        rate=Fraction(30000, 1001),
        frames=8,
        gop=4,
        matrix="bt601",
        transfer="iec61966-2-1",
        primaries="bt601",
        color_range="pc",
    )
    with av.open(path) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert (ctx.colorspace, ctx.color_trc, ctx.color_primaries) == (6, 13, 6)
        assert ctx.color_range == 2
        assert stream.average_rate == Fraction(30000, 1001)
        keys = [p.is_keyframe for p in container.demux(stream) if p.size]
    assert len(keys) == 8 and sum(keys) == 2


def test_untagged_movie_carries_no_tags(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "u.mp4", matrix=None, transfer=None, primaries=None)
    with av.open(path) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.colorspace, ctx.color_trc, ctx.color_primaries) == (2, 2, 2)


def test_vfr_movie_has_irregular_timestamps(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "v.webm", codec="vp9", vfr=True, frames=6)
    with av.open(path) as container:
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.size)
    deltas = {b - a for a, b in itertools.pairwise(pts)}
    assert len(deltas) >= 2 and max(deltas) >= 1.9 * min(deltas)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"codec": "av1"}, "codec: 'av1' is not allowed"),
        ({"codec": "vp9"}, r"path: .* is not allowed; allowed: \.mkv"),
        ({"alpha": True}, "only prores4444 and vp9 carry alpha"),
        ({"matrix": "bt470"}, "matrix: 'bt470' is not allowed; allowed: bt2020"),
        ({"color_range": "full"}, "color_range: 'full' is not allowed; allowed: pc"),
    ],
)
def test_bad_movie_options_are_option_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        write_movie(tmp_path / "x.mp4", **kwargs)  # type: ignore[arg-type]


def test_an_unwritable_movie_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(
        OutputError, match=r"no_dir/x\.mp4: the folder .* does not exist"
    ):
        write_movie(tmp_path / "no_dir" / "x.mp4")


def test_rvm_outputs_are_written_as_rvm_writes_them(tmp_path: Path) -> None:
    import av

    from aebridge.ingest import probe, read_frames

    movies = write_rvm_outputs(tmp_path / "v", frames=3, rate=Fraction(24000, 1001))
    assert [Path(m).name for m in movies] == ["fgr.mp4", "pha.mp4", "com.mp4"]
    with av.open(movies[0]) as container:
        stream = container.streams.video[0]
        # RVM passes the rate as text with four decimals: 23.9760, not 24000/1001.
        assert stream.average_rate == Fraction("23.9760")
        assert stream.codec_context.colorspace in (2, None)  # untagged
    # Its YUV is BT.601's, as PyAV's default swscale conversion makes RVM's: a disc
    # pixel's Y, Cb, Cr are the BT.601 limited-range values of the disc's colour.
    with av.open(movies[0]) as container:
        frame = next(container.decode(video=0))
        planes = [
            np.frombuffer(bytes(p), np.uint8).reshape(-1, p.line_size)
            for p in frame.planes
        ]
    r, g, b = np.array(SOLID_RGB) / 255
    y = 0.299 * r + 0.587 * g + 0.114 * b
    bt601 = (16 + 219 * y, 128 + 224 * (b - y) / 1.772, 128 + 224 * (r - y) / 1.402)
    row, col = 18, 18  # the disc's centre in frame 0 (x = 0.3 W, mid height)
    half = (row // 2, col // 2)
    got = (planes[0][row, col], planes[1][half], planes[2][half])
    assert np.abs(np.array(got, float) - np.array(bt601)).max() <= 2
    pha = probe(movies[1])
    ((_, grey),) = read_frames(pha, 0, 1)
    assert np.abs(grey[..., 0].astype(int) - grey[..., 2].astype(int)).max() <= 2
    folders = write_rvm_outputs(tmp_path / "p", frames=3, output_type="png_sequence")
    assert [Path(f).name for f in folders] == ["fgr", "pha", "com"]
    assert sorted(p.name for p in (tmp_path / "p" / "com").iterdir()) == [
        "0000.png",
        "0001.png",
        "0002.png",
    ]
    com = probe(str(tmp_path / "p" / "com"))
    assert com.has_alpha and com.channels == 4
    assert probe(str(tmp_path / "p" / "pha")).channels == 1
