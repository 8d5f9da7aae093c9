"""Movie sources: codecs, exact rates, frame counts, colour decisions, alpha, VFR."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from aebridge.errors import OptionError, SourceError  # noqa: E402
from aebridge.ingest import SourceInfo, probe, read_frames  # noqa: E402
from aebridge.synthetic import SOLID_RGB, frame_pixels, write_movie  # noqa: E402

W, H = 64, 36
NTSC = Fraction(24000, 1001)


def read_all(info: SourceInfo) -> list[np.ndarray]:
    frames = list(read_frames(info, 0, info.frame_count))
    assert [i for i, _ in frames] == list(range(info.frame_count))
    return [pixels for _, pixels in frames]


def mean_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


@pytest.fixture(scope="module")
def movies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One tiny movie per container/codec, written once for the module."""
    folder = tmp_path_factory.mktemp("movies")
    made = {
        "h264": write_movie(
            folder / "h264.mp4", codec="h264", rate=NTSC, gop=4, frames=12
        ),
        "hevc": write_movie(folder / "hevc.mp4", codec="hevc", rate=NTSC),
        "prores": write_movie(
            folder / "prores.mov", codec="prores4444", rate=NTSC, alpha=True, frames=12
        ),
        "vp9": write_movie(
            folder / "vp9.webm", codec="vp9", rate=NTSC, alpha=True, gop=4, frames=12
        ),
        "vp9_opaque": write_movie(folder / "vp9o.webm", codec="vp9", rate=NTSC),
    }
    return {key: str(value) for key, value in made.items()}


@pytest.mark.parametrize(
    ("key", "codec", "decoder", "frames", "dtype", "channels"),
    [
        ("h264", "h264", "h264", 12, "uint8", 3),
        ("hevc", "hevc", "hevc", 8, "uint8", 3),
        ("prores", "prores", "prores", 12, "uint16", 4),
        ("vp9", "vp9", "libvpx-vp9", 12, "uint8", 4),
        ("vp9_opaque", "vp9", "vp9", 8, "uint8", 3),
    ],
)
def test_each_codec_round_trips(
    movies: dict[str, str],
    key: str,
    codec: str,
    decoder: str,
    frames: int,
    dtype: str,
    channels: int,
) -> None:
    info = probe(movies[key])
    assert (info.kind, info.codec, info.decoder) == ("movie", codec, decoder)
    assert (info.width, info.height, info.frame_count) == (W, H, frames)
    assert (info.dtype, info.channels, info.has_alpha) == (
        dtype,
        channels,
        channels == 4,
    )
    assert info.rate == NTSC and isinstance(info.rate, Fraction)
    assert info.variable_rate is False
    assert info.frame_files == () and info.frame_numbers == ()
    assert info.pixel_aspect == Fraction(1)
    deep = dtype == "uint16"
    top = 65535 if deep else 255
    for index, pixels in enumerate(read_all(info)):
        assert pixels.dtype == np.dtype(dtype) and pixels.shape == (H, W, channels)
        expected = frame_pixels(
            index,
            W,
            H,
            alpha="straight" if channels == 4 else None,
            bit_depth=16 if deep else 8,
        )
        # Lossy 4:2:0 codecs blur colour edges; the mean stays within 3 % of full scale.
        assert mean_error(pixels[..., :3], expected[..., :3]) < 0.03 * top
        if channels == 4:
            assert mean_error(pixels[..., 3], expected[..., 3]) < 0.02 * top


def test_source_info_of_a_movie_survives_pickling(movies: dict[str, str]) -> None:
    info = probe(movies["vp9"])
    copy = pickle.loads(pickle.dumps(info))
    assert copy == info and copy.colour_tags == info.colour_tags
    assert hash(copy) == hash(info)
    np.testing.assert_array_equal(
        next(read_frames(copy, 2, 3))[1], next(read_frames(info, 2, 3))[1]
    )


@pytest.mark.parametrize("key", ["h264", "vp9", "prores"])
def test_a_chunk_decodes_the_same_pixels_as_a_full_decode(
    movies: dict[str, str], key: str
) -> None:
    info = probe(movies[key])
    full = read_all(info)
    for start, stop in ((5, 9), (8, info.frame_count), (0, 1)):
        chunk = list(read_frames(info, start, stop))
        assert [i for i, _ in chunk] == list(range(start, stop))
        for index, pixels in chunk:
            np.testing.assert_array_equal(pixels, full[index])


def test_chunks_start_from_a_keyframe_after_the_first(movies: dict[str, str]) -> None:
    info = probe(movies["h264"])
    assert len(info.keyframe_pts) >= 3  # gop=4 over 12 frames: the seek is exercised


