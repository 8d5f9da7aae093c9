"""Benchmark: aebridge against oiiotool's sequence mode on 1080p straight-alpha PNGs.

Both sides do the same job: straight-alpha 8-bit sRGB PNG -> linearise -> premultiply
-> half-float, zip-compressed, full-frame EXR. The script generates the sequence,
converts it with ``aebridge.convert.convert`` (all cores) and with oiiotool (plain
sequence mode and ``--parallel-frames``; the faster is the reference), and prints
frames per second, the ratio, and the peak resident memory of each process.

    python bench/convert.py                  # 48 frames at 1920x1080
    python bench/convert.py --frames 96 --stages
    python bench/convert.py --memory         # peak memory at 100 and at 1000 frames
    python bench/convert.py --engine direct  # the stages in a plain process pool

``--stages`` times each stage of one frame on one core: PNG decode, the pixel
pipeline (fused table lookup, and the plain float path for comparison), EXR encode.
Only a few distinct frames are generated; the rest of the sequence are hard links to
them, which costs no disk and changes nothing for either converter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SRGB = "sRGB Encoded Rec.709 (sRGB)"
LIN = "Linear Rec.709 (sRGB)"
FIRST = 1001
UNIQUE = 8


# --------------------------------------------------------------------------- input


def synthetic_frame(i: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A generated-looking layer: smooth colour fields, grain, a soft moving matte.

    The colour outside the matte is kept (straight PNGs carry it under alpha 0),
    and the grain keeps the PNG and EXR encoders honest (flat images compress
    unrealistically well).
    """
    rng = np.random.default_rng(i)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = i * 0.05
    rgb = np.stack(
        [
            0.5 + 0.5 * np.sin(x / width * 6 + t),
            0.5 + 0.5 * np.cos(y / height * 5 - t),
            0.5 + 0.5 * np.sin((x + y) / (width + height) * 8 + 2 * t),
        ],
        axis=-1,
    )
    rgb = rgb * 255 + rng.normal(0, 4, size=rgb.shape).astype(np.float32)
    d = np.hypot(
        (x - width / 2 - width * 0.05 * np.sin(t)) / (width * 0.3),
        (y - height / 2) / (height * 0.35),
    )
    alpha = np.clip((1.15 - d) * 4, 0, 1) * 255
    px = np.concatenate([rgb, alpha[..., None]], axis=-1)
    return np.clip(px + 0.5, 0, 255).astype(np.uint8)


def write_png(path: Path, px: npt.NDArray[np.uint8]) -> None:
    import OpenImageIO as oiio

    h, w, c = px.shape
    spec = oiio.ImageSpec(w, h, c, oiio.UINT8)
    # Store the values as given: OpenImageIO would otherwise un-premultiply them.
    spec.attribute("oiio:UnassociatedAlpha", 1)
    out = oiio.ImageOutput.create(str(path))
    if out is None or not out.open(str(path), spec) or not out.write_image(px):
        raise RuntimeError(f"cannot write {path}: {oiio.geterror()}")
    out.close()


def make_sequence(folder: Path, frames: int, width: int, height: int) -> Path:
    """``folder/in.####.png`` from FIRST: UNIQUE distinct frames, then hard links."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(frames):
        path = folder / f"in.{FIRST + k:04d}.png"
        if path.exists():
            continue
        if k < UNIQUE:
            write_png(path, synthetic_frame(k, width, height))
        else:
            os.link(folder / f"in.{FIRST + k % UNIQUE:04d}.png", path)
    return folder / "in.####.png"


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    label: str
    seconds: float
    frames: int
    peak_rss_mb: float  # the largest peak of any one process of the run
    processes: int  # how many processes the run had over its life
    cpu_seconds: float  # user + system time of the run's processes

    @property
    def cpu_ms_per_frame(self) -> float:
        return self.cpu_seconds / self.frames * 1000

    @property
    def fps(self) -> float:
        return self.frames / self.seconds


def read_png(path: str) -> Any:
    """A PNG's RGBA as stored (straight alpha, not premultiplied on read)."""
    import OpenImageIO as oiio

    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    inp = oiio.ImageInput.open(path, config)
    if inp is None:
        raise RuntimeError(f"cannot open {path}: {oiio.geterror()}")
    try:
        data = inp.read_image(0, 0, 0, 4, oiio.UINT8)
        if data is None:
            raise RuntimeError(f"cannot read {path}: {inp.geterror()}")
        return data
    finally:
        inp.close()


