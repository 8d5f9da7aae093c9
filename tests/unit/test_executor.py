"""Execution engines: chunking, frame ranges, results, errors, cancel, worker death.

The functions run by the engines are defined at module level so worker processes can
import them by name.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aebridge.engine import (
    Engine,
    LocalEngine,
    chunk_ranges,
    open_engine,
    parse_frame_range,
    shutdown_local_pools,
)
from aebridge.errors import (
    AebridgeError,
    CanceledError,
    EngineError,
    OptionError,
    Problem,
    SourceError,
    SpecError,
)

# --------------------------------------------------------------------------- workers


def square(x: int) -> int:
    return x * x


def pid_of(_: object) -> int:
    return os.getpid()


def oiio_threads(_: object) -> int:
    import OpenImageIO as oiio

    return int(oiio.get_int_attribute("threads"))


def page_faults_of_a_reused_frame(_: object) -> int:
    """Minor page faults of filling a 16 MiB array allocated just after freeing one."""
    import resource

    import numpy as np

    np.ones(4 * 2**20, dtype=np.float32)  # allocated and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(4 * 2**20, dtype=np.float32)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def raise_aebridge(kind: str) -> None:
    if kind == "option":
        raise OptionError("--compression", "zipp", ["piz", "zip"])
    if kind == "source":
        raise SourceError("truncated PNG", path="/shots/fg.1003.png", frame=1003)
    if kind == "spec":
        raise SpecError(
            [Problem(path="layers[2].blend", message="unknown mode 'glow'")],
            source="sh010.json",
        )
    raise AssertionError(kind)


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad pixel value in item {x}")
    return x


def die_on_two(x: int) -> int:
    if x == 2:
        os._exit(3)  # a worker killed mid-chunk (OOM killer, segfault)
    return x


def marked(task: tuple[str, int, float, int]) -> int:
    """Mark the chunk started, sleep, mark it done; raise for chunk ``bad``."""
    folder, index, delay, bad = task
    Path(folder, f"start.{index}").touch()
    if index == bad:
        raise SourceError("corrupt frame", frame=index)
    time.sleep(delay)
    Path(folder, f"done.{index}").touch()
    return index


def _fields(error: BaseException) -> dict[str, Any]:
    """An exception's attributes, without the notes an engine may add."""
    return {k: v for k, v in vars(error).items() if k != "__notes__"}


def _markers(folder: Path, kind: str) -> set[int]:
    return {int(p.suffix[1:]) for p in folder.glob(f"{kind}.*")}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pool() -> Iterator[Engine]:
    """One two-process engine for the module, so the workers start once."""
    with open_engine("local", jobs=2) as engine:
        yield engine


@pytest.fixture(params=["inline", "pool"])
def engine(request: pytest.FixtureRequest, pool: Engine) -> Iterator[Engine]:
    if request.param == "pool":
        yield pool
    else:
        with open_engine("local", jobs=1) as inline:
            yield inline


def _run(engine: Engine, fn: Any, chunks: list[Any], **kw: Any) -> list[Any]:
    results: list[Any] = []
    engine.map_chunks(fn, chunks, on_result=results.append, **kw)
    return results


# --------------------------------------------------------------------------- chunking


@pytest.mark.parametrize(
    ("total", "workers", "bounds", "lengths"),
    [
        (0, 2, {}, []),
        (1, 4, {}, [1]),
        (10, 1, {}, [3, 3, 2, 2]),
        (100, 2, {}, [13, 13, 13, 13, 12, 12, 12, 12]),
        (1000, 2, {}, [16] * 55 + [15] * 8),
        (10, 8, {"min_chunk": 4}, [5, 5]),
        (48, 2, {"max_chunk": 48}, [6] * 8),
        (5, 1, {"min_chunk": 3, "max_chunk": 4}, [3, 2]),
    ],
)
def test_chunk_lengths(
    total: int, workers: int, bounds: dict[str, int], lengths: list[int]
) -> None:
    ranges = chunk_ranges(total, workers=workers, **bounds)
    assert [len(r) for r in ranges] == lengths


