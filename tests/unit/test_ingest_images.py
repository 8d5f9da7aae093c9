"""Image-sequence sources: exact pixels, alpha as stored, colour defaults, errors."""

from __future__ import annotations

import hashlib
import pickle
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from aebridge.errors import OptionError, SourceError
from aebridge.ingest import SourceInfo, file_sha256, probe, read_frames
from aebridge.synthetic import (
    frame_pixels,
    write_image_sequence,
    write_matte_sequence,
    write_png_sequence,
)

W, H = 64, 36


def read_all(info: SourceInfo) -> list[np.ndarray]:
    frames = list(read_frames(info, 0, info.frame_count))
    assert [i for i, _ in frames] == list(range(info.frame_count))
    return [pixels for _, pixels in frames]


def write_exr(path: Path, pixels: np.ndarray, **window: int) -> None:
    h, w, c = pixels.shape
    spec = oiio.ImageSpec(w, h, c, "half")
    for key, value in window.items():
        setattr(spec, key, value)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec)
    assert out.write_image(pixels)
    out.close()


def test_straight_alpha_png_reads_exactly_as_stored(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "fg", frames=4)
    info = probe(str(tmp_path / "fg.####.png"))
    assert (info.kind, info.width, info.height, info.frame_count) == ("images", W, H, 4)
    assert (info.channels, info.has_alpha, info.dtype) == (4, True, "uint8")
    assert info.rate is None and info.variable_rate is False
    assert info.frame_numbers == (1001, 1002, 1003, 1004)
    assert info.frame_files[0] == str(tmp_path / "fg.1001.png")
    assert info.pixel_aspect == Fraction(1)
    assert info.colour_tags == {}
    for index, pixels in enumerate(read_all(info)):
        expected = frame_pixels(index, W, H)
        np.testing.assert_array_equal(pixels, expected)
    # Colour under alpha 0 survives: OpenImageIO did not premultiply on read.
    clear = pixels[..., 3] == 0
    assert clear.any() and pixels[clear][:, :3].max() > 100


@pytest.mark.parametrize(
    ("ext", "alpha", "bit_depth", "dtype", "channels"),
    [
        ("png", None, 16, "uint16", 3),
        ("png", "straight", 16, "uint16", 4),
        ("tif", "straight", 8, "uint8", 4),
        ("tif", None, 16, "uint16", 3),
    ],
)
def test_lossless_formats_round_trip_exactly(
    tmp_path: Path,
    ext: str,
    alpha: str | None,
    bit_depth: int,
    dtype: str,
    channels: int,
) -> None:
    write_image_sequence(
        tmp_path,
        "x",
        frames=3,
        ext=ext,
        alpha=alpha,
        bit_depth=bit_depth,  # type: ignore[arg-type]
    )
    info = probe(str(tmp_path / f"x.%04d.{ext}"))
    assert (info.dtype, info.channels, info.has_alpha) == (dtype, channels, bool(alpha))
    assert info.colorspace == "sRGB Encoded Rec.709 (sRGB)"
    for index, pixels in enumerate(read_all(info)):
        expected = frame_pixels(index, W, H, alpha=alpha, bit_depth=bit_depth)  # type: ignore[arg-type]
        np.testing.assert_array_equal(pixels, expected)


def test_jpeg_reads_as_8bit_rgb_close_to_the_original(tmp_path: Path) -> None:
    write_image_sequence(tmp_path, "j", frames=2, ext="jpg", alpha=None)
    info = probe(str(tmp_path))
    assert (info.dtype, info.channels, info.has_alpha) == ("uint8", 3, False)
    pixels = read_all(info)[1]
    error = np.abs(pixels.astype(int) - frame_pixels(1, W, H, alpha=None).astype(int))
    assert error.mean() < 4


def test_exr_reads_half_float_premultiplied_and_linear(tmp_path: Path) -> None:
    write_image_sequence(tmp_path, "e", frames=2, ext="exr")
    info = probe(str(tmp_path / "e.1001-1002#.exr"))
    assert (info.dtype, info.channels, info.has_alpha) == ("float16", 4, True)
    assert info.colorspace == "Linear Rec.709 (sRGB)"
    assert "scene-linear" in info.colour_decision
    pixels = read_all(info)[0]
    straight = frame_pixels(0, W, H).astype(np.float32) / 255
    expected = straight.copy()
    expected[..., :3] *= straight[..., 3:4]
    np.testing.assert_array_equal(pixels, expected.astype(np.float16))


