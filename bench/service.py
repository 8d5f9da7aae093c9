"""Benchmark: 200 jobs from 20 concurrent clients against a real aebridge server.

Starts the service (uvicorn on 127.0.0.1, SQLite in a temporary folder) with tiny comps
(64x36, 4 frames, one straight-alpha PNG layer), then 20 client threads each submit
10 jobs and poll them until they end. Prints the throughput, the p50/p99 latency of
the API calls (submit, get, list) measured while conversions run, and checks that no
job is lost: every submitted id is listed once and ended ``succeeded``.

    python bench/service.py                          # the real build
    python bench/service.py --jobs 100 --clients 10
    PYTHONPATH=tests/service python bench/service.py --build fakebuild:build

``--build`` picks another build function (``module:function``), e.g. the scripted
one of the service tests, to measure the service alone without conversion.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spec(name: str, frames: int) -> dict[str, Any]:
    return {
        "schema": "aebridge.comp/1",
        "comp": {"name": name, "width": 64, "height": 36, "rate": "24",
                 "duration": frames},
        "layers": [{"id": "fg", "source": {"path": "fg/fg.####.png",
                                           "alpha": "straight"}}],
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs in all")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--frames", type=int, default=4, help="frames per comp")
    parser.add_argument("--workers", type=int, default=2, help="service workers")
    parser.add_argument("--build", default=None, help="module:function of the build")
    parser.add_argument("--poll", type=float, default=0.2, help="client poll seconds")
    args = parser.parse_args(argv)

    from aebridge.cli.serve import build_function
    from aebridge.client import Client
    from aebridge.service.config import ServiceConfig
    from aebridge.service.runtime import Service
    from aebridge.service.server import ServerThread
    from aebridge.synthetic import write_png_sequence

    with tempfile.TemporaryDirectory(prefix="aebridge-bench-") as tmp:
        root = Path(tmp) / "inputs"
        write_png_sequence(root / "fg", "fg", frames=args.frames)
        service = Service(
            ServiceConfig(
                data_dir=Path(tmp) / "data",
                input_roots=(root,),
                workers=args.workers,
                build_jobs=1,
            ),
            build=build_function(args.build),
        )
        server = ServerThread(service).start()
        latencies: dict[str, list[float]] = {"submit": [], "get": [], "list": []}
        lock = threading.Lock()
        submitted: list[str] = []
        errors: list[str] = []
        per_client = args.jobs // args.clients

        def timed(kind: str, call: Any, *a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            value = call(*a, **kw)
            with lock:
                latencies[kind].append(time.perf_counter() - start)
            return value

        def client_thread(index: int) -> None:
            try:
                with Client(server.url) as client:
                    mine = []
                    for n in range(per_client):
                        job = timed(
                            "submit",
                            client.submit,
                            spec(f"c{index:02d}_{n:02d}", args.frames),
                            idempotency_key=f"bench-{index}-{n}",
                        )
                        mine.append(job["id"])
                    with lock:
                        submitted.extend(mine)
                    pending = set(mine)
                    while pending:
                        time.sleep(args.poll)
                        timed("list", client.list, "running", limit=20)
                        for job_id in list(pending):
                            job = timed("get", client.get, job_id)
                            if job["status"] in ("succeeded", "failed", "canceled"):
                                pending.discard(job_id)
            except Exception as exc:  # report, do not hide, a client failure
                with lock:
                    errors.append(f"client {index}: {exc!r}")

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client_thread, args=(i,))
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started

        with Client(server.url) as client:
            listed = [job for job in client.iter_jobs(page_size=100)]
        server.stop()
        service.store.close()

    statuses = Counter(job["status"] for job in listed)
    listed_ids = Counter(job["id"] for job in listed)
    lost = [job_id for job_id in submitted if listed_ids[job_id] != 1]
    expected = per_client * args.clients
    print(f"jobs: {len(submitted)} submitted by {args.clients} clients "
          f"({args.workers} workers, {args.frames} frames of 64x36 each)")  # fmt: skip
    print(f"wall time: {elapsed:.2f} s, throughput: {len(submitted) / elapsed:.1f} "
          f"jobs/s, {len(submitted) * args.frames / elapsed:.1f} frames/s")  # fmt: skip
    for kind, values in latencies.items():
        if values:
            p50, p99 = percentile(values, 50) * 1e3, percentile(values, 99) * 1e3
            print(
                f"{kind:>6}: n={len(values):5d}  p50={p50:7.1f}"
                f" ms  p99={p99:7.1f} ms  "
                f"max={max(values) * 1e3:7.1f} ms  mean="
                f"{statistics.fmean(values) * 1e3:6.1f} ms"
            )
    print(f"statuses: {dict(statuses)}")
    print(f"lost: {len(lost)} (every submitted job listed exactly once)")
    for line in errors:
        print(line, file=sys.stderr)
    ok = (
        not errors
        and not lost
        and len(submitted) == expected
        and statuses.get("succeeded", 0) == expected
    )
    print("OK: none lost, all succeeded" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