def test_chunks_are_contiguous_ranges_in_order() -> None:
    assert chunk_ranges(7, workers=2) == [range(0, 1), range(1, 2), range(2, 3),
                                         range(3, 4), range(4, 5), range(5, 6),
                                         range(6, 7)]  # fmt: skip


@given(
    total=st.integers(0, 5000),
    workers=st.integers(1, 64),
    min_chunk=st.integers(1, 20),
    extra=st.integers(0, 60),
)
def test_chunks_cover_every_item_once_within_bounds(
    total: int, workers: int, min_chunk: int, extra: int
) -> None:
    max_chunk = min_chunk + extra
    ranges = chunk_ranges(
        total, workers=workers, min_chunk=min_chunk, max_chunk=max_chunk
    )
    assert [i for r in ranges for i in r] == list(range(total))
    lengths = [len(r) for r in ranges]
    assert all(n <= max_chunk for n in lengths)
    assert max(lengths, default=0) - min(lengths, default=0) <= 1
    # min_chunk holds whenever some split can satisfy both bounds.
    if -(-total // max_chunk) <= total // min_chunk:
        assert all(n >= min(min_chunk, total) for n in lengths)
    # Enough chunks to keep every worker busy, when the bounds allow it.
    if total >= workers * max_chunk:
        assert len(ranges) >= workers


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"total": -1, "workers": 1}, "total: -1 is not allowed; allowed: 0 or more"),
        ({"total": 5, "workers": 0}, "workers: 0 is not allowed; allowed: 1 or more"),
        (
            {"total": 5, "workers": 1, "min_chunk": 0},
            "min_chunk: 0 is not allowed; allowed: 1 or more",
        ),
        (
            {"total": 5, "workers": 1, "min_chunk": 8, "max_chunk": 4},
            "max_chunk: 4 is not allowed; allowed: at least min_chunk (8)",
        ),
    ],
)
def test_chunk_arguments_out_of_range(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError) as info:
        chunk_ranges(**kwargs)
    assert str(info.value) == message


# --------------------------------------------------------------------------- frames


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("1001-1004", [1001, 1002, 1003, 1004]),
        (" 1003 ", [1003]),
        ("1001,1005-1006", [1001, 1005, 1006]),
        ("1001-1010x3", [1001, 1004, 1007, 1010]),
        ("1004,1001-1002,1002", [1001, 1002, 1004]),
    ],
)
def test_frame_range_syntax(text: str, frames: list[int]) -> None:
    assert parse_frame_range(text, first=1001, last=1010) == frames


def test_frame_range_may_be_negative() -> None:
    assert parse_frame_range("-2--1", first=-5, last=5) == [-2, -1]


