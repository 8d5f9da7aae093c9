"""What the service tests share besides fixtures: a tiny spec, a service behind a
real server in this process, a webhook receiver, ``aebridge serve`` as a subprocess.

A module of its own, not ``conftest``: ``from conftest import ...`` takes whichever
test folder's conftest Python imported first, so a service test run together with an
e2e test failed to import these names.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fakebuild
import httpx

from aebridge.client import Client
from aebridge.service.runtime import Service
from aebridge.service.server import ServerThread


def spec_for(name: str = "shot", *, frames: int = 3, layers: int = 1) -> dict[str, Any]:
    """A tiny valid comp spec over the PNG sequence the ``inputs`` fixture writes."""
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": name,
            "width": 64,
            "height": 36,
            "rate": "24",
            "duration": frames,
        },
        "layers": [
            {"id": f"fg{i}", "source": {"path": "fg/fg.####.png", "alpha": "straight"}}
            for i in range(layers)
        ],
    }


class Running:
    """A service behind a real uvicorn server in this process."""

    def __init__(self, service: Service, server: ServerThread) -> None:
        self.service = service
        self.server = server
        self.url = server.url
        self.client = Client(server.url, token=service.config.token)

    def stop(self) -> None:
        self.client.close()
        self.server.stop()
        self.service.store.close()


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; can fail at first."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay = delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.arrived:
                    receiver.requests.append((headers, body))
                    status = (
                        503 if len(receiver.requests) <= receiver.fail_first else 204
                    )
                    receiver.arrived.notify_all()
                time.sleep(receiver.delay)  # answer late: a slow receiver
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(
        self, count: int, timeout: float = 15.0
    ) -> list[tuple[dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def events(self) -> list[str]:
        with self.lock:
            return [json.loads(body)["type"] for _h, body in self.requests]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``aebridge serve`` as a real subprocess (the build given by ``build``).

    ``extra`` adds options, ``env`` environment variables; the server's output goes
    to ``server.log`` in the test's folder.
    """

    def __init__(self, tmp_path: Path, inputs: Path, port: int) -> None:
        self.tmp_path = tmp_path
        self.inputs = inputs
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.write_log = tmp_path / "writes.log"
        self.build = "fakebuild:build"
        self.extra: list[str] = []
        self.env: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        path = self.tmp_path / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
        env[fakebuild.FRAME_DELAY_ENV] = "0.1"
        env[fakebuild.WRITE_LOG_ENV] = str(self.write_log)
        env.update(self.env)
        command = [
            sys.executable, "-m", "aebridge", "serve",
            "--port", str(self.port),
            "--data", str(self.tmp_path / "data"),
            "--input-root", str(self.inputs),
            "--lease-seconds", "1.5",
            "--webhook-allow", "127.0.0.0/8",
            "--build", self.build,
            *self.extra,
        ]  # fmt: skip
        # The child holds its own copy of the descriptor: ours can close now.
        with open(self.tmp_path / "server.log", "ab") as log:
            self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, self.log
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
