"""Benchmark: how aebridge's engines scale on the same frames.

Converts one PNG sequence with every engine and prints frames per second, the speed-up
over ``jobs=1`` (inline, no pool) and the overhead per frame: the extra slot-time an
engine spends per frame beyond the inline run,

    overhead per frame = (wall seconds x parallel slots - inline seconds) / frames

so 0 ms means perfect scaling, and for tiny frames (where the work itself is close to
nothing) it is the engine's own cost: pool start-up, pickling, scheduling.

Engines: ``local`` inline (jobs=1), ``local`` with a process pool of 2, and Dask
LocalClusters of 1 and 2 single-threaded worker processes (started once, outside the
timing, as a farm's cluster would be; each run connects a new client, as ``aebridge
convert --engine dask://...`` does). Every output is checked byte for byte against the
inline run, so all engines did the same work.

    python bench/scale.py                       # 48 frames at 960x540 and at 64x36
    python bench/scale.py --frames 96 --size 1920x1080 --repeat 2
    python bench/scale.py --no-dask             # local engine only

The best of ``--repeat`` runs gives frames per second, speed-up and overhead (other
processes share the machine); the first run is shown too: for the local pool it
includes starting the worker processes, which later runs in the same process (the
layers of a build, the jobs of the service) do not pay again.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    label: str
    slots: int
    frames: int
    seconds: float  # the best run
    first_seconds: float  # the first run: includes starting the local pool

    @property
    def fps(self) -> float:
        return self.frames / self.seconds

    def overhead_ms(self, inline_seconds: float) -> float:
        return (self.seconds * self.slots - inline_seconds) / self.frames * 1000


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.exr")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _time_convert(
    source: Path, out: Path, *, engine: str, jobs: int | None, repeat: int
) -> tuple[list[float], str]:
    """Wall times of ``repeat`` full conversions (force: nothing is skipped).

    The local pool is stopped first, so the first run pays for starting it, as a
    single ``aebridge convert`` does; later runs reuse its warm workers, as the
    layers of a build do.
    """
    from aebridge.convert import convert
    from aebridge.engine import shutdown_local_pools

    shutdown_local_pools()
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = convert(
            source, out, name="el", fps="24", engine=engine, jobs=jobs, force=True
        )
        times.append(time.perf_counter() - start)
        if result.frames_written != result.last - result.first + 1:
            raise SystemExit(f"{engine}: wrote {result.frames_written} frames")
    return times, _digest(out / "el")


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineCase:
    label: str
    slots: int
    jobs: int | None
    # Opens what the engine needs (a cluster) and yields the --engine value.
    setup: Callable[[], AbstractContextManager[str]]


class _Fixed(AbstractContextManager[str]):
    def __init__(self, spec: str) -> None:
        self.spec = spec

    def __enter__(self) -> str:
        return self.spec

    def __exit__(self, *exc: object) -> None:
        return None


class _Cluster(AbstractContextManager[str]):
    """A dask-local:N cluster kept up for the case; yields its scheduler address."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.stack = ExitStack()
        self.startup = 0.0

    def __enter__(self) -> str:
        from aebridge.engine import DaskEngine, open_engine

        start = time.perf_counter()
        engine = self.stack.enter_context(open_engine(f"dask-local:{self.workers}"))
        assert isinstance(engine, DaskEngine)
        # Warm the workers (imports of numpy, OpenImageIO, aebridge) like a farm's
        # long-lived workers; the cost is reported as start-up, not per frame.
        engine.client.run(_warm)
        self.startup = time.perf_counter() - start
        print(f"  (dask-local:{self.workers} started in {self.startup:.2f} s)")
        return engine.scheduler_address

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def _warm() -> None:
    import aebridge.convert  # noqa: F401


def cases(dask: bool) -> Iterator[EngineCase]:
    yield EngineCase(label="local, jobs=1 (inline)", slots=1, jobs=1,
                     setup=lambda: _Fixed("local"))  # fmt: skip
    yield EngineCase(label="local, jobs=2 (pool)", slots=2, jobs=2,
                     setup=lambda: _Fixed("local"))  # fmt: skip
    if dask:
        yield EngineCase(label="dask-local:1", slots=1, jobs=None,
                         setup=lambda: _Cluster(1))  # fmt: skip
        yield EngineCase(label="dask-local:2", slots=2, jobs=None,
                         setup=lambda: _Cluster(2))  # fmt: skip


def run_size(
    root: Path, *, frames: int, width: int, height: int, repeat: int, dask: bool
) -> list[Result]:
    from aebridge import synthetic

    src = root / f"src_{width}x{height}"
    synthetic.write_png_sequence(
        src, "el", frames=frames, width=width, height=height, pattern="disc"
    )
    source = src / "el.####.png"
    results: list[Result] = []
    reference: str | None = None
    for case in cases(dask):
        out = root / f"out_{width}x{height}_{case.slots}_{case.jobs}"
        with case.setup() as spec:
            times, digest = _time_convert(
                source, out, engine=spec, jobs=case.jobs, repeat=repeat
            )
        if reference is None:
            reference = digest
        elif digest != reference:
            raise SystemExit(f"{case.label}: output differs from the inline run")
        results.append(
            Result(
                label=case.label,
                slots=case.slots,
                frames=frames,
                seconds=min(times),
                first_seconds=times[0],
            )
        )
        shutil.rmtree(out)
    return results


def report(title: str, results: list[Result]) -> None:
    inline = results[0].seconds
    print(f"\n{title}")
    print(
        f"  {'engine':<24} {'first run':>9} {'best':>7} {'frames/s':>9} "
        f"{'speed-up':>9} {'overhead/frame':>15}"
    )
    for r in results:
        print(
            f"  {r.label:<24} {r.first_seconds:8.3f}s {r.seconds:6.3f}s {r.fps:9.1f} "
            f"{inline / r.seconds:8.2f}x {r.overhead_ms(inline):12.1f} ms"
        )


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected WIDTHxHEIGHT, e.g. 960x540"
        )
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=48, help="frames (default 48)")
    parser.add_argument("--size", type=_size, default=(960, 540),
                        help="frame size (default 960x540)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (best)")
    parser.add_argument("--no-dask", dest="dask", action="store_false",
                        help="local engine only")  # fmt: skip
    parser.add_argument("--no-tiny", dest="tiny", action="store_false",
                        help="skip the 64x36 overhead run")  # fmt: skip
    args = parser.parse_args(argv)
    if args.dask:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("distributed is not installed; local engine only", file=sys.stderr)
            args.dask = False
    width, height = args.size
    with tempfile.TemporaryDirectory(prefix="aebridge-scale-") as tmp:
        root = Path(tmp)
        sizes = [(width, height)] + ([(64, 36)] if args.tiny else [])
        for w, h in sizes:
            print(f"\n{args.frames} frames at {w}x{h}, best of {args.repeat}:")
            results = run_size(root, frames=args.frames, width=w, height=h,
                               repeat=args.repeat, dask=args.dask)  # fmt: skip
            report(f"{args.frames} frames at {w}x{h}", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