@pytest.mark.parametrize("text", ["1000-1004", "1009-1011", "1-1000000000", "1011"])
def test_frame_range_outside_sequence_names_allowed_frames(text: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_frame_range(text, first=1001, last=1010)
    assert str(info.value) == (
        f"--frames: {text!r} is not allowed; allowed: frames of the sequence, 1001-1010"
    )


@pytest.mark.parametrize("text", ["", "   ", "abc", "1001-", "10x-3"])
def test_frame_range_bad_syntax(text: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_frame_range(text, first=1001, last=1010, option="frames")
    assert str(info.value) == (
        f"frames: {text!r} is not allowed; allowed: frame ranges like 1001-1016, "
        "1001,1005-1010 or 1001-1100x4"
    )


# --------------------------------------------------------------------------- opening


@pytest.mark.parametrize(
    ("spec", "jobs", "message"),
    [
        (
            "cloud",
            None,
            "--engine: 'cloud' is not allowed; allowed: local, dask://host:port, "
            "tcp://host:port or dask-local:N",
        ),
        (
            "dask://farm",
            None,
            "--engine: 'dask://farm' is not allowed; allowed: dask://host:port, "
            "e.g. dask://farm:8786",
        ),
        (
            "dask-local:0",
            None,
            "--engine: 'dask-local:0' is not allowed; allowed: dask-local:N with N "
            "a whole number >= 1",
        ),
        ("local", 0, "--jobs: 0 is not allowed; allowed: a whole number, 1 or more"),
        (
            "local",
            True,
            "--jobs: True is not allowed; allowed: a whole number, 1 or more",
        ),
    ],
)
def test_bad_engine_options(spec: str, jobs: Any, message: str) -> None:
    with pytest.raises(OptionError) as info, open_engine(spec, jobs=jobs):
        pass
    assert str(info.value) == message


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux affinity")
def test_local_defaults_to_every_usable_cpu() -> None:
    with open_engine() as engine:
        assert engine.name == "local"
        assert engine.workers == len(os.sched_getaffinity(0))


def test_unreachable_scheduler_is_an_engine_error_naming_it() -> None:
    pytest.importorskip("distributed")
    start = time.monotonic()
    with (
        pytest.raises(EngineError) as info,
        open_engine("dask://127.0.0.1:9", timeout=1.0),
    ):
        pass
    assert time.monotonic() - start < 10
    assert str(info.value).startswith(
        "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s"
    )
    assert info.value.retryable


# --------------------------------------------------------------------------- results


def test_every_result_arrives_once(engine: Engine) -> None:
    results = _run(engine, square, list(range(23)))
    assert sorted(results) == [x * x for x in range(23)]


def test_inline_and_pool_give_equal_results(pool: Engine) -> None:
    with open_engine("local", jobs=1) as inline:
        assert sorted(_run(inline, square, list(range(9)))) == sorted(
            _run(pool, square, list(range(9)))
        )


def test_no_chunks_no_calls(engine: Engine) -> None:
    assert _run(engine, square, []) == []


def test_inline_runs_in_the_calling_process() -> None:
    with open_engine("local", jobs=1) as inline:
        assert _run(inline, pid_of, [0, 1]) == [os.getpid()] * 2


def test_pool_runs_in_other_processes(pool: Engine) -> None:
    assert os.getpid() not in _run(pool, pid_of, list(range(6)))


def test_results_are_delivered_in_the_calling_thread(engine: Engine) -> None:
    threads: set[int] = set()
    engine.map_chunks(
        square, list(range(8)), on_result=lambda _: threads.add(threading.get_ident())
    )
    assert threads == {threading.get_ident()}


def test_consecutive_runs_reuse_warm_workers() -> None:
    with open_engine("local", jobs=2) as first:
        before = set(_run(first, pid_of, list(range(8))))
    with open_engine("local", jobs=2) as second:
        after = set(_run(second, pid_of, list(range(8))))
    assert after <= before


def test_shutdown_stops_the_warm_workers() -> None:
    with open_engine("local", jobs=2) as engine:
        before = set(_run(engine, pid_of, list(range(8))))
    shutdown_local_pools()
    for pid in before:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with open_engine("local", jobs=2) as engine:
        assert not set(_run(engine, pid_of, list(range(8)))) & before


def test_pool_workers_use_their_share_of_openimageio_threads(pool: Engine) -> None:
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    assert set(_run(pool, oiio_threads, list(range(4)))) == {share}


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc malloc thresholds"
)
def test_pool_workers_reuse_freed_frame_memory(pool: Engine) -> None:
    # Under Dask's 64 KiB trim threshold every new frame buffer is faulted in afresh
    # (4096 faults for 16 MiB); aebridge's thresholds keep it for the next frame.
    assert max(_run(pool, page_faults_of_a_reused_frame, [0, 1])) < 200


def test_pool_keeps_at_most_workers_chunks_waiting(monkeypatch: Any) -> None:
    engine = LocalEngine(2)
    try:
        real_pool = engine._get_pool()
        submitted = 0
        received = 0
        most_in_flight = 0
        real_submit = real_pool.submit

        def counting_submit(*args: Any, **kwargs: Any) -> Any:
            nonlocal submitted, most_in_flight
            submitted += 1
            most_in_flight = max(most_in_flight, submitted - received)
            return real_submit(*args, **kwargs)

        def on_result(_: object) -> None:
            nonlocal received
            received += 1

        monkeypatch.setattr(real_pool, "submit", counting_submit)
        engine.map_chunks(square, list(range(40)), on_result=on_result)
        assert received == 40
        assert most_in_flight == 4  # 2 running + 2 waiting
    finally:
        engine.close()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kind", ["option", "source", "spec"])
def test_aebridge_errors_arrive_unchanged(engine: Engine, kind: str) -> None:
    with pytest.raises(AebridgeError) as info:
        _run(engine, raise_aebridge, [kind])
    try:
        raise_aebridge(kind)
    except AebridgeError as expected:
        assert type(info.value) is type(expected)
        assert str(info.value) == str(expected)
        assert _fields(info.value) == _fields(expected)


def test_option_error_keeps_its_fields_across_processes(pool: Engine) -> None:
    with pytest.raises(OptionError) as info:
        _run(pool, raise_aebridge, ["option"])
    assert (info.value.option, info.value.value, info.value.allowed) == (
        "--compression",
        "zipp",
        "piz, zip",
    )


def test_other_errors_become_engine_errors_naming_the_chunk(engine: Engine) -> None:
    with pytest.raises(EngineError) as info:
        _run(engine, fail_on_three, [0, 1, 2, 3, 4])
    where = "the calling process" if engine.workers == 1 else "a worker process"
    assert str(info.value) == (
        f"chunk 4 of 5 (3) failed on {where}: ValueError: bad pixel value in item 3"
    )
    if engine.workers == 1:
        assert isinstance(info.value.__cause__, ValueError)
    else:  # the worker's traceback travels as a note
        assert "in fail_on_three" in "".join(info.value.__notes__)


@dataclass(frozen=True, slots=True, kw_only=True)
class FramesChunk:
    first: int
    last: int

    def describe(self) -> str:
        return f"frames {self.first}-{self.last}"


def fail_on_chunk(chunk: object) -> None:
    raise OSError(f"share unavailable for {type(chunk).__name__}")


@pytest.mark.parametrize(
    ("chunk", "summary"),
    [
        (range(3, 8), "items 3-7"),
        (FramesChunk(first=1001, last=1016), "frames 1001-1016"),
        ("x" * 200, repr("x" * 200)[:97] + "..."),
    ],
)
def test_errors_name_the_chunk_briefly(chunk: object, summary: str) -> None:
    with pytest.raises(EngineError) as info, open_engine("local", jobs=1) as inline:
        inline.map_chunks(fail_on_chunk, [chunk], on_result=print)
    assert str(info.value).startswith(f"chunk 1 of 1 ({summary}) failed")


def test_an_error_stops_outstanding_work(tmp_path: Path, pool: Engine) -> None:
    chunks = [(str(tmp_path), i, 0.05, 1) for i in range(40)]
    with pytest.raises(SourceError, match="frame 1: corrupt frame"):
        _run(pool, marked, chunks)
    started = _markers(tmp_path, "start")
    assert len(started) <= 8  # the bounded window, not the whole list
    # Chunks that were running when the error came are finished before it is raised.
    assert _markers(tmp_path, "done") == started - {1}
    time.sleep(0.3)
    assert _markers(tmp_path, "start") == started


def test_an_error_in_on_result_stops_the_run(pool: Engine) -> None:
    def on_result(_: object) -> None:
        raise KeyError("sidecar")

    with pytest.raises(KeyError):
        pool.map_chunks(square, list(range(20)), on_result=on_result)
    assert sorted(_run(pool, square, [2, 3])) == [4, 9]  # the engine still works


def test_a_dead_worker_is_a_retryable_engine_error() -> None:
    with open_engine("local", jobs=2) as engine:
        with pytest.raises(EngineError) as info:
            _run(engine, die_on_two, list(range(6)))
        assert info.value.retryable
        assert "a worker process of the local engine died" in str(info.value)
        # The broken pool is replaced, so the engine is usable again.
        assert sorted(_run(engine, square, [1, 2])) == [1, 4]


# --------------------------------------------------------------------------- cancel


def test_cancel_before_start_runs_nothing(engine: Engine, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CanceledError):
        _run(engine, marked, [(str(tmp_path), 0, 0.0, -1)], cancel=cancel)
    assert _markers(tmp_path, "start") == set()


def test_cancel_finishes_running_chunks_and_starts_no_more(
    engine: Engine, tmp_path: Path
) -> None:
    cancel = threading.Event()
    chunks = [(str(tmp_path), i, 0.05, -1) for i in range(30)]
    results: list[int] = []

    def on_result(index: int) -> None:
        results.append(index)
        cancel.set()

    with pytest.raises(CanceledError, match="canceled"):
        engine.map_chunks(marked, chunks, on_result=on_result, cancel=cancel)
    started = _markers(tmp_path, "start")
    assert len(started) < 30
    assert _markers(tmp_path, "done") == started  # no chunk left half-done
    assert set(results) == started  # progress saw every finished chunk
    time.sleep(0.3)
    assert _markers(tmp_path, "start") == started


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("local", ("local", None)),
        (" local ", ("local", None)),
        ("dask-local:2", ("dask-local", 2)),
        ("dask://farm:8786", ("dask", "tcp://farm:8786")),
        ("tls://farm:8786", ("dask", "tls://farm:8786")),
    ],
)
def test_engine_specs_parse_without_connecting(
    spec: str, parsed: tuple[str, object]
) -> None:
    from aebridge.engine import parse_engine

    assert parse_engine(spec) == parsed


