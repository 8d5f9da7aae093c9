"""Execution engines: run chunks of frames on a local process pool or a Dask cluster.

Every engine has the same small interface, so :mod:`aebridge.convert` does not care
where its chunks run::

    with open_engine("local", jobs=4) as engine:
        engine.map_chunks(fn, chunks, on_result=callback, cancel=event)

Engines, by the name :func:`parse_engine` gives a spec (the :data:`ENGINES` map;
:func:`open_engine` is the one dispatcher):

``local``
    ``jobs=1`` runs the chunks inline in the calling process (deterministic and easy to
    debug); otherwise a :class:`~concurrent.futures.ProcessPoolExecutor` started with
    ``forkserver`` (``spawn`` where that does not exist), kept warm for the next run
    in the same process.
``dask`` (``dask://host:port``, ``tcp://host:port``, ``tls://host:port``)
    an existing Dask cluster (the ``aebridge[dask]`` extra).
``dask-local`` (``dask-local:N``)
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

Modules: ``base`` (the interface, results and errors across processes), ``worker``
(what runs in a worker process), ``local`` (the process pool), ``cluster`` (Dask),
``ranges`` (chunk and frame ranges), ``prefetch``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import Protocol

from ..errors import OptionError
from .base import Engine, WorkerError
from .cluster import (
    DEFAULT_DASK_TIMEOUT,
    DaskEngine,
    open_cluster,
    open_local_cluster,
    start_local_cluster,
)
from .local import (
    LocalEngine,
    cpu_count,
    open_local,
    prestart,
    shutdown_local_pools,
)
from .prefetch import prefetch
from .ranges import chunk_ranges, parse_frame_range
from .worker import MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD

__all__ = [
    "DEFAULT_DASK_TIMEOUT",
    "ENGINES",
    "MALLOC_MMAP_THRESHOLD",
    "MALLOC_TRIM_THRESHOLD",
    "DaskEngine",
    "Engine",
    "EngineOpener",
    "LocalEngine",
    "WorkerError",
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

_ENGINE_SPECS = "local, dask://host:port, tcp://host:port or dask-local:N"


class EngineOpener(Protocol):
    """Opens an engine of one kind: ``target`` is what :func:`parse_engine` read
    from the spec (None, a worker count or a scheduler address)."""

    def __call__(
        self, target: str | int | None, *, spec: str, jobs: int | None, timeout: float
    ) -> Engine: ...


#: Engine kinds (:func:`parse_engine`'s first value) and what opens each.
ENGINES: Mapping[str, EngineOpener] = MappingProxyType(
    {
        "local": open_local,
        "dask": open_cluster,
        "dask-local": open_local_cluster,
    }
)


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
    kind, target = parse_engine(spec)
    assert isinstance(spec, str)  # parse_engine refuses anything else
    engine = ENGINES[kind](target, spec=spec, jobs=jobs, timeout=timeout)
    return _engine_context(engine)