@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [
        ("mp4", "h264", Fraction(30000, 1001)),
        ("mp4", "h264", Fraction(25)),
        ("mov", "prores4444", Fraction(24)),
        ("webm", "vp9", Fraction(24000, 1001)),
        ("webm", "vp9", Fraction(60000, 1001)),
        ("mp4", "h264", Fraction(60)),
    ],
)
def test_rates_are_exact_fractions(
    tmp_path: Path, container: str, codec: str, rate: Fraction
) -> None:
    path = write_movie(tmp_path / f"r.{container}", codec=codec, rate=rate, frames=6)
    info = probe(path)
    assert info.rate == rate
    assert info.frame_count == 6


def test_the_frame_count_comes_from_packets_when_the_header_has_none(
    movies: dict[str, str],
) -> None:
    with av.open(movies["vp9"]) as container:
        assert container.streams.video[0].frames == 0  # WebM stores no count
    assert probe(movies["vp9"]).frame_count == 12


def test_colour_tags_and_decision_are_recorded(movies: dict[str, str]) -> None:
    info = probe(movies["h264"])
    assert dict(info.colour_tags) == {
        "matrix": "bt709",
        "range": "tv",
        "transfer": "bt709",
        "primaries": "bt709",
    }
    assert info.colorspace == "Gamma 2.4 Encoded Rec.709"
    assert info.colour_decision == (
        "YUV matrix bt709 as tagged; limited range as tagged; transfer bt709, "
        "primaries bt709 as tagged: 'Gamma 2.4 Encoded Rec.709'."
    )


def test_an_srgb_tagged_movie_defaults_to_srgb(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "s.mp4", transfer="iec61966-2-1", frames=2)
    info = probe(path)
    assert info.colour_tags["transfer"] == "iec61966-2-1"
    assert info.colorspace == "sRGB Encoded Rec.709 (sRGB)"


def test_an_untagged_transfer_is_read_as_rec709_and_says_so(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "u.mp4", transfer=None, primaries=None, frames=2)
    info = probe(path)
    assert info.colour_tags["transfer"] == "unspecified"
    assert info.colorspace == "Gamma 2.4 Encoded Rec.709"
    assert "untagged transfer read as BT.709/BT.1886" in info.colour_decision


@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"])
def test_hdr_transfers_are_read_or_taken_as_given(
    tmp_path: Path, transfer: str
) -> None:
    path = write_movie(tmp_path / "hdr.mp4", transfer=transfer, frames=2)
    info = probe(path)
    assert info.encoding is not None
    assert info.encoding.curves[0].kind == ("pq" if transfer == "smpte2084" else "hlg")
    assert "reference white (203 cd/m2" in info.colour_decision
    info = probe(path, colorspace="Linear Rec.2020")
    assert info.colorspace == "Linear Rec.2020" and info.encoding is None
    assert (
        f"'Linear Rec.2020' as given (transfer tag {transfer})" in info.colour_decision
    )


def test_an_unknown_transfer_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "log.mp4", transfer="log100", frames=2)
    with pytest.raises(SourceError, match="the transfer 'log100' is not supported"):
        probe(path)


def solid_movie(path: Path, height: int, **tags: object) -> SourceInfo:
    write_movie(path, pattern="solid", frames=2, width=64, height=height, **tags)  # type: ignore[arg-type]
    return probe(str(path))


def test_untagged_hd_is_decoded_as_bt709_keeping_the_hue(tmp_path: Path) -> None:
    info = solid_movie(
        tmp_path / "hd.mp4",
        720,
        matrix=None,
        transfer=None,
        primaries=None,
        encode_matrix="bt709",
    )
    assert info.colour_tags["matrix"] == "unspecified"
    assert info.matrix == "itu709"
    assert "untagged YUV matrix read as BT.709 because the picture is HD" in (
        info.colour_decision
    )
    pixels = read_all(info)[0]
    assert np.abs(pixels[100, 30].astype(int) - SOLID_RGB).max() <= 3
    # FFmpeg's own conversion assumes BT.601 and shifts this red towards orange.
    with av.open(str(tmp_path / "hd.mp4")) as container:
        frame = next(container.decode(video=0))
        naive = frame.to_ndarray(format="rgb24")[100, 30].astype(int)
    assert np.abs(naive - SOLID_RGB).max() > 10


