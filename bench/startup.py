"""Benchmark: the start-up of a movie + matte conversion, in fresh processes.

A generated clip is a few seconds of frames, so what a conversion does before its
first frame (imports, checking the options, probing both movies, hashing them,
building the colour tables) is a share of the whole run. One run of this script
measures, each in a fresh process, seconds from its start:

* **floor**: PyAV and numpy imported, both movies opened and their first frames
  decoded to arrays on threads: what any converter of these files does first;
* **aebridge imported**: ``from aebridge.convert import convert``;
* **aebridge ready**: ``convert()`` up to its first chunk (options, both probes,
  both hashes, the output folder checked);
* **aebridge first frame**: the first EXR written (decoders started, tables built,
  one frame converted and encoded): the time to first frame;
* **aebridge whole**: the whole conversion, and the command line's
  (``aebridge convert fgr.mp4 --matte pha.mp4``);

and prints the best of ``--trials`` alternating runs with the time to first frame
against the floor from the same run.

    python bench/startup.py                   # 1280x720, 120 frames (5 s)
    python bench/startup.py --trials 5 --workdir /tmp/movies
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import child_env, load_note, warm_bytecode, write_movie_pair

# --------------------------------------------------------------------------- children
# Run as ``python -c`` so that a child imports nothing of this script's (benchlib
# imports numpy, which would be counted before aebridge's own imports).

FLOOR = """
import json, sys, threading, time
import av

def first(path):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
            break

threads = [threading.Thread(target=first, args=(p,)) for p in sys.argv[1:3]]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"first frame": time.monotonic()}))
"""

CONVERT = """
import json, sys, time
from aebridge.convert import convert

marks = {"imported": time.monotonic()}

def progress(done, total):
    marks.setdefault("ready" if done == 0 else "first frame", time.monotonic())

fgr, pha, out = sys.argv[1:4]
convert(fgr, out, name="fg", matte=pha, force=True, progress=progress)
print(json.dumps(marks))
"""


# --------------------------------------------------------------------------- runs


def timed(cmd: Sequence[str]) -> dict[str, float]:
    """Seconds from starting ``cmd`` to each mark it prints, and to its end."""
    start = time.monotonic()
    run = subprocess.run(
        list(cmd), check=True, capture_output=True, text=True, env=child_env()
    )
    end = time.monotonic()
    last = (run.stdout.strip().splitlines() or [""])[-1]
    marks: dict[str, float] = json.loads(last) if last.startswith("{") else {}
    return {**{k: v - start for k, v in marks.items()}, "whole": end - start}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (1280x720)")
    ap.add_argument("--frames", type=int, default=120, help="frames (120 = 5 s)")
    ap.add_argument("--trials", type=int, default=3, help="runs of each; best shown")
    ap.add_argument("--workdir", type=Path, help="keep the movies here")
    args = ap.parse_args(argv)

    width, height = (int(v) for v in args.size.lower().split("x"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aebridge-startup-bench-"))
    print(load_note(), "(start)", flush=True)
    fgr, pha = write_movie_pair(
        work / f"movies_{width}x{height}_{args.frames}", args.frames, width, height
    )
    out = work / "out"
    cli = [sys.executable, "-m", "aebridge", "convert", str(fgr), "--matte", str(pha),
           "-o", str(out), "--name", "fg", "--force"]  # fmt: skip
    cases = {
        "python": [sys.executable, "-c", "pass"],
        "floor": [sys.executable, "-c", FLOOR, str(fgr), str(pha)],
        "aebridge": [sys.executable, "-c", CONVERT, str(fgr), str(pha), str(out)],
        "aebridge command line": cli,
    }
    warm_bytecode()
    best: dict[str, float] = {}
    for _ in range(args.trials):
        for case, cmd in cases.items():
            shutil.rmtree(out, ignore_errors=True)
            for mark, seconds in timed(cmd).items():
                key = f"{case}: {mark}"
                best[key] = min(best.get(key, seconds), seconds)
    shutil.rmtree(out, ignore_errors=True)

    print(f"\n{width}x{height}, {args.frames} frames, best of {args.trials} "
          "(seconds from the process start):")  # fmt: skip
    for key, seconds in best.items():
        print(f"  {key:<40}{seconds:8.3f}")
    floor = best["floor: first frame"]
    first = best["aebridge: first frame"]
    print(f"\n  time to first frame: {first:.3f} s, {first / floor:.2f}x the floor's "
          f"{floor:.3f} s; {first / best['aebridge: whole']:.0%} of the whole "
          "conversion")  # fmt: skip
    print(load_note(), "(end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