@pytest.mark.parametrize("spec", ["", "dask", "dask://farm", "dask-local:0", "gpu"])
def test_bad_engine_specs_name_the_option(spec: str) -> None:
    from aebridge.engine import parse_engine

    with pytest.raises(OptionError, match="--engine"):
        parse_engine(spec)


def test_prestart_warms_the_shared_pool_that_the_run_then_uses() -> None:
    from aebridge import engine as engines
    from aebridge.engine import local

    engines.shutdown_local_pools()
    engines.prestart("local", jobs=2, modules=("json",))
    pool = local._pools[2][1]
    with engines.open_engine("local", jobs=2) as engine:
        results: list[int] = []
        engine.map_chunks(abs, [-1, -2], on_result=results.append)
    assert sorted(results) == [1, 2]
    assert local._pools[2][1] is pool  # the run reused the prestarted workers


@pytest.mark.parametrize(("spec", "jobs"), [("local", 1), ("dask://farm:8786", 2)])
def test_prestart_starts_nothing_for_inline_or_dask_runs(spec: str, jobs: int) -> None:
    from aebridge import engine as engines
    from aebridge.engine import local

    engines.shutdown_local_pools()
    engines.prestart(spec, jobs=jobs, modules=("json",))
    assert local._pools == {}


_ORPHAN_SCRIPT = """
import os, signal, sys
from aebridge.engine import open_engine

def pid(_):
    return os.getpid()

if __name__ == "__main__":
    pids = []
    with open_engine("local", jobs=2) as engine:
        engine.map_chunks(pid, list(range(8)), on_result=pids.append)
    print(" ".join(str(p) for p in sorted(set(pids))), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no pool shutdown
"""


