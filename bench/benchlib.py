"""Shared pieces of the benchmarks: test media, process measurement, reports.

Every benchmark prints figures from one run: frames per second (wall clock), CPU
milliseconds per frame (user + system of every process of the run, pool workers and
their threads included) and the peak resident memory of the largest process. On a
shared machine the CPU figure and the ratios from the same run are the steady ones.
"""

from __future__ import annotations

import os
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

FIRST = 1001
SRGB = "sRGB Encoded Rec.709 (sRGB)"
LIN = "Linear Rec.709 (sRGB)"


def png_pipeline() -> Any:
    """aebridge's pixel pipeline for the PNG bench's frames (8-bit straight sRGB)."""
    from aebridge.imaging import PixelPipeline

    return PixelPipeline(
        dtype="uint8",
        channels=4,
        colorspace_in=SRGB,
        colorspace_out=LIN,
        alpha_mode="straight",
        half=True,
    )


def best_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Milliseconds of the fastest of ``repeat`` calls, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


# --------------------------------------------------------------------------- media


def grid(width: int, height: int) -> tuple[npt.NDArray[np.float32], ...]:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return y, x


def colour_field(i: int, width: int, height: int, grain: float) -> npt.NDArray[Any]:
    """Smooth moving colour fields with grain, 0..255 float (H x W x 3)."""
    rng = np.random.default_rng(i)
    y, x = grid(width, height)
    t = i * 0.05
    rgb = np.stack(
        [
            0.5 + 0.5 * np.sin(x / width * 6 + t),
            0.5 + 0.5 * np.cos(y / height * 5 - t),
            0.5 + 0.5 * np.sin((x + y) / (width + height) * 8 + 2 * t),
        ],
        axis=-1,
    )
    noise = rng.normal(0, grain, size=rgb.shape).astype(np.float32)
    out: npt.NDArray[Any] = np.asarray(rgb * 255 + noise)
    return out


def soft_matte(i: int, width: int, height: int) -> npt.NDArray[Any]:
    """A soft moving ellipse, 0..255 float (H x W): what a matting pass delivers."""
    y, x = grid(width, height)
    t = i * 0.05
    d = np.hypot(
        (x - width / 2 - width * 0.05 * np.sin(t)) / (width * 0.3),
        (y - height / 2) / (height * 0.35),
    )
    out: npt.NDArray[Any] = np.asarray(np.clip((1.15 - d) * 4, 0, 1) * 255)
    return out


def to_uint8(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def straight_rgba(i: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A generated-looking straight-alpha layer; colour is kept under alpha 0."""
    rgb = colour_field(i, width, height, grain=4)
    alpha = soft_matte(i, width, height)
    return to_uint8(np.concatenate([rgb, alpha[..., None]], axis=-1))


def write_movie_pair(
    folder: Path, frames: int, width: int, height: int, rate: int = 24
) -> tuple[Path, Path]:
    """``fgr.mp4`` and ``pha.mp4`` as RVM writes them: H.264 yuv420p, BT.709 tags.

    The foreground is a grainy colour field, the matte a grey soft ellipse; both
    with x264's default keyframe interval (a 5 s clip has one keyframe).
    """
    import av

    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "fgr.mp4", folder / "pha.mp4")
    if all(p.exists() for p in paths):
        return paths
    for path, kind in zip(paths, ("fgr", "pha"), strict=True):
        container = av.open(str(path), "w")
        stream: Any = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        ctx = stream.codec_context
        ctx.colorspace, ctx.color_trc, ctx.color_primaries = 1, 1, 1
        ctx.color_range = 1
        for i in range(frames):
            if kind == "fgr":
                px = to_uint8(colour_field(i, width, height, grain=3))
            else:
                px = np.repeat(to_uint8(soft_matte(i, width, height))[..., None], 3, 2)
            frame = av.VideoFrame.from_ndarray(px, format="rgb24").reformat(
                format="yuv420p", dst_colorspace="itu709", dst_color_range="MPEG"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        container.close()
    return paths


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


def child_env() -> dict[str, str]:
    """The environment the timed children run in: this one, with Python's bytecode
    cached (in a folder of its own), as an installed package has it.

    This project's machines set ``PYTHONDONTWRITEBYTECODE=1``, which made every
    child compile aebridge's modules from source (some 140 ms of a movie run, which
    no installed copy pays); call :func:`warm_bytecode` once before timing.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = Path(tempfile.gettempdir()) / "aebridge-bench-pycache"
    env.setdefault("PYTHONPYCACHEPREFIX", str(cache))
    return env


def warm_bytecode() -> None:
    """Compile aebridge's modules into :func:`child_env`'s cache (untimed)."""
    import aebridge

    folder = Path(aebridge.__file__).parent
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(folder)],
        env=child_env(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def measure(
    label: str, cmd: Sequence[str], frames: int, env: dict[str, str] | None = None
) -> Run:
    """Run a command; sample the RSS and CPU of it and its children every 20 ms."""
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
        list(cmd),
        env=child_env() if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
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


def report(runs: Sequence[Run]) -> None:
    print(
        f"\n{'run':<44}{'frames':>7}{'seconds':>9}{'fps':>8}{'CPU ms/frame':>14}"
        f"{'peak RSS/process':>18}{'procs':>7}"
    )
    for r in runs:
        print(
            f"{r.label:<44}{r.frames:>7}{r.seconds:>9.2f}{r.fps:>8.2f}"
            f"{r.cpu_ms_per_frame:>14.1f}{r.peak_rss_mb:>15.0f} MB{r.processes:>7}"
        )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return (
        f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    )


def best_of(trials: dict[str, list[Run]]) -> list[Run]:
    """The fastest run of each label, in the order the labels were first run."""
    return [max(runs, key=lambda r: r.fps) for runs in trials.values()]
