"""The EXR compression study: write cost, size and read cost of each lossless option.

The rule the default is chosen by (bench/README.md explains it): a frame is written
once and read by After Effects again on every RAM preview, so for each compression

    cost per frame = write CPU + reads x (decode time on all cores + size / bandwidth)

among the compressions that are lossless for half float and that After Effects 2023+
reads; the lowest cost wins. The script measures every term for piz, zip, zips, rle,
none, pxr24 (lossless for half) and, where the installed OpenEXR has them, zstd and
htj2k (which After Effects cannot read), on two kinds of frame: the PNG bench's
1080p straight-alpha layer and a 720p H.264 movie + matte layer, both converted by
aebridge's pixel pipeline to half RGBA.

    python bench/compression.py                    # 3 frames each, best of 5
    python bench/compression.py --reads 10 --bandwidth 110
    python bench/compression.py --size 3840x2160   # the PNG-like case at 4K

Write times are aebridge's own writer (``aebridge.exr.write_frame``: ISA-L for zip,
the OpenEXR binding on one thread otherwise, each frame read back before its rename)
and, for comparison, the binding alone. Reads are the OpenEXR binding decoding every
channel from the page cache, on one thread and on every core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from benchlib import (
    LIN,
    best_ms,
    load_note,
    png_pipeline,
    straight_rgba,
    write_movie_pair,
)

# Compressions After Effects 2023+ reads (its OpenEXR predates 3.4's zstd and htj2k).
AE_READS = {"none", "rle", "zips", "zip", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    case: str
    compression: str
    write_ms: float  # aebridge's writer, one thread
    binding_write_ms: float  # the OpenEXR binding, one thread
    size_mb: float
    read1_ms: float  # one thread
    read_all_ms: float  # every core
    lossless: bool
    ae: bool

    def cost(self, reads: int, bandwidth: float) -> float:
        io_ms = self.size_mb / bandwidth * 1000
        return self.write_ms + reads * (self.read_all_ms + io_ms)


def png_frames(count: int, width: int, height: int) -> list[npt.NDArray[Any]]:
    pipe = png_pipeline()
    return [np.array(pipe(straight_rgba(i, width, height))) for i in range(count)]


def movie_frames(count: int, folder: Path) -> list[npt.NDArray[Any]]:
    from aebridge import ingest
    from aebridge.imaging import PixelPipeline

    fgr, pha = write_movie_pair(folder, max(count, 8), 1280, 720)
    info = ingest.probe(str(fgr))
    matte = ingest.probe(str(pha), colorspace="Raw", matte=True)
    pipe = PixelPipeline(
        dtype=info.dtype,
        channels=info.channels,
        colorspace_in=info.colorspace,
        colorspace_out=LIN,
        alpha_mode="straight",
        half=True,
        matte_dtype=matte.dtype,
        matte_channels=matte.channels,
    )
    pairs = zip(
        ingest.read_frames(info, 0, count),
        ingest.read_frames(matte, 0, count),
        strict=True,
    )
    return [np.array(pipe(px, m)) for (_, px), (_, m) in pairs]


def study(
    case: str, frames: list[npt.NDArray[Any]], work: Path, repeat: int
) -> list[Row]:
    import OpenEXR

    from aebridge import exr

    names = ["piz", "zip", "zips", "rle", "none", "pxr24"]
    extra = [
        n
        for n, enum in (("zstd", "ZSTD_COMPRESSION"), ("htj2k", "HTJ2K256_COMPRESSION"))
        if hasattr(OpenEXR, enum)
    ]
    rows: list[Row] = []
    cores = os.cpu_count() or 1
    for name in names + extra:
        enum = getattr(
            OpenEXR,
            {"zstd": "ZSTD_COMPRESSION", "htj2k": "HTJ2K256_COMPRESSION"}.get(
                name,
                exr.COMPRESSIONS[name].enum_name if name in exr.COMPRESSIONS else "",
            ),
        )
        writes, bindings, sizes, reads1, reads_all = [], [], [], [], []
        lossless = True
        for k, rgba in enumerate(frames):
            path = work / f"{case}.{name}.{k}.exr"
            planes = {
                c: np.ascontiguousarray(rgba[..., i]) for i, c in enumerate("RGBA")
            }

            def binding(
                path: Path = path, planes: Any = planes, enum: Any = enum
            ) -> None:
                header = {"compression": enum, "type": OpenEXR.scanlineimage}
                # The binding turns the arrays of the dict it gets into Channels.
                OpenEXR.File(header, dict(planes), num_threads=1).write(str(path))

            bindings.append(best_ms(binding, repeat))
            if name in exr.COMPRESSIONS:
                settings = exr.ExrSettings(compression=name)

                def ours(
                    path: Path = path,
                    rgba: Any = rgba,
                    settings: exr.ExrSettings = settings,
                ) -> None:
                    exr.write_frame(path, rgba, settings=settings, attributes={})

                writes.append(best_ms(ours, repeat))
            else:
                writes.append(bindings[-1])
            sizes.append(path.stat().st_size / 1e6)

            def read(threads: int, path: Path = path) -> dict[str, Any]:
                f = OpenEXR.File(str(path), separate_channels=True, num_threads=threads)
                return {n: c.pixels for n, c in f.channels().items()}

            reads1.append(best_ms(lambda: read(1), repeat))
            reads_all.append(best_ms(lambda: read(cores), repeat))
            back = read(1)
            lossless &= all(
                np.array_equal(back[c].view(np.uint16), planes[c].view(np.uint16))
                for c in "RGBA"
            )
        rows.append(
            Row(
                case=case,
                compression=name,
                write_ms=float(np.mean(writes)),
                binding_write_ms=float(np.mean(bindings)),
                size_mb=float(np.mean(sizes)),
                read1_ms=float(np.mean(reads1)),
                read_all_ms=float(np.mean(reads_all)),
                lossless=lossless,
                ae=name in AE_READS,
            )
        )
    return rows


def print_rows(rows: list[Row], reads: int, bandwidth: float) -> None:
    print(
        f"\n| case | compression | write, aebridge (ms) | write, binding (ms) | "
        f"size (MB) | read, 1 thread (ms) | read, all cores (ms) | lossless | "
        f"AE 2023+ reads | cost, {reads} reads at {bandwidth:g} MB/s (ms) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
    for r in rows:
        print(
            f"| {r.case} | {r.compression} | {r.write_ms:.1f} | "
            f"{r.binding_write_ms:.1f} | {r.size_mb:.2f} | {r.read1_ms:.1f} | "
            f"{r.read_all_ms:.1f} | {'yes' if r.lossless else 'NO'} | "
            f"{'yes' if r.ae else 'no'} | {r.cost(reads, bandwidth):.0f} |"
        )
    for case in dict.fromkeys(r.case for r in rows):
        allowed = [r for r in rows if r.case == case and r.lossless and r.ae]
        ranked = sorted(allowed, key=lambda r: r.cost(reads, bandwidth))
        print(
            f"{case}: by the rule, "
            + " < ".join(
                f"{r.compression} ({r.cost(reads, bandwidth):.0f})" for r in ranked
            )
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=3, help="distinct frames (3)")
    ap.add_argument("--repeat", type=int, default=5, help="best of N (5)")
    ap.add_argument("--size", default="1920x1080", help="PNG-like case size")
    ap.add_argument(
        "--reads",
        type=int,
        default=10,
        help="reads of each frame in the rule (10 RAM previews)",
    )
    ap.add_argument(
        "--bandwidth",
        type=float,
        default=110.0,
        help="storage read bandwidth in MB/s (110: a 1 GbE share)",
    )
    ap.add_argument("--no-movie", action="store_true", help="skip the movie case")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(load_note(), "(start)")
    with tempfile.TemporaryDirectory(prefix="aebridge-compression-") as tmp:
        work = Path(tmp)
        rows = study(
            f"png {width}x{height}",
            png_frames(args.frames, width, height),
            work,
            args.repeat,
        )
        if not args.no_movie:
            rows += study(
                "movie 1280x720",
                movie_frames(args.frames, work / "mov"),
                work,
                args.repeat,
            )
    print_rows(rows, args.reads, args.bandwidth)
    print(load_note(), "(end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