def test_exr_data_window_is_placed_in_the_display_window(tmp_path: Path) -> None:
    patch = np.full((4, 6, 4), 0.5, np.float16)
    write_exr(
        tmp_path / "d.0001.exr",
        patch,
        x=10,
        y=20,
        full_x=0,
        full_y=0,
        full_width=W,
        full_height=H,
    )
    info = probe(str(tmp_path / "d.####.exr"))
    assert (info.width, info.height) == (W, H)
    pixels = read_all(info)[0]
    assert pixels.shape == (H, W, 4)
    assert (pixels[20:24, 10:16] == 0.5).all()
    assert pixels.sum(dtype=np.float64) == pytest.approx(0.5 * patch.size)


def test_a_grey_matte_probes_as_one_channel(tmp_path: Path) -> None:
    write_matte_sequence(tmp_path, "m", frames=3)
    info = probe(str(tmp_path / "m.@@@@.png"))
    assert (info.channels, info.has_alpha, info.dtype) == (1, False, "uint8")
    pixels = read_all(info)[2]
    assert pixels.shape == (H, W, 1)
    np.testing.assert_array_equal(pixels[..., 0], frame_pixels(2, W, H)[..., 3])


def test_an_rgb_matte_probes_fine(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "rgbm", frames=2, alpha=None, pattern="disc")
    info = probe(str(tmp_path / "rgbm.####.png"))
    assert (info.channels, info.has_alpha) == (3, False)


def test_a_single_still_is_a_one_frame_source(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "still", frames=1, start=7)
    info = probe(str(tmp_path / "still.0007.png"))
    assert (info.frame_count, info.frame_numbers) == (1, (7,))
    np.testing.assert_array_equal(read_all(info)[0], frame_pixels(0, W, H))


@pytest.mark.parametrize(
    "name", ["logo@2x.png", "take#3.png", "fg_%d.png", "fg_$F4.png", "fg.####.png"]
)
def test_a_still_named_like_a_pattern_is_that_still(tmp_path: Path, name: str) -> None:
    # There as named, it was read as a pattern: 'cannot read the frame field' or
    # 'no file matches'.
    write_png_sequence(tmp_path, "still", frames=1, start=7)
    (tmp_path / "still.0007.png").rename(tmp_path / name)
    info = probe(str(tmp_path / name))
    assert (info.frame_count, info.frame_numbers) == (1, (0,))
    np.testing.assert_array_equal(read_all(info)[0], frame_pixels(0, W, H))


def test_chunks_read_the_same_frames_as_a_full_read(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "c", frames=6)
    info = probe(str(tmp_path / "c.####.png"))
    full = read_all(info)
    chunk = list(read_frames(info, 2, 5))
    assert [i for i, _ in chunk] == [2, 3, 4]
    for index, pixels in chunk:
        np.testing.assert_array_equal(pixels, full[index])
    assert list(read_frames(info, 3, 3)) == []


def test_source_info_survives_pickling(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "p", frames=2)
    info = probe(str(tmp_path / "p.####.png"))
    copy = pickle.loads(pickle.dumps(info))
    assert copy == info
    assert hash(copy) == hash(info)  # usable as a cache key
    np.testing.assert_array_equal(read_all(copy)[1], read_all(info)[1])


def test_colour_decision_records_the_default_and_an_override(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "cd", frames=1)
    info = probe(str(tmp_path / "cd.####.png"))
    assert info.colour_decision.startswith("8-bit png frames")
    assert "'sRGB Encoded Rec.709 (sRGB)'" in info.colour_decision
    given = probe(str(tmp_path / "cd.####.png"), colorspace="ACEScg")
    assert given.colorspace == "ACEScg"
    assert "'ACEScg' as given" in given.colour_decision
    with pytest.raises(
        OptionError, match="colorspace: 'sRGB' is not allowed; allowed:"
    ):
        probe(str(tmp_path / "cd.####.png"), colorspace="sRGB")


