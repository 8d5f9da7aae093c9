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
- :mod:`.loop`        LoopThread: every background thread, stopped the same way
- :mod:`.webhooks`    Standard Webhooks signing and the outbox dispatcher
- :mod:`.worker`      worker threads that lease queued jobs and run the build
- :mod:`.submission`  submitting a job: validation, path checks, idempotency
- :mod:`.watch`       the hot folder
- :mod:`.initspec`    ``POST /v1/specs/init``: aebridge init inside the input roots
- :mod:`.runtime`     Service: starting and stopping all of the above together
- :mod:`.artifacts`   what a succeeded job offers for download
- :mod:`.problems`    problem documents (RFC 9457): every error answer
- :mod:`.edge`        the request edge: Host, Origin, token and media type checks
- :mod:`.events`      server-sent events of a job
- :mod:`.app`         the FastAPI application: routes and their OpenAPI description
- :mod:`.server`      uvicorn: request time limits, prompt stops, a server thread
- :mod:`.openapi`     writes ``docs/openapi.json``

Only :mod:`.edge`, :mod:`.app` and :mod:`.server` need FastAPI and uvicorn (and
:mod:`.webhooks` httpx, when it starts); without them they raise
:class:`~aebridge.errors.MissingExtraError`.
"""

from __future__ import annotations

from .config import ServiceConfig

__all__ = ["ServiceConfig"]
