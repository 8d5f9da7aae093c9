"""What every engine shares: the :class:`Engine` interface and the transport of
results and errors between the workers and the calling process.

A worker runs :func:`aebridge.engine.worker.run_chunk`, which returns a chunk's result
or a :class:`Failure` (an AebridgeError in a form that always unpickles) and raises
:class:`WorkerError` for anything else; a :class:`Collector` turns them back into
results and errors in the calling thread, the first error winning.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..errors import AebridgeError, CanceledError, EngineError

__all__ = [
    "POLL",
    "Collector",
    "Engine",
    "Failure",
    "WorkerError",
    "describe",
    "rebuild",
    "run_bounded",
    "wrap_worker_error",
]

R = TypeVar("R")
H = TypeVar("H", bound=Hashable)

#: How often (seconds) a wait wakes up to look at the cancel event.
POLL = 0.1


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
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


def rebuild(failure: Failure) -> AebridgeError:
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


def describe(index: int, count: int, chunk: object) -> str:
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


def wrap_worker_error(
    exc: BaseException, index: int, chunks: Sequence[Any], where: str
) -> EngineError:
    """An EngineError naming the chunk for a non-aebridge error raised by ``fn``."""
    message = (
        str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
    )
    error = EngineError(
        f"{describe(index, len(chunks), chunks[index])} failed on {where}: {message}"
    )
    if isinstance(exc, WorkerError) and exc.trace:
        error.add_note(f"worker traceback:\n{exc.trace}")
    return error


class Collector:
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
        if isinstance(result, Failure):
            self.fail(rebuild(result))
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


def run_bounded(
    count: int,
    *,
    limit: int,
    submit: Callable[[int], H | None],
    wait_some: Callable[[Collection[H]], Iterable[H]],
    collect: Callable[[H, int], None],
    collector: Collector,
    cancel: threading.Event | None,
    abandon: Callable[[Collection[H]], None],
    drop_queued: Callable[[Collection[H]], None] | None = None,
) -> bool:
    """The submit-and-collect loop every engine runs, with at most ``limit`` chunks
    submitted and not yet collected, so memory stays flat for any number of chunks.

    Once ``cancel`` is set or ``collector`` holds an error nothing more is submitted
    (``drop_queued`` may withdraw what has not started) and the loop ends when every
    submitted chunk is collected: a running chunk is never abandoned, since it may be
    writing frames. Anything raised here (Ctrl-C) hands what is pending to ``abandon``.

    Args:
        count: chunks, submitted by index ``0 .. count - 1`` in order.
        limit: chunks submitted and not yet collected, at most.
        submit: submits chunk ``index`` and returns its handle, or None when it could
            not be submitted (it has told ``collector`` why).
        wait_some: waits for some pending handles to finish and returns them (it may
            return none after a short wait when ``cancel`` is given, so a cancel is
            seen).
        collect: takes one finished handle and its index (to ``collector``).
        collector: where results and the first error go.
        cancel: when set, stop submitting.
        abandon: withdraws pending handles when the loop is left by an exception.
        drop_queued: withdraws pending handles that have not started, when stopping.

    Returns:
        Whether ``cancel`` was set.
    """
    pending: dict[H, int] = {}
    next_index = 0
    canceled = False
    stopping = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                canceled = True
            if (canceled or collector.error is not None) and not stopping:
                stopping = True
                if drop_queued is not None:
                    drop_queued(pending)
            while not stopping and next_index < count and len(pending) < limit:
                handle = submit(next_index)
                if handle is None:
                    stopping = True
                    break
                pending[handle] = next_index
                next_index += 1
            if not pending:
                break
            for handle in wait_some(pending):
                collect(handle, pending.pop(handle))
    except BaseException:
        abandon(pending)
        raise
    return canceled