def test_untagged_sd_is_decoded_as_bt601(tmp_path: Path) -> None:
    info = solid_movie(
        tmp_path / "sd.mp4",
        36,
        matrix=None,
        transfer=None,
        primaries=None,
        encode_matrix="bt601",
    )
    assert info.matrix == "itu601"
    assert "BT.601 because the picture is SD (36 lines < 720)" in info.colour_decision
    assert np.abs(read_all(info)[1][10, 30].astype(int) - SOLID_RGB).max() <= 3


def test_a_tagged_bt601_hd_movie_follows_its_tag(tmp_path: Path) -> None:
    info = solid_movie(tmp_path / "t601.mp4", 720, matrix="bt601", primaries="bt601")
    assert (info.colour_tags["matrix"], info.matrix) == ("smpte170m", "itu601")
    assert np.abs(read_all(info)[0][5, 5].astype(int) - SOLID_RGB).max() <= 3


def test_full_range_is_honoured(tmp_path: Path) -> None:
    info = solid_movie(tmp_path / "pc.mp4", 36, color_range="pc")
    assert (info.colour_tags["range"], info.color_range) == ("pc", "JPEG")
    assert "full range as tagged" in info.colour_decision
    assert np.abs(read_all(info)[0][5, 5].astype(int) - SOLID_RGB).max() <= 3


