"""Fixtures for the service tests: tiny inputs, a real uvicorn server, a webhook
receiver. Every socket is on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

sys.path.insert(0, str(Path(__file__).parent))

import fakebuild
from servicekit import Receiver, Running, ServerProcess, free_port

from aebridge.service.config import ServiceConfig
from aebridge.service.runtime import Service
from aebridge.service.server import ServerThread
from aebridge.synthetic import write_png_sequence


@pytest.fixture(scope="session")
def png_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pngs")
    write_png_sequence(folder / "fg", "fg", frames=4)
    return folder


@pytest.fixture
def inputs(tmp_path: Path, png_frames: Path) -> Path:
    """An input root holding ``fg/fg.1001-1004.png`` (64x36, straight alpha)."""
    import shutil

    root = tmp_path / "inputs"
    shutil.copytree(png_frames, root)
    return root


@pytest.fixture
def start_server(tmp_path: Path, inputs: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(build: Callable[..., Any] = fakebuild.build, **options: Any) -> Running:
        options.setdefault("data_dir", tmp_path / "data")
        options.setdefault("input_roots", (inputs,))
        options.setdefault("webhook_backoff", 0.2)
        options.setdefault("webhook_timeout", 2.0)
        # The test receivers listen on 127.0.0.1: a private address to the service.
        options.setdefault("webhook_allow", ("127.0.0.0/8",))
        service = Service(ServiceConfig(**options), build=build)
        running = Running(service, ServerThread(service).start())
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def server(start_server: Callable[..., Running]) -> Running:
    return start_server()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(fail_first: int = 0, delay: float = 0.0) -> Receiver:
        r = Receiver(fail_first, delay)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def server_process(tmp_path: Path, inputs: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, inputs, free_port())
    yield process
    process.terminate()
