"""Serving the app with uvicorn: time limits on reading requests, a stop that stops
the work at once, and a server in a thread for tests, benchmarks and embedding.

Needs the ``service`` extra (uvicorn, h11).
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import FrameType

from ..errors import MissingExtraError, OutputError
from .app import create_app
from .problems import problem_bytes
from .runtime import Service

try:
    import h11
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ImportError as _exc:  # the service extra is optional
    raise MissingExtraError("service", _exc.name or "uvicorn") from _exc

__all__ = ["ServerThread", "serve"]


def _protocol(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol with time limits on reading a request.

    uvicorn limits only how long an idle keep-alive connection lives, and any byte
    received resets that: a client sending its headers a byte at a time held a
    connection (and a slot) forever. Here a request's headers must arrive within
    ``header_timeout`` seconds of the connection (or of the previous answer), and
    its body within ``body_timeout`` seconds of the headers; otherwise the client
    gets a 408 problem (or, having sent nothing, just the closed connection).
    """

    class _Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _stage: str | None = None
        _partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._follow()

        def data_received(self, data: bytes) -> None:
            if self._stage == "headers":
                self._partial = True
            super().data_received(data)
            self._follow()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._follow()

        def connection_lost(self, exc: Exception | None) -> None:
            self._arm(None)
            super().connection_lost(exc)

        def _follow(self) -> None:
            state = self.conn.their_state
            if state is h11.IDLE:
                if self._stage != "headers":
                    self._partial = False
                    self._arm("headers")
            elif state is h11.SEND_BODY:
                if self._stage != "body":
                    self._arm("body")
            else:
                self._arm(None)

        def _arm(self, stage: str | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._stage = stage
            if stage is not None:
                seconds = header_timeout if stage == "headers" else body_timeout
                self._deadline = self.loop.call_later(seconds, self._expired)

        def _expired(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            answered = cycle is not None and cycle.response_started
            late = not answered if self._stage == "body" else self._partial
            if late:
                what = "headers" if self._stage == "headers" else "body"
                limit = header_timeout if self._stage == "headers" else body_timeout
                body = problem_bytes(
                    408,
                    "request_timeout",
                    f"the request {what} did not arrive within {limit:g} s",
                )
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\n"
                    b"content-type: application/problem+json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n"
                    b"connection: close\r\n\r\n" + body
                )
            self.transport.close()

    return _Protocol


def _uvicorn_config(service: Service, host: str, port: int) -> uvicorn.Config:
    config = service.config
    return uvicorn.Config(
        create_app(service),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=_protocol(config.header_timeout, config.body_timeout),
        # A backstop: streams end and builds stop at the signal (see _Server), so
        # connections close within a moment of it.
        timeout_graceful_shutdown=5,
    )


class _Server(uvicorn.Server):
    """uvicorn, but a stop signal stops the service's work at once.

    uvicorn's own shutdown waits for every open connection before the application
    hears of it, so an open event stream held a stop for as long as it lasted and
    workers kept claiming jobs meanwhile. Here the signal itself stops the workers
    from claiming, cancels running builds between frames (their jobs go back to the
    queue) and ends event streams, then uvicorn closes the connections.
    """

    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self._service = service

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._service.begin_stop()
        super().handle_exit(sig, frame)


def serve(service: Service) -> None:
    """Run the service with uvicorn until a stop signal (Ctrl-C, SIGTERM)."""
    config = service.config
    _Server(_uvicorn_config(service, config.host, config.port), service).run()


class ServerThread:
    """Run uvicorn with the app in a thread (tests, benchmarks, embedding).

    Args:
        service: the service to serve.
        host: address to bind.
        port: port (``0`` picks a free one; read :attr:`url` after :meth:`start`).
    """

    def __init__(
        self, service: Service, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._host = host
        self._service = service
        self.url = ""
        # uvicorn binds the port itself: with a socket handed in through
        # ``sockets=`` every answer took 44 ms here (a delayed-ACK stall), against
        # about 1 ms this way.
        self._server = _Server(_uvicorn_config(service, host, port), service)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving; returns once the server accepts requests.

        Raises:
            OutputError: the server did not start (port taken, app failed to start).
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise OutputError(
                    f"the aebridge server did not start on {self._host}", path=None
                )
            time.sleep(0.02)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.url = f"http://{self._host}:{sockets[0].getsockname()[1]}"
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving and stop the service (running jobs go back to the queue)."""
        self._service.begin_stop()
        self._server.should_exit = True
        self._thread.join(timeout)