def test_vp9_alpha_survives_only_with_libvpx(movies: dict[str, str]) -> None:
    info = probe(movies["vp9"])
    alpha = read_all(info)[3][..., 3]
    expected = frame_pixels(3, W, H)[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255
    assert mean_error(alpha, expected) < 3
    # The reason for libvpx-vp9: FFmpeg's built-in decoder returns no alpha at all.
    with av.open(movies["vp9"]) as container:
        frame = next(container.decode(video=0))
    assert not any(c.is_alpha for c in frame.format.components)


def test_prores_4444_alpha_is_16_bit_with_exact_ends(movies: dict[str, str]) -> None:
    pixels = read_all(probe(movies["prores"]))[0]
    expected = frame_pixels(0, W, H, bit_depth=16)[..., 3]
    alpha = pixels[..., 3]
    assert alpha.dtype == np.uint16
    assert alpha.min() == 0 and alpha.max() == 65535  # opaque stays exactly 1.0
    np.testing.assert_array_equal(alpha == 0, expected == 0)
    assert mean_error(alpha, expected) < 0.002 * 65535


@pytest.fixture(scope="module")
def vfr_movie(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("vfr")
    return str(write_movie(folder / "vfr.mp4", vfr=True, frames=9, rate=Fraction(24)))


def test_variable_rate_is_refused_with_advice(vfr_movie: str) -> None:
    with pytest.raises(SourceError) as caught:
        probe(vfr_movie)
    message = str(caught.value)
    assert message.startswith(f"{vfr_movie}: variable frame rate: frame durations vary")
    assert "20.83 ms to 41.67 ms" in message
    assert "--vfr resample" in message


def test_variable_rate_resamples_to_the_nearest_earlier_frame(vfr_movie: str) -> None:
    info = probe(vfr_movie, vfr="resample", rate=Fraction(24))
    assert info.variable_rate is True and info.rate == Fraction(24)
    # Timestamps (in 1/48 s) are 0 2 3 5 7 8 10 12 13; the last lasts 2: 15/48 s long,
    # so 24 fps gives round(15/48 * 24) = 8 frames at 0 2 4 6 8 10 12 14 (1/48 s).
    tb = info.time_base
    assert tb is not None
    shown = [round(p * tb * 48) for p in info.frame_pts]
    assert shown == [0, 2, 3, 5, 8, 10, 12, 13]
    assert info.frame_count == 8
    assert any(
        "resampled from variable rate (9 frames) to 24 fps" in n for n in info.notes
    )
    full = read_all(info)
    source = probe(vfr_movie, vfr="resample", rate=Fraction(48))
    source_frames = read_all(source)  # at 48 fps every tick is a frame
    by_tick = {round(p * tb * 48): k for k, p in enumerate(source.frame_pts)}
    for k, tick in enumerate(shown):
        np.testing.assert_array_equal(full[k], source_frames[by_tick[tick]])
    chunk = list(read_frames(info, 3, 7))
    for index, pixels in chunk:
        np.testing.assert_array_equal(pixels, full[index])


def test_repeated_frames_are_separate_arrays(vfr_movie: str) -> None:
    info = probe(vfr_movie, vfr="resample", rate=Fraction(48))
    frames = read_all(info)
    repeats = [
        k for k in range(1, len(frames)) if info.frame_pts[k] == info.frame_pts[k - 1]
    ]
    assert repeats
    frames[repeats[0] - 1][0, 0, 0] ^= 1
    assert frames[repeats[0]][0, 0, 0] != frames[repeats[0] - 1][0, 0, 0]


def test_a_constant_rate_movie_can_be_resampled_to_another_rate(
    movies: dict[str, str],
) -> None:
    info = probe(movies["h264"], vfr="resample", rate=NTSC / 2)
    assert (info.rate, info.frame_count, info.variable_rate) == (NTSC / 2, 6, False)
    full = read_all(probe(movies["h264"]))
    for index, pixels in enumerate(read_all(info)):
        np.testing.assert_array_equal(pixels, full[2 * index])


def test_a_missing_movie_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"gone\.mp4: the movie file does not exist"):
        probe(str(tmp_path / "gone.mp4"))


def test_an_unreadable_movie_gives_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "junk.mov"
    path.write_bytes(b"\x00" * 64 + b"not a movie at all" * 20)
    with pytest.raises(
        SourceError, match=r"junk\.mov: cannot open the movie: "
    ) as caught:
        probe(str(path))
    assert caught.value.__cause__ is not None
    # FFmpeg's reason without PyAV's errno and repeated file name, then what is read.
    message = str(caught.value)
    assert "Invalid data found when processing input" in message
    assert "Errno" not in message and message.count("junk.mov") == 1
    assert "allowed: a movie FFmpeg reads" in message


def test_an_unreadable_movie_lists_every_kind_read_as_a_movie(tmp_path: Path) -> None:
    # The list was a second, hand-written copy of MOVIE_EXTENSIONS, and left out
    # .m4v, which is read as a movie.
    from aebridge.formats import MOVIE_EXTENSIONS

    path = tmp_path / "junk.mov"
    path.write_bytes(b"not a movie at all" * 20)
    with pytest.raises(SourceError) as caught:
        probe(str(path))
    listed = str(caught.value).rpartition("allowed: a movie FFmpeg reads (")[2]
    kinds = {kind.lower() for kind in listed.rstrip(")").split(", ")}
    assert kinds == {ext.lstrip(".") for ext in MOVIE_EXTENSIONS}


def test_a_movie_that_cannot_seek_is_a_source_error(tmp_path: Path) -> None:
    # FFmpeg opens a .m4v by its name as a raw MPEG-4 video stream (text renamed
    # .m4v too), which cannot seek: the probe's seek to the first frame escaped as
    # av.error.PermissionError, a traceback.
    path = tmp_path / "notes.m4v"
    path.write_bytes(b"not a movie at all" * 20)
    with pytest.raises(SourceError) as caught:
        probe(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot seek in the movie (m4v format): ")
    assert "Errno" not in message and "\n" not in message
    assert "allowed: a movie FFmpeg reads (" in message


def test_a_truncated_movie_is_a_source_error(
    movies: dict[str, str], tmp_path: Path
) -> None:
    data = Path(movies["hevc"]).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(SourceError, match=r"cut\.mp4: "):
        info = probe(str(path))
        read_all(info)


def test_a_file_without_video_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audio.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(
        SourceError,
        match=r"audio\.mkv: the file has no video stream \(streams found: audio\)",
    ):
        probe(str(path))


def _decode_chunk(info: SourceInfo, start: int, stop: int) -> list[np.ndarray]:
    return [pixels for _, pixels in read_frames(info, start, stop)]


def test_worker_processes_decode_their_own_chunks(movies: dict[str, str]) -> None:
    from concurrent.futures import ProcessPoolExecutor

    info = probe(movies["vp9"])
    full = read_all(info)
    bounds = [(0, 4), (4, 8), (8, 12)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        chunks = list(pool.map(_decode_chunk, [info] * 3, *zip(*bounds, strict=True)))
    decoded = [pixels for chunk in chunks for pixels in chunk]
    assert len(decoded) == 12
    for index, pixels in enumerate(decoded):
        np.testing.assert_array_equal(pixels, full[index])


def _retimed(
    source: str, target: Path, pts_of: Callable[[int], int], tb: Fraction
) -> str:
    """``source`` (intra frames only) muxed again with timestamps ``pts_of(k)`` in
    ``tb``."""
    with av.open(source) as src, av.open(str(target), "w") as dst:
        stream_in = src.streams.video[0]
        stream_out = dst.add_stream_from_template(stream_in)
        stream_out.time_base = tb
        for k, packet in enumerate(p for p in src.demux(stream_in) if p.size):
            packet.stream = stream_out
            packet.time_base = tb
            packet.pts = packet.dts = pts_of(k)
            packet.duration = pts_of(k + 1) - pts_of(k)
            dst.mux(packet)
    return str(target)


def test_timestamps_rounded_to_milliseconds_are_a_constant_rate(
    tmp_path: Path,
) -> None:
    # A 23.976 fps clip remuxed from Matroska keeps its millisecond timestamps in a
    # 1/90000 time base: durations alternate 41 and 42 ms (2.4 % of a frame), which
    # is rounding, not a variable rate.
    source = write_movie(
        tmp_path / "src.mp4", frames=12, rate=Fraction(24000, 1001), gop=1
    )
    retimed = _retimed(
        source,
        tmp_path / "ms.mp4",
        lambda k: round(Fraction(k * 1001, 24)) * 90,
        Fraction(1, 90000),
    )
    info = probe(retimed)
    assert info.variable_rate is False
    assert info.rate == Fraction(24000, 1001)
    assert info.frame_count == 12


# -- a YUV matrix given instead of the tag (yuv_matrix, --yuv-matrix) ------------------


def test_a_given_matrix_wins_over_the_hd_default_and_says_so(tmp_path: Path) -> None:
    # Encoded BT.601 and untagged at 720 lines, as Robust Video Matting's writer does.
    path = tmp_path / "rvm.mp4"
    write_movie(
        path,
        pattern="solid",
        frames=2,
        width=64,
        height=720,
        matrix=None,
        transfer=None,
        primaries=None,
        encode_matrix="bt601",
    )
    assert np.abs(read_all(probe(str(path)))[0][100, 30] - SOLID_RGB).max() > 10
    info = probe(str(path), yuv_matrix="bt601")
    assert info.matrix == "itu601" and info.yuv_matrix == "bt601" and info.yuv
    assert "YUV matrix bt601 as given (tag: unspecified)" in info.colour_decision
    assert np.abs(read_all(info)[0][100, 30].astype(int) - SOLID_RGB).max() <= 3


def test_a_given_matrix_wins_over_a_tag(tmp_path: Path) -> None:
    info = solid_movie(tmp_path / "t709.mp4", 36, matrix="bt709")
    assert info.matrix == "itu709"
    given = probe(str(tmp_path / "t709.mp4"), yuv_matrix="bt2020")
    assert given.matrix == "bt2020"
    assert "YUV matrix bt2020 as given (tag: bt709)" in given.colour_decision


def _yuv_to_rgb(rgb: tuple[int, ...], encode: str, decode: str) -> np.ndarray:
    """RGB made YCbCr with one matrix and read back with another (full precision)."""
    k = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114)}
    r, g, b = np.array(rgb, np.float64)
    kr, kb = k[encode]
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
    kr, kb = k[decode]
    r, b = y + 2 * (1 - kr) * cr, y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.array([r, g, b]), 0, 255)


