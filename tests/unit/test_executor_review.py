"""Local engine review findings: Ctrl-C is the calling process's to handle."""

from __future__ import annotations

import signal

from aebridge.engine import open_engine, shutdown_local_pools


def sigint_handler(_: object) -> str:
    handler = signal.getsignal(signal.SIGINT)
    return "ignored" if handler == signal.SIG_IGN else repr(handler)


def test_pool_workers_leave_ctrl_c_to_the_calling_process() -> None:
    # A terminal's Ctrl-C reaches every process of the foreground group. A worker
    # waiting for its next chunk died with a KeyboardInterrupt traceback on stderr
    # (the CLI promises none), and could die holding the call queue's lock, hanging
    # the run's exit. The caller cancels queued chunks and lets running ones finish.
    shutdown_local_pools()
    results: list[str] = []
    with open_engine("local", jobs=2) as engine:
        engine.map_chunks(sigint_handler, [0, 1, 2, 3], on_result=results.append)
    assert results == ["ignored"] * 4
