"""Colour and orientation a file declares: read, converted, recorded, or refused.

Each file is made here with the chunks, tags or profile under test; the pixels that
come out are checked against an independent reference (OCIO's named spaces through
OpenImageIO, littleCMS through Pillow's ImageCms, Pillow's EXIF transpose).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from aebridge.convert import convert
from aebridge.encoding import KNOWN_PRIMARIES, Encoding
from aebridge.errors import SourceError
from aebridge.exr import read_header, read_pixels
from aebridge.imaging import ocio_convert
from aebridge.ingest import probe, read_frames

oiio = pytest.importorskip("OpenImageIO")

RAMP = np.stack(
    np.meshgrid(np.arange(0, 256, 8), np.arange(0, 256, 32), indexing="xy"), axis=-1
)
PIXELS = np.dstack([RAMP[..., 0], RAMP[..., 1], 255 - RAMP[..., 0]]).astype(np.uint8)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data))
    )


def write_png(path: Path, pixels: np.ndarray, *chunks: tuple[bytes, bytes]) -> Path:
    """A PNG of ``pixels`` with exactly the given ancillary chunks (before IDAT)."""
    buf = oiio.ImageBuf(np.ascontiguousarray(pixels))
    assert buf.write(str(path))
    data = path.read_bytes()
    out, at = [data[:8]], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        block = data[at : at + 12 + length]
        at += 12 + length
        if kind in (b"sRGB", b"gAMA", b"cHRM", b"iCCP", b"cICP", b"eXIf"):
            continue  # OpenImageIO writes sRGB, gAMA, cHRM of its own
        if kind == b"IDAT" and chunks:
            out.extend(_chunk(k, v) for k, v in chunks)
            chunks = ()
        out.append(block)
    path.write_bytes(b"".join(out))
    return path


def gama(gamma: float) -> tuple[bytes, bytes]:
    return b"gAMA", struct.pack(">I", round(100000 / gamma))


def chrm(primaries: tuple[float, ...]) -> tuple[bytes, bytes]:
    r, g, b, w = (primaries[i : i + 2] for i in range(0, 8, 2))
    values = (*w, *r, *g, *b)
    return b"cHRM", struct.pack(">8I", *(round(v * 100000) for v in values))


def converted(tmp_path: Path, source: Path, **options: object) -> np.ndarray:
    result = convert(str(source), tmp_path / "out", name="t", jobs=1,
                     half=False, **options)  # type: ignore[arg-type]  # fmt: skip
    return read_pixels(result.frame_path(result.first))


def reference(codes: np.ndarray, space: str, via: str | None = None) -> np.ndarray:
    """OCIO: code values in ``space`` (optionally then a linear ``via`` space with
    other primaries) to linear Rec.709."""
    rgb = codes.astype(np.float32) / 255
    if via is None:
        return ocio_convert(rgb, space, "Linear Rec.709 (sRGB)")
    linear = ocio_convert(rgb, space, "Linear Rec.709 (sRGB)")
    return ocio_convert(linear, via, "Linear Rec.709 (sRGB)")


# --------------------------------------------------------------------------- PNG


@pytest.mark.parametrize(
    ("gamma", "space"),
    [
        (1.0, "Linear Rec.709 (sRGB)"),
        (1.8, "Gamma 1.8 Encoded Rec.709"),
        (2.2, "Gamma 2.2 Encoded Rec.709"),
    ],
)
def test_png_gama_is_read_and_converted(
    tmp_path: Path, gamma: float, space: str
) -> None:
    path = write_png(tmp_path / "g.png", PIXELS, gama(gamma))
    info = probe(str(path))
    assert info.colorspace == space
    assert "gAMA" in info.colour_decision
    out = converted(tmp_path, path)
    np.testing.assert_allclose(out[..., :3], reference(PIXELS, space), atol=1e-5)


def test_png_gama_and_chrm_p3_convert_the_primaries(tmp_path: Path) -> None:
    p3 = KNOWN_PRIMARIES["P3-D65"]
    path = write_png(tmp_path / "p3.png", PIXELS, gama(2.2), chrm(p3))
    info = probe(str(path))
    assert isinstance(info.encoding, Encoding)
    assert info.colorspace == "gamma 2.2, P3-D65 primaries"
    out = converted(tmp_path, path)
    # OCIO: the 2.2 curve of 'Gamma 2.2 Encoded Rec.709', then P3 -> Rec.709.
    expected = reference(PIXELS, "Gamma 2.2 Encoded Rec.709", via="Linear P3-D65")
    np.testing.assert_allclose(out[..., :3], expected, rtol=5e-5, atol=3e-5)
    header = read_header(tmp_path / "out" / "t" / "t.1001.exr")
    assert header["aebridge/inputColorspace"] == "gamma 2.2, P3-D65 primaries"
    assert "cHRM" in str(header["aebridge/decisions"])


def test_png_srgb_chunk_wins_over_gama(tmp_path: Path) -> None:
    path = write_png(tmp_path / "s.png", PIXELS, (b"sRGB", b"\0"), gama(1.0))
    assert probe(str(path)).colorspace == "sRGB Encoded Rec.709 (sRGB)"


def test_png_cicp_display_p3(tmp_path: Path) -> None:
    path = write_png(tmp_path / "c.png", PIXELS, (b"cICP", bytes([12, 13, 0, 1])))
    info = probe(str(path))
    assert info.colorspace == "sRGB Encoded P3-D65"
    assert "cICP" in info.colour_decision


def test_colorspace_given_wins_over_the_declared_one(tmp_path: Path) -> None:
    path = write_png(tmp_path / "g.png", PIXELS, gama(1.0))
    info = probe(str(path), colorspace="sRGB Encoded Rec.709 (sRGB)")
    assert info.colorspace == "sRGB Encoded Rec.709 (sRGB)"
    assert "as given, instead of the file declares gAMA" in info.colour_decision


def test_a_damaged_colour_chunk_is_refused(tmp_path: Path) -> None:
    path = write_png(tmp_path / "bad.png", PIXELS, gama(1.0))
    data = bytearray(path.read_bytes())
    at = data.index(b"gAMA")
    data[at + 4] ^= 0xFF  # the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="gAMA chunk is damaged"):
        probe(str(path))


# --------------------------------------------------------------------------- ICC


def _s15(values: tuple[float, ...]) -> bytes:
    return b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def icc_profile(description: str, primaries: tuple[float, ...]) -> bytes:
    """A v2 matrix/TRC display profile: the sRGB curve (para type 3) and the
    primaries' colorants adapted to D50 with Bradford, as profile makers do."""
    from aebridge.encoding import bradford, rgb_to_xyz

    to_xyz = bradford((primaries[6], primaries[7]), (0.3457, 0.3585)) @ rgb_to_xyz(
        primaries
    )
    desc = description.encode() + b"\0"
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(desc)) + desc + bytes(79)),
        (b"wtpt", b"XYZ \0\0\0\0" + _s15((0.9642, 1.0, 0.8249))),
    ]
    for c, name in enumerate((b"rXYZ", b"gXYZ", b"bXYZ")):
        tags.append((name, b"XYZ \0\0\0\0" + _s15(tuple(to_xyz[:, c]))))
    curve = b"para\0\0\0\0" + struct.pack(">HH", 3, 0)
    curve += _s15((2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    for name in (b"rTRC", b"gTRC", b"bTRC"):
        tags.append((name, curve))
    return _assemble_icc(tags, b"RGB ")


def _assemble_icc(tags: list[tuple[bytes, bytes]], space: bytes) -> bytes:
    table, body = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for name, data in tags:
        data += bytes(-len(data) % 4)
        table += struct.pack(">4sII", name, offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(">I4sI4s4s4s", size, b"none", 0x02100000, b"mntr", space,
                         b"XYZ ") + bytes(12) + b"acsp" + bytes(24)  # fmt: skip
    header += struct.pack(">I", 0) + _s15((0.9642, 1.0, 0.8249))
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def test_an_icc_profile_is_applied_like_littlecms(tmp_path: Path) -> None:
    image_cms = pytest.importorskip("PIL.ImageCms")
    from PIL import Image

    profile = icc_profile("Test Display P3", KNOWN_PRIMARIES["P3-D65"])
    iccp = b"Test Display P3\0\0" + zlib.compress(profile)
    path = write_png(tmp_path / "icc.png", PIXELS, (b"iCCP", iccp))
    info = probe(str(path))
    assert isinstance(info.encoding, Encoding)
    assert "Test Display P3" in info.colorspace
    out = converted(tmp_path, path)
    # littleCMS: the profile -> sRGB, relative colorimetric, 8-bit.
    transform = image_cms.buildTransform(
        image_cms.ImageCmsProfile(__import__("io").BytesIO(profile)),
        image_cms.createProfile("sRGB"),
        "RGB",
        "RGB",
        renderingIntent=image_cms.Intent.RELATIVE_COLORIMETRIC,
    )
    srgb = np.asarray(image_cms.applyTransform(Image.fromarray(PIXELS), transform))
    ours = ocio_convert(
        np.clip(out[..., :3], 0, 1),
        "Linear Rec.709 (sRGB)",
        "sRGB Encoded Rec.709 (sRGB)",
    )
    # In gamut (clipped where P3 is outside sRGB), within one 8-bit code.
    assert np.abs(np.round(ours * 255) - srgb.astype(int)).max() <= 1


def test_a_lut_based_icc_profile_is_refused_naming_it(tmp_path: Path) -> None:
    desc = b"Printer LUT\0"
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(desc)) + desc + bytes(79)),
        (b"A2B0", b"mft2" + bytes(48)),
    ]
    profile = _assemble_icc(tags, b"RGB ")
    path = write_png(
        tmp_path / "lut.png", PIXELS, (b"iCCP", b"lut\0\0" + zlib.compress(profile))
    )
    with pytest.raises(SourceError, match="'Printer LUT' is LUT-based"):
        probe(str(path))
    assert probe(str(path), colorspace="sRGB Encoded Rec.709 (sRGB)").encoding is None


