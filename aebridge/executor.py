"""Execution engines: run chunks of frames on a local process pool or a Dask cluster.

Every engine has the same small interface, so :mod:`aebridge.convert` does not care
where its chunks run::

    with open_engine("local", jobs=4) as engine:
        engine.map_chunks(fn, chunks, on_result=callback, cancel=event)

Engines:

``local``
    ``jobs=1`` runs the chunks inline in the calling process (deterministic and easy to
    debug); otherwise a :class:`~concurrent.futures.ProcessPoolExecutor` started with
    ``forkserver`` (``spawn`` where that does not exist), kept warm for the next run
    in the same process.
``dask://host:port`` / ``tcp://host:port``
    an existing Dask cluster (the ``aebridge[dask]`` extra).
``dask-local:N``
    a Dask ``LocalCluster`` with ``N`` single-threaded worker processes, started for
    the run and stopped after it (tests, benchmarks, a single big machine).

The contract shared by all engines:

- ``fn`` is a picklable top-level function and the chunks are picklable values;
  ``on_result`` is called in the calling thread as results arrive, in any order.
- An :class:`~aebridge.errors.AebridgeError` raised by ``fn`` reaches the caller
  unchanged (same type, message and attributes) once the outstanding work has stopped.
  Any other exception becomes an :class:`~aebridge.errors.EngineError` naming the
  chunk, with the worker's traceback attached as a note. A worker that dies is an
  ``EngineError`` too (``retryable``).
- ``cancel`` set: nothing more is submitted, chunks already running finish (workers
  write frames atomically, so no frame is half-written), then
  :class:`~aebridge.errors.CanceledError` is raised.
- At most ``workers`` chunks wait beyond the running ones, so memory stays flat for
  sequences of any length.

Farm managers (Deadline, OpenCue, Tractor) split a sequence themselves and pass a frame
range per task; :func:`parse_frame_range` turns ``--frames 1001-1016`` into frame
numbers. See ``docs/farm.md``.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import importlib
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .errors import (
    AebridgeError,
    CanceledError,
    EngineError,
    MissingExtraError,
    OptionError,
)

__all__ = [
    "DEFAULT_DASK_TIMEOUT",
    "MALLOC_MMAP_THRESHOLD",
    "MALLOC_TRIM_THRESHOLD",
    "DaskEngine",
    "Engine",
    "LocalEngine",
    "chunk_ranges",
    "cpu_count",
    "open_engine",
    "parse_engine",
    "parse_frame_range",
    "prefetch",
    "prestart",
    "shutdown_local_pools",
    "start_local_cluster",
]

T = TypeVar("T")
R = TypeVar("R")
T_contra = TypeVar("T_contra", contravariant=True)

#: Seconds to wait for a Dask scheduler before giving up with an EngineError.
DEFAULT_DASK_TIMEOUT = 5.0

#: glibc malloc thresholds for worker processes, in bytes (``MALLOC_TRIM_THRESHOLD_``
#: and ``MALLOC_MMAP_THRESHOLD_``). Dask starts every worker with a trim threshold of
#: 64 KiB so that freed memory goes straight back to the OS. Setting it also freezes
#: glibc's mmap threshold at 128 KiB, so every frame-sized numpy array (8 MiB at
#: 960x540 float32 RGBA) is a fresh mmap that the kernel must zero and fault in page
#: by page, and is unmapped again when freed: measured on 960x540 PNG -> EXR, 5.5x the
#: page faults and 60 % more CPU per frame than glibc's defaults (+26 % at 1080p).
#: aebridge's frames are the same size frame after frame, so keeping up to 64 MiB of
#: freed memory for the next frame costs ~20 MiB of resident memory, stays flat over
#: any number of frames, and takes the page faults to nearly none; anything beyond
#: 64 MiB free is still returned to the OS, and arrays above 64 MiB (4K float) are
#: still mmapped and returned at once.
MALLOC_TRIM_THRESHOLD = 64 * 2**20
MALLOC_MMAP_THRESHOLD = 64 * 2**20

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# How often (seconds) a wait wakes up to look at the cancel event.
_POLL = 0.1

# Chunks per worker that chunk_ranges aims for: with about four chunks each, the
# workers that finish early pick up the last chunks, so the tail where only some
# workers are busy is at most about a quarter of one worker's share.
_CHUNKS_PER_WORKER = 4

_ENGINE_SPECS = "local, dask://host:port, tcp://host:port or dask-local:N"


class Engine(Protocol):
    """Where chunks run: the local machine or a Dask cluster."""

    name: str
    """``local``, ``dask://host:port`` or ``dask-local:N``."""
    workers: int
    """Parallel slots, used to size chunks."""

    def map_chunks(
        self,
        fn: Callable[[Any], R],
        chunks: Sequence[Any],
        *,
        on_result: Callable[[R], None],
        cancel: threading.Event | None = None,
    ) -> None:
        """Run ``fn`` on every chunk; call ``on_result`` with each result."""
        ...

    def close(self) -> None:
        """Release the workers (idempotent)."""
        ...


