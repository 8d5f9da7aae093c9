"""The Dask engine: chunks on a Dask cluster (the ``aebridge[dask]`` extra), an
existing one or a ``LocalCluster`` started for the run.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from ..errors import EngineError, MissingExtraError, OptionError
from .base import (
    POLL,
    Collector,
    WorkerError,
    describe,
    run_bounded,
    wrap_worker_error,
)
from .worker import MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD, run_chunk

__all__ = [
    "DEFAULT_DASK_TIMEOUT",
    "DaskEngine",
    "open_cluster",
    "open_local_cluster",
    "start_local_cluster",
]

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a Dask scheduler before giving up with an EngineError.
DEFAULT_DASK_TIMEOUT = 5.0


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
        collector = Collector(on_result)
        run_id = uuid.uuid4().hex[:12]
        completed = distributed.as_completed(loop=self._client.loop)

        def submit(index: int) -> Any:
            fut = self._client.submit(
                run_chunk,
                fn,
                chunks[index],
                # Dask's parallelism is its worker threads; one OpenImageIO thread
                # per task keeps a worker from oversubscribing its host.
                1,
                key=f"aebridge-{run_id}-{index}",
                pure=False,
                retries=self._retries,
            )
            completed.add(fut)
            return fut

        def wait_some(pending: Collection[Any]) -> list[Any]:
            batch: list[Any] = completed.next_batch(block=cancel is None)
            if not batch:
                threading.Event().wait(POLL)
            return batch

        def abandon(pending: Collection[Any]) -> None:
            with contextlib.suppress(Exception):
                self._client.cancel(list(pending))

        # Submitted chunks are not cancelled when stopping (no drop_queued): one may
        # already be running on a worker thread, which Dask cannot stop, and
        # returning before it is done would let it write frames behind the caller.
        canceled = run_bounded(
            len(chunks),
            limit=2 * self.workers,
            submit=submit,
            wait_some=wait_some,
            collect=lambda fut, index: self._collect(fut, index, chunks, collector),
            collector=collector,
            cancel=cancel,
            abandon=abandon,
        )
        collector.finish(canceled)

    def _collect(
        self, fut: Any, index: int, chunks: Sequence[Any], collector: Collector
    ) -> None:
        where = self.name
        if fut.status == "finished":
            try:
                result = fut.result()
            except Exception as unpickle_error:
                collector.fail(wrap_worker_error(unpickle_error, index, chunks, where))
                return
            collector.deliver(result)
            return
        error: BaseException | None
        try:
            error = fut.exception()
        except Exception as lost:
            error = lost
        if isinstance(error, WorkerError):
            collector.fail(wrap_worker_error(error, index, chunks, where))
            return
        # KilledWorker (the chunk's workers died too often), a cancelled future (the
        # scheduler restarted) or a lost connection: the engine failed, not the input.
        collector.fail(
            EngineError(
                f"{describe(index, len(chunks), chunks[index])} was lost on {where}: "
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


def open_cluster(
    target: str | int | None, *, spec: str, jobs: int | None, timeout: float
) -> DaskEngine:
    """The engine for ``dask://host:port``: a client of that scheduler (``target``
    is its address in Dask's scheme; ``jobs`` is the cluster's to decide)."""
    return _connect(str(target), spec.strip(), timeout)


def open_local_cluster(
    target: str | int | None, *, spec: str, jobs: int | None, timeout: float
) -> DaskEngine:
    """The engine for ``dask-local:N``: a LocalCluster of ``target`` workers."""
    assert isinstance(target, int)
    return start_local_cluster(target)