def test_a_given_matrix_reaches_the_exact_deep_decode(tmp_path: Path) -> None:
    # 10-bit 4:4:4 is converted from its planes by aebridge's own formula, not by
    # swscale. (prores_ks tags the matrix its frames were made with, so this is a
    # BT.709 movie read as BT.601 on purpose, checked against the formulas.)
    path = tmp_path / "deep.mov"
    write_movie(
        path,
        codec="prores4444",
        pattern="solid",
        frames=1,
        width=64,
        height=720,
        matrix=None,
        encode_matrix="bt709",
    )
    default = read_all(probe(str(path)))[0][100, 30] / 257.0
    assert np.abs(default - SOLID_RGB).max() <= 1
    info = probe(str(path), yuv_matrix="bt601")
    assert info.dtype == "uint16" and info.matrix == "itu601"
    given = read_all(info)[0][100, 30] / 257.0
    expected = _yuv_to_rgb(SOLID_RGB, "bt709", "bt601")
    assert np.abs(expected - SOLID_RGB).max() > 10
    assert np.abs(given - expected).max() <= 1


def test_an_image_sequence_refuses_a_yuv_matrix_naming_file_and_field(
    tmp_path: Path,
) -> None:
    from aebridge.synthetic import write_png_sequence

    write_png_sequence(tmp_path, "fg", frames=1, width=8, height=8)
    with pytest.raises(SourceError) as caught:
        probe(str(tmp_path / "fg.####.png"), yuv_matrix="bt601")
    message = str(caught.value)
    assert "yuv_matrix, --yuv-matrix" in message and "only to YUV movies" in message
    assert "fg" in message and "\n" not in message


def test_an_unknown_yuv_matrix_is_refused_listing_the_choices(tmp_path: Path) -> None:
    path = write_movie(tmp_path / "m.mp4", frames=1)
    with pytest.raises(OptionError, match="'bt470' is not allowed; allowed: bt709"):
        probe(path, yuv_matrix="bt470")
