"""Server-sent events: a job each time it changes, until it ends.

Every status the job passed is sent, named by it (``queued``, ``running``,
``succeeded``, ...), from the history the store keeps (so a quick job's ``running``
is not skipped), and ``progress`` for the changes in between; ``id`` is the job's
version, so a reconnect with ``Last-Event-ID`` skips what was seen. The stream ends
after the final status, when the job is deleted, when the client goes away and when
the server stops.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .job import JobNotFoundError
from .store import Store

__all__ = ["SSE_INTERVAL", "SSE_KEEPALIVE", "last_seen", "stream_events"]

#: Seconds between looks at a job while streaming its events.
SSE_INTERVAL = 0.2
#: Seconds between keep-alive comments on a quiet event stream.
SSE_KEEPALIVE = 15.0


def last_seen(header: str | None) -> int:
    """The version a ``Last-Event-ID`` header says the client has seen (0: none)."""
    text = header or ""
    return int(text) if text.isdigit() and len(text) < 19 else 0


async def stream_events(
    store: Store,
    job_id: str,
    *,
    after: int,
    stopping: threading.Event,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """The event stream of one job, as ``text/event-stream`` chunks.

    Args:
        store: the job store.
        job_id: the job.
        after: the version the client has seen already.
        stopping: set when the server stops.
        disconnected: tells whether the client went away.
    """
    from starlette.concurrency import run_in_threadpool

    last = after
    shown: str | None = None  # the status of the last event sent
    quiet = 0.0
    while True:
        try:
            job, steps = await run_in_threadpool(store.changes, job_id, last)
        except JobNotFoundError:
            return  # deleted meanwhile
        for version, status, data in steps:
            # Every status the job passed, as it was then, however quickly.
            yield _event(version, status, data)
            last, shown, quiet = version, status, 0.0
        if job.version > last:
            status = job.status.value
            name = "progress" if shown == status else status
            yield _event(job.version, name, job.public())
            last, shown, quiet = job.version, job.status.value, 0.0
        elif quiet >= SSE_KEEPALIVE:
            quiet = 0.0
            yield ": keep-alive\n\n"
        if job.status.terminal or stopping.is_set() or await disconnected():
            return
        await asyncio.sleep(SSE_INTERVAL)
        quiet += SSE_INTERVAL


def _event(version: int, name: str, data: Any) -> str:
    text = json.dumps(data, sort_keys=True)
    return f"id: {version}\nevent: {name}\ndata: {text}\n\n"
