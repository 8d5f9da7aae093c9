"""Preview speed at 1080p: frames per second for a three-layer comp.

Generates its own EXR sequences (a plate, a moving keyed foreground, a screened
element) in a temporary folder, then times compositing alone and the whole preview
(compositing, display transform, H.264 encode).

    python bench/preview.py [--frames 8] [--width 1920 --height 1080]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from aebridge.model import (
    AnimatableValue,
    BlendMode,
    Comp,
    CompSpec,
    Ease,
    ExrSequence,
    Keyframe,
    Layer,
    Transform,
)
from aebridge.preview.render import Renderer, plan_from_spec, render_preview


def _write(path: Path, rgba: np.ndarray) -> None:
    spec = oiio.ImageSpec(rgba.shape[1], rgba.shape[0], 4, oiio.HALF)
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "piz")
    buf = oiio.ImageBuf(spec)
    buf.set_pixels(oiio.ROI(), rgba)
    if not buf.write(str(path)):
        raise SystemExit(f"cannot write {path}: {buf.geterror()}")


def _make_layers(root: Path, width: int, height: int, frames: int) -> None:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for i in range(frames):
        plate = np.ones((height, width, 4), np.float32)
        plate[..., 0] = xx / width * 1.5
        plate[..., 1] = yy / height
        plate[..., 2] = 0.2 + 0.01 * i
        r = np.hypot(xx - width / 2, yy - height / 2)
        alpha = np.clip((height / 3 - r) / 4, 0, 1)
        fg = np.zeros_like(plate)
        fg[..., :3] = np.array([0.9, 0.5, 0.2], np.float32) * alpha[..., None]
        fg[..., 3] = alpha
        glow = np.zeros_like(plate)
        glow[..., :3] = (0.5 + 0.5 * np.sin(xx / 40 + i))[..., None] * 0.3
        glow[..., 3] = 1.0
        for name, img in (("bg", plate), ("fg", fg), ("fx", glow)):
            (root / name).mkdir(exist_ok=True)
            _write(root / name / f"{name}.{1001 + i:04d}.exr", img)


def _spec(width: int, height: int, frames: int) -> CompSpec:
    def seq(name: str) -> ExrSequence:
        return ExrSequence(
            folder=name,
            name=name,
            first=1001,
            last=1000 + frames,
            rate=Fraction(24),
            width=width,
            height=height,
        )

    move = AnimatableValue(
        keyframes=(
            Keyframe(frame=1001, value=(width / 2, height / 2), easing=Ease.EASE_OUT),
            Keyframe(frame=1000 + frames, value=(width * 0.6, height / 2)),
        )
    )
    return CompSpec(
        comp=Comp(
            name="bench", width=width, height=height, rate=Fraction(24), duration=frames
        ),
        layers=(
            Layer(id="bg", source=seq("bg")),
            Layer(
                id="fg",
                source=seq("fg"),
                transform=Transform(
                    position=move,
                    scale=AnimatableValue(value=(90.0, 90.0)),
                    rotation=AnimatableValue(value=5.0),
                ),
            ),
            Layer(id="fx", source=seq("fx"), blend=BlendMode.SCREEN, opacity=80.0),
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _make_layers(root, args.width, args.height, args.frames)
        plan = plan_from_spec(_spec(args.width, args.height, args.frames), root)
        renderer = Renderer(plan)
        t0 = time.perf_counter()
        for frame in plan.frames:
            renderer.render(frame)
        composite_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        render_preview(plan, root / "preview.mp4")
        total_s = time.perf_counter() - t0
    n = args.frames
    print(
        f"preview {args.width}x{args.height}, 3 layers (normal, transformed + eased, "
        f"screen 80 %), {n} frames:"
    )
    print(f"  composite only:                         {n / composite_s:6.2f} fps")
    print(f"  composite + sRGB display + H.264 encode: {n / total_s:6.2f} fps")


if __name__ == "__main__":
    main()
