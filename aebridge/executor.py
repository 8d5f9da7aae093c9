"""The engines' former module path: :mod:`aebridge.engine` is their home.

Farm submission scripts written for aebridge 0.1 import ``chunk_ranges``,
``parse_frame_range`` and ``open_engine`` from here; these names are the engine
package's own objects, re-exported so those scripts keep working.
"""

from __future__ import annotations

from .engine import (
    DEFAULT_DASK_TIMEOUT,
    MALLOC_MMAP_THRESHOLD,
    MALLOC_TRIM_THRESHOLD,
    DaskEngine,
    Engine,
    LocalEngine,
    chunk_ranges,
    cpu_count,
    open_engine,
    parse_engine,
    parse_frame_range,
    prefetch,
    prestart,
    shutdown_local_pools,
    start_local_cluster,
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
