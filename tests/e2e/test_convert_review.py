"""``aebridge convert`` review findings: alpha association read from the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge.convert import convert
from aebridge.exr import read_pixels

W, H = 8, 4


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _write_tiff(path: Path, pixels: np.ndarray, *, unassociated: bool) -> None:
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(W, H, 4, "uint8")
    # TIFF records the association in ExtraSamples: 1 associated, 2 unassociated.
    spec.attribute("oiio:UnassociatedAlpha", int(unassociated))
    out = oiio.ImageOutput.create(str(path))
    assert out is not None
    out.open(str(path), spec)
    out.write_image(pixels)
    out.close()


@pytest.mark.parametrize("unassociated", [True, False])
def test_tiff_alpha_auto_follows_the_files_extrasamples_tag(
    tmp_path: Path, unassociated: bool
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    stored = np.zeros((H, W, 4), np.uint8)
    stored[..., 0], stored[..., 1], stored[..., 3] = 100, 30, 128
    _write_tiff(src / "t.1001.tif", stored, unassociated=unassociated)
    result = convert(src, tmp_path / "out", name="t", fps=24, jobs=1)
    px = read_pixels(tmp_path / "out" / "t" / "t.1001.exr")
    alpha = 128 / 255
    colour = stored[0, 0, :2] / 255
    if not unassociated:
        # Associated (premultiplied) sRGB values: un-premultiply before linearising.
        colour = colour / alpha
    expected = _srgb_to_linear(colour) * alpha
    assert np.allclose(px[0, 0, :2], expected, rtol=2e-3)
    assert np.isclose(px[0, 0, 3], alpha, atol=1e-3)
    mode = "straight" if unassociated else "premultiplied"
    assert any("alpha auto" in d and mode in d for d in result.decisions)


def _noise_sequence(folder: Path, count: int) -> None:
    import OpenImageIO as oiio

    folder.mkdir()
    rng = np.random.default_rng(7)
    for number in range(1, count + 1):
        # Noise does not compress, so each frame takes long enough to interrupt.
        pixels = rng.integers(0, 256, (270, 480, 3), dtype=np.uint8)
        out = oiio.ImageOutput.create(str(folder / f"n.{number:04d}.png"))
        assert out is not None
        out.open(
            str(folder / f"n.{number:04d}.png"), oiio.ImageSpec(480, 270, 3, "uint8")
        )
        out.write_image(pixels)
        out.close()


def test_ctrl_c_during_a_parallel_run_exits_cleanly_and_the_rerun_resumes(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    _noise_sequence(tmp_path / "src", 80)
    command = [sys.executable, "-m", "aebridge", "convert", str(tmp_path / "src")]
    command += ["-o", str(tmp_path / "out"), "--name", "n", "--fps", "24", "-j", "2"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # A terminal's Ctrl-C reaches a process with SIGINT at its default even when
        # this test runs under a shell that ignores it for background jobs.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    seen = b""
    while b"converting n: " not in seen or seen.endswith(b" 0/80 frames\n"):
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, seen.decode()
        seen += chunk
    # Ctrl-C signals the whole foreground process group: the CLI and its workers.
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the run hung after Ctrl-C")
    err = (seen + rest).decode()
    assert proc.returncode == 130, err
    assert "interrupted; finished frames are kept" in err
    assert "Traceback" not in err
    layer = tmp_path / "out" / "n"
    names = sorted(p.name for p in layer.iterdir())
    written = [n for n in names if n.endswith(".exr")]
    assert all(n.startswith("n.") and n[2:6].isdigit() for n in written), names
    assert 0 < len(written) < 80
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{80 - len(written)} written, {len(written)} up to date" in done.stdout


def _premultiplied_exr(path: Path) -> np.ndarray:
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(W, H, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.alpha_channel = 3
    pixels = np.zeros((H, W, 4), np.float32)
    pixels[..., :3] = (0.3, 2.5, 0.05)
    pixels[:, W // 2 :, 3] = 0.5  # left half: alpha 0 with colour (pure emission)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None
    out.open(str(path), spec)
    out.write_image(pixels)
    out.close()
    return pixels


@pytest.mark.parametrize("output", ["Linear Rec.709 (sRGB)", "ACEScg"])
def test_premultiplied_linear_input_keeps_emission_under_alpha_zero(
    tmp_path: Path, output: str
) -> None:
    # In a premultiplied image colour under alpha 0 is added light (fire, glows,
    # flares), not hidden colour: 'over' adds it. It was zeroed.
    src = tmp_path / "src"
    src.mkdir()
    stored = _premultiplied_exr(src / "glow.1001.exr")
    convert(src, tmp_path / "out", name="glow", output_colorspace=output, jobs=1)
    px = read_pixels(tmp_path / "out" / "glow" / "glow.1001.exr").astype(np.float64)
    from aebridge.imaging import ocio_convert

    expected = ocio_convert(
        stored[..., :3].reshape(-1, 3), "Linear Rec.709 (sRGB)", output
    ).reshape(H, W, 3)
    assert np.allclose(px[..., :3], expected, rtol=2e-3)
    assert np.array_equal(px[..., 3], stored[..., 3])


def test_autocrop_keeps_light_under_alpha_zero_inside_the_data_window(
    tmp_path: Path,
) -> None:
    import OpenImageIO as oiio

    src = tmp_path / "src"
    src.mkdir()
    spec = oiio.ImageSpec(W, H, 4, "half")
    spec.channelnames = ("R", "G", "B", "A")
    spec.alpha_channel = 3
    pixels = np.zeros((H, W, 4), np.float32)
    pixels[1, 5, 3] = pixels[1, 5, 0] = 0.5  # a covered pixel
    pixels[2, 1, 1] = 0.25  # a glow pixel: light, alpha 0
    out = oiio.ImageOutput.create(str(src / "g.1001.exr"))
    assert out is not None
    out.open(str(src / "g.1001.exr"), spec)
    out.write_image(pixels)
    out.close()
    convert(src, tmp_path / "out", name="g", autocrop=True, jobs=1)
    result = oiio.ImageBuf(str(tmp_path / "out" / "g" / "g.1001.exr"))
    got = result.spec()
    assert (got.x, got.y, got.width, got.height) == (1, 1, 5, 2)
    assert (got.full_width, got.full_height) == (W, H)
    full = result.get_pixels(oiio.FLOAT, roi=oiio.ROI(0, W, 0, H, 0, 1, 0, 4))
    assert np.array_equal(full, pixels)


def test_an_exr_declaring_its_colour_space_is_read_in_it(tmp_path: Path) -> None:
    # An ACEScg EXR (colorInteropID lin_ap1_scene, as Nuke, Houdini and aebridge's own
    # --output-colorspace ACEScg write) was read as Linear Rec.709: wrong colours.
    import OpenImageIO as oiio

    from aebridge.imaging import ocio_convert

    src = tmp_path / "src"
    src.mkdir()
    spec = oiio.ImageSpec(W, H, 3, "float")
    spec.attribute("colorInteropID", "lin_ap1_scene")
    stored = np.zeros((H, W, 3), np.float32)
    stored[...] = (0.6, 0.2, 0.05)
    out = oiio.ImageOutput.create(str(src / "p.1001.exr"))
    assert out is not None
    out.open(str(src / "p.1001.exr"), spec)
    out.write_image(stored)
    out.close()
    result = convert(src, tmp_path / "out", name="p", half=False, jobs=1)
    px = read_pixels(tmp_path / "out" / "p" / "p.1001.exr")
    expected = ocio_convert(stored.reshape(-1, 3), "ACEScg", "Linear Rec.709 (sRGB)")
    assert np.allclose(px[..., :3].reshape(-1, 3), expected, rtol=1e-5)
    assert any("'ACEScg'" in d and "declares" in d for d in result.decisions)
    # --colorspace still wins over the file's declaration.
    again = convert(
        src, tmp_path / "out2", name="p", colorspace="Linear Rec.709 (sRGB)", jobs=1
    )
    px = read_pixels(tmp_path / "out2" / "p" / "p.1001.exr")
    assert np.allclose(px[0, 0, :3], stored[0, 0], rtol=1e-3)
    assert any("(given)" in d for d in again.decisions)