def test_pool_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "orphan.py"
    script.write_text(_ORPHAN_SCRIPT)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    workers = [int(p) for p in run.stdout.split()]
    assert workers, run.stderr
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [
            p
            for p in workers
            if Path(f"/proc/{p}").exists()
            and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]
        ]
    assert not alive, f"workers outlived their killed parent: {alive}"


def test_prefetch_runs_its_producer_in_the_callers_context() -> None:
    # A service job's reading sandbox lives in a context variable: a decoder thread
    # that prefetches frames must read under it, as the caller would.
    import contextvars

    from aebridge.engine import prefetch

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="none")

    def seen() -> Iterator[str]:
        yield var.get()

    token = var.set("job")
    try:
        assert list(prefetch(seen(), 1)) == ["job"]
    finally:
        var.reset(token)


def test_farm_scripts_import_the_engines_from_their_former_module() -> None:
    # Farm submission scripts written for 0.1 import these from aebridge.executor
    # (docs/farm.md); they are the engine package's own objects, not copies.
    import aebridge.engine
    import aebridge.executor

    for name in aebridge.executor.__all__:
        assert getattr(aebridge.executor, name) is getattr(aebridge.engine, name), name


# --------------------------------------------------------------------------- Ctrl-C


def sigint_handler(_: object) -> str:
    handler = signal.getsignal(signal.SIGINT)
    return "ignored" if handler == signal.SIG_IGN else repr(handler)