# --------------------------------------------------------------------------- EXR


def write_exr(path: Path, chromaticities: tuple[float, ...] | None) -> Path:
    import OpenEXR

    rng = np.random.default_rng(2)
    planes = {c: rng.uniform(0, 2, (8, 16)).astype(np.float32) for c in "RGB"}
    header: dict[str, object] = {"compression": OpenEXR.ZIP_COMPRESSION}
    if chromaticities is not None:
        header["chromaticities"] = chromaticities
    OpenEXR.File(header, planes).write(str(path))
    return path


@pytest.mark.parametrize(
    ("name", "space"),
    [
        ("ACES AP0", "ACES2065-1"),
        ("P3-D65", "Linear P3-D65"),
        ("Rec.2020", "Linear Rec.2020"),
    ],
)
def test_exr_chromaticities_are_converted(
    tmp_path: Path, name: str, space: str
) -> None:
    path = write_exr(tmp_path / "c.exr", KNOWN_PRIMARIES[name])
    info = probe(str(path))
    assert info.colorspace == space
    assert "chromaticities" in info.colour_decision
    source = read_pixels(path)[..., :3]
    out = converted(tmp_path, path)
    expected = ocio_convert(source, space, "Linear Rec.709 (sRGB)")
    np.testing.assert_allclose(out[..., :3], expected, rtol=1e-5, atol=1e-6)