# --------------------------------------------------------------------------- chunking


def chunk_ranges(
    total: int, *, workers: int, min_chunk: int = 1, max_chunk: int = 16
) -> list[range]:
    """Split ``range(total)`` into contiguous chunks for ``workers`` parallel slots.

    Chunks are long enough that scheduling costs little against the work (at least
    ``min_chunk`` items) and short enough that every worker gets about four of them,
    so workers stay balanced to the end and a lost chunk costs little (at most
    ``max_chunk`` items). Chunk lengths differ by at most one.

    Args:
        total: the number of items (frames), 0 or more.
        workers: parallel slots, 1 or more.
        min_chunk: the shortest chunk wanted, 1 or more.
        max_chunk: the longest chunk allowed, at least ``min_chunk``.

    Returns:
        Ranges that cover ``0 .. total - 1`` in order without overlap (empty list for
        ``total == 0``).

    Raises:
        ValueError: an argument is out of range.
    """
    if total < 0:
        raise ValueError(f"total: {total} is not allowed; allowed: 0 or more")
    if workers < 1:
        raise ValueError(f"workers: {workers} is not allowed; allowed: 1 or more")
    if min_chunk < 1:
        raise ValueError(f"min_chunk: {min_chunk} is not allowed; allowed: 1 or more")
    if max_chunk < min_chunk:
        raise ValueError(
            f"max_chunk: {max_chunk} is not allowed; allowed: at least min_chunk "
            f"({min_chunk})"
        )
    if total == 0:
        return []
    target = -(-total // (workers * _CHUNKS_PER_WORKER))  # ceil division
    size = min(max(target, min_chunk), max_chunk)
    count = -(-total // size)
    # Even spreading must keep every chunk within the bounds: no more chunks than
    # ``min_chunk`` allows, and never fewer than ``max_chunk`` needs (max_chunk wins
    # when both cannot hold, e.g. 5 items with chunks of 3 to 4: it bounds memory).
    count = min(count, max(1, total // min_chunk))
    count = max(count, -(-total // max_chunk))
    # Spread the items evenly over ``count`` chunks rather than leaving a short tail.
    base, extra = divmod(total, count)
    ranges: list[range] = []
    start = 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        ranges.append(range(start, stop))
        start = stop
    return ranges


# --------------------------------------------------------------------------- frames


def parse_frame_range(
    text: str, *, first: int, last: int, option: str = "--frames"
) -> list[int]:
    """Parse a farm frame range such as ``1001-1016`` into frame numbers.

    Accepts fileseq's frame-range syntax: single frames and ranges separated by
    commas (``1001,1005-1010``), steps (``1001-1100x4``) and negative frames. This is
    what Deadline (``<STARTFRAME>-<ENDFRAME>``), OpenCue
    (``#FRAME_START#-#FRAME_END#``) and Tractor job scripts pass per task.

    Args:
        text: the range as typed.
        first: the first frame of the sequence.
        last: the last frame of the sequence.
        option: the option name used in error messages.

    Returns:
        The frame numbers, ascending, without duplicates.

    Raises:
        OptionError: the text is not a frame range, or names frames outside
            ``first``-``last``.
    """
    from fileseq.exceptions import MaxSizeException
    from fileseq.frameset import FrameSet

    syntax = "frame ranges like 1001-1016, 1001,1005-1010 or 1001-1100x4"
    allowed = f"frames of the sequence, {first}-{last}"
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        raise OptionError(option, text, syntax)
    try:
        frame_set = FrameSet(cleaned)
    except MaxSizeException as exc:
        # fileseq refuses ranges of more than ten million frames (a typo such as
        # 1-1000000000); no sequence is that long.
        raise OptionError(option, text, allowed) from exc
    except (ValueError, TypeError) as exc:  # fileseq.ParseException is a ValueError
        raise OptionError(option, text, syntax) from exc
    if len(frame_set) == 0:
        raise OptionError(option, text, syntax)
    if frame_set.start() < first or frame_set.end() > last:
        raise OptionError(option, text, allowed)
    return sorted({int(f) for f in frame_set})


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


# --------------------------------------------------------------------------- threads


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate ``items`` on a background thread, at most ``depth`` items ahead.

    Inside one worker this overlaps a producer (a decoder: FFmpeg, OpenImageIO and
    numpy release the GIL) with whatever consumes its items. Items arrive in order;
    an exception of the producer is raised here, at the item where it happened; when
    the consumer stops early (an error, ``break``) the producer is stopped and a
    generator it was iterating is closed on its own thread, so its files are closed.
    Memory holds at most ``depth + 1`` items.

    Args:
        items: any iterable; it is iterated only on the background thread.
        depth: how many items may wait, 1 or more.

    Returns:
        An iterator of the same items.
    """
    if depth < 1:
        raise ValueError(f"depth: {depth} is not allowed; allowed: 1 or more")
    return _prefetch(items, depth)


_END = object()


def _prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    slots: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    # The producer runs in a copy of the caller's context, so what the caller's reads
    # are bound by (the reading sandbox of a service job) binds the producer's too.
    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(produce,),
        name="aebridge-prefetch",
        daemon=True,
    )
    thread.start()
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                slots.get_nowait()
            thread.join(_POLL)


# --------------------------------------------------------------------------- transport


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failure:
    """An AebridgeError raised in a worker, in a form that always unpickles.

    AebridgeError subclasses take keyword arguments in ``__init__`` (``OptionError``
    takes option, value, allowed), so the default exception pickling, which calls
    ``cls(*args)`` with the formatted message, fails or mangles them. The class is
    sent by name, with the message and the attributes, and rebuilt without calling
    ``__init__``.
    """

    module: str
    qualname: str
    message: str
    state: bytes  # pickled __dict__ (or b"" when it does not pickle)
    trace: str


class WorkerError(Exception):
    """A non-aebridge exception in a worker, flattened to text so it always pickles.

    It is raised (not returned) in the worker, so Dask retries it like any task error.
    """

    def __init__(self, message: str, trace: str = "") -> None:
        super().__init__(message, trace)
        self.message = message
        self.trace = trace

    def __str__(self) -> str:
        return self.message


def _set_oiio_threads(threads: int) -> None:
    """Set OpenImageIO's worker thread count in this process (0 = all cores)."""
    try:
        import OpenImageIO as oiio
    except ImportError:  # pragma: no cover - OpenImageIO is a core dependency
        return
    oiio.attribute("threads", threads)


def _tune_malloc() -> bool:
    """Apply MALLOC_TRIM_THRESHOLD and MALLOC_MMAP_THRESHOLD to this process (glibc).

    Called once in each worker process, so the thresholds hold even on a cluster
    whose workers were started without aebridge's settings (Dask's 64 KiB default).
    Returns whether glibc accepted them (False elsewhere: macOS, musl, Windows).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None or not name.startswith("libc.so"):
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
        and mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    )


_configured_threads: int | None = None
_malloc_tuned = False


def _run_chunk(
    fn: Callable[[T], R], chunk: T, oiio_threads: int | None
) -> R | _Failure:
    """Call ``fn(chunk)`` in a worker process (local pool or Dask worker).

    Returns ``fn``'s result, or a :class:`_Failure` for an AebridgeError (the user's
    input is wrong: not worth a retry). Other exceptions are raised as
    :class:`WorkerError` so a cluster may retry them (a flaky share, a lost file).
    """
    global _configured_threads, _malloc_tuned
    if not _malloc_tuned:
        _tune_malloc()
        _malloc_tuned = True
    if oiio_threads is not None and oiio_threads != _configured_threads:
        _set_oiio_threads(oiio_threads)
        _configured_threads = oiio_threads
    try:
        return fn(chunk)
    except AebridgeError as exc:
        try:
            state = pickle.dumps(dict(vars(exc)))
        except Exception:
            state = b""
        return _Failure(
            module=type(exc).__module__,
            qualname=type(exc).__qualname__,
            message=str(exc),
            state=state,
            trace=traceback.format_exc(),
        )
    except Exception as exc:
        raise WorkerError(
            f"{type(exc).__name__}: {exc}", traceback.format_exc()
        ) from None


def _rebuild(failure: _Failure) -> AebridgeError:
    """Rebuild the AebridgeError a worker raised: same type, message and attributes."""
    cls: Any
    try:
        cls = importlib.import_module(failure.module)
        for part in failure.qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError):
        cls = None  # a class this process cannot load: reported as an engine error
    if not (isinstance(cls, type) and issubclass(cls, AebridgeError)):
        return EngineError(failure.message)
    exc: AebridgeError = cls.__new__(cls)
    # args holds the formatted message, so str(exc) matches the worker's exactly.
    exc.args = (failure.message,)
    if failure.state:
        with contextlib.suppress(Exception):
            exc.__dict__.update(pickle.loads(failure.state))
    exc.add_note(f"raised in a worker:\n{failure.trace}")
    return exc


def _describe(index: int, count: int, chunk: object) -> str:
    """Name a chunk in an error message: its position and a short summary.

    A chunk may describe itself with a ``describe()`` method (e.g. its frame range);
    otherwise its repr is shortened.
    """
    describe = getattr(chunk, "describe", None)
    if callable(describe):
        try:
            summary = str(describe())
        except Exception:
            summary = type(chunk).__name__
    elif isinstance(chunk, range):
        summary = f"items {chunk.start}-{chunk.stop - 1}" if chunk else "no items"
    else:
        summary = repr(chunk)
        if len(summary) > 100:
            summary = summary[:97] + "..."
    return f"chunk {index + 1} of {count} ({summary})"


def _wrap_worker_error(
    exc: BaseException, index: int, chunks: Sequence[Any], where: str
) -> EngineError:
    """An EngineError naming the chunk for a non-aebridge error raised by ``fn``."""
    message = (
        str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
    )
    error = EngineError(
        f"{_describe(index, len(chunks), chunks[index])} failed on {where}: {message}"
    )
    if isinstance(exc, WorkerError) and exc.trace:
        error.add_note(f"worker traceback:\n{exc.trace}")
    return error


class _Collector:
    """Delivers results to ``on_result`` and remembers the first error.

    The first error wins; later ones (often consequences of the first) are dropped.
    """

    def __init__(self, on_result: Callable[[Any], None]) -> None:
        self.on_result = on_result
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error

    def deliver(self, result: object) -> None:
        if isinstance(result, _Failure):
            self.fail(_rebuild(result))
            return
        if self.error is not None:
            # Keep progress honest for chunks that finished while stopping, but an
            # error in on_result must not replace the error being reported.
            with contextlib.suppress(Exception):
                self.on_result(result)
            return
        try:
            self.on_result(result)
        except Exception as exc:  # KeyboardInterrupt and the like propagate at once
            self.fail(exc)

    def finish(self, canceled: bool) -> None:
        if self.error is not None:
            raise self.error
        if canceled:
            raise CanceledError(
                "the run was canceled; chunks already running were finished and "
                "nothing more was started"
            )


# --------------------------------------------------------------------------- local


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
    global _configured_threads, _malloc_tuned
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
    _set_oiio_threads(oiio_threads)
    _configured_threads = oiio_threads
    _tune_malloc()
    _malloc_tuned = True


def _start_method() -> str:
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
                where = _describe(index, len(chunks), chunk)
                raise CanceledError(f"the run was canceled before {where}")
            try:
                result = fn(chunk)
            except AebridgeError:
                raise
            except Exception as exc:
                error = _wrap_worker_error(exc, index, chunks, "the calling process")
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
        pool = self._get_pool()
        collector = _Collector(on_result)
        limit = 2 * self.workers  # running + at most `workers` waiting
        pending: dict[Future[Any], int] = {}
        next_index = 0
        canceled = False
        stopping = False
        try:
            while True:
                if cancel is not None and cancel.is_set() and not canceled:
                    canceled = True
                if (canceled or collector.error is not None) and not stopping:
                    stopping = True
                    # Queued chunks are dropped; running ones cannot be cancelled
                    # and are waited for below.
                    for fut in pending:
                        fut.cancel()
                while (
                    not stopping and next_index < len(chunks) and len(pending) < limit
                ):
                    try:
                        fut = pool.submit(
                            _run_chunk, fn, chunks[next_index], self._oiio_threads
                        )
                    except BrokenProcessPool as broken:
                        # Broken by a worker of a run on another thread sharing it.
                        collector.fail(self._broken(next_index, chunks, broken))
                        stopping = True
                        break
                    pending[fut] = next_index
                    next_index += 1
                if not pending:
                    break
                done, _ = wait(
                    pending,
                    timeout=_POLL if cancel is not None else None,
                    return_when=FIRST_COMPLETED,
                )
                for fut in done:
                    index = pending.pop(fut)
                    if fut.cancelled():
                        continue
                    exc = fut.exception()
                    if exc is None:
                        collector.deliver(fut.result())
                    elif isinstance(exc, BrokenProcessPool):
                        collector.fail(self._broken(index, chunks, exc))
                    else:
                        collector.fail(
                            _wrap_worker_error(exc, index, chunks, "a worker process")
                        )
        except BaseException:
            # KeyboardInterrupt or an error in this loop: do not leave work queued.
            for fut in pending:
                fut.cancel()
            raise
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
            f"{_describe(index, len(chunks), chunks[index])} (killed, or out of "
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


# --------------------------------------------------------------------------- dask


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingExtraError("dask", "distributed") from exc
    return distributed


class DaskEngine:
    """Chunks on a Dask cluster, through a ``distributed.Client``.

    Chunks are submitted with ``pure=False`` (a re-run converts again) and
    ``retries``, so a chunk whose worker is lost or fails transiently runs again
    elsewhere; an AebridgeError is not retried (the input is wrong, not the worker).

    Args:
        client: a connected ``distributed.Client``.
        name: the engine name shown to users (``dask://host:port``).
        retries: how many times a failed chunk is run again.
        cluster: a cluster this engine owns and closes with it (``dask-local:N``).
    """

    def __init__(
        self, client: Any, *, name: str, retries: int = 2, cluster: Any = None
    ) -> None:
        self.name = name
        self._client = client
        self._cluster = cluster
        self._retries = retries
        self.workers = self._count_workers()

    def _count_workers(self) -> int:
        info = self._client.scheduler_info()
        workers = info.get("workers", {})
        slots = sum(int(w.get("nthreads", 1)) for w in workers.values())
        return max(1, slots)

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (for tests and diagnostics)."""
        return self._client

    @property
    def scheduler_address(self) -> str:
        """The scheduler's address, e.g. ``tcp://127.0.0.1:8786``."""
        return str(self._client.scheduler.address)

    def map_chunks(
        self,
        fn: Callable[[T], R],
        chunks: Sequence[T],
        *,
        on_result: Callable[[R], None],
        cancel: threading.Event | None = None,
    ) -> None:
        """Run ``fn`` on every chunk on the cluster; see the module docstring.

        Args:
            fn: a picklable top-level function, importable on the workers.
            chunks: picklable values, one task each.
            on_result: called in this thread with each result, in any order.
            cancel: when set, stop submitting, wait for submitted chunks, then raise.

        Raises:
            AebridgeError: whatever ``fn`` raised, unchanged.
            EngineError: ``fn`` raised another exception (after retries), a worker
                was lost too often, or the scheduler went away.
            CanceledError: ``cancel`` was set.
        """
        distributed = _import_distributed()
        # Re-read the cluster size: workers may have joined since the engine opened.
        self.workers = self._count_workers()
        collector = _Collector(on_result)
        limit = 2 * self.workers
        run_id = uuid.uuid4().hex[:12]
        pending: dict[Any, int] = {}
        completed = distributed.as_completed(loop=self._client.loop)
        next_index = 0
        canceled = False
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    canceled = True
                stopping = canceled or collector.error is not None
                while (
                    not stopping and next_index < len(chunks) and len(pending) < limit
                ):
                    fut = self._client.submit(
                        _run_chunk,
                        fn,
                        chunks[next_index],
                        # Dask's parallelism is its worker threads; one OpenImageIO
                        # thread per task keeps a worker from oversubscribing its host.
                        1,
                        key=f"aebridge-{run_id}-{next_index}",
                        pure=False,
                        retries=self._retries,
                    )
                    pending[fut] = next_index
                    completed.add(fut)
                    next_index += 1
                if not pending:
                    break
                # Submitted chunks are not cancelled: one may already be running on
                # a worker thread, which Dask cannot stop, and returning before it is
                # done would let it write frames behind the caller's back.
                batch = completed.next_batch(block=cancel is None)
                if not batch:
                    threading.Event().wait(_POLL)
                    continue
                for fut in batch:
                    index = pending.pop(fut)
                    self._collect(fut, index, chunks, collector)
        except BaseException:
            with contextlib.suppress(Exception):
                self._client.cancel(list(pending))
            raise
        collector.finish(canceled)

    def _collect(
        self, fut: Any, index: int, chunks: Sequence[Any], collector: _Collector
    ) -> None:
        where = self.name
        if fut.status == "finished":
            try:
                result = fut.result()
            except Exception as unpickle_error:
                collector.fail(_wrap_worker_error(unpickle_error, index, chunks, where))
                return
            collector.deliver(result)
            return
        error: BaseException | None
        try:
            error = fut.exception()
        except Exception as lost:
            error = lost
        if isinstance(error, WorkerError):
            collector.fail(_wrap_worker_error(error, index, chunks, where))
            return
        # KilledWorker (the chunk's workers died too often), a cancelled future (the
        # scheduler restarted) or a lost connection: the engine failed, not the input.
        collector.fail(
            EngineError(
                f"{_describe(index, len(chunks), chunks[index])} was lost on {where}: "
                f"{type(error).__name__}: {error}; frames already written are kept, "
                "run again to finish"
            )
        )

    def close(self) -> None:
        """Disconnect from the scheduler; stop the cluster if this engine started it."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def _connect(address: str, name: str, timeout: float) -> DaskEngine:
    distributed = _import_distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise EngineError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); is it running, and is the address "
            "host:port of the scheduler (default port 8786)?"
        ) from exc
    return DaskEngine(client, name=name)


def start_local_cluster(workers: int) -> DaskEngine:
    """Start a Dask ``LocalCluster`` of single-threaded worker processes.

    Each worker is one process with one thread, like a local pool process, so frames
    per second compare directly with the ``local`` engine.

    Args:
        workers: the number of worker processes, 1 or more.

    Returns:
        An engine that stops the cluster when closed.

    Raises:
        OptionError: ``workers`` is below 1.
        MissingExtraError: the ``dask`` extra is not installed.
        EngineError: the cluster did not start.
    """
    if workers < 1:
        raise OptionError("--engine", f"dask-local:{workers}", "dask-local:N, N >= 1")
    distributed = _import_distributed()
    import dask

    # The nannies put these in each worker's environment before spawning it, so they
    # hold from the worker's first allocation; see MALLOC_TRIM_THRESHOLD for why
    # Dask's own 64 KiB default is wrong for frames.
    environ = "distributed.nanny.pre-spawn-environ."
    trim = {
        environ + "MALLOC_TRIM_THRESHOLD_": MALLOC_TRIM_THRESHOLD,
        environ + "MALLOC_MMAP_THRESHOLD_": MALLOC_MMAP_THRESHOLD,
    }
    try:
        with dask.config.set(trim):
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
    except Exception as exc:
        raise EngineError(
            f"could not start a local Dask cluster of {workers} worker(s): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except Exception as exc:
        cluster.close()
        raise EngineError(
            f"could not connect to the local Dask cluster: {exc}"
        ) from exc
    return DaskEngine(client, name=f"dask-local:{workers}", cluster=cluster)


# --------------------------------------------------------------------------- opening


def parse_engine(spec: object) -> tuple[str, str | int | None]:
    """Check an engine spec without connecting to anything.

    Returns:
        ``("local", None)``, ``("dask-local", workers)`` or ``("dask", address)`` with
        the address in Dask's own scheme (``tcp://`` or ``tls://``).

    Raises:
        OptionError: the spec is not one of the allowed forms.
    """
    if not isinstance(spec, str):
        raise OptionError("--engine", spec, _ENGINE_SPECS)
    text = spec.strip()
    if text == "local":
        return "local", None
    if text.startswith("dask-local:"):
        count = text.removeprefix("dask-local:")
        if not count.isdigit() or int(count) < 1:
            raise OptionError(
                "--engine", spec, "dask-local:N with N a whole number >= 1"
            )
        return "dask-local", int(count)
    for scheme in ("dask://", "tcp://", "tls://"):
        if text.startswith(scheme):
            hostport = text.removeprefix(scheme)
            host, sep, port = hostport.rpartition(":")
            if not sep or not host or not port.isdigit() or "/" in hostport:
                raise OptionError(
                    "--engine", spec, "dask://host:port, e.g. dask://farm:8786"
                )
            # Dask speaks tcp:// (or tls://); dask:// is aebridge's name for plain tcp.
            return "dask", ("tcp://" if scheme == "dask://" else scheme) + hostport
    raise OptionError("--engine", spec, _ENGINE_SPECS)


def _make_engine(spec: str, jobs: int | None, timeout: float) -> Engine:
    kind, arg = parse_engine(spec)
    if kind == "local":
        if jobs is None:
            jobs = cpu_count()
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise OptionError("--jobs", jobs, "a whole number, 1 or more")
        return LocalEngine(jobs)
    if kind == "dask-local":
        assert isinstance(arg, int)
        return start_local_cluster(arg)
    return _connect(str(arg), spec.strip(), timeout)


@contextlib.contextmanager
def _engine_context(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.close()


def open_engine(
    spec: str = "local",
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_DASK_TIMEOUT,
) -> AbstractContextManager[Engine]:
    """Open an engine for a run; closing the context releases its workers.

    Args:
        spec: ``local``, ``dask://host:port`` (or ``tcp://``/``tls://host:port``) for
            an existing Dask scheduler, or ``dask-local:N`` for a LocalCluster of N
            worker processes started for this run.
        jobs: processes for the local engine; None means every CPU this process may
            use, 1 runs inline. Ignored by Dask engines (the cluster decides).
        timeout: seconds to wait for a Dask scheduler.

    Returns:
        A context manager yielding the engine.

    Raises:
        OptionError: ``spec`` or ``jobs`` is not allowed.
        MissingExtraError: a Dask engine was asked for without the ``dask`` extra.
        EngineError: the Dask scheduler cannot be reached or the cluster not started.
    """
    return _engine_context(_make_engine(spec, jobs, timeout))
