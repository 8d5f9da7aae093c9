"""What counting light under alpha 0 costs the conversion of a premultiplied frame.

Each converted frame's pixels that hold colour where alpha is 0 (which After Effects
drops when it unpremultiplies) are counted on the frame just made, in the worker that
made it (``PixelPipeline.light_pixels``): only premultiplied linear input keeps such
light, so that is the path measured. The same frame is converted with and without the
count, alternating, and the medians and their ratio are printed; the count alone is
timed too.

    python bench/light_count.py                   # 1920x1080, 60 % alpha 0, 21 runs
    python bench/light_count.py --size 3840x2160 --repeat 11
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from aebridge import imaging


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (1920x1080)")
    ap.add_argument("--repeat", type=int, default=21, help="runs of each (21)")
    ap.add_argument(
        "--clear", type=float, default=0.6, help="share of pixels at alpha 0 (0.6)"
    )
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(0)
    frame = rng.random((height, width, 4), dtype=np.float32)
    frame[..., 3][rng.random((height, width)) < args.clear] = 0.0  # light kept there
    pipeline = imaging.PixelPipeline(
        dtype="float32",
        channels=4,
        colorspace_in="linear",
        colorspace_out="linear",
        alpha_mode="premultiplied",
        half=True,
    )
    out = pipeline(frame)  # builds the pipeline's plan before timing
    counted = pipeline.light_pixels(out)
    with_count: list[float] = []
    without: list[float] = []
    for _ in range(3):  # alternate, so drift on a shared machine hits both
        with_count.append(
            _median_ms(lambda: pipeline.light_pixels(pipeline(frame)), args.repeat)
        )
        without.append(_median_ms(lambda: pipeline(frame), args.repeat))
    alone = _median_ms(lambda: pipeline.light_pixels(out), args.repeat)
    a, b = min(with_count), min(without)
    print(f"{width}x{height}, {counted} pixels of light under alpha 0")
    print(f"convert with the count:    {a:8.1f} ms/frame")
    print(f"convert without the count: {b:8.1f} ms/frame")
    print(f"the count alone:           {alone:8.1f} ms/frame")
    print(f"ratio with/without: {a / b:.3f} (count alone: {alone / b:.1%} of a frame)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
