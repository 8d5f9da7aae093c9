"""One running service: the store, the workers, the webhook dispatcher, hot folders.

:class:`Service` ties the parts together without any HTTP; :mod:`.app` puts FastAPI in
front of it and ``aebridge watch`` runs it alone for a hot folder.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from ..spec import load_spec as read_spec
from .config import ServiceConfig
from .job import Job, JobConflictError
from .loop import LoopThread
from .security import InputRoots
from .store import Store
from .submission import Submitter
from .watch import HotFolder
from .webhooks import Dispatcher, new_secret
from .worker import BuildFn, SpecLoader, WorkerPool

__all__ = ["Service"]

_log = logging.getLogger("aebridge.service")

#: Jobs deleted per retention transaction.
_EXPIRE_BATCH = 200


class Service:
    """Everything a service instance runs, started and stopped together.

    Args:
        config: the configuration (checked and made absolute here).
        build: the build every job runs: :func:`aebridge.api.build`, which the
            command line passes, or a stand-in (tests slow it down or script it).
        load_spec: reads a stored spec back (default
            :func:`aebridge.spec.load_spec`).

    Raises:
        OptionError: a configuration value is not allowed.
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        build: BuildFn,
        load_spec: SpecLoader = read_spec,
    ) -> None:
        self.config = config.resolved()
        self.config.outputs.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.config.db_path)
        #: The input roots: submission checks, the read sandbox, relative messages.
        self.roots = InputRoots(self.config.input_roots)
        self.workers = WorkerPool(
            self.store,
            build=build,
            load_spec=load_spec,
            count=self.config.workers,
            lease_seconds=self.config.lease_seconds,
            max_attempts=self.config.max_attempts,
            build_jobs=self.config.build_jobs,
            engine=self.config.engine,
            roots=self.roots,
        )
        self.dispatcher = Dispatcher(
            self.store.outbox,
            timeout=self.config.webhook_timeout,
            max_attempts=self.config.webhook_max_attempts,
            backoff=self.config.webhook_backoff,
            backoff_cap=self.config.webhook_backoff_cap,
            allow=self.config.webhook_networks,
        )
        self.submitter = Submitter(
            self.store, self.config, load_spec=load_spec, on_queued=self.workers.wake
        )
        self.hot_folders = [
            HotFolder(
                folder,
                submitter=self.submitter,
                store=self.store,
                poll=self.config.poll,
                interval=self.config.watch_interval,
                roots=self.roots,
            )
            for folder in self.config.watch_dirs
        ]
        self._started = False
        #: Set when the service begins to stop: event streams end.
        self.stopping = threading.Event()
        # Retention runs a quarter of the retention period apart (between half a
        # second and an hour).
        retention = self.config.retention_days * 86400
        self._retention = LoopThread(
            self._expire_round,
            name="aebridge-retention",
            interval=min(3600.0, max(0.5, retention / 4)),
            log=_log,
            failure="expiring old jobs failed",
        )

    def start(self) -> None:
        """Requeue jobs of a dead server, then start workers, webhooks, hot folders."""
        if self._started:
            return
        self._started = True
        self.workers.start()
        if self.config.retention_days:
            self._retention.start()
        self.dispatcher.start()
        for folder in self.hot_folders:
            folder.start()
        _log.info(
            "aebridge service: data %s, outputs %s, inputs %s",
            self.config.data_dir,
            self.config.outputs,
            ", ".join(str(r) for r in self.config.input_roots),
        )

    # -- jobs beyond the queue ---------------------------------------------------

    def delete_job(self, job_id: str) -> Job:
        """Delete a job that is not running, its messages and its output folder.

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: the job is running.
        """
        job = self.store.delete(job_id)
        self._remove_outputs(job)
        return job

    def expire_jobs(self) -> list[Job]:
        """Delete the finished jobs older than the retention (and their outputs)."""
        if not self.config.retention_days:
            return []
        cutoff = time.time() - self.config.retention_days * 86400
        expired: list[Job] = []
        while True:  # in batches: each is one short write transaction
            batch = self.store.expire(cutoff, limit=_EXPIRE_BATCH)
            for job in batch:
                self._remove_outputs(job)
            expired.extend(batch)
            if len(batch) < _EXPIRE_BATCH:
                break
        if expired:
            _log.info("retention: deleted %d finished job(s)", len(expired))
        return expired

    def _expire_round(self) -> None:
        self.expire_jobs()

    def rotate_secret(self, job_id: str) -> str:
        """A new webhook secret for a job, returned once.

        Raises:
            JobNotFoundError: no job has this id.
            JobConflictError: no webhook, or one secret signs every webhook here.
        """
        if self.config.webhook_secret is not None:
            self.store.get(job_id)
            raise JobConflictError(
                "this service signs every webhook with the secret it was started with "
                "(--webhook-secret); its operator changes that one"
            )
        secret = new_secret()
        self.store.set_secret(job_id, secret)
        return secret

    def _remove_outputs(self, job: Job) -> None:
        folder = Path(job.out_dir)
        # Only ever a job's own folder in the output root, whatever the row says.
        if folder.parent != self.config.outputs or folder.name != job.id:
            _log.warning("not removing %s: not a job folder", folder)
            return
        shutil.rmtree(folder, ignore_errors=True)

    def begin_stop(self) -> None:
        """Start stopping, without waiting (safe in a signal handler).

        Workers claim nothing more and running builds stop between frames (their
        jobs go back to the queue); event streams end (:attr:`stopping`).
        """
        self.stopping.set()
        self._retention.begin_stop()
        self.workers.begin_stop()

    def stop(self) -> None:
        """Stop everything; running jobs go back to the queue and resume next time."""
        self.begin_stop()
        if not self._started:
            return
        self._started = False
        for folder in self.hot_folders:
            folder.stop()
        self.workers.stop()
        self.dispatcher.stop()
        self._retention.join(5.0)
        # The conversion workers are kept warm between jobs; stop them here, because
        # uvicorn ends the process on SIGTERM by re-raising the signal after its
        # graceful shutdown, so atexit handlers never run.
        from ..engine import shutdown_local_pools

        shutdown_local_pools()

    def __enter__(self) -> Service:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.store.close()