def test_a_size_change_names_the_file_and_frame(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "s", frames=3)
    write_png_sequence(tmp_path, "s", frames=1, start=1002, width=32)
    with pytest.raises(SourceError) as caught:
        probe(str(tmp_path / "s.####.png"))
    assert caught.value.path == str(tmp_path / "s.1002.png")
    assert caught.value.frame == 1002
    assert "size changes to 32x36 (the first frame is 64x36)" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alpha": None}, "channels change to 3 (the first frame has 4)"),
        ({"bit_depth": 16}, "pixel type changes to uint16 (the first frame is uint8)"),
    ],
)
def test_a_channel_or_depth_change_names_the_frame(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    write_png_sequence(tmp_path, "k", frames=3)
    write_png_sequence(tmp_path, "k", frames=1, start=1003, **change)  # type: ignore[arg-type]
    with pytest.raises(SourceError, match=re.escape(message)) as caught:
        probe(str(tmp_path / "k.####.png"))
    assert caught.value.frame == 1003


def test_a_change_after_probing_is_caught_while_reading(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "r", frames=3)
    info = probe(str(tmp_path / "r.####.png"))
    write_png_sequence(tmp_path, "r", frames=1, start=1002, height=18)
    frames = read_frames(info, 0, 3)
    next(frames)
    with pytest.raises(
        SourceError, match=r"r\.1002\.png, frame 1002: the size changes"
    ):
        next(frames)


def test_a_corrupt_frame_names_the_file_and_frame(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "bad", frames=3)
    (tmp_path / "bad.1002.png").write_bytes(b"this is not a png")
    with pytest.raises(SourceError) as caught:
        probe(str(tmp_path / "bad.####.png"))
    assert caught.value.frame == 1002
    assert caught.value.path == str(tmp_path / "bad.1002.png")
    assert "cannot open the image" in str(caught.value)


def test_a_truncated_frame_fails_on_reading_with_its_name(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "t", frames=2, pattern="gradient")
    target = tmp_path / "t.1002.png"
    data = target.read_bytes()
    info = probe(str(tmp_path / "t.####.png"))
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        SourceError, match=r"t\.1002\.png, frame 1002: cannot"
    ) as caught:
        list(read_frames(info, 0, 2))
    assert caught.value.frame == 1002


def test_a_frame_deleted_after_probing_is_named(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "gone", frames=3)
    info = probe(str(tmp_path / "gone.####.png"))
    (tmp_path / "gone.1003.png").unlink()
    with pytest.raises(SourceError, match=r"gone\.1003\.png, frame 1003: .*missing"):
        list(read_frames(info, 2, 3))


def test_a_gap_in_the_sequence_is_an_error(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "gap", frames=5)
    (tmp_path / "gap.1003.png").unlink()
    with pytest.raises(SourceError, match=r"missing frame\(s\) 1003 between 1001"):
        probe(str(tmp_path / "gap.####.png"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("absent.png", "no such file, folder or sequence pattern"),
        ("absent_folder/", "no such file"),
    ],
)
def test_missing_sources_are_named(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        probe(str(tmp_path / name))
    assert caught.value.path is not None


_READ = (
    "allowed: images (.exr, .jpeg, .jpg, .png, .tif, .tiff) and movies (.avi, .m4v, "
    ".mkv, .mov, .mp4, .mxf, .webm)"
)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("notes.txt", f"aebridge does not read .txt files; {_READ}"),
        # A pattern or a file of a format not read was 'no such file, folder or
        # sequence pattern'.
        ("x.####.tga", f"aebridge does not read .tga files; {_READ}"),
        ("x.%04d.TGA", f"aebridge does not read .TGA files; {_READ}"),
        ("absent.dpx", f"aebridge does not read .dpx files; {_READ}"),
        ("x.####", f"the name has no extension; {_READ}"),
    ],
)
def test_an_unknown_file_type_lists_what_is_read(
    tmp_path: Path, name: str, message: str
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    for n in (1, 2, 3):
        (tmp_path / f"x.{n:04d}.tga").write_bytes(b"")
    with pytest.raises(SourceError) as caught:
        probe(str(tmp_path / name))
    assert str(caught.value) == f"{tmp_path / name}: {message}"


def test_read_frames_refuses_a_range_outside_the_source(tmp_path: Path) -> None:
    write_png_sequence(tmp_path, "o", frames=2)
    info = probe(str(tmp_path / "o.####.png"))
    with pytest.raises(OptionError, match=r"0 <= start <= stop <= 2"):
        read_frames(info, 1, 3)


def test_unknown_vfr_mode_is_an_option_error(tmp_path: Path) -> None:
    with pytest.raises(
        OptionError, match="vfr: 'drop' is not allowed; allowed: refuse"
    ):
        probe(str(tmp_path / "x.####.png"), vfr="drop")


def test_file_sha256_streams_the_file(tmp_path: Path) -> None:
    target = tmp_path / "blob.bin"
    data = bytes(range(256)) * 9000  # larger than one 1 MiB chunk
    target.write_bytes(data)
    assert file_sha256(target) == hashlib.sha256(data).hexdigest()
    with pytest.raises(SourceError, match=r"nope\.bin: cannot read the file"):
        file_sha256(tmp_path / "nope.bin")
