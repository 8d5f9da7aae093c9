"""Prefetching: an iterator run on a background thread a few items ahead (decoders
inside a worker overlap the pixel work this way).
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from .base import POLL

__all__ = ["prefetch"]

T = TypeVar("T")


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
                slots.put(entry, timeout=POLL)
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
            thread.join(POLL)
