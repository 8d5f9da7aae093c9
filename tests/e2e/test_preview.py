"""Previews end to end: tiny EXR sequences on disk, rendered and written out."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from aebridge.errors import OptionError, SourceError
from aebridge.preview.plan import (
    Animated,
    CameraPlan,
    CompPlan,
    LayerPlan,
    SequencePlan,
)
from aebridge.preview.render import Renderer, parse_frames, render_frame, render_preview

W, H = 64, 36
FIRST = 1001


def write_exr(path: Path, rgba: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = oiio.ImageSpec(rgba.shape[1], rgba.shape[0], 4, oiio.HALF)
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec)
    assert out.write_image(rgba.astype(np.float32))
    out.close()


def disc(frame: int, colour: tuple[float, float, float]) -> np.ndarray:
    """A soft-edged premultiplied disc that moves one pixel per frame."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    cx, cy = 20 + frame, 18
    alpha = np.clip(12 - np.hypot(xx - cx, yy - cy), 0, 1)
    img = np.zeros((H, W, 4), np.float32)
    img[..., :3] = np.array(colour, np.float32) * alpha[..., None]
    img[..., 3] = alpha
    return img


def plate(frame: int) -> np.ndarray:
    img = np.ones((H, W, 4), np.float32)
    img[..., 0] = np.linspace(0.0, 2.0, W)[None, :]  # HDR values too
    img[..., 1] = 0.1 * frame
    img[..., 2] = np.linspace(0.0, 1.0, H)[:, None]
    return img


def sequence(root: Path, name: str, frames: list[np.ndarray]) -> SequencePlan:
    for i, img in enumerate(frames):
        write_exr(root / name / f"{name}.{FIRST + i:04d}.exr", img)
    return SequencePlan(
        folder=root / name,
        name=name,
        first=FIRST,
        last=FIRST + len(frames) - 1,
        width=frames[0].shape[1],
        height=frames[0].shape[0],
    )


def layer(seq: SequencePlan, **kw: object) -> LayerPlan:
    fields: dict[str, object] = {
        "id": seq.name,
        "spec_path": f"layers[{seq.name}]",
        "source": seq,
        "start": FIRST,
        "in_frame": FIRST,
        "out_frame": FIRST + seq.frame_count,
    }
    fields.update(kw)
    return LayerPlan(**fields)  # type: ignore[arg-type]


def comp(*layers: LayerPlan, duration: int = 3, **kw: object) -> CompPlan:
    return CompPlan(
        name="sh",
        width=W,
        height=H,
        rate=Fraction(24),
        start_frame=FIRST,
        duration=duration,
        layers=layers,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture()
def two_layers(tmp_path: Path) -> CompPlan:
    bg = sequence(tmp_path, "bg", [plate(i) for i in range(3)])
    fg = sequence(tmp_path, "fg", [disc(i, (0.9, 0.4, 0.2)) for i in range(3)])
    return comp(layer(bg), layer(fg))


def test_two_normal_layers_match_oiiotool_over_frame_by_frame(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    if shutil.which("oiiotool") is None:
        pytest.skip("oiiotool is not on PATH")
    bg, fg = (lp.source for lp in two_layers.layers)
    for i in range(3):
        ref = tmp_path / f"ref.{i}.exr"
        subprocess.run(
            [
                "oiiotool",
                str(fg.path(i)),
                str(bg.path(i)),
                "--over",
                "-d",
                "half",
                "-o",
                str(ref),
            ],
            check=True,
        )
        expected = oiio.ImageBuf(str(ref)).get_pixels(oiio.FLOAT)
        got = render_frame(two_layers, FIRST + i)
        # Half floats carry 11 significant bits: relative 2^-11 plus a tiny floor.
        np.testing.assert_allclose(got, expected, rtol=2**-10, atol=2**-14)


def test_layer_timing_start_in_out_and_stretch(tmp_path: Path) -> None:
    frames = [np.full((H, W, 4), v, np.float32) for v in (0.1, 0.2, 0.3, 0.4)]
    seq = sequence(tmp_path, "ramp", frames)
    # Source frame 0 at comp 1002, shown 1003..1008 (out exclusive), at 200 % stretch.
    lp = layer(seq, start=1002, in_frame=1003, out_frame=1009, stretch=Fraction(200))
    renderer = Renderer(comp(lp, duration=10))
    seen = {f: float(renderer.render(f)[0, 0, 3]) for f in range(1001, 1011)}
    assert seen == pytest.approx(
        {
            1001: 0.0,
            1002: 0.0,  # before the in point
            1003: 0.1,  # (1003 - 1002) * 100/200 = 0.5 -> source frame 0
            1004: 0.2,
            1005: 0.2,
            1006: 0.3,
            1007: 0.3,
            1008: 0.4,
            1009: 0.0,
            1010: 0.0,  # at and after the out point
        },
        abs=1e-3,
    )  # values stored as half floats


def test_track_matte_hides_the_matte_and_cuts_the_layer(tmp_path: Path) -> None:
    white = np.ones((H, W, 4), np.float32)
    half = np.zeros((H, W, 4), np.float32)
    half[:, : W // 2] = 1.0  # opaque white on the left half only
    fg = sequence(tmp_path, "fg", [white * np.array([1, 0, 0, 1], np.float32)])
    matte = sequence(tmp_path, "m", [half])
    plan = comp(
        layer(matte, is_matte=True),
        layer(fg, matte=(0, "alpha_inverted")),
        duration=1,
    )
    out = render_frame(plan, FIRST)
    np.testing.assert_array_equal(out[:, : W // 2], 0.0)  # matte alpha 1 -> cut
    np.testing.assert_array_equal(
        out[:, W // 2 :], np.broadcast_to([1, 0, 0, 1], (H, W // 2, 4))
    )
