"""The local engine: chunks inline in the calling process, or on a process pool
shared by the local engines of this process and kept warm between runs.
"""

from __future__ import annotations

import atexit
import importlib
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import AebridgeError, CanceledError, EngineError, OptionError
from . import worker
from .base import POLL, Collector, describe, run_bounded, wrap_worker_error
from .worker import run_chunk

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# multiprocessing and the process pool (some 20 ms to import) are imported where a
# pool starts: an inline run (a movie that makes one chunk) never starts one.

__all__ = [
    "LocalEngine",
    "cpu_count",
    "open_local",
    "prestart",
    "shutdown_local_pools",
]

T = TypeVar("T")
R = TypeVar("R")


def cpu_count() -> int:
    """The number of CPUs this process may use (its affinity mask where known)."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if process_cpu_count is not None:
        n = process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS and Windows
        n = os.cpu_count()
    return max(1, n or 1)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            # The state follows the parenthesised command name, which may hold spaces.
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc (not Linux): ask the kernel instead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False
        return True


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    """End this worker once the process that started the pool is gone.

    A pool worker otherwise outlives a parent killed with SIGKILL (or ended by a signal
    that skips atexit): it waits forever on its call queue, holding memory, and keeps
    the forkserver alive. A frame being written is lost to its temporary name only.
    """
    while _alive(pid):
        time.sleep(interval)
    os._exit(1)


def _init_local_worker(oiio_threads: int, parent: int | None = None) -> None:
    """Pool initializer: Ctrl-C ignored, OpenImageIO threads, malloc, parent watch.

    Parallelism comes from the processes; if every worker also ran OpenImageIO's
    default pool (one thread per core) for EXR compression, N processes would run N x
    cores threads and lose time to contention and cache thrashing. The malloc
    thresholds are explained at MALLOC_TRIM_THRESHOLD. With ``parent`` set the worker
    ends itself once that process is gone (see :func:`_watch_parent`).
    """
    # Ctrl-C in a terminal signals the whole foreground process group. The calling
    # process handles it (queued chunks are cancelled, running ones finish, so no
    # frame is cut short); a worker that took it too died printing a traceback, or
    # while holding the call queue's lock, which hung the pool's shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(
            target=_watch_parent,
            args=(parent,),
            name="aebridge-parent-watch",
            daemon=True,
        ).start()
    worker.configure(oiio_threads)


def _start_method() -> str:
    import multiprocessing

    # Not fork: OpenImageIO and OCIO start threads (and hold locks) in the parent, and
    # a forked child can inherit a lock held by a thread that no longer exists.
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


# Process pools shared by the local engines of this process, by number of workers.
# Starting a pool costs each worker its imports (numpy, OpenImageIO, PyAV) and its
# colour set-up: measured about 0.4 s per run here, as much as converting 20 frames
# of 960x540. A build converts one layer after another and the service runs job after
# job, so the workers are kept warm between runs; shutdown_local_pools() stops them.
_pools: dict[int, tuple[int, ProcessPoolExecutor]] = {}
_pools_lock = threading.Lock()


def _shared_pool(jobs: int, oiio_threads: int) -> ProcessPoolExecutor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _pools_lock:
        entry = _pools.get(jobs)
        # A pool made before a fork belongs to the parent; a broken one is useless.
        if entry is not None and entry[0] == os.getpid():
            pool = entry[1]
            if not getattr(pool, "_broken", False):
                return pool
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context(_start_method()),
            initializer=_init_local_worker,
            initargs=(oiio_threads, os.getpid()),
        )
        _pools[jobs] = (os.getpid(), pool)
        return pool


def _drop_pool(pool: ProcessPoolExecutor) -> None:
    with _pools_lock:
        for jobs, (_, cached) in list(_pools.items()):
            if cached is pool:
                del _pools[jobs]
    pool.shutdown(wait=True, cancel_futures=True)


def shutdown_local_pools() -> None:
    """Stop the worker processes the local engines keep warm between runs.

    Safe to call at any time; the next local run starts a new pool. Called at exit.
    """
    with _pools_lock:
        pools = [pool for pid, pool in _pools.values() if pid == os.getpid()]
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_local_pools)


def _import_modules(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


def prestart(spec: str, *, jobs: int | None, modules: Sequence[str] = ()) -> None:
    """Start the local engine's workers now and have them import ``modules``.

    Returns at once. A caller that has work to do before its first chunk (probing a
    source, hashing a movie) calls this first, so the workers' start-up (interpreter,
    numpy, OpenImageIO: about 0.1 s each) overlaps that work instead of following it.
    Nothing happens for Dask engines, inline runs, or a spec that is not ``local``
    (its errors are left to :func:`open_engine`).

    Args:
        spec: the engine spec the run will open.
        jobs: the run's ``jobs``.
        modules: modules each worker imports.
    """
    if not isinstance(spec, str) or spec.strip() != "local":
        return
    count = cpu_count() if jobs is None else jobs
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        return
    pool = _shared_pool(count, max(1, cpu_count() // count))
    # One task per worker: a process pool starts its processes as tasks arrive.
    for _ in range(count):
        pool.submit(_import_modules, tuple(modules))


class LocalEngine:
    """Chunks on this machine: inline for ``jobs=1``, else a process pool.

    The pool is shared by the local engines of this process with the same ``jobs``
    and outlives them, so consecutive runs reuse warm workers (see
    :func:`shutdown_local_pools`).

    Args:
        jobs: worker processes; 1 runs inline in the calling process.
    """

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise OptionError("--jobs", jobs, "1 or more")
        self.name = "local"
        self.workers = jobs
        self._pool: ProcessPoolExecutor | None = None
        # Split the cores between the processes (at least one thread each).
        self._oiio_threads = max(1, cpu_count() // jobs)

    def _get_pool(self) -> ProcessPoolExecutor:
        # Started on first use, so a run with nothing to do starts no processes.
        self._pool = _shared_pool(self.workers, self._oiio_threads)
        return self._pool

    def map_chunks(
        self,
        fn: Callable[[T], R],
        chunks: Sequence[T],
        *,
        on_result: Callable[[R], None],
        cancel: threading.Event | None = None,
    ) -> None:
        """Run ``fn`` on every chunk; see the module docstring for the contract.

        Args:
            fn: a picklable top-level function.
            chunks: picklable values, one call each.
            on_result: called in this thread with each result, in any order.
            cancel: when set, stop submitting, finish running chunks, then raise.

        Raises:
            AebridgeError: whatever ``fn`` raised, unchanged.
            EngineError: ``fn`` raised another exception, or a worker died.
            CanceledError: ``cancel`` was set.
        """
        if self.workers == 1:
            self._map_inline(fn, chunks, on_result=on_result, cancel=cancel)
        else:
            self._map_pool(fn, chunks, on_result=on_result, cancel=cancel)

    def _map_inline(
        self,
        fn: Callable[[T], R],
        chunks: Sequence[T],
        *,
        on_result: Callable[[R], None],
        cancel: threading.Event | None,
    ) -> None:
        for index, chunk in enumerate(chunks):
            if cancel is not None and cancel.is_set():
                where = describe(index, len(chunks), chunk)
                raise CanceledError(f"the run was canceled before {where}")
            try:
                result = fn(chunk)
            except AebridgeError:
                raise
            except Exception as exc:
                error = wrap_worker_error(exc, index, chunks, "the calling process")
                raise error from exc
            on_result(result)

    def _map_pool(
        self,
        fn: Callable[[T], R],
        chunks: Sequence[T],
        *,
        on_result: Callable[[R], None],
        cancel: threading.Event | None,
    ) -> None:
        from concurrent.futures.process import BrokenProcessPool

        pool = self._get_pool()
        collector = Collector(on_result)

        def submit(index: int) -> Future[Any] | None:
            try:
                return pool.submit(run_chunk, fn, chunks[index], self._oiio_threads)
            except BrokenProcessPool as broken:
                # Broken by a worker of a run on another thread sharing it.
                collector.fail(self._broken(index, chunks, broken))
                return None

        def wait_some(pending: Collection[Future[Any]]) -> set[Future[Any]]:
            done, _ = wait(
                pending,
                timeout=POLL if cancel is not None else None,
                return_when=FIRST_COMPLETED,
            )
            return done

        def collect(fut: Future[Any], index: int) -> None:
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is None:
                collector.deliver(fut.result())
            elif isinstance(exc, BrokenProcessPool):
                collector.fail(self._broken(index, chunks, exc))
            else:
                collector.fail(
                    wrap_worker_error(exc, index, chunks, "a worker process")
                )

        def cancel_all(pending: Collection[Future[Any]]) -> None:
            # Queued chunks are dropped; running ones cannot be cancelled and are
            # waited for (on an exception in this thread: left to finish alone).
            for fut in pending:
                fut.cancel()

        try:
            canceled = run_bounded(
                len(chunks),
                limit=2 * self.workers,  # running + at most `workers` waiting
                submit=submit,
                wait_some=wait_some,
                collect=collect,
                collector=collector,
                cancel=cancel,
                abandon=cancel_all,
                drop_queued=cancel_all,
            )
        finally:
            if isinstance(collector.error, EngineError) and self._pool_broken():
                self._discard_pool()
        collector.finish(canceled)

    def _pool_broken(self) -> bool:
        return bool(getattr(self._pool, "_broken", False))

    def _broken(
        self, index: int, chunks: Sequence[Any], exc: BaseException
    ) -> EngineError:
        error = EngineError(
            f"a worker process of the local engine died while running "
            f"{describe(index, len(chunks), chunks[index])} (killed, or out of "
            f"memory?); frames already written are kept, run again to finish: {exc}"
        )
        return error

    def _discard_pool(self) -> None:
        # A broken pool cannot run anything more; the next map_chunks starts a new one.
        pool, self._pool = self._pool, None
        if pool is not None:
            _drop_pool(pool)

    def close(self) -> None:
        """Let go of the pool; its workers stay warm for the next run."""
        self._pool = None


def open_local(
    target: str | int | None, *, spec: str, jobs: int | None, timeout: float
) -> LocalEngine:
    """The engine for ``local``: ``jobs`` processes (None: every usable CPU)."""
    if jobs is None:
        jobs = cpu_count()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise OptionError("--jobs", jobs, "a whole number, 1 or more")
    return LocalEngine(jobs)
