"""Movies read as their streams say: full scale, decoder choice, edits, rates, sizes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

av = pytest.importorskip("av")

from aebridge import _native  # noqa: E402
from aebridge.errors import SourceError  # noqa: E402
from aebridge.ingest import probe, read_frames  # noqa: E402
from aebridge.ingest.movie import read_movie_frames  # noqa: E402
from aebridge.ingest.moviepixels import yuv_rule  # noqa: E402

Ffmpeg = Callable[..., Path]


def _encode(
    path: Path,
    encoder: str,
    pix_fmt: str,
    frames: list[np.ndarray],
    *,
    fmt: str = "rgb48le",
    rate: Fraction = Fraction(25),
    options: dict[str, str] | None = None,
) -> Path:
    container = av.open(str(path), "w")
    stream = container.add_stream(encoder, rate=rate)
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = pix_fmt
    if options:
        stream.options = options
    for index, pixels in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(pixels, format=fmt)
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def _luma_planes(path: Path) -> list[tuple[np.ndarray, int]]:
    """The decoded luma codes of each frame, with their bit depth."""
    with av.open(str(path)) as container:
        out = []
        for frame in container.decode(video=0):
            bits = frame.format.components[0].bits
            plane = frame.planes[0]
            raw = np.frombuffer(plane, np.uint16).reshape(frame.height, -1)
            out.append((raw[:, : frame.width].copy(), bits))
    return out


@pytest.mark.parametrize(
    ("encoder", "pix_fmt"),
    [
        ("prores_ks", "yuv422p10le"),  # ProRes 422 HQ: white came out at 0.9961
        ("prores_ks", "yuva444p10le"),  # ProRes 4444 with alpha
        ("libx265", "yuv420p10le"),
        ("libx265", "yuv420p12le"),
    ],
)
def test_deep_full_scale_is_exactly_one(
    tmp_path: Path, encoder: str, pix_fmt: str
) -> None:
    greys = [0, 16384, 32768, 65535]
    frames = [np.full((16, 32, 3), g, np.uint16) for g in greys]
    options = {"x265-params": "log-level=error:lossless=1"} if "265" in encoder else {}
    path = _encode(tmp_path / "grey.mov", encoder, pix_fmt, frames, options=options)
    info = probe(path)
    assert info.dtype == "uint16"
    got = [pixels for _, pixels in read_frames(info, 0, info.frame_count)]
    for pixels, (luma, bits) in zip(got, _luma_planes(path), strict=True):
        black, span = 16 << (bits - 8), 219 << (bits - 8)
        # Grey pictures: R = G = B = the limited-range luma scaled to 0..65535.
        expected = np.clip(
            np.round((luma.astype(np.float64) - black) / span * 65535), 0, 65535
        )
        for c in range(3):
            np.testing.assert_array_equal(pixels[..., c], expected)
    assert got[-1][..., :3].min() == 65535  # white is full scale, not 65283
    assert got[0][..., :3].max() == 0


def _vp9_packets(width: int, height: int, count: int) -> list[object]:
    codec = av.CodecContext.create("libvpx-vp9", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 25)
    packets: list[object] = []
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(
            np.full((height, width, 3), 40 * index, np.uint8), format="rgb24"
        )
        frame.pts = index
        packets.extend(codec.encode(frame))
    packets.extend(codec.encode(None))
    return packets


def test_a_size_change_mid_movie_names_the_frame_and_both_sizes(
    tmp_path: Path,
) -> None:
    # VP9 keyframes carry their own size, so one stream can change size (as WebRTC
    # recordings do): three frames at 64x32, then three at 48x32.
    path = tmp_path / "resize.webm"
    container = av.open(str(path), "w")
    stream = container.add_stream("libvpx-vp9", rate=25)
    stream.width, stream.height = 64, 32
    stream.time_base = Fraction(1, 25)
    first, second = _vp9_packets(64, 32, 3), _vp9_packets(48, 32, 3)
    for index, packet in enumerate([*first, *second]):
        packet.stream = stream  # type: ignore[attr-defined]
        packet.pts = packet.dts = index  # type: ignore[attr-defined]
        packet.time_base = Fraction(1, 25)  # type: ignore[attr-defined]
        container.mux(packet)
    container.close()
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (64, 32, 6)
    with pytest.raises(SourceError) as caught:
        list(read_frames(info, 0, 6))
    text = str(caught.value)
    assert "resize.webm" in text and "frame 3" in text
    assert "64x32" in text and "48x32" in text


def test_vp8_alpha_is_kept(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    # Alpha ramps 0, 4, ... 252 across the picture; VP8 codes it as its own picture.
    path = ffmpeg(
        "-f", "lavfi", "-i",
        "color=s=64x32:r=25:d=0.2,format=rgba,geq=r=200:g=50:b=10:a=X*4",
        "-c:v", "libvpx", "-pix_fmt", "yuva420p", "-auto-alt-ref", "0",
        output=tmp_path / "vp8a.webm",
    )  # fmt: skip
    info = probe(path)
    assert (info.codec, info.decoder, info.has_alpha) == ("vp8", "libvpx", True)
    assert any("libvpx" in note and "alpha" in note for note in info.notes)
    frames = [pixels for _, pixels in read_frames(info, 0, info.frame_count)]
    assert len(frames) == 5
    ramp = np.arange(64) * 4
    assert np.abs(frames[0][16, :, 3].astype(int) - ramp).max() <= 3


def test_ten_bit_vp9_decodes_with_ffmpegs_decoder(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    path = ffmpeg(
        "-f", "lavfi", "-i", "color=c=white:s=64x32:r=25:d=0.2",
        "-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p10le", "-profile:v", "2",
        "-lossless", "1",
        output=tmp_path / "vp9p2.webm",
    )  # fmt: skip
    info = probe(path)
    assert (info.codec, info.decoder, info.dtype) == ("vp9", "vp9", "uint16")
    frames = [pixels for _, pixels in read_frames(info, 0, info.frame_count)]
    assert len(frames) == 5
    assert frames[0].min() == 65535  # lossless white, full scale


def test_opaque_vp9_uses_ffmpegs_decoder_and_alpha_vp9_libvpx(
    tmp_path: Path,
) -> None:
    from aebridge.synthetic import write_movie

    opaque = probe(write_movie(tmp_path / "o.webm", codec="vp9"))
    alpha = probe(write_movie(tmp_path / "a.webm", codec="vp9", alpha=True))
    assert (opaque.decoder, opaque.has_alpha) == ("vp9", False)
    assert (alpha.decoder, alpha.has_alpha) == ("libvpx-vp9", True)


def test_an_exact_container_rate_is_kept(tmp_path: Path) -> None:
    from aebridge.synthetic import write_movie

    # One frame every 1499 ticks of 1/45000 s: exactly 45000/1499 (30.02 fps), which
    # fits the EXR rational; it was written as 29990/999.
    info = probe(write_movie(tmp_path / "r.mp4", rate=Fraction(45000, 1499)))
    assert info.rate == Fraction(45000, 1499)
    assert any("exactly" in note and "1499" in note for note in info.notes)


def test_an_inexact_rate_is_snapped_to_the_standard_it_approximates(
    tmp_path: Path,
) -> None:
    from aebridge.ingest.movierate import snap as _snap
    from aebridge.synthetic import write_movie

    # WebM counts milliseconds: 24000/1001 fps frames land 41 or 42 ms apart.
    info = probe(
        write_movie(tmp_path / "r.webm", codec="vp9", rate=Fraction(24000, 1001))
    )
    assert info.rate == Fraction(24000, 1001)
    assert any("approximation" in note for note in info.notes)
    assert _snap(Fraction("23.976023")) == Fraction(24000, 1001)
    assert _snap(Fraction("29.97")) == Fraction(30000, 1001)
    assert _snap(Fraction("24.000001")) == 24


def test_frames_an_edit_list_hides_are_not_counted(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    # A stream copy from 0.04 s keeps the GOP's first frame for decoding and writes an
    # edit list that hides it: 50 packets, 49 presented frames.
    source = ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x32:r=25:d=2",
        "-c:v", "libx264", "-g", "100", "-bf", "0",
        output=tmp_path / "src.mp4",
    )  # fmt: skip
    path = ffmpeg("-ss", "0.04", "-i", source, "-c", "copy", output=tmp_path / "el.mp4")
    info = probe(path)
    assert info.frame_count == 49
    assert any("edit list hides 1" in note for note in info.notes)
    frames = [index for index, _ in read_frames(info, 0, 49)]
    assert frames == list(range(49))
    # A chunk in the middle decodes on its own as well.
    assert [i for i, _ in read_frames(info, 20, 24)] == [20, 21, 22, 23]


def _interlaced(tmp_path: Path, ffmpeg: Ffmpeg) -> Path:
    return ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x32:r=25:d=0.4",
        "-c:v", "libx264", "-flags", "+ilme+ildct", "-top", "1",
        "-pix_fmt", "yuv420p", output=tmp_path / "il.mp4",
    )  # fmt: skip


def _progressive(tmp_path: Path, ffmpeg: Ffmpeg) -> Path:
    """The same picture as :func:`_interlaced`, progressive."""
    return ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x32:r=25:d=0.4",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", output=tmp_path / "p.mp4",
    )  # fmt: skip


def test_interlaced_movies_are_flagged_and_warned(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    from aebridge.convert import convert

    path = _interlaced(tmp_path, ffmpeg)
    info = probe(path)
    assert (info.fields, info.field_mode) == ("top first", "keep")
    assert any("interlaced (top first)" in note for note in info.notes)
    warnings: list[str] = []
    result = convert(str(path), tmp_path / "out", name="il", jobs=1,
                     warn=warnings.append)  # fmt: skip
    assert any("interlaced" in w and "--fields interpolate" in w for w in warnings)
    assert any("interlaced" in d for d in result.decisions)


def test_fields_interpolate_rebuilds_the_second_field(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    path = _interlaced(tmp_path, ffmpeg)
    woven = next(read_frames(probe(path), 0, 1))[1].astype(int)
    info = probe(path, fields="interpolate")
    assert info.field_mode == "interpolate"
    made = next(read_frames(info, 0, 1))[1].astype(int)
    np.testing.assert_array_equal(made[0::2], woven[0::2])  # top field kept
    middle = (woven[0:-2:2] + woven[2::2] + 1) // 2
    np.testing.assert_array_equal(made[1:-1:2], middle)
    np.testing.assert_array_equal(made[-1], woven[-2])  # the last line repeats


def test_progressive_movies_have_no_fields(tmp_path: Path) -> None:
    from aebridge.synthetic import write_movie

    info = probe(write_movie(tmp_path / "p.mp4"), fields="interpolate")
    assert (info.fields, info.field_mode) == ("", "keep")


def test_ten_bit_prores_422_white_converts_to_exactly_one(tmp_path: Path) -> None:
    from aebridge.convert import convert
    from aebridge.exr import read_pixels

    white = [np.full((16, 32, 3), 65535, np.uint16)] * 2
    path = _encode(tmp_path / "w.mov", "prores_ks", "yuv422p10le", white)
    result = convert(str(path), tmp_path / "out", name="w", jobs=1)
    pixels = read_pixels(result.frame_path(result.first))
    assert np.all(pixels == 1.0)  # was 0.9961 of full scale before linearising


def test_deep_conversion_rounds_the_exact_formula(tmp_path: Path) -> None:
    """The reference a faster path must match: every code of a lossless 10-bit
    4:4:4 frame, against the BT.709 limited-range formula evaluated exactly."""
    from fractions import Fraction as Q

    rng = np.random.default_rng(11)
    y = rng.integers(64, 941, (8, 16))
    cb, cr = rng.integers(64, 961, (2, 8, 16))
    y[0, 0], cb[0, 0], cr[0, 0] = 502, 512, 512  # mid grey: an exact half, 32767.5
    frame = av.VideoFrame(16, 8, "yuv444p10le")
    for plane, codes in zip(frame.planes, (y, cb, cr), strict=True):
        view = np.frombuffer(plane, np.uint16).reshape(8, -1)
        view[:, :16] = codes
    frame.color_range = 1  # tv
    info = probe(_encode(tmp_path / "t.mov", "prores_ks", "yuv444p10le",
                         [np.zeros((8, 16, 3), np.uint16)]))  # fmt: skip
    info = dataclasses.replace(info, matrix="itu709", color_range="MPEG")
    from aebridge.ingest.moviepixels import exact_to_array

    got = np.asarray(exact_to_array(frame, info)).astype(int)
    kr, kb = Q(2126, 10000), Q(722, 10000)
    for j in range(8):
        for i in range(16):
            yy = Q(int(y[j, i]) - 64, 876)
            pb, pr = Q(int(cb[j, i]) - 512, 896), Q(int(cr[j, i]) - 512, 896)
            r = yy + 2 * (1 - kr) * pr
            b = yy + 2 * (1 - kb) * pb
            g = (yy - kr * r - kb * b) / (1 - kr - kb)
            for c, v in enumerate((r, g, b)):
                exact = min(max(v * 65535, Q(0)), Q(65535))
                # Round half to even (Python's round, numpy's rint), exactly.
                assert got[j, i, c] == round(exact), (j, i, c)
    assert got[0, 0].tolist() == [32768, 32768, 32768]  # 32767.5 to even


# ------------------------------------------------- subsampled deep sources keep colour

# A flat colour (16-bit codes) made into 10-bit YUV by the exact BT.601 formulas.
FLAT_RGB = (10000, 30000, 50000)


def _flat_movie(path: Path, encoder: str, pix_fmt: str) -> None:
    container = av.open(str(path), "w")
    stream = container.add_stream(encoder, rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 36, pix_fmt
    if encoder == "libx265":
        stream.options = {"x265-params": "log-level=error"}
    # The YUV codes are made here with the exact BT.601 limited-range formulas
    # (swscale's RGB -> 10-bit YUV is off by about 0.4 %, so it cannot make them).
    r, g, b = (v / 65535 for v in FLAT_RGB)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    codes = (64 + 876 * y, 512 + 896 * (b - y) / 1.772, 512 + 896 * (r - y) / 1.402)
    for index in range(3):
        # Untagged (BT.601, limited), as aebridge reads SD.
        frame = av.VideoFrame(64, 36, pix_fmt)
        for plane, code in zip(frame.planes, codes, strict=True):
            view = np.frombuffer(plane, np.uint16)
            view[:] = round(code)
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


@pytest.mark.parametrize(
    ("encoder", "pix_fmt"),
    [
        ("libx265", "yuv420p10le"),  # HEVC Main10: swscale's full-chroma path broke it
        ("libx265", "yuv422p10le"),
        ("prores_ks", "yuv422p10le"),
    ],
)
def test_ten_bit_movies_keep_their_colour(
    tmp_path: Path, encoder: str, pix_fmt: str
) -> None:
    path = tmp_path / "flat.mov"
    _flat_movie(path, encoder, pix_fmt)
    info = probe(path)
    assert info.dtype == "uint16"
    frames = list(read_movie_frames(info, 0, info.frame_count))
    assert len(frames) == 3
    for _, pixels in frames:
        # 10-bit YUV and lossy coding of a flat field: within about 0.6% of full scale.
        error = np.abs(pixels.astype(np.int64) - np.array(FLAT_RGB)).max()
        assert error < 400, pixels[10, 10]


def test_a_frame_the_decoder_reports_damaged_is_an_error(tmp_path: Path) -> None:
    from aebridge.synthetic import write_movie

    path = Path(write_movie(tmp_path / "c.mp4", frames=12, width=128, height=72,
                            gop=12))  # fmt: skip
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [(p.pos, p.size) for p in container.demux(stream) if p.size]
    data = bytearray(path.read_bytes())
    pos, size = packets[3]  # a reference frame: its damage is concealed, not fatal
    for k in range(pos + size // 3, pos + size - 2):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    info = probe(path)
    with pytest.raises(SourceError, match=r"c\.mp4, frame \d+: the decoder reports"):
        list(read_frames(info, 0, info.frame_count))


def test_fields_interpolate_reads_an_interlaced_matte_the_same_way(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    # The matte was probed without the field handling the options give, so with
    # --fields interpolate the colour was made whole from its first field while the
    # alpha kept both woven fields: alpha combed where the picture did not.
    from aebridge.convert import convert
    from aebridge.exr import read_pixels

    path = _interlaced(tmp_path, ffmpeg)
    result = convert(str(path), tmp_path / "out", name="il", matte=str(path),
                     fields="interpolate", jobs=1)  # fmt: skip
    alpha = read_pixels(tmp_path / "out" / "il" / f"il.{result.first:04d}.exr")[..., 3]
    alpha = alpha.astype(np.float64)
    # Every other line is interpolated from the lines of the first field around it
    # (8-bit luma codes averaged, limited range scaled to full, half float).
    middle = (alpha[0:-2:2] + alpha[2::2]) / 2
    assert np.abs(alpha[1:-1:2] - middle).max() <= 1 / 255
    np.testing.assert_array_equal(alpha[-1], alpha[-2])  # the last line repeats


def test_an_interlaced_mattes_field_handling_is_in_the_settings_hash(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    # Beside a progressive source the settings hash recorded only the source's
    # field handling ("keep"), so frames made with the matte's fields woven were
    # kept as current by a run asking for --fields interpolate.
    from aebridge.convert import convert

    matte = _interlaced(tmp_path, ffmpeg)
    colour = _progressive(tmp_path, ffmpeg)
    out = tmp_path / "out"
    convert(str(colour), out, name="p", matte=str(matte), jobs=1)
    again = convert(str(colour), out, name="p", matte=str(matte),
                    fields="interpolate", jobs=1)  # fmt: skip
    assert (again.frames_written, again.frames_skipped) == (10, 0)


def test_an_interlaced_matte_kept_woven_is_warned_about(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    # Only the source's fields were warned about: beside a progressive source an
    # interlaced matte combed the alpha where things move, and nothing said so.
    from aebridge.convert import convert

    matte = _interlaced(tmp_path, ffmpeg)
    colour = _progressive(tmp_path, ffmpeg)
    kept = convert(str(colour), tmp_path / "kept", name="p", matte=str(matte), jobs=1)
    (said,) = [w for w in kept.warnings if "interlaced" in w]
    assert said.startswith("the matte is interlaced (top first): ")
    assert "--fields interpolate" in said
    whole = convert(str(colour), tmp_path / "whole", name="p", matte=str(matte),
                    fields="interpolate", jobs=1)  # fmt: skip
    assert not [w for w in whole.warnings if "interlaced" in w]


@pytest.mark.parametrize(("pix_fmt", "top"), [("gray", 255), ("gray10le", 1023)])
def test_untagged_grey_movies_are_full_range_at_every_depth(
    tmp_path: Path, pix_fmt: str, top: int
) -> None:
    """Grey codes 0 and full scale are clear and opaque in a matte: untagged grey is
    read as full range (swscale's reading), 8-bit and deep alike (10-bit grey was
    stretched as limited range while 8-bit was not)."""
    path = tmp_path / "grey.mkv"
    container = av.open(str(path), "w")
    stream = container.add_stream("ffv1", rate=24)
    stream.width, stream.height, stream.pix_fmt = 32, 16, pix_fmt
    codes = np.tile(np.linspace(0, top, 32).round().astype(np.uint16), (16, 1))
    frame = av.VideoFrame(32, 16, pix_fmt)
    view = np.frombuffer(frame.planes[0], np.uint8 if top == 255 else np.uint16)
    view.reshape(16, -1)[:, :32] = codes
    for packet in [*stream.encode(frame), *stream.encode()]:
        container.mux(packet)
    container.close()
    info = probe(path)
    assert info.color_range == "JPEG"
    assert "full range (untagged grey)" in info.colour_decision
    [(_, pixels)] = list(read_movie_frames(info, 0, 1))
    full = 255 if info.dtype == "uint8" else 65535
    want = np.floor(codes.astype(np.float64) * full / top + 0.5)
    assert np.array_equal(pixels[..., 0], want)


# ------------------------------------------------ chroma siting, fields, alpha


def _rule_rgb(y: int, cb: int, cr: int) -> list[int]:
    out = np.zeros((3, 1, 1), np.uint8)
    planes = [np.full((1, 1), v, np.uint8) for v in (y, cb, cr)]
    _native.yuv_rgb(*planes, out[0], out[1], out[2],
                    yuv_rule(8, "MPEG", "itu601", 255.0))  # fmt: skip
    return [int(v) for v in out[:, 0, 0]]


def test_an_interlaced_420_movie_keeps_each_fields_chroma(tmp_path: Path) -> None:
    """Interlaced 4:2:0 subsamples chroma per field (chroma rows alternate between
    the fields): each field is converted on its own, as swscale does (the rule over
    the woven frame mixed the other field's colour into every line)."""
    path = tmp_path / "il.mp4"
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    flags = av.codec.context.Flags
    stream.codec_context.flags |= flags.interlaced_dct | flags.interlaced_me
    stream.options = {"qp": "0", "x264-params": "tff=1"}
    frame = av.VideoFrame(64, 48, "yuv420p")
    y, u, v = (np.frombuffer(p, np.uint8) for p in frame.planes)
    y[:] = 128
    u.reshape(24, -1)[0::2], v.reshape(24, -1)[0::2] = 200, 60  # top field
    u.reshape(24, -1)[1::2], v.reshape(24, -1)[1::2] = 60, 200  # bottom field
    frame.pts = 0
    for packet in [*stream.encode(frame), *stream.encode()]:
        container.mux(packet)
    container.close()
    info = probe(path)
    assert info.fields == "top first"
    pixels = next(read_frames(info, 0, 1))[1].astype(int)
    assert pixels[0::2, 10].tolist() == [_rule_rgb(128, 200, 60)] * 24
    assert pixels[1::2, 10].tolist() == [_rule_rgb(128, 60, 200)] * 24


def _swscale_rgb(path: Path) -> Any:
    from av.video.reformatter import Interpolation

    info = probe(path)
    frame = next(av.open(str(path)).decode(video=0))
    flags = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
    flags |= Interpolation.FULL_CHR_H_INT
    return frame.reformat(
        format="rgb24", src_colorspace=info.matrix,
        src_color_range=info.color_range, interpolation=flags,
    ).to_ndarray().astype(int)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("center.mkv", ["-pix_fmt", "yuv420p", "-c:v", "ffv1",
                        "-chroma_sample_location", "center"]),
        ("mjpeg.avi", ["-pix_fmt", "yuvj422p", "-c:v", "mjpeg", "-q:v", "1"]),
        ("vp9.webm", ["-pix_fmt", "yuv420p", "-c:v", "libvpx-vp9", "-lossless", "1"]),
    ],
)  # fmt: skip
def test_eight_bit_movies_not_sited_left_agree_with_swscale_within_one_code(
    tmp_path: Path, ffmpeg: Any, name: str, args: list[str]
) -> None:
    """The rule sites chroma left, as H.264 and HEVC do. A movie whose chroma is
    tagged centre (MJPEG, here ffv1) or untagged (VP8, VP9, AV1: swscale reads
    those as centred) goes through swscale, which reads the siting from the frame
    (the rule alone was off by up to ~100 codes at chroma edges)."""
    source = "testsrc2=s=64x48:r=24,format=yuv444p,geq=lum='p(X,Y)':" + (
        "cb='clip(cb(X,Y)+(X-Y)*2,0,255)':cr='clip(cr(X,Y)+Y-X,0,255)'"
    )
    path = ffmpeg("-f", "lavfi", "-i", source, "-frames:v", "1", *args,
                  output=tmp_path / name)  # fmt: skip
    info = probe(path)
    ours = next(read_frames(info, 0, 1))[1].astype(int)
    assert np.abs(ours - _swscale_rgb(path)).max() <= 1


def test_a_png_movie_whose_frames_drop_alpha_still_reads(
    tmp_path: Path, ffmpeg: Any
) -> None:
    """PNG in MOV with an RGBA frame then an RGB one (each PNG keeps its own
    type): the RGB frame reads opaque (it failed with a bare ValueError)."""
    for index, fmt in ((1, "rgba"), (2, "rgb24")):
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=64x48,format={fmt}",
               "-frames:v", "1", output=tmp_path / f"f{index}.png")  # fmt: skip
    path = ffmpeg("-framerate", "24", "-i", tmp_path / "f%d.png", "-c:v", "copy",
                  output=tmp_path / "mix.mov")  # fmt: skip
    info = probe(path)
    assert info.channels == 4
    frames = list(read_frames(info, 0, info.frame_count))
    assert [int(p[..., 3].min()) for _, p in frames] == [255, 255]
