"""EXR frames: atomic writes, exact compression, typed attributes, round trips."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import OpenEXR
import OpenImageIO as oiio
import pytest

from aebridge import exr
from aebridge.errors import OptionError, OutputError, SourceError
from aebridge.exr import ExrSettings, scanlines
from aebridge.exr import attributes as exr_attributes
from aebridge.fileio import is_temporary, temporary_path
from aebridge.sequence import find_sequence
from aebridge.timing import pack_timecode

H, W = 36, 64
REC709 = (0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329)


def frame(dtype: Any = np.float16, seed: int = 0) -> npt.NDArray[Any]:
    """A premultiplied RGBA frame: a soft blob on transparent black."""
    rng = np.random.default_rng(seed)
    rgba = np.zeros((H, W, 4), dtype=np.float32)
    rgba[8:28, 10:50, 3] = rng.uniform(0.05, 1.0, size=(20, 40))
    rgba[8:28, 10:50, :3] = (
        rng.uniform(0, 1.5, size=(20, 40, 3)) * rgba[8:28, 10:50, 3:]
    )
    return rgba.astype(dtype)


def attributes(frame_number: int = 1001) -> dict[str, object]:
    rate = Fraction(24000, 1001)
    return {
        "framesPerSecond": (rate.numerator, rate.denominator),
        "timeCode": pack_timecode(frame_number, rate),
        "chromaticities": REC709,
        "colorInteropID": "lin_rec709_scene",
        "pixelAspectRatio": 1.0,
        "owner": "Studio",
        "comments": "shot 010",
        "aebridge/layer": "fg",
        "aebridge/sourceFrame": "7",
    }


def oiio_spec(path: Path) -> Any:
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    spec = inp.spec()
    inp.close()
    return spec


# ------------------------------------------------------------------ compressions


def test_compressions_offered_and_their_lossy_flags() -> None:
    names = list(exr.COMPRESSIONS)
    assert names[:10] == [
        "none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab",
    ]  # fmt: skip
    lossy = {n for n, c in exr.COMPRESSIONS.items() if c.lossy}
    assert lossy == {"b44", "b44a", "dwaa", "dwab"}
    assert exr.COMPRESSIONS["pxr24"].lossy_float
    assert exr.DEFAULT_COMPRESSION == "zip"
    assert all(c.help for c in exr.COMPRESSIONS.values())


def test_htj2k_is_offered_with_a_reader_warning_when_openexr_can_write_it() -> None:
    if not hasattr(OpenEXR, "HTJ2K256_COMPRESSION"):
        assert "htj2k" not in exr.COMPRESSIONS
        return
    warning = exr.COMPRESSIONS["htj2k"].warning
    assert warning is not None and "After Effects" in warning


def test_unknown_compression_is_an_error_listing_the_choices() -> None:
    with pytest.raises(OptionError) as err:
        exr.validate_compression("zip9")
    text = str(err.value)
    assert text.startswith("--compression: 'zip9' is not allowed; allowed: none, rle")
    assert "dwaa (lossy)" in text


def test_compression_names_are_case_insensitive() -> None:
    assert exr.validate_compression(" PIZ ") == "piz"


@pytest.mark.parametrize("half", [True, False], ids=["half", "float"])
@pytest.mark.parametrize("compression", list(exr.COMPRESSIONS))
def test_every_compression_round_trips_and_is_written_as_named(
    tmp_path: Path, compression: str, half: bool
) -> None:
    rgba = frame(np.float16 if half else np.float32)
    path = tmp_path / "fg.1001.exr"
    exr.write_frame(
        path,
        rgba,
        settings=ExrSettings(half=half, compression=compression),
        attributes={},
    )
    info = exr.COMPRESSIONS[compression]
    # both readers agree on the compression actually in the file
    assert exr.read_header(path)["compression"] == compression
    oiio_name = {"htj2k": "htj2k256"}.get(compression, compression)
    assert oiio_spec(path).get_string_attribute("compression") == oiio_name
    assert oiio_spec(path).format == (oiio.HALF if half else oiio.FLOAT)
    back = exr.read_pixels(path)
    lossy = info.lossy if half else info.lossy_float
    if lossy:
        # uncorrelated noise is the worst case for the block codecs
        error = np.abs(back - rgba.astype(np.float32))
        assert error.mean() < 0.01
        assert error.max() < 0.3
    else:
        assert np.array_equal(back, rgba.astype(np.float32))


def test_float32_frames_are_written_as_half_when_half_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    rgba = frame(np.float32)
    exr.write_frame(path, rgba, settings=ExrSettings(), attributes={})
    assert oiio_spec(path).format == oiio.HALF
    assert np.array_equal(
        exr.read_pixels(path), rgba.astype(np.float16).astype(np.float32)
    )


# ------------------------------------------------------------------ windows


def test_full_frame_data_window_by_default(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes={})
    header = exr.read_header(path)
    assert header["dataWindow"] == header["displayWindow"] == (0, 0, W - 1, H - 1)


def test_autocrop_crops_the_data_window_to_the_alpha_bounds(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    rgba = frame()
    exr.write_frame(path, rgba, settings=ExrSettings(autocrop=True), attributes={})
    header = exr.read_header(path)
    assert header["dataWindow"] == (10, 8, 49, 27)
    assert header["displayWindow"] == (0, 0, W - 1, H - 1)
    spec = oiio_spec(path)
    assert (spec.x, spec.y, spec.width, spec.height) == (10, 8, 40, 20)
    assert (spec.full_width, spec.full_height) == (W, H)
    # placed back in the display window, outside the crop is 0
    assert np.array_equal(exr.read_pixels(path), rgba.astype(np.float32))


def test_autocrop_of_an_empty_frame_keeps_one_pixel_at_the_origin(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.exr"
    empty = np.zeros((H, W, 4), np.float16)
    exr.write_frame(path, empty, settings=ExrSettings(autocrop=True), attributes={})
    assert exr.read_header(path)["dataWindow"] == (0, 0, 0, 0)
    assert np.array_equal(exr.read_pixels(path), np.zeros((H, W, 4), np.float32))


def test_alpha_bounds() -> None:
    a = np.zeros((5, 7))
    assert exr.alpha_bounds(a) is None
    a[1, 2] = a[3, 5] = 0.5
    assert exr.alpha_bounds(a) == (2, 1, 5, 3)


# ------------------------------------------------------------------ attributes


def test_attributes_have_their_exr_types_as_openexr_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes=attributes())
    h = OpenEXR.File(str(path), header_only=True).header()
    assert h["framesPerSecond"] == Fraction(24000, 1001)
    tc = h["timeCode"]
    assert isinstance(tc, OpenEXR.TimeCode)
    assert (tc.hours, tc.minutes, tc.seconds, tc.frame) == (0, 0, 41, 17)
    np.testing.assert_allclose(h["chromaticities"], REC709, rtol=1e-7)
    assert h["colorInteropID"] == "lin_rec709_scene"
    assert h["pixelAspectRatio"] == 1.0
    assert h["owner"] == "Studio"
    assert h["comments"] == "shot 010"
    assert h["aebridge/layer"] == "fg"
    assert "capDate" not in h  # nothing time-dependent is added


def test_attributes_have_their_exr_types_as_openimageio_reads_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.exr"
    attrs = attributes(1001)
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes=attrs)
    spec = oiio_spec(path)
    types = {a.name: str(a.type) for a in spec.extra_attribs}
    assert types["framesPerSecond"] == "rational"
    assert types["smpte:TimeCode"] == "timecode"
    assert types["chromaticities"] == "float[8]"
    assert types["colorInteropID"] == "string"
    assert types["aebridge/sourceFrame"] == "string"
    assert spec.getattribute("framesPerSecond") == (24000, 1001)
    # the packed SMPTE word is stored bit for bit as timing.pack_timecode made it
    assert spec.getattribute("smpte:TimeCode") == attrs["timeCode"]
    assert spec.get_string_attribute("Copyright") == "Studio"  # OIIO's name for owner
    assert spec.get_string_attribute("ImageDescription") == "shot 010"


@pytest.mark.parametrize(
    ("frame_number", "rate", "text"),
    [
        (0, Fraction(24), "00:00:00:00"),
        (86400 + 23, Fraction(24), "01:00:00:23"),
        (1800, Fraction(30000, 1001), "00:01:00;02"),  # drop-frame skips 00 and 01
        (61, Fraction(60), "00:00:01:00"),  # 60 fps counts frame pairs
    ],
)
def test_timecodes_round_trip_and_decode(
    tmp_path: Path, frame_number: int, rate: Fraction, text: str
) -> None:
    path = tmp_path / "a.exr"
    packed = pack_timecode(frame_number, rate)
    attrs = {"timeCode": packed, "framesPerSecond": rate}
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes=attrs)
    assert exr.read_header(path)["timeCode"] == text
    assert exr.decode_timecode(packed[0]) == text
    assert oiio_spec(path).getattribute("smpte:TimeCode") == packed
    assert exr.read_header(path)["framesPerSecond"] == rate


def test_read_header_returns_plain_values(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes=attributes())
    h = exr.read_header(path)
    assert h["channels"] == ("A", "B", "G", "R")
    assert h["compression"] == "zip"
    assert h["chromaticities"] == REC709  # the float32 values, shown shortest
    assert h["screenWindowCenter"] == (0.0, 0.0)
    assert h["pixelAspectRatio"] == 1.0
    assert h["framesPerSecond"] == Fraction(24000, 1001)
    assert h["aebridge/sourceFrame"] == "7"
    assert list(h) == sorted(h)


def test_a_float_frame_rate_is_refused_because_readers_ignore_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(TypeError, match="framesPerSecond must be a Fraction"):
        exr.write_frame(
            tmp_path / "a.exr",
            frame(),
            settings=ExrSettings(),
            attributes={"framesPerSecond": 23.976},
        )
    assert os.listdir(tmp_path) == []


def test_attributes_may_not_override_the_structure(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="may not set compression, dataWindow"):
        exr.write_frame(
            tmp_path / "a.exr",
            frame(),
            settings=ExrSettings(),
            attributes={"dataWindow": (0, 0, 1, 1), "compression": "zip"},
        )


def test_write_output_is_deterministic(tmp_path: Path) -> None:
    for name in ("a.exr", "b.exr"):
        exr.write_frame(
            tmp_path / name, frame(), settings=ExrSettings(), attributes=attributes()
        )
    assert (tmp_path / "a.exr").read_bytes() == (tmp_path / "b.exr").read_bytes()


# ------------------------------------------------------------------ atomic writes


def test_a_frame_is_written_under_the_shared_hidden_temporary_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[tuple[str, str]] = []
    replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        renamed.append((os.fspath(src), os.fspath(dst)))
        replace(src, dst)

    monkeypatch.setattr(exr.os, "replace", recording_replace)
    path = tmp_path / "fg.1001.exr"
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes={})
    [(src, dst)] = renamed
    assert dst == str(path)
    assert os.path.dirname(src) == str(tmp_path)  # one folder: the rename is atomic
    name = os.path.basename(src)
    assert name.startswith(".") and is_temporary(name, "fg.1001.exr")
    assert os.listdir(tmp_path) == ["fg.1001.exr"]


def test_a_left_temporary_is_no_frame_of_the_sequence(tmp_path: Path) -> None:
    # A writer killed mid-frame leaves its temporary; no listing takes it for a frame.
    exr.write_frame(tmp_path / "fg.1001.exr", frame(), settings=ExrSettings(),
                    attributes={})  # fmt: skip
    (tmp_path / temporary_path(tmp_path / "fg.1002.exr").name).write_bytes(b"part")
    for where in (tmp_path, tmp_path / "fg.####.exr"):
        assert find_sequence(where).frame_numbers == (1001,)


def test_a_failed_rename_leaves_the_old_frame_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "fg.1001.exr"
    exr.write_frame(path, frame(seed=1), settings=ExrSettings(), attributes={})
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exr.os, "replace", broken_replace)
    with pytest.raises(OutputError) as err:
        exr.write_frame(path, frame(seed=2), settings=ExrSettings(), attributes={})
    assert str(err.value).startswith(f"{path}: cannot write the EXR frame")
    assert "No space left on device" in str(err.value)
    assert sorted(os.listdir(tmp_path)) == ["fg.1001.exr"]
    assert path.read_bytes() == before


def test_an_unwritable_folder_is_an_output_error_naming_the_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "missing" / "fg.1001.exr"
    with pytest.raises(OutputError, match=r"missing.fg\.1001\.exr: cannot write"):
        exr.write_frame(path, frame(), settings=ExrSettings(), attributes={})


def test_an_unknown_compression_in_settings_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="--compression"):
        exr.write_frame(
            tmp_path / "a.exr",
            frame(),
            settings=ExrSettings(compression="lzw"),
            attributes={},
        )
    assert os.listdir(tmp_path) == []


def test_only_float_rgba_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="H x W x 4 float RGBA, got uint8"):
        exr.write_frame(
            tmp_path / "a.exr", np.zeros((2, 2, 4), np.uint8), settings=ExrSettings(),
            attributes={},
        )  # fmt: skip


# ------------------------------------------------------------------ reading


def test_reading_a_missing_or_broken_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nope\.exr: not a readable OpenEXR file"):
        exr.read_header(tmp_path / "nope.exr")
    bad = tmp_path / "bad.exr"
    bad.write_bytes(b"not an exr at all")
    with pytest.raises(SourceError, match=r"bad\.exr: not a readable OpenEXR file"):
        exr.read_pixels(bad)


def test_reading_an_rgb_file_gives_alpha_one(tmp_path: Path) -> None:
    path = tmp_path / "rgb.exr"
    rgb = np.full((4, 6, 3), 0.5, np.float16)
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"RGB": rgb}).write(
        str(path)
    )
    back = exr.read_pixels(path)
    assert back.shape == (4, 6, 4)
    assert np.all(back[..., :3] == 0.5)
    assert np.all(back[..., 3] == 1.0)


# ------------------------------------------------------------------ the fast zip writer


def _binding_and_own(
    tmp_path: Path, rgba: npt.NDArray[Any], compression: str, autocrop: bool,
    attrs: dict[str, object], deflate: Any,
) -> tuple[Path, Path]:  # fmt: skip
    """The same frame written by the OpenEXR binding and by aebridge's own writer."""
    settings = ExrSettings(
        half=rgba.dtype == np.float16, compression=compression, autocrop=autocrop
    )
    ours, theirs = tmp_path / "ours.exr", tmp_path / "theirs.exr"
    saved = exr._FAST_DEFLATE
    try:
        exr._FAST_DEFLATE = None  # the binding
        exr.write_frame(theirs, rgba, settings=settings, attributes=attrs)
    finally:
        exr._FAST_DEFLATE = saved
    window = exr.read_header(theirs)["dataWindow"]
    x0, y0, x1, y1 = window  # type: ignore[misc]
    crop = rgba[y0 : y1 + 1, x0 : x1 + 1]
    scanlines.write_scanlines(
        str(ours),
        planes={n: np.ascontiguousarray(crop[..., c]) for c, n in enumerate("RGBA")},
        compression=compression,
        window=window,  # type: ignore[arg-type]
        display=(0, 0, W - 1, H - 1),
        attributes={k: exr_attributes.check_attribute(k, v) for k, v in attrs.items()},
        deflate=deflate,
    )
    return ours, theirs