def test_exr_chromaticities_without_a_name_convert_by_their_numbers(
    tmp_path: Path,
) -> None:
    # DCI-P3 (the DCI white): no space of the config has it.
    path = write_exr(tmp_path / "dci.exr", KNOWN_PRIMARIES["DCI-P3"])
    info = probe(str(path))
    assert isinstance(info.encoding, Encoding)
    assert "DCI-P3" in info.colorspace
    out = converted(tmp_path, path)
    source = read_pixels(path)[..., :3]
    # The same maths by hand: Bradford from the DCI white to D65, then Rec.709.
    from aebridge.encoding import bradford, rgb_to_xyz

    dci = KNOWN_PRIMARIES["DCI-P3"]
    m = (
        np.linalg.inv(rgb_to_xyz(KNOWN_PRIMARIES["Rec.709"]))
        @ bradford((dci[6], dci[7]), (0.3127, 0.3290))
        @ rgb_to_xyz(dci)
    )
    np.testing.assert_allclose(out[..., :3], source @ m.T, rtol=1e-5, atol=1e-6)


def test_rec709_chromaticities_change_nothing(tmp_path: Path) -> None:
    path = write_exr(tmp_path / "r.exr", KNOWN_PRIMARIES["Rec.709"])
    assert probe(str(path)).colorspace == "Linear Rec.709 (sRGB)"