def test_pool_workers_leave_ctrl_c_to_the_calling_process() -> None:
    # A terminal's Ctrl-C reaches every process of the foreground group. A worker
    # waiting for its next chunk died with a KeyboardInterrupt traceback on stderr
    # (the CLI promises none), and could die holding the call queue's lock, hanging
    # the run's exit. The caller cancels queued chunks and lets running ones finish.
    shutdown_local_pools()
    results: list[str] = []
    with open_engine("local", jobs=2) as engine:
        engine.map_chunks(sigint_handler, [0, 1, 2, 3], on_result=results.append)
    assert results == ["ignored"] * 4


# ----------------------------------------------------------- the bounded loop itself


def test_the_shared_loop_keeps_at_most_limit_chunks_pending_and_collects_all() -> None:
    from aebridge.engine.base import Collector, run_bounded

    most = 0
    pending_now: set[int] = set()
    results: list[int] = []

    def submit(index: int) -> int:
        nonlocal most
        pending_now.add(index)
        most = max(most, len(pending_now))
        return index

    def wait_some(pending: Any) -> list[int]:
        done = [min(pending)]  # one finishes at a time, the oldest first
        pending_now.difference_update(done)
        return done

    collector = Collector(results.append)
    canceled = run_bounded(
        10,
        limit=3,
        submit=submit,
        wait_some=wait_some,
        collect=lambda handle, index: collector.deliver(index * 10),
        collector=collector,
        cancel=None,
        abandon=lambda pending: None,
    )
    assert (canceled, most) == (False, 3)
    assert results == [i * 10 for i in range(10)]


def test_the_shared_loop_stops_submitting_on_cancel_and_abandons_on_ctrl_c() -> None:
    from aebridge.engine.base import Collector, run_bounded

    cancel = threading.Event()
    submitted: list[int] = []
    dropped: list[list[int]] = []

    def submit(index: int) -> int:
        submitted.append(index)
        return index

    def wait_some(pending: Any) -> list[int]:
        cancel.set()  # canceled while the first chunks run
        return [min(pending)]

    collector = Collector(lambda result: None)
    canceled = run_bounded(
        10,
        limit=2,
        submit=submit,
        wait_some=wait_some,
        collect=lambda handle, index: None,
        collector=collector,
        cancel=cancel,
        abandon=lambda pending: None,
        drop_queued=lambda pending: dropped.append(sorted(pending)),
    )
    assert canceled and submitted == [0, 1] and dropped == [[1]]

    abandoned: list[list[int]] = []

    def interrupted(pending: Any) -> list[int]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_bounded(
            10,
            limit=2,
            submit=lambda index: index,
            wait_some=interrupted,
            collect=lambda handle, index: None,
            collector=Collector(lambda result: None),
            cancel=None,
            abandon=lambda pending: abandoned.append(sorted(pending)),
        )
    assert abandoned == [[0, 1]]
