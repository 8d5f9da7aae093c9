"""The service's background threads: run a step every interval until stopped.

Every background thread of the service (a build worker, the lease heartbeat, the
webhook dispatcher, retention, a hot folder) is a :class:`LoopThread`, so each stops
the same way: :meth:`LoopThread.begin_stop` returns at once (safe in a signal
handler), the step under way finishes and no other starts, and :meth:`LoopThread.join`
waits for that.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["LoopThread"]


class LoopThread:
    """A daemon thread that calls ``step`` every ``interval`` seconds until stopped.

    ``step`` returns True when it has more to do at once (it ran a job, or waited on
    deliveries under way itself): the loop calls it again without waiting. Otherwise
    the loop waits ``interval`` seconds, or until :meth:`wake`. An exception from a
    step is logged and the loop goes on: a busy or vanished database, or a share gone
    away, must not end a background thread.

    Args:
        step: one round of work.
        name: the thread's name.
        interval: seconds between rounds.
        log: the logger exceptions go to.
        failure: the log message of a step that raised.
        wait_first: wait one interval before the first round (a heartbeat has
            nothing to renew at once).
        finish: called in the thread once the last round is over (closing what the
            rounds used).
    """

    def __init__(
        self,
        step: Callable[[], bool | None],
        *,
        name: str,
        interval: float,
        log: logging.Logger,
        failure: str,
        wait_first: bool = False,
        finish: Callable[[], None] | None = None,
    ) -> None:
        self._step = step
        self._interval = interval
        self._log = log
        self._failure = failure
        self._wait_first = wait_first
        self._finish = finish
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def stopping(self) -> bool:
        """True once :meth:`begin_stop` was called."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def wake(self) -> None:
        """Run the next round now instead of at the end of the interval."""
        self._wake.set()

    def begin_stop(self) -> None:
        """Start no other round (returns at once; safe in a signal handler)."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` seconds for the thread to end (a thread never
        started has nothing to wait for)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the round under way and wait up to ``timeout`` seconds."""
        self.begin_stop()
        self.join(timeout)

    def _pause(self) -> None:
        self._wake.wait(self._interval)
        self._wake.clear()

    def _run(self) -> None:
        try:
            if self._wait_first:
                self._pause()
            while not self._stop.is_set():
                try:
                    again = self._step()
                except Exception:
                    self._log.exception(self._failure)
                    again = False
                if not again and not self._stop.is_set():
                    self._pause()
        finally:
            if self._finish is not None:
                self._finish()
