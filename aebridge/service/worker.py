"""Worker threads: lease a queued job, run the build, record progress and the outcome.

The build is passed in (:class:`BuildFn`: :func:`aebridge.api.build`, or a slowed
or scripted stand-in in tests), so the service never names it. A heartbeat thread
renews the lease while the build runs and passes a cancel request on to the build
through its ``cancel`` event; the build stops between frames and leaves no partial
frame. A worker that loses its lease (the server was suspended for longer than the
lease) cancels its build and records nothing, because the job now belongs to another
worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import AebridgeError, CanceledError, Problem
from ..model import CompSpec
from .job import Failure, Job, JobStatus
from .loop import LoopThread
from .security import InputRoots
from .store import Store

if TYPE_CHECKING:
    from ..api import BuildProgress

__all__ = ["BuildFn", "SpecLoader", "WorkerPool", "describe_result"]

_log = logging.getLogger("aebridge.service.worker")


class BuildFn(Protocol):
    """The build a worker runs for a job: :func:`aebridge.api.build`'s contract.

    The result is read by :func:`describe_result` (its ``comp_dir``, ``script``,
    ``build_json``, ``preview``, ``layers`` and ``warnings``).
    """

    def __call__(
        self,
        spec: CompSpec,
        out_dir: Path,
        *,
        base_dir: Path,
        preview: bool,
        engine: str,
        jobs: int | None,
        force: bool,
        progress: Callable[[BuildProgress], None],
        cancel: threading.Event,
    ) -> object: ...


class SpecLoader(Protocol):
    """Reads a stored spec back (:func:`aebridge.spec.load_spec`'s contract)."""

    def __call__(
        self,
        source: Mapping[str, Any],
        *,
        base_dir: Path,
        check_files: bool,
        warn: Callable[[Problem], None] | None = None,
    ) -> CompSpec: ...


# Progress is written at most this often (plus on every stage or layer change), so a
# build reporting every frame does not turn into a stream of database writes.
PROGRESS_INTERVAL = 0.25


def _jsonable(value: Any, out_dir: Path, show: Callable[[str], str]) -> Any:
    """A build result as JSON: paths relative to the job folder (or to their input
    root), rates as text, server paths in text rewritten by ``show``."""
    if isinstance(value, PurePath):
        path = Path(value)
        try:
            return path.resolve().relative_to(out_dir.resolve()).as_posix()
        except ValueError:
            return show(path.as_posix())
    if isinstance(value, Fraction):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name), out_dir, show)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, out_dir, show) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, out_dir, show) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        # Paths the build reports as text (a sequence's folder) are shown relative
        # to the job's folder too: clients need not know the server's layout.
        return _jsonable(Path(value), out_dir, show)
    if isinstance(value, str):
        return show(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return show(str(value))


def describe_result(
    result: Any, out_dir: Path, show: Callable[[str], str] = lambda text: text
) -> dict[str, Any]:
    """What a build produced, as stored with the job and shown by the API.

    Args:
        result: the ``BuildResult`` (comp_dir, script, build_json, preview, layers,
            warnings).
        out_dir: the job's output folder; paths become relative to it.
        show: rewrites other server paths in text (relative to their input root).

    Returns:
        A JSON-ready mapping with the same fields.
    """
    fields = ("comp_dir", "script", "build_json", "preview", "layers", "warnings")
    return {
        name: _jsonable(getattr(result, name, None), out_dir, show) for name in fields
    }


class _Run:
    """One job being built: its cancel event, lease state and progress throttle."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.cancel = threading.Event()
        self.lost_lease = threading.Event()
        self.shutting_down = threading.Event()
        self.done = threading.Event()
        self.last_write = 0.0
        self.last_key: tuple[Any, Any, int] = (None, None, 0)


class WorkerPool:
    """``count`` worker threads sharing one store.

    Args:
        store: the job store.
        build: the build function.
        load_spec: turns the stored spec back into a ``CompSpec``.
        count: jobs run at the same time.
        lease_seconds: lease length; the heartbeat renews it every third of that.
        max_attempts: starts after which a job that keeps dying fails.
        build_jobs: conversion processes per build (``None``: all cores).
        engine: the conversion engine, ``local`` or ``dask://host:port``.
        interval: seconds between looks at the queue when it is empty.
        roots: the input roots: every read of a build is checked against them (and
            the job's output folder) at the moment it happens, and messages show
            paths relative to them. ``None`` (tests of the queue alone): no checks.
    """

    def __init__(
        self,
        store: Store,
        *,
        build: BuildFn,
        load_spec: SpecLoader,
        count: int = 1,
        lease_seconds: float = 30.0,
        max_attempts: int = 5,
        build_jobs: int | None = None,
        engine: str = "local",
        interval: float = 0.2,
        roots: InputRoots | None = None,
    ) -> None:
        self._store = store
        self._roots = roots
        self._build = build
        self._load_spec = load_spec
        self._lease = lease_seconds
        self._max_attempts = max_attempts
        self._build_jobs = build_jobs
        self._engine = engine
        self._stop = threading.Event()
        self._runs: dict[str, _Run] = {}
        self._runs_lock = threading.Lock()
        self._last_sweep = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._workers = [
            LoopThread(
                self._work,
                name=f"aebridge-worker-{i}",
                interval=interval,
                log=_log,
                failure="a worker's round failed",
            )
            for i in range(count)
        ]
        self._heart = LoopThread(
            self._heartbeat,
            name="aebridge-heartbeat",
            interval=min(lease_seconds / 3, 1.0),
            log=_log,
            failure="the heartbeat's round failed",
            wait_first=True,
        )

    def start(self) -> None:
        """Requeue jobs whose server died, then start the workers and the heartbeat."""
        self._store.requeue_expired(self._max_attempts)
        self._heart.start()
        for worker in self._workers:
            worker.start()

    def wake(self) -> None:
        """A job was queued: look at the queue now instead of at the next interval."""
        for worker in self._workers:
            worker.wake()

    def begin_stop(self) -> None:
        """Stop taking jobs and ask running builds to stop between frames (returns at
        once; safe in a signal handler)."""
        self._stop.set()
        self._heart.begin_stop()
        for worker in self._workers:
            worker.begin_stop()
        with self._runs_lock:
            for run in self._runs.values():
                run.shutting_down.set()
                run.cancel.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs; cancel running builds between frames and queue them again.

        A job interrupted by a shutdown is not canceled for its client: it goes back
        to the queue and resumes (skipping finished frames) on the next start.
        """
        self.begin_stop()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._heart.join(max(0.0, deadline - time.monotonic()))

    # -- rounds of the threads -----------------------------------------------------

    def _work(self) -> bool:
        """Claim a queued job and build it; False when there was none."""
        try:
            job = self._store.claim(self.owner, self._lease)
        except Exception:  # a locked or vanished database: retry, never die
            _log.exception("claiming a job failed")
            return False
        if job is None:
            return False
        self._run(job)
        return True

    def _heartbeat(self) -> None:
        """Renew the lease of every running job, pass cancels on, and now and then
        requeue the jobs of servers that died."""
        period = self._lease / 3
        now = time.monotonic()
        with self._runs_lock:
            runs = list(self._runs.values())
        for run in runs:
            try:
                held, cancel = self._store.heartbeat(
                    run.job.id, self.owner, self._lease
                )
            except Exception:
                _log.exception("renewing the lease of %s failed", run.job.id)
                continue
            self._react(run, held=held, cancel=cancel)
        if now - self._last_sweep >= period:
            self._last_sweep = now
            try:
                if self._store.requeue_expired(self._max_attempts):
                    self.wake()
            except Exception:
                _log.exception("requeueing expired jobs failed")

    @staticmethod
    def _react(run: _Run, *, held: bool, cancel: bool) -> None:
        if not held:
            run.lost_lease.set()
            run.cancel.set()
        elif cancel:
            run.cancel.set()

    # -- one job -------------------------------------------------------------------

    def _progress(self, run: _Run, update: Any) -> None:
        # The job shows the build's frames over every layer (BuildProgress's
        # build_frames_*): the total is known once the sources are probed.
        stage = getattr(update, "stage", None)
        layer = getattr(update, "layer", None)
        done, total = int(update.build_frames_done), int(update.build_frames_total)
        now = time.monotonic()
        # A new stage, layer or total is written at once, as is a layer's end.
        key = (stage, layer, total)
        if (
            key == run.last_key
            and now - run.last_write < PROGRESS_INTERVAL
            and update.frames_done != update.frames_total
        ):
            return
        run.last_key = key
        run.last_write = now
        held, cancel = self._store.progress(
            run.job.id,
            self.owner,
            stage=None if stage is None else str(stage),
            layer=layer,
            frames_done=done,
            frames_total=total,
        )
        self._react(run, held=held, cancel=cancel)

    def _run(self, job: Job) -> None:
        run = _Run(job)
        with self._runs_lock:
            if self._stop.is_set():
                # Claimed just as the stop began: back to the queue, not built.
                self._store.release(job.id, self.owner)
                return
            self._runs[job.id] = run
        try:
            status, failure, result = self._execute(run)
        finally:
            with self._runs_lock:
                del self._runs[job.id]
        if run.lost_lease.is_set():
            _log.warning("lost the lease of %s; another worker has it", job.id)
            return
        if run.shutting_down.is_set() and status is JobStatus.CANCELED:
            self._store.release(job.id, self.owner)
            return
        self._store.finish(
            job.id, self.owner, status=status, failure=failure, result=result
        )

    def _execute(
        self, run: _Run
    ) -> tuple[JobStatus, Failure | None, dict[str, Any] | None]:
        job = run.job
        out_dir = Path(job.out_dir)
        request = json.loads(job.request)
        options = request.get("options", {})

        def show(text: str) -> str:
            return text if self._roots is None else self._roots.show(text, out_dir)

        reading = (
            contextlib.nullcontext()
            if self._roots is None
            else self._roots.reading(out_dir)
        )
        try:
            # Every read of the build, here or in its worker processes, is checked
            # against the input roots when it happens (the job's own output folder
            # is readable too: the preview reads the frames it wrote).
            with reading:
                # The structure only: the build's own preflight probes every source
                # (a read the sandbox refused then fails the job as path_not_allowed,
                # not as a spec problem).
                spec = self._load_spec(
                    request["spec"], base_dir=Path(job.base_dir), check_files=False
                )
                result = self._build(
                    spec,
                    out_dir,
                    base_dir=Path(job.base_dir),
                    preview=bool(options.get("preview", False)),
                    engine=self._engine,
                    jobs=self._build_jobs,
                    force=False,
                    progress=lambda update: self._progress(run, update),
                    cancel=run.cancel,
                )
        except CanceledError as exc:
            return (
                JobStatus.CANCELED,
                Failure(code=exc.code, message=show(str(exc)), retryable=False),
                None,
            )
        except AebridgeError as exc:
            return (
                JobStatus.FAILED,
                Failure(code=exc.code, message=show(str(exc)), retryable=exc.retryable),
                None,
            )
        except Exception:
            reference = uuid.uuid4().hex[:12]
            _log.exception("job %s failed (reference %s)", job.id, reference)
            message = (
                "an internal error stopped the build; the server log has the details "
                f"under reference {reference}"
            )
            return (
                JobStatus.FAILED,
                Failure(code="internal_error", message=message, retryable=True),
                None,
            )
        return JobStatus.SUCCEEDED, None, describe_result(result, out_dir, show)
