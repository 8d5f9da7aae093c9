"""The request edge: who may talk to the service, checked before any route runs.

:class:`Edge` is pure ASGI middleware, so its refusals cost no routing and no body
read, and anything a route raises that is not an
:class:`~aebridge.errors.AebridgeError` becomes one logged 500 problem here. Needs the
``service`` extra (Starlette, with FastAPI).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from ..errors import MissingExtraError
from .problems import PROBLEM_JSON, problem_bytes
from .security import allowed_host_names, host_name, token_matches

try:
    from starlette.datastructures import Headers
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as _exc:  # the service extra is optional
    raise MissingExtraError("service", _exc.name or "starlette") from _exc

__all__ = ["ClientGone", "Edge"]

_log = logging.getLogger("aebridge.service.http")


class ClientGone(Exception):
    """The client went away before its request body arrived: nothing to answer."""


#: Request headers a browser page on an allowed origin may send.
_CORS_HEADERS = "authorization, content-type, idempotency-key, last-event-id"
#: Response headers such a page may read.
_CORS_EXPOSE = "location, idempotent-replayed, www-authenticate"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Edge:
    """Who may talk to the service, checked before any route runs (pure ASGI).

    In order: the ``Host`` header must name this server (421 ``host_not_allowed``:
    a page whose name was rebound to this address sends its own name); an ``Origin``
    other than the service's own must be allowed with ``--cors-origin`` (403
    ``origin_not_allowed``; allowed ones get CORS answers, preflights included); the
    bearer token, when configured, on every path but ``/v1/health`` (401); a body
    must be ``application/json`` (415 ``unsupported_media_type``: a page can send
    ``text/plain`` or a form anywhere without asking). Anything a route raises that
    is not an :class:`AebridgeError` becomes one logged 500 problem here, and the
    connection stays usable.
    """

    def __init__(self, app: ASGIApp, *, config: Any) -> None:
        self.app = app
        self.token: str | None = config.token
        self.any_host = "*" in config.allowed_hosts
        self.hosts = allowed_host_names(config.host, config.allowed_hosts)
        self.origins = frozenset(o.rstrip("/") for o in config.cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method = scope["method"]
        host = headers.get("host")
        if host is not None and not self._host_allowed(host, scope):
            await self._refuse(
                send,
                421,
                "host_not_allowed",
                f"this server does not answer to the host {host!r}; it answers to "
                "its own address and the names given with --allowed-host",
            )
            return
        origin = headers.get("origin")
        cors: str | None = None
        if origin is not None:
            if origin.rstrip("/") in self.origins:
                cors = origin
            elif not self._same_origin(origin, host, scope):
                await self._refuse(
                    send,
                    403,
                    "origin_not_allowed",
                    f"requests from the web origin {origin!r} are refused; allow one "
                    "with --cors-origin",
                )
                return
        if method == "OPTIONS" and "access-control-request-method" in headers:
            if cors is None:
                await self._refuse(
                    send, 403, "origin_not_allowed", "no CORS for this origin"
                )
                return
            await self._preflight(send, cors)
            return
        if (
            self.token
            and scope["path"] != "/v1/health"
            and not token_matches(headers.get("authorization"), self.token)
        ):
            await self._refuse(
                send,
                401,
                "unauthorized",
                "this service needs 'Authorization: Bearer <token>' (the token given "
                "to aebridge serve with --token or AEBRIDGE_TOKEN)",
                extra=[(b"www-authenticate", b"Bearer")],
                cors=cors,
            )
            return
        if method in _BODY_METHODS and not self._json_body(headers, scope["path"]):
            await self._refuse(
                send,
                415,
                "unsupported_media_type",
                "request bodies must be sent with 'Content-Type: application/json' "
                f"(got {headers.get('content-type')!r})",
                cors=cors,
            )
            return
        started = False

        async def send_with_cors(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if cors is not None:
                    message = dict(message)
                    message["headers"] = [
                        *message.get("headers", []),
                        *self._cors_headers(cors),
                    ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_cors)
        except ClientGone:
            return  # nobody to answer; not an error
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            _log.error("internal error (reference %s)", reference, exc_info=exc)
            if not started:
                await self._refuse(
                    send,
                    500,
                    "internal_error",
                    "an internal error occurred; the server log has the details "
                    f"under reference {reference}",
                    retryable=True,
                    cors=cors,
                )

    def _host_allowed(self, header: str, scope: Scope) -> bool:
        if self.any_host:
            return True
        name = host_name(header)
        if name is None:
            return False
        if name in self.hosts:
            return True
        # The address the client connected to, written as an address: no name,
        # so nothing to rebind.
        server = scope.get("server")
        return server is not None and _same_address(name, str(server[0]))

    @staticmethod
    def _same_origin(origin: str, host: str | None, scope: Scope) -> bool:
        scheme = scope.get("scheme", "http")
        return host is not None and origin.lower() == f"{scheme}://{host}".lower()

    @staticmethod
    def _json_body(headers: Headers, path: str) -> bool:
        ctype = headers.get("content-type")
        if ctype is None:
            has_body = headers.get("content-length", "0") != "0" or (
                "transfer-encoding" in headers
            )
            return not has_body and path != "/v1/jobs"
        media = ctype.split(";", 1)[0].strip().lower()
        return media == "application/json"

    @staticmethod
    def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", _CORS_EXPOSE.encode()),
            (b"vary", b"Origin"),
        ]

    async def _preflight(self, send: Send, origin: str) -> None:
        headers = [
            *self._cors_headers(origin),
            (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
            (b"access-control-allow-headers", _CORS_HEADERS.encode()),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(
        self,
        send: Send,
        status: int,
        code: str,
        detail: str,
        *,
        extra: Sequence[tuple[bytes, bytes]] = (),
        cors: str | None = None,
        retryable: bool = False,
    ) -> None:
        data = problem_bytes(status, code, detail, retryable=retryable)
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(data)).encode()),
            *extra,
            *(self._cors_headers(cors) if cors else []),
        ]
        await send(
            {"type": "http.response.start", "status": status, "headers": headers}
        )
        await send({"type": "http.response.body", "body": data})


def _same_address(name: str, address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(address)
    except ValueError:
        return False