# --------------------------------------------------------------------------- movies


@pytest.mark.parametrize(
    ("primaries", "transfer", "label"),
    [
        ("bt2020", "bt709", "gamma 2.4, Rec.2020 primaries"),
        ("smpte432", "iec61966-2-1", "sRGB Encoded P3-D65"),
        ("bt2020", "smpte2084", "PQ, Rec.2020 primaries"),
        ("bt2020", "arib-std-b67", "HLG, Rec.2020 primaries"),
    ],
)
def test_wide_gamut_and_hdr_movies_are_read(
    tmp_path: Path, primaries: str, transfer: str, label: str
) -> None:
    from aebridge.synthetic import write_movie

    path = write_movie(
        tmp_path / "w.mp4", primaries=primaries, transfer=transfer, frames=2
    )
    info = probe(path)
    assert info.colorspace == label
    stored = next(read_frames(info, 0, 1))[1]
    out = converted(tmp_path, Path(path))
    curve = {"bt709": "gamma", "iec61966-2-1": "srgb", "smpte2084": "pq",
             "arib-std-b67": "hlg"}[transfer]  # fmt: skip
    if curve == "srgb":
        expected = reference(stored, "sRGB Encoded P3-D65")
    else:
        expected = _movie_reference(stored, curve)
    np.testing.assert_allclose(out[..., :3], expected, rtol=5e-5, atol=3e-5)


def _movie_reference(codes: np.ndarray, curve: str) -> np.ndarray:
    """OCIO's curves (2.4 gamma space, built-in PQ and HLG), then its Rec.2020."""
    ocio = pytest.importorskip("PyOpenColorIO")
    values = codes.astype(np.float32) / 255
    if curve == "gamma":
        linear = ocio_convert(
            values, "Gamma 2.4 Encoded Rec.709", "Linear Rec.709 (sRGB)"
        )
    else:
        name = (
            "CURVE - ST-2084_to_LINEAR" if curve == "pq" else "CURVE - HLG-OETF-INVERSE"
        )
        cpu = (
            ocio.Config.CreateRaw()
            .getProcessor(ocio.BuiltinTransform(name))
            .getDefaultCPUProcessor()
        )
        linear = np.ascontiguousarray(values.reshape(-1, 3))
        cpu.applyRGB(linear)
        linear = linear.reshape(values.shape)
        if curve == "pq":
            linear = linear * 100 / 203  # OCIO: 1.0 per 100 cd/m2; here 203 = 1.0
        else:
            white = np.array([[0.75] * 3], np.float32)
            cpu.applyRGB(white)
            linear = linear / white[0, 0]
    return ocio_convert(linear, "Linear Rec.2020", "Linear Rec.709 (sRGB)")


# ----------------------------------------------------------------------- orientation


def _exif(orientation: int) -> bytes:
    # Little-endian TIFF header, one IFD with the Orientation tag (SHORT).
    return (
        b"II*\0" + struct.pack("<IH", 8, 1)
        + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
        + struct.pack("<I", 0)
    )  # fmt: skip


ODD = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3) * 2


@pytest.mark.parametrize("code", range(1, 9))
def test_png_exif_orientation_is_applied_like_pillow(tmp_path: Path, code: int) -> None:
    from PIL import Image, ImageOps

    path = write_png(tmp_path / "o.png", ODD, (b"eXIf", _exif(code)))
    info = probe(str(path))
    got = next(read_frames(info, 0, 1))[1]
    # Pillow's EXIF transpose on the same pixels, independently.
    image = Image.fromarray(ODD)
    exif = image.getexif()
    exif[0x0112] = code
    image.info["exif"] = exif.tobytes()
    expected = np.asarray(ImageOps.exif_transpose(image))
    np.testing.assert_array_equal(got, expected)
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
    kept = probe(str(path), orientation="keep")
    np.testing.assert_array_equal(next(read_frames(kept, 0, 1))[1], ODD)
    if code != 1:
        assert any(f"EXIF orientation {code}" in n for n in info.notes)


