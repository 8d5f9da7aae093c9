"""The aebridge HTTP service: SQLite jobs, a worker pool, signed webhooks, hot folder.

Modules, in dependency order (each imports only those above it):

- :mod:`.config`    the settings of one service instance (frozen dataclass)
- :mod:`.security`  bearer tokens, bind and Host rules, and the input roots
                    (submission checks, the read sandbox, relative messages)
- :mod:`.store`     the SQLite job store (WAL), leases, idempotency and webhook outbox
- :mod:`.webhooks`  Standard Webhooks signing and the outbox dispatcher
- :mod:`.worker`    worker threads that lease queued jobs and run the build
- :mod:`.jobs`      submitting a job: validation, path checks, idempotency
- :mod:`.watch`     the hot folder
- :mod:`.app`       the FastAPI application (needs the ``service`` extra)
- :mod:`.runtime`   starting and stopping all of the above together

Only :mod:`.app` and :mod:`.runtime` need FastAPI/uvicorn; they import them inside
functions and raise :class:`~aebridge.errors.MissingExtraError` when they are absent.
"""

from __future__ import annotations

from .config import ServiceConfig

__all__ = ["ServiceConfig"]
