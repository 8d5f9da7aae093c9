"""Benchmark: a movie + matte layer (RVM's fgr.mp4 + pha.mp4) against its floors.

The case a hosted generator and a matting pass deliver: two H.264 movies (yuv420p,
BT.709, 24 fps, x264's default keyframe interval), the colour and its matte,
converted to premultiplied scene-linear half EXR. One run of this script measures,
on the same streams:

* **decode floor**: PyAV decoding both streams on threads to RGB arrays (FFmpeg's
  threads, its default YUV -> RGB conversion) and nothing else: the speed no
  converter of these files can beat;
* **aebridge's arrays**: aebridge's own readers alone (the exact YUV -> RGB
  conversion and the matte's luma plane) without pixel work or encoding;
* **aebridge convert** at the default compression and at piz (all cores);
* **FFmpeg**: its own command line doing the nearest job it can (``alphamerge``,
  a linearisation with ``zscale``, ``premultiply``, its EXR encoder at half and zip);
  see bench/README.md for what it does differently.

and prints fps, CPU ms per frame, peak RSS per process and the ratios.

    python bench/movie.py                         # 1280x720, 120 frames (5 s)
    python bench/movie.py --size 1920x1080
    python bench/movie.py --size 3840x2160 --frames 48
    python bench/movie.py --trials 3              # best of 3 alternating runs
    python bench/movie.py --memory                # peak RSS at 100 and 5000 frames
    python bench/movie.py --no-ffmpeg --compression zip
    python bench/movie.py --stages                # CPU ms per stage, one thread

The movies are made once per size in the work folder (``--workdir`` keeps them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import (
    FIRST,
    Run,
    best_of,
    load_note,
    measure,
    report,
    warm_bytecode,
    write_movie_pair,
)

# The floor's bar: aebridge at the default settings should reach this share of the
# decode floor's frames per second.
TARGET = 0.6


# --------------------------------------------------------------------------- children


def child_floor(fgr: str, pha: str, exact: bool, frames: int) -> None:
    """Decode both streams on their own threads, to arrays, and drop them."""
    counts: list[int] = []
    errors: list[BaseException] = []

    def pyav(path: str) -> None:
        import av

        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            n = 0
            for frame in container.decode(stream):
                frame.to_ndarray(format="rgb24")
                n += 1
            counts.append(n)

    def ours(path: str, matte: bool) -> None:
        from aebridge import ingest

        info = (
            ingest.probe(path, colorspace="Raw", matte=True)
            if matte
            else ingest.probe(path)
        )
        counts.append(sum(1 for _ in ingest.read_frames(info, 0, frames, threads=0)))

    def run(fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(ours, fgr, False) if exact else (pyav, fgr)),
        threading.Thread(target=run, args=(ours, pha, True) if exact else (pyav, pha)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    if counts != [frames, frames]:
        raise SystemExit(f"decoded {counts} frames, expected {frames} each")


def child_convert(fgr: str, pha: str, out: str, compression: str) -> None:
    from aebridge.convert import convert

    result = convert(
        fgr, out, name="fg", matte=pha, compression=compression, force=True
    )
    print(result.frames_written)


def stages(fgr: Path, pha: Path, frames: int, compressions: list[str]) -> None:
    """CPU milliseconds per frame of each stage, on one thread, in this process."""
    import time

    from aebridge import exr, ingest
    from aebridge.imaging import PixelPipeline

    def cpu_ms(fn: Any) -> tuple[Any, float]:
        start = time.process_time()
        value = fn()
        return value, (time.process_time() - start) / frames * 1000

    info = ingest.probe(str(fgr))
    matte = ingest.probe(str(pha), colorspace="Raw", matte=True)
    colour, t_colour = cpu_ms(
        lambda: [p for _, p in ingest.read_frames(info, 0, frames)]
    )
    alpha, t_alpha = cpu_ms(
        lambda: [p for _, p in ingest.read_frames(matte, 0, frames)]
    )
    pipe = PixelPipeline(dtype=info.dtype, channels=info.channels,
                         colorspace_in=info.colorspace,
                         colorspace_out="Linear Rec.709 (sRGB)", alpha_mode="straight",
                         half=True, matte_dtype=matte.dtype,
                         matte_channels=matte.channels)  # fmt: skip
    pipe(colour[0], alpha[0])  # tables

    # Each result dropped as the next is made, as a conversion does (keeping all of
    # them would time the kernel's page faults for ~350 MB of new memory), then all
    # made again, untimed, for the encode.
    def pixels_dropped() -> None:
        for c, a in zip(colour, alpha, strict=True):
            pipe(c, a)

    _, t_pixels = cpu_ms(pixels_dropped)
    rgba = [pipe(c, a) for c, a in zip(colour, alpha, strict=True)]
    rows = [
        (f"decode colour + exact RGB ({info.pixel_format})", t_colour),
        (f"decode matte ({matte.pixel_format}, {matte.channels} channel)", t_alpha),
        ("pixels: linearise + premultiply + half", t_pixels),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for compression in compressions:
            settings = exr.ExrSettings(compression=compression)
            target = Path(tmp) / "f.exr"

            def write_all(s: Any = settings, t: Path = target) -> None:
                for f in rgba:
                    exr.write_frame(t, f, settings=s, attributes={})

            _, t_write = cpu_ms(write_all)
            rows.append((f"EXR encode + write, {compression}", t_write))
    print(f"\nstages, {info.width}x{info.height}, {frames} frames, one thread "
          "(CPU ms per frame):")  # fmt: skip
    for label, ms in rows:
        print(f"  {label:<52}{ms:8.1f}")


# --------------------------------------------------------------------------- commands


def me(*args: str) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), *args]


def ffmpeg_cmd(fgr: Path, pha: Path, out: Path) -> list[str]:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise SystemExit(
            "ffmpeg is not on PATH: apt-get install -y ffmpeg (see bench/README.md), "
            "or run with --no-ffmpeg"
        )
    graph = (
        "[1:v]format=gray[a];[0:v][a]alphamerge,format=gbrapf32le,"
        "zscale=tin=709:min=709:rin=limited:t=linear,premultiply=inplace=1"
    )
    return [
        exe, "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(fgr), "-i", str(pha), "-filter_complex", graph,
        "-c:v", "exr", "-compression", "zip16", "-format", "half",
        "-start_number", str(FIRST), str(out / "out.%04d.exr"),
    ]  # fmt: skip


def long_pair(
    pair: tuple[Path, Path], folder: Path, frames: int, one_gop: bool
) -> tuple[Path, Path]:
    """The pair looped to ``frames`` frames.

    ``one_gop`` re-encodes it with a single keyframe (aebridge then converts it as one
    chunk, on threads); otherwise the packets are copied, keeping a keyframe at every
    loop (chunks at keyframes, on the process pool).
    """
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise SystemExit("--memory needs ffmpeg to loop the movies (see README)")
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for src in pair:
        dst = folder / src.name
        if not dst.exists():
            codec = (
                ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
                 "-x264-params", "keyint=infinite:scenecut=0", "-pix_fmt", "yuv420p",
                 "-colorspace", "bt709", "-color_trc", "bt709",
                 "-color_primaries", "bt709", "-color_range", "tv"]
                if one_gop
                else ["-c", "copy"]
            )  # fmt: skip
            subprocess.run(
                [exe, "-hide_banner", "-loglevel", "error", "-y", "-stream_loop",
                 "-1", "-i", str(src), "-frames:v", str(frames), *codec, str(dst)],
                check=True,
            )  # fmt: skip
        made.append(dst)
    return made[0], made[1]


def memory_runs(
    src: tuple[Path, Path], out: Path, compressions: list[str], layout: str
) -> list[Run]:
    frames = count_frames(src[0])
    runs = []
    for compression in compressions:
        label = f"aebridge {compression}, {frames} frames, {layout}"
        print(f"running {label} ...", flush=True)
        cmd = me("--child", "convert", "--args", str(src[0]), str(src[1]), str(out),
                 compression)  # fmt: skip
        runs.append(measure(label, cmd, frames))
        shutil.rmtree(out, ignore_errors=True)  # a scratch folder: 5000 frames is GBs
    return runs


def count_frames(path: Path) -> int:
    from aebridge import ingest

    return int(ingest.probe(str(path)).frame_count)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (1280x720)")
    ap.add_argument("--frames", type=int, default=120, help="frames (120 = 5 s)")
    ap.add_argument("--trials", type=int, default=1, help="runs of each; best shown")
    ap.add_argument(
        "--compression",
        default="zip,piz",
        help="aebridge runs, comma-separated (zip,piz; zip is the default)",
    )
    ap.add_argument("--no-ffmpeg", action="store_true", help="skip FFmpeg's run")
    ap.add_argument("--stages", action="store_true", help="also time each stage")
    ap.add_argument(
        "--memory", action="store_true", help="aebridge only, 100 and 5000 frames"
    )
    ap.add_argument("--workdir", type=Path, help="keep the movies here")
    ap.add_argument(
        "--child", choices=("floor", "exact", "convert"), help=argparse.SUPPRESS
    )
    ap.add_argument("--args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "floor":
        child_floor(args.args[0], args.args[1], False, int(args.args[2]))
        return 0
    if args.child == "exact":
        child_floor(args.args[0], args.args[1], True, int(args.args[2]))
        return 0
    if args.child == "convert":
        child_convert(*args.args)
        return 0

    width, height = (int(v) for v in args.size.lower().split("x"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aebridge-movie-bench-"))
    compressions = [c.strip() for c in args.compression.split(",") if c.strip()]
    print(load_note(), "(start)", flush=True)
    try:
        pair = write_movie_pair(
            work / f"movies_{width}x{height}_{args.frames}", args.frames, width, height
        )
        fgr, pha = pair
        if args.stages:
            stages(fgr, pha, min(args.frames, 48), compressions)
        if args.memory:
            runs = []
            for one_gop, layout in ((True, "one keyframe"), (False, "keyframe/120")):
                for n in (100, 5000):
                    tag = "gop1" if one_gop else "loop"
                    folder = work / f"{tag}_{width}x{height}_{n}"
                    runs += memory_runs(
                        long_pair(pair, folder, n, one_gop), work / f"out_{n}",
                        compressions, layout,
                    )  # fmt: skip
            report(runs)
            print(load_note(), "(end)")
            return 0

        n = args.frames
        cases: list[tuple[str, list[str]]] = [
            ("decode floor (PyAV, threads, RGB)",
             me("--child", "floor", "--args", str(fgr), str(pha), str(n))),
            ("aebridge's arrays alone (ingest)",
             me("--child", "exact", "--args", str(fgr), str(pha), str(n))),
        ]  # fmt: skip
        for compression in compressions:
            label = f"aebridge convert, {compression}"
            cmd = me("--child", "convert", "--args", str(fgr), str(pha),
                     str(work / "out"), compression)  # fmt: skip
            cases.append((label, cmd))
        if not args.no_ffmpeg:
            cases.append(("ffmpeg (alphamerge, zscale, premultiply, exr zip)",
                          ffmpeg_cmd(fgr, pha, work / "out")))  # fmt: skip
        warm_bytecode()
        trials: dict[str, list[Run]] = {}
        for _ in range(args.trials):
            for label, cmd in cases:
                (work / "out").mkdir(exist_ok=True)
                print(f"running {label} ...", flush=True)
                trials.setdefault(label, []).append(measure(label, cmd, n))
                shutil.rmtree(work / "out", ignore_errors=True)
        runs = best_of(trials)
        report(runs)
        floor = runs[0]
        print(f"\n{width}x{height}, {n} frames; ratios from this run:")
        for r in runs[1:]:
            share = r.fps / floor.fps
            line = f"  {r.label}: {share:.2f} of the decode floor's fps"
            if r.label.startswith("aebridge convert"):
                line += f" (target {TARGET})"
            print(line)
        ffmpeg = [r for r in runs if r.label.startswith("ffmpeg")]
        if ffmpeg:
            for r in runs:
                if r.label.startswith("aebridge convert"):
                    print(
                        f"  {r.label} / ffmpeg: {r.fps / ffmpeg[0].fps:.2f}x fps, "
                        f"{ffmpeg[0].cpu_ms_per_frame / r.cpu_ms_per_frame:.2f}x less "
                        "CPU per frame"
                    )
        print(load_note(), "(end)")
        return 0
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
