"""Foreign EXRs: parts, views, deep samples, luminance and chroma, read by name."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from aebridge.errors import SourceError
from aebridge.ingest import probe, read_frames

OpenEXR = pytest.importorskip("OpenEXR")
oiio = pytest.importorskip("OpenImageIO")

H, W = 8, 16


def flat(value: float) -> np.ndarray:
    return np.full((H, W), value, np.float32)


def first_frame(path: Path, **options: str) -> tuple[object, np.ndarray]:
    info = probe(str(path), **options)  # type: ignore[arg-type]
    return info, next(read_frames(info, 0, 1))[1]


def test_a_second_views_luminance_is_not_alpha(tmp_path: Path) -> None:
    path = tmp_path / "mv.exr"
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "multiView": ["left", "right"]}
    OpenEXR.File(header, {"Y": flat(0.5), "right.Y": flat(0.9)}).write(str(path))
    info, pixels = first_frame(path)
    assert (info.channels, info.has_alpha) == (1, False)  # type: ignore[attr-defined]
    assert np.all(pixels == 0.5)
    assert "view 'left' (the file's default view) of left, right" in " ".join(
        info.notes  # type: ignore[attr-defined]
    )
    info, pixels = first_frame(path, view="right")
    assert np.all(pixels == np.float32(0.9))
    with pytest.raises(SourceError, match="--view 'centre': the file has views left"):
        probe(str(path), view="centre")


def _two_parts(path: Path) -> Path:
    beauty = OpenEXR.Part(
        {"name": "beauty", "compression": OpenEXR.ZIP_COMPRESSION},
        {"R": flat(0.1), "G": flat(0.2), "B": flat(0.3), "A": flat(1.0)},
    )
    depth = OpenEXR.Part(
        {"name": "depth", "compression": OpenEXR.ZIP_COMPRESSION}, {"Z": flat(5.0)}
    )
    OpenEXR.File([depth, beauty]).write(str(path))
    return path


def test_multi_part_takes_the_part_with_a_picture_and_says_so(tmp_path: Path) -> None:
    path = _two_parts(tmp_path / "mp.exr")
    info, pixels = first_frame(path)
    np.testing.assert_allclose(pixels[0, 0], [0.1, 0.2, 0.3, 1.0], rtol=1e-3)
    note = " ".join(info.notes)  # type: ignore[attr-defined]
    assert "EXR part 1 'beauty' of 2" in note and "'depth'" in note
    info, pixels = first_frame(path, part="beauty")
    assert pixels.shape == (H, W, 4)
    with pytest.raises(SourceError, match="no R, G, B or Y channels in part 'depth'"):
        probe(str(path), part="depth")
    with pytest.raises(SourceError, match="--part 'x': the file has parts 0 'depth'"):
        probe(str(path), part="x")


def test_multi_part_stereo_defaults_to_the_first_view(tmp_path: Path) -> None:
    parts = [
        OpenEXR.Part(
            {
                "name": name,
                "view": view,
                "multiView": ["left", "right"],
                "compression": OpenEXR.ZIP_COMPRESSION,
            },
            {"R": flat(v), "G": flat(v), "B": flat(v)},
        )
        for name, view, v in (("r", "right", 0.8), ("l", "left", 0.2))
    ]
    path = tmp_path / "stereo.exr"
    OpenEXR.File(parts).write(str(path))
    _, pixels = first_frame(path)
    assert np.all(pixels == np.float32(0.2))
    _, pixels = first_frame(path, view="right")
    assert np.all(pixels == np.float32(0.8))


def test_deep_samples_are_flattened(tmp_path: Path) -> None:
    spec = oiio.ImageSpec(W, H, 5, "float")
    spec.channelnames = ("R", "G", "B", "A", "Z")
    spec.deep = True
    spec.alpha_channel, spec.z_channel = 3, 4
    buf = oiio.ImageBuf(spec)
    for y in range(H):
        for x in range(W):
            buf.set_deep_samples(x, y, 0, 2)
            # front: 0.5 grey at alpha 0.5 (premultiplied); behind: 0.2 opaque
            for s, (v, a, z) in enumerate(((0.5, 0.5, 1.0), (0.2, 1.0, 2.0))):
                for c, value in enumerate((v, v, v, a, z)):
                    buf.set_deep_value(x, y, 0, c, s, value)
    path = tmp_path / "deep.exr"
    assert buf.write(str(path))
    info, pixels = first_frame(path)
    # over, by hand: 0.5 + (1 - 0.5) * 0.2 = 0.6, alpha 0.5 + 0.5 * 1 = 1.
    np.testing.assert_allclose(pixels[3, 5], [0.6, 0.6, 0.6, 1.0], rtol=1e-6)
    assert "deep samples flattened" in " ".join(info.notes)  # type: ignore[attr-defined]


def test_luminance_only_is_grey(tmp_path: Path) -> None:
    path = tmp_path / "y.exr"
    OpenEXR.File(
        {"compression": OpenEXR.ZIP_COMPRESSION}, {"Y": flat(0.25), "A": flat(0.5)}
    ).write(str(path))
    info, pixels = first_frame(path)
    assert (info.channels, info.has_alpha) == (2, True)  # type: ignore[attr-defined]
    np.testing.assert_allclose(pixels[0, 0], [0.25, 0.5])


def test_full_resolution_luminance_chroma_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "yc.exr"
    OpenEXR.File(
        {"compression": OpenEXR.ZIP_COMPRESSION},
        {"Y": flat(0.5), "RY": flat(0.2), "BY": flat(-0.1)},
    ).write(str(path))
    _, pixels = first_frame(path)
    # OpenEXR's RgbaYca: R = (RY + 1) Y, B = (BY + 1) Y, G from Y with Rec.709 weights.
    r, b = 1.2 * 0.5, 0.9 * 0.5
    g = (0.5 - 0.2126 * r - 0.0722 * b) / 0.7152
    np.testing.assert_allclose(pixels[0, 0], [r, g, b], rtol=1e-3)


def _subsampled_yc(path: Path) -> Path:
    """An uncompressed scanline EXR with RY and BY at half size in x and y (the
    binding cannot write one)."""
    chans = [("BY", 2, -0.1), ("RY", 2, 0.2), ("Y", 1, 0.5)]
    chlist = b"".join(
        n.encode() + b"\0" + struct.pack("<iB3xii", 2, 0, s, s) for n, s, _ in chans
    )
    attrs = [
        ("channels", "chlist", chlist + b"\0"),
        ("compression", "compression", b"\0"),
        ("dataWindow", "box2i", struct.pack("<4i", 0, 0, W - 1, H - 1)),
        ("displayWindow", "box2i", struct.pack("<4i", 0, 0, W - 1, H - 1)),
        ("lineOrder", "lineOrder", b"\0"),
        ("pixelAspectRatio", "float", struct.pack("<f", 1)),
        ("screenWindowCenter", "v2f", struct.pack("<2f", 0, 0)),
        ("screenWindowWidth", "float", struct.pack("<f", 1)),
    ]
    head = b"v/1\x01" + struct.pack("<i", 2)
    for n, t, p in attrs:
        head += n.encode() + b"\0" + t.encode() + b"\0" + struct.pack("<i", len(p)) + p
    head += b"\0"
    blocks = []
    for row in range(H):
        data = b"".join(
            np.full(W // s, v, np.float32).tobytes()
            for _, s, v in chans
            if row % s == 0
        )
        blocks.append(struct.pack("<ii", row, len(data)) + data)
    offsets, at = [], len(head) + 8 * H
    for block in blocks:
        offsets.append(at)
        at += len(block)
    path.write_bytes(head + struct.pack(f"<{H}Q", *offsets) + b"".join(blocks))
    return path


def test_subsampled_chroma_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _subsampled_yc(tmp_path / "sub.exr")
    with pytest.raises(SourceError) as caught:
        probe(str(path))
    text = str(caught.value)
    assert "subsampled channels (RY at 1/2 x 1/2, BY at 1/2 x 1/2)" in text
    assert "sub.exr" in text and "\n" not in text


@pytest.mark.parametrize("option", [{"part": "beauty"}, {"view": "left"}])
def test_a_part_or_view_for_a_file_that_is_not_exr_is_refused(
    tmp_path: Path, option: dict[str, str]
) -> None:
    # It was ignored: the picture came out whole, not the part or view asked for.
    from aebridge import synthetic

    synthetic.write_png_sequence(tmp_path, "fg", frames=2)
    movie = tmp_path / "fg.mp4"
    synthetic.write_movie(movie, frames=2, width=64, height=36)
    name = "part" if "part" in option else "view"
    for path, kind in ((tmp_path / "fg.####.png", "PNG"), (movie, "movie")):
        with pytest.raises(SourceError) as caught:
            probe(str(path), **option)  # type: ignore[arg-type]
        message = str(caught.value)
        assert (
            f"an EXR {name} ({option[name]}; {name}, --{name}) applies only" in message
        )
        assert f"this is a {kind}; remove it" in message
