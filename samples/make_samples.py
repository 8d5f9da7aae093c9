"""Make the sample shots' media procedurally (no downloads) into samples/<shot>/media/.

    python samples/make_samples.py            # all shots
    python samples/make_samples.py sh010      # one shot

Shots (320x180, small enough for CI):

- sh010: an opaque background plate PNG sequence with a camera pan, plus a
  straight-alpha foreground PNG sequence, 24 fps, 48 frames.
- sh020: movie inputs at 24000/1001: an H.264 MP4 background, a ProRes 4444 MOV
  foreground with alpha, and a VP9 WebM element with alpha.
- sh030: an RGB foreground MP4 with a separate luma matte MP4, over a PNG background.

Re-running rewrites nothing that is already there (use --force to remake).
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from aebridge import synthetic

HERE = Path(__file__).resolve().parent
W, H = 320, 180
FRAMES = 48


def _exists(path: Path, force: bool) -> bool:
    return path.exists() and not force


def _luma_matte_movie(path: Path, *, frames: int, rate: Fraction) -> None:
    """An H.264 movie whose luma is the disc's alpha of synthetic.frame_pixels."""
    import av

    tmp = path.with_name(f".{path.name}.tmp.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"crf": "1", "preset": "veryfast"}
        ctx = stream.codec_context
        ctx.colorspace, ctx.color_trc, ctx.color_primaries, ctx.color_range = 1, 1, 1, 1
        for i in range(frames):
            rgba = synthetic.frame_pixels(i, W, H, pattern="disc", bit_depth=8)
            grey = np.repeat(rgba[..., 3:4], 3, axis=2)
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(grey), format="rgb24"
            )
            frame = frame.reformat(format="yuv420p", dst_colorspace="itu709")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)


def _movie(path: Path, force: bool, **options: Any) -> None:
    """A procedural movie of the sample size and length, unless it is there already."""
    if not _exists(path, force):
        synthetic.write_movie(path, frames=FRAMES, width=W, height=H, **options)


def _pngs(folder: Path, name: str, force: bool, **options: Any) -> None:
    """A procedural PNG sequence of the sample size and length, unless it is there."""
    if not _exists(folder / f"{name}.{1000 + FRAMES}.png", force):
        synthetic.write_png_sequence(
            folder, name, frames=FRAMES, width=W, height=H, **options
        )


def make_sh010(force: bool) -> None:
    d = HERE / "sh010" / "media"
    _pngs(d, "bg_plate", force, alpha=None, pattern="gradient")
    _pngs(d, "fg", force, alpha="straight", pattern="disc")


def make_sh020(force: bool) -> None:
    d = HERE / "sh020" / "media"
    d.mkdir(parents=True, exist_ok=True)
    rate = Fraction(24000, 1001)
    _movie(d / "bg_plate.mp4", force, codec="h264", rate=rate, pattern="gradient")
    _movie(
        d / "fg_alpha.mov",
        force,
        codec="prores4444",
        rate=rate,
        alpha=True,
        pattern="disc",
    )
    _movie(
        d / "fx_alpha.webm", force, codec="vp9", rate=rate, alpha=True, pattern="disc"
    )


def make_sh030(force: bool) -> None:
    d = HERE / "sh030" / "media"
    d.mkdir(parents=True, exist_ok=True)
    rate = Fraction(24)
    _pngs(d, "bg", force, alpha=None, pattern="gradient")
    _movie(d / "fg_rgb.mp4", force, codec="h264", rate=rate, pattern="disc")
    if not _exists(d / "fg_matte.mp4", force):
        _luma_matte_movie(d / "fg_matte.mp4", frames=FRAMES, rate=rate)


SHOTS = {"sh010": make_sh010, "sh020": make_sh020, "sh030": make_sh030}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "shots",
        nargs="*",
        choices=[[], *SHOTS],
        default=[],
        help="shots to make (default: all)",
    )
    parser.add_argument("--force", action="store_true", help="remake existing media")
    args = parser.parse_args(argv)
    for shot in args.shots or list(SHOTS):
        SHOTS[shot](args.force)
        print(f"{HERE / shot / 'media'}: ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
