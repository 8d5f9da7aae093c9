"""One running service: the store, the workers, the webhook dispatcher, hot folders.

:class:`Service` ties the parts together without any HTTP; :mod:`.app` puts FastAPI in
front of it and ``aebridge watch`` runs it alone for a hot folder.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .config import ServiceConfig
from .jobs import Submitter
from .security import InputRoots
from .store import Store
from .watch import HotFolder
from .webhooks import Dispatcher
from .worker import (
    DEFAULT_BUILD,
    DEFAULT_SPEC_LOADER,
    BuildFn,
    SpecLoader,
    WorkerPool,
    load_callable,
)

__all__ = ["Service"]

_log = logging.getLogger("aebridge.service")


class Service:
    """Everything a service instance runs, started and stopped together.

    Args:
        config: the configuration (checked and made absolute here).
        build: the build function (default: ``config.build``, else
            :func:`aebridge.api.build`).
        load_spec: the spec loader (default :func:`aebridge.spec_io.load_spec`).

    Raises:
        OptionError: a configuration value is not allowed or the build cannot be
            imported.
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        build: BuildFn | None = None,
        load_spec: SpecLoader | None = None,
    ) -> None:
        self.config = config.resolved()
        if build is None:
            build = load_callable(self.config.build or DEFAULT_BUILD, option="--build")
        if load_spec is None:
            load_spec = load_callable(DEFAULT_SPEC_LOADER, option="spec loader")
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
            self.store,
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
            )
            for folder in self.config.watch_dirs
        ]
        self._started = False
        #: Set when the service begins to stop: event streams end.
        self.stopping = threading.Event()

    def start(self) -> None:
        """Requeue jobs of a dead server, then start workers, webhooks, hot folders."""
        if self._started:
            return
        self._started = True
        self.workers.start()
        self.dispatcher.start()
        for folder in self.hot_folders:
            folder.start()
        _log.info(
            "aebridge service: data %s, outputs %s, inputs %s",
            self.config.data_dir,
            self.config.outputs,
            ", ".join(str(r) for r in self.config.input_roots),
        )

    def begin_stop(self) -> None:
        """Start stopping, without waiting (safe in a signal handler).

        Workers claim nothing more and running builds stop between frames (their
        jobs go back to the queue); event streams end (:attr:`stopping`).
        """
        self.stopping.set()
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
        # The conversion workers are kept warm between jobs; stop them here, because
        # uvicorn ends the process on SIGTERM by re-raising the signal after its
        # graceful shutdown, so atexit handlers never run.
        from ..executor import shutdown_local_pools

        shutdown_local_pools()

    def __enter__(self) -> Service:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.store.close()