def measure(label: str, cmd: Sequence[str], frames: int, env: dict[str, str]) -> Run:
    """Run a command; sample the RSS of it and its children every 20 ms."""
    import resource

    import psutil  # type: ignore[import-untyped]

    peaks: dict[int, int] = {}
    # Pool workers started by a forkserver are not this process's children, so
    # their CPU time never reaches RUSAGE_CHILDREN: sample it too (the last 20 ms of
    # each process are missed, a fraction of a percent here).
    cpu_by_pid: dict[int, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in family:
            try:
                rss = p.memory_info().rss
                times = p.cpu_times()
            except psutil.Error:
                continue
            peaks[p.pid] = max(peaks.get(p.pid, 0), rss)
            cpu_by_pid[p.pid] = times.user + times.system
        time.sleep(0.02)
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(cpu, sum(cpu_by_pid.values()))
    if proc.returncode != 0:
        raise RuntimeError(
            f"{label} failed ({proc.returncode}):\n"
            + err.decode(errors="replace")[-3000:]
        )
    return Run(
        label=label,
        seconds=seconds,
        frames=frames,
        peak_rss_mb=max(peaks.values(), default=0) / 2**20,
        processes=len(peaks),
        cpu_seconds=cpu,
    )


def oiiotool_cmd(src: Path, out: Path, frames: int, parallel: bool) -> list[str]:
    exe = shutil.which("oiiotool")
    if exe is None:
        raise SystemExit(
            "oiiotool is not on PATH (it comes with the OpenImageIO wheel)"
        )
    cmd = [exe]
    if parallel:
        cmd.append("--parallel-frames")
    cmd += [
        "--frames",
        f"{FIRST}-{FIRST + frames - 1}",
        "--no-autopremult",
        str(src / "in.#.png"),
        "--colorconvert",
        SRGB,
        LIN,
        "--premult",
        "-d",
        "half",
        "--compression",
        "zip",
        "-o",
        str(out / "out.#.exr"),
    ]
    return cmd


def aebridge_cmd(src: Path, out: Path, jobs: int, engine: str) -> list[str]:
    return [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        engine,
        "--src",
        str(src),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
    ]


# --------------------------------------------------------------------------- children


def _direct_frame(task: tuple[str, str]) -> None:
    """One frame in a worker: exactly what convert's workers do, minus bookkeeping."""

    from aebridge import exr
    from aebridge.imaging import PixelPipeline

    src, dst = task
    px = read_png(src)
    pipeline = PixelPipeline(
        dtype="uint8",
        channels=4,
        colorspace_in=SRGB,
        colorspace_out=LIN,
        alpha_mode="straight",
        half=True,
    )
    exr.write_frame(
        dst, pipeline(px), settings=exr.ExrSettings(compression="zip"), attributes={}
    )


def child(engine: str, src: Path, out: Path, jobs: int) -> None:
    if engine == "convert":
        from aebridge.convert import convert

        convert(
            str(src / "in.####.png"),
            out,
            name="out",
            alpha="straight",
            compression="zip",
            autocrop=False,
            jobs=jobs,
            force=True,
        )
        return
    import multiprocessing as mp

    files = sorted(src.glob("in.*.png"))
    tasks = [
        (str(f), str(out / f.name.replace("in.", "out.").replace(".png", ".exr")))
        for f in files
    ]
    out.mkdir(parents=True, exist_ok=True)
    with mp.get_context("spawn").Pool(jobs) as pool:
        for _ in pool.imap_unordered(_direct_frame, tasks, chunksize=4):
            pass


# --------------------------------------------------------------------------- stages


def _timeit(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up (tables, caches)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def stages(src: Path, tmp: Path, repeat: int) -> None:
    """Per-stage milliseconds for one frame on one thread (best of ``repeat``)."""
    import OpenEXR
    import OpenImageIO as oiio

    from aebridge import exr
    from aebridge.imaging import PixelPipeline, ocio_convert

    oiio.attribute("threads", 1)
    oiio.attribute("exr_threads", 1)
    png = src / f"in.{FIRST:04d}.png"
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)

    def decode_oiio() -> Any:
        return read_png(str(png))

    rows: list[tuple[str, float]] = [
        ("decode PNG, OpenImageIO", _timeit(decode_oiio, repeat))
    ]
    for module, call in (("pyspng", "load"), ("imagecodecs", "png_decode")):
        try:
            lib = __import__(module)
        except ImportError:
            rows.append((f"decode PNG, {module} (not installed)", float("nan")))
            continue
        decode: Callable[[bytes], Any] = getattr(lib, call)

        def decode_with(decode: Callable[[bytes], Any] = decode) -> None:
            decode(png.read_bytes())

        rows.append((f"decode PNG, {module}", _timeit(decode_with, repeat)))
    px = decode_oiio()
    pipe = PixelPipeline(
        dtype="uint8",
        channels=4,
        colorspace_in=SRGB,
        colorspace_out=LIN,
        alpha_mode="straight",
        half=True,
    )
    rows.append(
        ("pipeline: fused 256x256 table -> half", _timeit(lambda: pipe(px), repeat))
    )
    lin = ocio_convert(
        np.repeat((np.arange(256) / 255).astype(np.float32)[:, None], 3, 1), SRGB, LIN
    )[:, 0]

    def plain() -> Any:
        a = px[..., 3].astype(np.float32) / 255
        rgb = lin[px[..., :3]] * a[..., None]
        out = np.empty(px.shape, np.float16)
        out[..., :3] = rgb
        out[..., 3] = a
        return out

    rows.append(
        ("pipeline: 1-D LUT, float32 multiply, half cast", _timeit(plain, repeat))
    )
    rows.append(
        (
            "pipeline: OCIO on float32 (no table)",
            _timeit(
                lambda: ocio_convert(px[..., :3].astype(np.float32) / 255, SRGB, LIN),
                max(1, repeat // 2),
            ),
        )
    )
    rgba = pipe(px)

    def writer(comp: str) -> str:
        own = comp == "zip" and exr._FAST_DEFLATE is not None
        return " (ISA-L)" if own else " (OpenEXR binding)"

    for comp in ("zip", "piz"):
        settings = exr.ExrSettings(compression=comp)

        def via_aebridge(settings: exr.ExrSettings = settings) -> None:
            exr.write_frame(tmp / "s.exr", rgba, settings=settings, attributes={})

        rows.append(
            (
                f"EXR encode {comp}, aebridge write_frame{writer(comp)}",
                _timeit(via_aebridge, repeat),
            )
        )

        def via_oiio(comp: str = comp) -> None:
            spec = oiio.ImageSpec(rgba.shape[1], rgba.shape[0], 4, oiio.HALF)
            spec.attribute("compression", comp)
            o = oiio.ImageOutput.create(str(tmp / "o.exr"))
            if o is None:
                raise RuntimeError(f"OpenImageIO has no EXR writer: {oiio.geterror()}")
            # OpenImageIO wants an interleaved, contiguous buffer.
            ok = o.open(str(tmp / "o.exr"), spec)
            ok = ok and o.write_image(np.ascontiguousarray(rgba))
            o.close()
            if not ok:
                raise RuntimeError(f"OpenImageIO could not write: {o.geterror()}")

        rows.append(
            (f"EXR encode {comp}, OpenImageIO plug-in", _timeit(via_oiio, repeat))
        )
    fast, exr._FAST_DEFLATE = exr._FAST_DEFLATE, None
    try:
        rows.append(
            (
                "EXR encode zip, aebridge write_frame (OpenEXR binding)",
                _timeit(
                    lambda: exr.write_frame(
                        tmp / "b.exr",
                        rgba,
                        settings=exr.ExrSettings(compression="zip"),
                        attributes={},
                    ),
                    repeat,
                ),
            )
        )
    finally:
        exr._FAST_DEFLATE = fast
    rows.append(
        (
            "EXR encode none, OpenEXR binding",
            _timeit(
                lambda: OpenEXR.File(
                    {"compression": OpenEXR.NO_COMPRESSION},
                    {"RGBA": rgba},
                    num_threads=1,
                ).write(str(tmp / "n.exr")),
                repeat,
            ),
        )
    )
    print(
        f"\nstages, one {px.shape[1]}x{px.shape[0]} frame, one thread, "
        f"best of {repeat}:"
    )
    for label, ms in rows:
        print(f"  {label:<56} {ms:8.1f} ms")


# --------------------------------------------------------------------------- main


def report(runs: Sequence[Run]) -> None:
    print(
        f"\n{'run':<34}{'frames':>7}{'seconds':>9}{'fps':>8}{'CPU ms/frame':>14}"
        f"{'peak RSS/process':>18}{'procs':>7}"
    )
    for r in runs:
        print(
            f"{r.label:<34}{r.frames:>7}{r.seconds:>9.2f}{r.fps:>8.2f}"
            f"{r.cpu_ms_per_frame:>14.0f}{r.peak_rss_mb:>15.0f} MB{r.processes:>7}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--frames", type=int, default=48, help="frames in the sequence (48)"
    )
    ap.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (1920x1080)")
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="aebridge worker processes (all cores)",
    )
    ap.add_argument(
        "--engine",
        choices=("convert", "direct"),
        default="convert",
        help="aebridge.convert.convert, or the stages in a plain pool",
    )
    ap.add_argument("--stages", action="store_true", help="also time each stage")
    ap.add_argument(
        "--trials", type=int, default=1, help="runs of each converter; best is shown"
    )
    ap.add_argument(
        "--memory",
        action="store_true",
        help="aebridge only, at 100 and at 1000 frames: peak memory",
    )
    ap.add_argument(
        "--workdir", type=Path, help="keep inputs here (default: temporary)"
    )
    ap.add_argument("--child", choices=("convert", "direct"), help=argparse.SUPPRESS)
    ap.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        child(args.child, args.src, args.out, args.jobs)
        return 0

    width, height = (int(v) for v in args.size.lower().split("x"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aebridge-bench-"))
    env = dict(os.environ)
    try:
        runs: list[Run] = []
        if args.memory:
            for n in (100, 1000):
                src = work / f"png{n}"
                t = time.perf_counter()
                make_sequence(src, n, width, height)
                print(
                    f"{n} frames ready in {time.perf_counter() - t:.1f} s", flush=True
                )
                out = work / f"exr{n}"
                runs.append(
                    measure(
                        f"aebridge {args.engine}, {n} frames",
                        aebridge_cmd(src, out, args.jobs, args.engine),
                        n,
                        env,
                    )
                )
                shutil.rmtree(out, ignore_errors=True)
            report(runs)
            return 0

        src = work / f"png{args.frames}"
        t = time.perf_counter()
        make_sequence(src, args.frames, width, height)
        print(
            f"{args.frames} frames of {width}x{height} ready in "
            f"{time.perf_counter() - t:.1f} s",
            flush=True,
        )
        if args.stages:
            stages(src, work, repeat=5)
        # Runs alternate between the converters, and each keeps its best trial: on a
        # shared machine that is the fairest view of what each can do.
        trials: dict[str, list[Run]] = {}
        for _ in range(args.trials):
            for kind in ("oiiotool sequence mode", "oiiotool --parallel-frames", "ae"):
                out = work / "out"
                out.mkdir(exist_ok=True)
                if kind == "ae":
                    label = f"aebridge {args.engine} (jobs={args.jobs})"
                    cmd = aebridge_cmd(src, out, args.jobs, args.engine)
                else:
                    label = kind
                    cmd = oiiotool_cmd(src, out, args.frames, "parallel" in kind)
                trials.setdefault(label, []).append(
                    measure(label, cmd, args.frames, env)
                )
                shutil.rmtree(out, ignore_errors=True)
        bests = [max(runs, key=lambda r: r.fps) for runs in trials.values()]
        ref, ours = bests[:2], bests[2]
        best = max(ref, key=lambda r: r.fps)
        runs = [*ref, ours]
        report(runs)
        print()
        for r in ref:
            print(f"ratio aebridge / {r.label}: {ours.fps / r.fps:.2f}x throughput")
        print(
            f"the stricter of the two, against {best.label}: "
            f"{ours.fps / best.fps:.2f}x (target 3.0x)"
        )
        leanest = min(ref, key=lambda r: r.cpu_ms_per_frame)
        print(
            f"CPU per frame, {leanest.label} / aebridge: "
            f"{leanest.cpu_ms_per_frame / ours.cpu_ms_per_frame:.2f}x "
            "(steadier than wall time when the machine is shared)"
        )
        print(
            f"machine load average at the end: {os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} cores"
        )
        return 0
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
