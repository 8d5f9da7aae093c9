"""Benchmark: aebridge against oiiotool's sequence mode on 1080p straight-alpha PNGs.

Both sides do the same job: straight-alpha 8-bit sRGB PNG -> linearise -> premultiply
-> half-float, full-frame EXR, at each compression asked for (zip, aebridge's
default, and piz by default). The script generates the sequence, converts it with
``aebridge.convert.convert`` (all cores) and with oiiotool (plain sequence mode and
``--parallel-frames``), and prints frames per second, CPU milliseconds per frame,
the peak resident memory of each process and the ratios, all from the same run.

    python bench/convert.py                  # 48 frames at 1920x1080, zip and piz
    python bench/convert.py --frames 96 --stages
    python bench/convert.py --size 3840x2160 --frames 24
    python bench/convert.py --compression zip --trials 3
    python bench/convert.py --memory         # peak memory at 100 and at 1000 frames
    python bench/convert.py --engine direct  # the stages in a plain process pool

``--stages`` times each stage of one frame on one core: PNG decode (OpenImageIO,
Wuffs, libspng, imagecodecs), the pixel pipeline (fused table lookup, and the plain
float path for comparison), EXR encode. Only a few distinct frames are generated;
the rest of the sequence are hard links to them, which costs no disk and changes
nothing for either converter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from benchlib import (
    FIRST,
    LIN,
    SRGB,
    Run,
    best_ms,
    best_of,
    load_note,
    measure,
    png_pipeline,
    report,
    straight_rgba,
    warm_bytecode,
)

UNIQUE = 8
# The bars: aebridge's fps over oiiotool's, per mode.
TARGETS = {"oiiotool sequence mode": 4.0, "oiiotool --parallel-frames": 3.0}


# --------------------------------------------------------------------------- input


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
            write_png(path, straight_rgba(k, width, height))
        else:
            os.link(folder / f"in.{FIRST + k % UNIQUE:04d}.png", path)
    return folder / "in.####.png"


# --------------------------------------------------------------------------- measuring


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


def oiiotool_cmd(
    src: Path, out: Path, frames: int, parallel: bool, compression: str
) -> list[str]:
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
        compression,
        "-o",
        str(out / "out.#.exr"),
    ]
    return cmd


def aebridge_cmd(
    src: Path, out: Path, jobs: int, engine: str, compression: str
) -> list[str]:
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
        "--compression",
        compression,
    ]


# --------------------------------------------------------------------------- children


def _direct_frame(task: tuple[str, str, str]) -> None:
    """One frame in a worker: exactly what convert's workers do, minus bookkeeping."""

    from aebridge import exr

    src, dst, compression = task
    px = read_png(src)
    pipeline = png_pipeline()
    exr.write_frame(
        dst,
        pipeline(px),
        settings=exr.ExrSettings(compression=compression),
        attributes={},
    )


def child(engine: str, src: Path, out: Path, jobs: int, compression: str) -> None:
    if engine == "convert":
        from aebridge.convert import convert

        convert(
            str(src / "in.####.png"),
            out,
            name="out",
            alpha="straight",
            compression=compression,
            autocrop=False,
            jobs=jobs,
            force=True,
        )
        return
    import multiprocessing as mp

    files = sorted(src.glob("in.*.png"))
    tasks = [
        (
            str(f),
            str(out / f.name.replace("in.", "out.").replace(".png", ".exr")),
            compression,
        )
        for f in files
    ]
    out.mkdir(parents=True, exist_ok=True)
    with mp.get_context("spawn").Pool(jobs) as pool:
        for _ in pool.imap_unordered(_direct_frame, tasks, chunksize=4):
            pass


# --------------------------------------------------------------------------- stages


