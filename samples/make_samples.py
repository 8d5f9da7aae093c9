"""Make the sample shots' media procedurally (no downloads) into samples/<shot>/media/.

    python samples/make_samples.py            # all shots
    python samples/make_samples.py sh010      # one shot

Shots (320x180, small enough for CI):

- sh010: an opaque background plate PNG sequence with a camera pan, plus a
  straight-alpha foreground PNG sequence, 24 fps, 48 frames.
- sh020: movie inputs at 24000/1001: an H.264 MP4 background, a ProRes 4444 MOV
  foreground with alpha, and a VP9 WebM element with alpha.
- sh030: an RGB foreground MP4 with a separate luma matte MP4, over a PNG background.
- sh040 (samples/downloads/sh040, no comp.json: ``aebridge init`` writes one): a
  folder laid out like real downloads. A Runway image_to_video result (1280x720,
  24 fps, H.264, named by the UUID its output URL ends in, cut to 1 s here), the
  request and task JSON with the fields Runway's API documents, the prompt image,
  and Robust Video Matting's fgr.mp4/pha.mp4/com.mp4 (its README's default names)
  written the way RVM writes them.

Re-running rewrites nothing that is already there (use --force to remake).
"""

from __future__ import annotations

import argparse
import json
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


def make_sh010(force: bool) -> Path:
    d = HERE / "sh010" / "media"
    _pngs(d, "bg_plate", force, alpha=None, pattern="gradient")
    _pngs(d, "fg", force, alpha="straight", pattern="disc")
    return d


def make_sh020(force: bool) -> Path:
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
    return d


def make_sh030(force: bool) -> Path:
    d = HERE / "sh030" / "media"
    d.mkdir(parents=True, exist_ok=True)
    rate = Fraction(24)
    _pngs(d, "bg", force, alpha=None, pattern="gradient")
    _movie(d / "fg_rgb.mp4", force, codec="h264", rate=rate, pattern="disc")
    if not _exists(d / "fg_matte.mp4", force):
        _luma_matte_movie(d / "fg_matte.mp4", frames=FRAMES, rate=rate)
    return d


# The sample Runway generation: its output is named by the UUID its URL ends in.
RUNWAY_OUTPUT = "8c0f9a7e-3b52-4e1d-9f6a-2c4b7d1e5a90"
RUNWAY_TASK = "5e1c7b2a-9d34-4f08-b6e2-71a3c9d0f4b8"
RUNWAY_W, RUNWAY_H, RUNWAY_FRAMES = 1280, 720, 24


def make_sh040(force: bool) -> Path:
    """A downloads folder: a Runway plate and its records, RVM's outputs."""
    d = HERE / "downloads" / "sh040"
    d.mkdir(parents=True, exist_ok=True)
    size: dict[str, Any] = {
        "frames": RUNWAY_FRAMES,
        "width": RUNWAY_W,
        "height": RUNWAY_H,
    }
    plate = d / f"{RUNWAY_OUTPUT}.mp4"
    if not _exists(plate, force):
        synthetic.write_movie(plate, rate=Fraction(24), pattern="gradient", **size)
    if not _exists(d / "street_first_frame.png", force):
        first = synthetic.frame_pixels(
            0, RUNWAY_W, RUNWAY_H, pattern="gradient", alpha=None
        )
        synthetic.write_image(d / "street_first_frame.png", first)
    if not _exists(d / "pha.mp4", force):
        synthetic.write_rvm_outputs(d, rate=Fraction(24), **size)
    # POST /v1/image_to_video, as sent (docs.dev.runwayml.com).
    request = {
        "model": "gen4_turbo",
        "promptImage": [
            {
                "uri": "https://assets.example.com/sh040/street_first_frame.png",
                "position": "first",
            }
        ],
        "promptText": "slow push in along a rain-soaked street at dusk, neon signs",
        "ratio": f"{RUNWAY_W}:{RUNWAY_H}",
        "duration": 5,
        "seed": 40404,
    }
    # GET /v1/tasks/{id} once it SUCCEEDED: output holds signed, expiring URLs.
    task = {
        "id": RUNWAY_TASK,
        "status": "SUCCEEDED",
        "createdAt": "2025-06-17T10:04:12.000Z",
        "output": [
            f"https://dnznrvs05pmza.cloudfront.net/{RUNWAY_OUTPUT}.mp4"
            "?_jwt=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.example.signature"
        ],
    }
    for name, data in (("runway_request.json", request), ("runway_task.json", task)):
        if not _exists(d / name, force):
            (d / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return d


SHOTS = {
    "sh010": make_sh010,
    "sh020": make_sh020,
    "sh030": make_sh030,
    "sh040": make_sh040,
}


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
        folder = SHOTS[shot](args.force)
        print(f"{folder}: ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
