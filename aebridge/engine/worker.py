"""What runs in a worker process (a local pool's or a Dask worker's): the chunk call
and the process settings it needs (OpenImageIO threads, glibc malloc thresholds).
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from typing import TypeVar

from ..errors import AebridgeError
from .base import Failure, WorkerError

__all__ = [
    "MALLOC_MMAP_THRESHOLD",
    "MALLOC_TRIM_THRESHOLD",
    "configure",
    "run_chunk",
]

T = TypeVar("T")
R = TypeVar("R")

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


def run_chunk(fn: Callable[[T], R], chunk: T, oiio_threads: int | None) -> R | Failure:
    """Call ``fn(chunk)`` in a worker process (local pool or Dask worker).

    Returns ``fn``'s result, or a :class:`Failure` for an AebridgeError (the user's
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
        return Failure(
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


def configure(oiio_threads: int) -> None:
    """Set this worker process up once: OpenImageIO threads and malloc thresholds."""
    global _configured_threads, _malloc_tuned
    _set_oiio_threads(oiio_threads)
    _configured_threads = oiio_threads
    _tune_malloc()
    _malloc_tuned = True