@pytest.mark.parametrize("autocrop", [False, True], ids=["full", "autocrop"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["half", "float"])
def test_own_zip_files_read_back_like_the_bindings(
    tmp_path: Path, dtype: Any, autocrop: bool
) -> None:
    import zlib

    attrs = attributes()
    attrs["aebridge/provenance/negative_prompt"] = "blurry, läggy ✓"  # long, UTF-8
    attrs["aebridge/count"] = 3
    attrs["aebridge/gain"] = 0.5
    rgba = frame(dtype)
    ours, theirs = _binding_and_own(
        tmp_path, rgba, "zip", autocrop, attrs, lambda d: zlib.compress(d, 1)
    )
    assert exr.read_header(ours) == exr.read_header(theirs)
    assert np.array_equal(exr.read_pixels(ours), exr.read_pixels(theirs))
    assert np.array_equal(exr.read_pixels(ours), rgba.astype(np.float32))
    # OpenImageIO agrees on pixels, windows and attribute types
    a, b = oiio.ImageBuf(str(ours)), oiio.ImageBuf(str(theirs))
    assert np.array_equal(a.get_pixels(oiio.FLOAT), b.get_pixels(oiio.FLOAT))
    assert str(a.roi) == str(b.roi) and str(a.roi_full) == str(b.roi_full)
    types_a = {x.name: (str(x.type), x.value) for x in a.spec().extra_attribs}
    types_b = {x.name: (str(x.type), x.value) for x in b.spec().extra_attribs}
    assert types_a.pop("oiio:SourcePath") != types_b.pop("oiio:SourcePath")
    assert types_a == types_b


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["half", "float"])
def test_own_writer_stores_blocks_that_do_not_shrink_raw(
    tmp_path: Path, dtype: Any
) -> None:
    import zlib

    noise = np.random.default_rng(0).random((H, W, 4)).astype(dtype)
    ours, _ = _binding_and_own(
        tmp_path, noise, "zip", False, {}, lambda d: zlib.compress(d, 0)
    )
    assert np.array_equal(exr.read_pixels(ours), noise.astype(np.float32))


