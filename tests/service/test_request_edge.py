"""The request edge: bodies that broke the parser, a client that leaves mid-body,
slow clients, and what a web page in the user's browser may not do."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from servicekit import Running, spec_for

JSON = {"content-type": "application/json"}


def connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)


def deep(levels: int) -> bytes:
    return b'{"spec": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (deep(2500), "nested"),
        (b'{"spec": {"comp": {"width": ' + b"9" * 5000 + b"}}}", "digits"),
        (b'{"spec": {"comp": {"name": "\\ud800"}}}', "surrogate"),
        (b'{"spec": {"comp": {"name": "a\\udc00b"}}}', "surrogate"),
        (b'{"spec": {"comp": {"width": NaN}}}', "NaN"),
        (b'{"spec": {"comp": {"width": 1e999}}}', "finite"),
    ],
)
def test_bodies_that_broke_the_parser_are_400_problems_on_a_kept_connection(
    server: Running, body: bytes, words: str
) -> None:
    conn = connection(server.url)
    try:
        conn.request("POST", "/v1/jobs", body=body, headers=JSON)
        response = conn.getresponse()
        problem = json.loads(response.read())
        assert response.status == 400, problem
        assert response.getheader("content-type") == "application/problem+json"
        assert problem["code"] == "malformed_body" and words in problem["detail"]
        # The connection stays open for the next request.
        conn.request("GET", "/v1/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert server.service.store.counts()["queued"] == 0


@pytest.mark.parametrize("cursor", ["czk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cy0x", "cw"])
def test_a_cursor_out_of_range_is_a_422(server: Running, cursor: str) -> None:
    # base64 of "s99999999999999999999999" (past 2**63), "s-1", "s"
    response = httpx.get(f"{server.url}/v1/jobs", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_option"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log(server: Running) -> Iterator[list[logging.LogRecord]]:
    """Warnings and errors the server logs (uvicorn's and the service's own)."""
    handler = Records()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "aebridge")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_client_that_leaves_mid_body_is_no_error(
    server: Running, server_log: list[logging.LogRecord]
) -> None:
    parts = urlsplit(server.url)
    for _ in range(3):
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            sock.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                b'{"spec": {'
            )
            time.sleep(0.2)
    time.sleep(0.3)
    assert server.client.health()["status"] == "ok"
    assert [r.getMessage() for r in server_log] == []


# -- slow clients ---------------------------------------------------------------------


def slow_socket(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.settimeout(0.1)
    return sock


def rest(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


def trickle(sock: socket.socket, data: bytes, seconds: float) -> bytes:
    """Send ``data`` one byte at a time, every 0.1 s, for at most ``seconds``;
    return what the server answered (b"" once it closed)."""
    answer = b""
    deadline = time.monotonic() + seconds
    for byte in data:
        if time.monotonic() > deadline:
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # closed by the server: read what it said before closing
            return answer + rest(sock)
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
        except TimeoutError:
            pass
        except OSError:
            return answer
    raise AssertionError(f"the server kept the slow connection open ({answer!r})")


def test_headers_must_arrive_within_the_header_timeout(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(header_timeout=0.6)
    started = time.monotonic()
    with slow_socket(running.url) as sock:
        request = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200
        answer = trickle(sock, request, seconds=5)
    assert time.monotonic() - started < 3
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    # A connection that never sends anything is closed too.
    with slow_socket(running.url) as sock:
        sock.settimeout(3)
        assert sock.recv(100) == b""
    # Ordinary requests are unaffected.
    assert running.client.health()["status"] == "ok"


def test_a_body_must_arrive_within_the_body_timeout(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(body_timeout=0.6)
    started = time.monotonic()
    with slow_socket(running.url) as sock:
        sock.sendall(
            b"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n"
        )
        answer = trickle(sock, b"{" + b" " * 399, seconds=5)
    assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"request_timeout" in answer and b"connection: close" in answer.lower()


# -- a web page must not drive the service -------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_a_body_must_be_sent_as_json(server: Running, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = httpx.post(
        f"{server.url}/v1/jobs", content=json.dumps(spec_for()), headers=headers
    )
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"
    assert "application/json" in response.json()["detail"]
    assert server.service.store.counts()["queued"] == 0
    ok = httpx.post(
        f"{server.url}/v1/jobs",
        content=json.dumps(spec_for()),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 202


def test_a_form_cannot_cancel_a_job(server: Running) -> None:
    job = server.client.submit(spec_for(frames=3))
    response = httpx.post(
        f"{server.url}/v1/jobs/{job['id']}/cancel",
        content=b"x=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "10.0.0.7"])
def test_a_foreign_host_header_is_refused(server: Running, host: str) -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    response = httpx.get(f"{server.url}/v1/jobs", headers={"host": host})
    assert response.status_code == 421, response.text
    assert response.json()["code"] == "host_not_allowed"


def test_the_bound_names_and_allowed_hosts_are_served(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(allowed_hosts=("render-box.local",))
    port = urlsplit(running.url).port
    for host in (
        f"127.0.0.1:{port}",
        f"localhost:{port}",
        "localhost",
        f"[::1]:{port}",
        "render-box.local",
        f"RENDER-BOX.local:{port}",
    ):
        response = httpx.get(f"{running.url}/v1/jobs", headers={"host": host})
        assert response.status_code == 200, (host, response.text)


def test_a_foreign_origin_cannot_submit_or_read(server: Running) -> None:
    headers = {"origin": "https://evil.example", **JSON}
    response = httpx.post(
        f"{server.url}/v1/jobs", content=json.dumps(spec_for()), headers=headers
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in response.headers
    assert server.service.store.counts()["queued"] == 0
    preflight = httpx.options(
        f"{server.url}/v1/jobs",
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "POST",
        },
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    # The service's own pages (/docs) are the same origin.
    same = httpx.get(f"{server.url}/v1/jobs", headers={"origin": server.url})
    assert same.status_code == 200


def test_an_allowed_origin_gets_cors_answers(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(cors_origins=("https://tool.example",))
    preflight = httpx.options(
        f"{running.url}/v1/jobs",
        headers={
            "origin": "https://tool.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "https://tool.example"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed and "authorization" in allowed
    response = httpx.post(
        f"{running.url}/v1/jobs",
        content=json.dumps(spec_for()),
        headers={"origin": "https://tool.example", **JSON},
    )
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == "https://tool.example"
    assert "location" in response.headers["access-control-expose-headers"].lower()
    other = httpx.get(
        f"{running.url}/v1/jobs", headers={"origin": "https://other.example"}
    )
    assert other.status_code == 403


def test_the_api_description_follows_the_token_rule(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(token="s3cret")
    for path in ("/openapi.json", "/docs", "/redoc", "/v1/nothing"):
        response = httpx.get(f"{running.url}{path}")
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthorized"
    auth = {"authorization": "Bearer s3cret"}
    assert httpx.get(f"{running.url}/openapi.json", headers=auth).status_code == 200
    assert httpx.get(f"{running.url}/docs", headers=auth).status_code == 200
    assert httpx.get(f"{running.url}/v1/health").status_code == 200
