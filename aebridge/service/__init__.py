"""The aebridge HTTP service: SQLite jobs, a worker pool, signed webhooks, hot folder.

Modules, in dependency order (each imports only those above it):

- :mod:`.config`      the settings of one service instance (frozen dataclass)
- :mod:`.security`    bearer tokens, bind and Host rules, and the input roots
                      (submission checks, the read sandbox, relative messages)
- :mod:`.job`         a job as stored and shown: status, failure, webhook target
- :mod:`.migrations`  the job database's schema: named migrations, in order
- :mod:`.database`    its connections: one writer under a lock, a reader per thread
- :mod:`.outbox`      the webhook outbox, written in the transaction of the job change
- :mod:`.store`       the job store: jobs, leases, idempotency, status history
- :mod:`.webhooks`    Standard Webhooks signing and the outbox dispatcher
- :mod:`.worker`      worker threads that lease queued jobs and run the build
- :mod:`.submission`  submitting a job: validation, path checks, idempotency
- :mod:`.watch`       the hot folder
- :mod:`.app`         the FastAPI application (needs the ``service`` extra)
- :mod:`.runtime`     starting and stopping all of the above together

Only :mod:`.app` and :mod:`.runtime` need FastAPI/uvicorn; they import them inside
functions and raise :class:`~aebridge.errors.MissingExtraError` when they are absent.
"""

from __future__ import annotations

from .config import ServiceConfig

__all__ = ["ServiceConfig"]