def stages(src: Path, tmp: Path, repeat: int) -> None:
    """Per-stage milliseconds for one frame on one thread (best of ``repeat``)."""
    import OpenEXR
    import OpenImageIO as oiio

    from aebridge import exr
    from aebridge.imaging import ocio_convert

    oiio.attribute("threads", 1)
    oiio.attribute("exr_threads", 1)
    png = src / f"in.{FIRST:04d}.png"
    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)

    def decode_oiio() -> Any:
        return read_png(str(png))

    from aebridge.ingest import png as wuffs

    rows: list[tuple[str, float]] = [
        ("decode PNG, OpenImageIO", best_ms(decode_oiio, repeat)),
        (
            "decode PNG, Wuffs (aebridge.ingest.png)",
            best_ms(lambda: wuffs.decode(str(png), 4, "uint8"), repeat)
            if wuffs.available()
            else float("nan"),
        ),
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

        rows.append((f"decode PNG, {module}", best_ms(decode_with, repeat)))
    px = decode_oiio()
    pipe = png_pipeline()
    rows.append(
        ("pipeline: fused 256x256 table -> half", best_ms(lambda: pipe(px), repeat))
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
        ("pipeline: 1-D LUT, float32 multiply, half cast", best_ms(plain, repeat))
    )
    rows.append(
        (
            "pipeline: OCIO on float32 (no table)",
            best_ms(
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
                best_ms(via_aebridge, repeat),
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
            (f"EXR encode {comp}, OpenImageIO plug-in", best_ms(via_oiio, repeat))
        )
    fast, exr._FAST_DEFLATE = exr._FAST_DEFLATE, None
    try:
        rows.append(
            (
                "EXR encode zip, aebridge write_frame (OpenEXR binding)",
                best_ms(
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
            best_ms(
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
    ap.add_argument(
        "--compression",
        default="zip,piz",
        help="compressions to compare, comma-separated (zip,piz; zip is aebridge's "
        "default)",
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
    compressions = [c.strip() for c in args.compression.split(",") if c.strip()]

    if args.child:
        child(args.child, args.src, args.out, args.jobs, compressions[0])
        return 0

    width, height = (int(v) for v in args.size.lower().split("x"))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="aebridge-bench-"))
    print(load_note(), "(start)", flush=True)
    try:
        runs: list[Run] = []
        if args.memory:
            for n in (100, 1000):
                src = work / f"png{n}_{width}x{height}"
                t = time.perf_counter()
                make_sequence(src, n, width, height)
                print(
                    f"{n} frames ready in {time.perf_counter() - t:.1f} s", flush=True
                )
                out = work / f"exr{n}"
                for comp in compressions:
                    runs.append(
                        measure(
                            f"aebridge {args.engine} {comp}, {n} frames",
                            aebridge_cmd(src, out, args.jobs, args.engine, comp),
                            n,
                        )
                    )
                    shutil.rmtree(out, ignore_errors=True)
            report(runs)
            print(load_note(), "(end)")
            return 0

        src = work / f"png{args.frames}_{width}x{height}"
        t = time.perf_counter()
        make_sequence(src, args.frames, width, height)
        print(
            f"{args.frames} frames of {width}x{height} ready in "
            f"{time.perf_counter() - t:.1f} s",
            flush=True,
        )
        if args.stages:
            stages(src, work, repeat=5)
        for comp in compressions:
            compare(args, src, work, comp)
        print(load_note(), "(end)")
        return 0
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def compare(args: argparse.Namespace, src: Path, work: Path, comp: str) -> None:
    """aebridge and both oiiotool modes at one compression; runs alternate, and each
    keeps its best trial: on a shared machine the fairest view of each."""
    warm_bytecode()
    trials: dict[str, list[Run]] = {}
    for _ in range(args.trials):
        for kind in ("oiiotool sequence mode", "oiiotool --parallel-frames", "ae"):
            out = work / "out"
            out.mkdir(exist_ok=True)
            if kind == "ae":
                label = f"aebridge {args.engine} (jobs={args.jobs})"
                cmd = aebridge_cmd(src, out, args.jobs, args.engine, comp)
            else:
                label = kind
                cmd = oiiotool_cmd(src, out, args.frames, "parallel" in kind, comp)
            print(f"running {label}, {comp} ...", flush=True)
            trials.setdefault(label, []).append(measure(label, cmd, args.frames))
            shutil.rmtree(out, ignore_errors=True)
    bests = best_of(trials)
    ref, ours = bests[:2], bests[2]
    print(f"\n{comp}:")
    report([*ref, ours])
    for r in ref:
        print(
            f"  aebridge / {r.label}: {ours.fps / r.fps:.2f}x fps "
            f"(target {TARGETS[r.label]:.0f}x), "
            f"{r.cpu_ms_per_frame / ours.cpu_ms_per_frame:.2f}x less CPU per frame"
        )


if __name__ == "__main__":
    sys.exit(main())