def test_jpeg_exif_orientation_is_applied(tmp_path: Path) -> None:
    from PIL import Image

    big = np.repeat(np.repeat(ODD, 8, axis=0), 8, axis=1)  # 40 x 56
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    path = tmp_path / "o.jpg"
    Image.fromarray(big).save(path, exif=exif.tobytes(), quality=100)
    info = probe(str(path))
    assert (info.width, info.height, info.orientation) == (40, 56, 6)
    got = next(read_frames(info, 0, 1))[1].astype(int)
    expected = np.rot90(big, k=-1).astype(int)
    assert np.abs(got - expected).mean() < 3  # JPEG is lossy


def test_a_phone_movie_rotation_is_applied_like_ffmpeg(
    tmp_path: Path, ffmpeg: object
) -> None:
    run = ffmpeg  # the conftest fixture: FFmpeg's command line
    source = run("-f", "lavfi", "-i", "testsrc2=s=64x32:r=25:d=0.2",
                 "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p",
                 output=tmp_path / "s.mp4")  # type: ignore[operator]  # fmt: skip
    rotated = run("-i", source, "-c", "copy", "-metadata:s:v:0", "rotate=90",
                  output=tmp_path / "r.mp4")  # type: ignore[operator]  # fmt: skip
    # FFmpeg's own player logic (autorotate) as the reference picture.
    shown = run("-i", rotated, "-frames:v", "1", output=tmp_path / "shown.png")  # type: ignore[operator]
    reference = np.asarray(oiio.ImageBuf(str(shown)).get_pixels(oiio.UINT8))
    info = probe(str(rotated))
    assert (info.width, info.height) == (32, 64)
    assert any("display matrix rotation" in n for n in info.notes)
    got = next(read_frames(info, 0, 1))[1]
    assert got.shape == reference.shape
    error = np.abs(got.astype(int) - reference.astype(int)).mean()
    wrong = np.abs(np.rot90(got, 2).astype(int) - reference.astype(int)).mean()
    # FFmpeg's PNG path rounds its YUV -> RGB differently; the turn must match.
    assert error < 3 and wrong > 10 * error
    kept = probe(str(rotated), orientation="keep")
    assert (kept.width, kept.height) == (64, 32)


def test_inspect_shows_every_decision(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aebridge.cli import main

    path = write_png(tmp_path / "d.png", ODD, gama(1.0), (b"eXIf", _exif(6)))
    convert(str(path), tmp_path / "out", name="d", jobs=1)
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "out" / "d")])
    assert result.exit_code == 0, result.output
    decisions = result.output.split("decisions:\n", 1)[1].split("header of", 1)[0]
    assert "gAMA 1.00000" in decisions and "'Linear Rec.709 (sRGB)'" in decisions
    assert "EXIF orientation 6 (rotated 90 degrees clockwise): applied" in decisions


def test_jpeg_and_tiff_icc_profiles_are_read(tmp_path: Path) -> None:
    image_cms = pytest.importorskip("PIL.ImageCms")
    from PIL import Image

    srgb = image_cms.ImageCmsProfile(image_cms.createProfile("sRGB")).tobytes()
    Image.fromarray(PIXELS).save(tmp_path / "s.jpg", icc_profile=srgb, quality=95)
    info = probe(str(tmp_path / "s.jpg"))
    # littleCMS's own sRGB profile is sRGB to ICC precision: read as OCIO's sRGB.
    assert info.colorspace == "sRGB Encoded Rec.709 (sRGB)" and info.encoding is None
    assert "embedded ICC profile (an sRGB profile)" in info.colour_decision
    p3 = icc_profile("Test Display P3", KNOWN_PRIMARIES["P3-D65"])
    Image.fromarray(PIXELS).save(tmp_path / "p3.tif", icc_profile=p3)
    info = probe(str(tmp_path / "p3.tif"))
    assert isinstance(info.encoding, Encoding)
    assert "ICC profile 'Test Display P3'" in info.colorspace
    out = converted(tmp_path, tmp_path / "p3.tif")
    expected = reference(PIXELS, "sRGB Encoded P3-D65")
    # ICC stores colorants and curve parameters in 16-bit fixed point.
    np.testing.assert_allclose(out[..., :3], expected, atol=2e-4)
