"""The Wuffs PNG decoder: exactly OpenImageIO's arrays where it is used, else unused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

pytest.importorskip("pywuffs")

from aebridge.ingest import png, probe, read_frames


def write_oiio(path: Path, pixels: np.ndarray) -> Path:
    h, w, c = pixels.shape
    fmt = oiio.UINT16 if pixels.dtype == np.uint16 else oiio.UINT8
    spec = oiio.ImageSpec(w, h, c, fmt)
    spec.attribute("oiio:UnassociatedAlpha", 1)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec)
    assert out.write_image(pixels)
    out.close()
    return path


def read_oiio(path: Path, channels: int, dtype: str) -> np.ndarray:
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(str(path), config)
    assert inp is not None
    try:
        fmt = oiio.UINT16 if dtype == "uint16" else oiio.UINT8
        data = np.asarray(inp.read_image(0, 0, 0, channels, fmt))
    finally:
        inp.close()
    return data.reshape(data.shape[0], data.shape[1], -1)


def every_code(dtype: str, channels: int) -> np.ndarray:
    """Every code value in every channel (channels shuffled against each other)."""
    levels = 65536 if dtype == "uint16" else 256
    side = 256 if dtype == "uint16" else 16
    rng = np.random.default_rng(channels)
    planes = [rng.permutation(levels) for _ in range(channels)]
    planes[0] = np.arange(levels)
    cube = np.stack(planes, axis=-1).reshape(side * (levels // side**2), side, channels)
    return cube.astype(dtype)


@pytest.mark.parametrize(
    ("dtype", "channels"),
    [("uint8", 1), ("uint8", 2), ("uint8", 3), ("uint8", 4), ("uint16", 1)],
    ids=["grey", "grey+a", "rgb", "rgba", "grey16"],
)
def test_wuffs_gives_openimageios_array_for_every_code_value(
    tmp_path: Path, dtype: str, channels: int
) -> None:
    path = write_oiio(tmp_path / "a.png", every_code(dtype, channels))
    info = probe(str(path))
    assert (info.channels, info.dtype) == (channels, dtype)
    got = png.decode(str(path), channels, dtype)
    assert got is not None, "Wuffs should cover this PNG"
    want = read_oiio(path, channels, dtype)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # And the ingest path (which now uses Wuffs) yields the same.
    ((_, frame),) = read_frames(info, 0, 1)
    np.testing.assert_array_equal(frame, want)


@pytest.mark.parametrize("bits", [8, 4, 1])
@pytest.mark.parametrize("transparent", [False, True], ids=["opaque", "trns"])
def test_palette_pngs_expand_like_openimageio(
    tmp_path: Path, bits: int, transparent: bool
) -> None:
    from PIL import Image

    colours = 2**bits
    rng = np.random.default_rng(bits)
    index = rng.integers(0, colours, (24, 40), dtype=np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette(rng.integers(0, 256, colours * 3, dtype=np.uint8).tolist())
    path = tmp_path / "p.png"
    options: dict[str, object] = {"bits": bits}
    if transparent:
        options["transparency"] = bytes(rng.integers(0, 256, colours, dtype=np.uint8))
    image.save(path, **options)
    info = probe(str(path))
    got = png.decode(str(path), info.channels, info.dtype)
    assert got is not None
    np.testing.assert_array_equal(got, read_oiio(path, info.channels, info.dtype))


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16bit_colour_pngs_are_left_to_openimageio(
    tmp_path: Path, channels: int
) -> None:
    path = write_oiio(tmp_path / "a.png", every_code("uint16", channels))
    info = probe(str(path))
    assert png.decode(str(path), channels, "uint16") is None
    ((_, frame),) = read_frames(info, 0, 1)
    np.testing.assert_array_equal(frame, read_oiio(path, channels, "uint16"))


def test_a_colour_key_rgb_png_is_left_to_openimageio(tmp_path: Path) -> None:
    from PIL import Image

    pixels = np.random.default_rng(1).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    path = tmp_path / "k.png"
    Image.fromarray(pixels, "RGB").save(path, transparency=(1, 2, 3))
    info = probe(str(path))
    assert png.decode(str(path), info.channels, info.dtype) is None
    ((_, frame),) = read_frames(info, 0, 1)
    np.testing.assert_array_equal(frame, read_oiio(path, info.channels, info.dtype))


def test_low_bit_grey_and_broken_files_are_left_to_openimageio(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "g.png"
    Image.fromarray(np.eye(8, dtype=bool)).save(path)  # 1-bit grey
    assert png.decode(str(path), 1, "uint8") is None
    broken = tmp_path / "b.png"
    broken.write_bytes(
        write_oiio(tmp_path / "w.png", every_code("uint8", 3)).read_bytes()[:200]
    )
    assert png.decode(str(broken), 3, "uint8") is None
    assert png.decode(str(tmp_path / "missing.png"), 3, "uint8") is None


def test_without_pywuffs_openimageio_reads_every_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_oiio(tmp_path / "a.png", every_code("uint8", 4))
    info = probe(str(path))
    monkeypatch.setattr(png, "_FORMATS", None)
    assert not png.available()
    assert png.decode(str(path), 4, "uint8") is None
    ((_, frame),) = read_frames(info, 0, 1)
    np.testing.assert_array_equal(frame, read_oiio(path, 4, "uint8"))


def test_the_fast_decoder_reads_through_the_reading_sandbox(tmp_path: Path) -> None:
    # A service job reads only beneath its input roots: the Wuffs path opens the
    # file itself, so it must open it through the sandbox like OpenImageIO does.
    from aebridge.errors import SourceError
    from aebridge.sandbox import active, sandbox_for

    root = tmp_path / "in"
    root.mkdir()
    outside = write_oiio(tmp_path / "secret.png", np.zeros((4, 4, 3), np.uint8))
    inside = write_oiio(root / "ok.png", np.full((4, 4, 3), 7, np.uint8))
    (root / "link.png").symlink_to(outside)
    with active(sandbox_for([root])):
        assert png.decode(str(inside), 3, "uint8") is not None
        with pytest.raises(SourceError, match="outside"):
            png.decode(str(root / "link.png"), 3, "uint8")
