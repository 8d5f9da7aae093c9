"""Prefetching: an iterator run on a background thread a few items ahead (decoders
inside a worker overlap the pixel work this way).
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from .base import POLL

__all__ = ["prefetch"]

T = TypeVar("T")


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate ``items`` on a background thread, at most ``depth`` items ahead.

    Inside one worker this overlaps a producer (a decoder: FFmpeg, OpenImageIO and
    numpy release the GIL) with whatever consumes its items. The producer starts at
    once, not at the first item asked for, so two prefetches made one after the other
    (a source and its matte) produce at the same time, and the consumer can do other
    work (build its tables) while the first items are made. Items arrive in order;
    an exception of the producer is raised here, at the item where it happened; when
    the consumer stops early (an error, ``break``) the producer is stopped and a
    generator it was iterating is closed on its own thread, so its files are closed;
    an iterator dropped before its first item stops the producer too. Memory holds
    at most ``depth + 1`` items.

    Args:
        items: any iterable; it is iterated only on the background thread.
        depth: how many items may wait, 1 or more.

    Returns:
        An iterator of the same items.
    """
    if depth < 1:
        raise ValueError(f"depth: {depth} is not allowed; allowed: 1 or more")
    slots: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    # The producer runs in a copy of the caller's context, so what the caller's reads
    # are bound by (the reading sandbox of a service job) binds the producer's too.
    thread = threading.Thread(
        target=contextvars.copy_context().run,
        args=(_produce, items, slots, stop),
        name="aebridge-prefetch",
        daemon=True,
    )
    thread.start()
    consumer: Iterator[T] = _consume(slots, stop, thread)
    # A generator never started never runs its cleanup: this stops the producer when
    # such a consumer is dropped (a started one stops it itself, and waits for it).
    weakref.finalize(consumer, stop.set)
    return consumer


_END = object()


def _produce(
    items: Iterable[object],
    slots: queue.Queue[tuple[bool, object]],
    stop: threading.Event,
) -> None:
    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

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


def _consume(
    slots: queue.Queue[tuple[bool, object]],
    stop: threading.Event,
    thread: threading.Thread,
) -> Iterator[Any]:
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                slots.get_nowait()
            thread.join(POLL)