def test_own_writer_without_compression(tmp_path: Path) -> None:
    ours, theirs = _binding_and_own(tmp_path, frame(), "none", False, {}, None)
    assert exr.read_header(ours)["compression"] == "none"
    assert np.array_equal(exr.read_pixels(ours), exr.read_pixels(theirs))


def test_isal_deflates_zip_frames_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("isal")
    assert exr._FAST_DEFLATE is not None
    ours, theirs = _binding_and_own(
        tmp_path, frame(), "zip", False, attributes(), exr._FAST_DEFLATE
    )
    assert exr.read_header(ours) == exr.read_header(theirs)
    assert np.array_equal(exr.read_pixels(ours), exr.read_pixels(theirs))


def test_ints_beyond_32_bits_are_refused_not_truncated(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="does not fit an EXR int"):
        exr.write_frame(
            tmp_path / "a.exr", frame(), settings=ExrSettings(),
            attributes={"aebridge/big": 2**40},
        )  # fmt: skip


def test_pixel_aspect_is_a_float_attribute_even_from_a_fraction(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    attrs = {"pixelAspectRatio": Fraction(4, 3)}
    exr.write_frame(path, frame(), settings=ExrSettings(), attributes=attrs)
    types = {a.name: str(a.type) for a in oiio_spec(path).extra_attribs}
    assert types["PixelAspectRatio"] == "float"
    assert exr.read_header(path)["pixelAspectRatio"] == pytest.approx(4 / 3)


def _predicted_by_the_book(planes: list[npt.NDArray[Any]], lines: int) -> list[bytes]:
    """EXR zip's byte split and predictor, spelled out block by block."""
    height = planes[0].shape[0]
    out = []
    for y in range(0, height, lines):
        raw = b"".join(p[r].tobytes() for r in range(y, min(y + lines, height))
                       for p in planes)  # fmt: skip
        t = raw[0::2] + raw[1::2]
        d = bytes([t[0]]) + bytes(
            (t[i] - t[i - 1] + 128) % 256 for i in range(1, len(t))
        )
        out.append(d)
    return out


@pytest.mark.parametrize("dtype", [np.float16, np.float32], ids=["half", "float"])
@pytest.mark.parametrize("shape", [(32, 5), (37, 3), (7, 4)], ids=str)
def test_the_fast_zip_predictor_matches_the_format_byte_for_byte(
    dtype: Any, shape: tuple[int, int]
) -> None:
    rng = np.random.default_rng(7)
    rgba = (rng.standard_normal((*shape, 4)) * 100).astype(dtype)
    # As the pixel pipeline hands them over: channel-plane views, A B G R order.
    planes_rgba = np.ascontiguousarray(rgba.transpose(2, 0, 1))
    planes = [planes_rgba[c] for c in (3, 2, 1, 0)]
    whole = shape[0] - shape[0] % 16
    got = []
    if whole:
        got += [
            b.tobytes() for b in scanlines._predicted([p[:whole] for p in planes], 16)
        ]
    if whole < shape[0]:
        tail = [p[whole:] for p in planes]
        got += [b.tobytes() for b in scanlines._predicted(tail, shape[0] - whole)]
    assert got == _predicted_by_the_book(planes, 16)
    # And whole files: what the OpenEXR library reads back is the frame.
    import zlib

    blocks = scanlines._blocks(planes, 16, lambda b: zlib.compress(b, 6))
    assert len(blocks) == -(-shape[0] // 16)


def test_zip_blocks_are_the_same_whatever_the_batch_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import zlib

    rng = np.random.default_rng(3)
    base = np.ascontiguousarray((rng.random((4, 53, 9)) * 4).astype(np.float16))
    planes = [base[c] for c in (3, 2, 1, 0)]
    deflate = lambda b: zlib.compress(b, 6)  # noqa: E731
    whole = scanlines._blocks(planes, 16, deflate)
    for batch in (1, 9 * 8 * 16, 9 * 8 * 40):
        monkeypatch.setattr(scanlines, "_BATCH_BYTES", batch)
        assert scanlines._blocks(planes, 16, deflate) == whole
