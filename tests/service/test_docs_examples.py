"""Every example in docs/service.md runs as written: the quick start's serve and curl
commands against the samples, the Python client, the envelope, the receiver."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "service.md"


def section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def commands(block: str) -> list[str]:
    """Shell lines without their trailing comments."""
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line]


class DocServer:
    def __init__(self, folder: Path, url: str, proc: subprocess.Popen[bytes]) -> None:
        self.folder = folder
        self.url = url
        self.proc = proc

    def wait(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while True:
            job: dict[str, Any] = httpx.get(f"{self.url}/v1/jobs/{job_id}").json()
            if job["status"] in ("succeeded", "failed", "canceled"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)


@pytest.fixture(scope="module")
def doc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocServer]:
    """The quick start's ``aebridge serve`` line, run in a folder holding the
    samples (made as the README's first command makes them)."""
    folder = tmp_path_factory.mktemp("docs")
    shutil.copytree(
        ROOT / "samples", folder / "samples", ignore=shutil.ignore_patterns("media")
    )
    subprocess.run(
        [sys.executable, str(folder / "samples" / "make_samples.py"), "sh010"],
        check=True,
        capture_output=True,
    )
    (serve,) = [
        c for c in commands(blocks(section("Quick start"), "bash")[0]) if "serve" in c
    ]
    assert serve.startswith("aebridge serve ") and serve.endswith("&")
    port = free_port()
    args = serve.removesuffix("&").split()[1:]
    with open(folder / "server.log", "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [sys.executable, "-m", "aebridge", *args, "--port", str(port)],
            cwd=folder,
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, (folder / "server.log").read_text()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield DocServer(folder, url, proc)
    proc.terminate()
    proc.wait(20)


def run(line: str, server: DocServer, job_id: str = "") -> str:
    port = server.url.rsplit(":", 1)[1]
    line = line.replace("localhost:8765", f"localhost:{port}")
    line = line.replace("job_5c1e...", job_id)
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=server.folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow  # a real aebridge serve subprocess
def test_the_quick_start_runs_as_written(doc_server: DocServer) -> None:
    lines = [c for c in commands(blocks(section("Quick start"), "bash")[0])]
    curls = [line for line in lines if line.startswith("curl")]
    submitted = json.loads(run(curls[0], doc_server))
    assert submitted["status"] in ("queued", "running"), submitted
    job_id = submitted["id"]
    done = doc_server.wait(job_id)
    assert done["status"] == "succeeded", done
    assert json.loads(run(curls[1], doc_server, job_id))["status"] == "succeeded"
    events = run(curls[2], doc_server, job_id)
    assert "event: queued" in events and events.rstrip().split("\n")[-2].startswith(
        "event: succeeded"
    )
    listing = json.loads(run(curls[3], doc_server, job_id))
    names = {a["name"] for a in listing["artifacts"]}
    assert {"sh010/sh010.jsx", "sh010/build.json"} <= names


@pytest.mark.slow  # a real aebridge serve subprocess
def test_the_python_client_example_runs(
    doc_server: DocServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = blocks(section("Python client"), "python")
    monkeypatch.chdir(doc_server.folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace("http://127.0.0.1:8765", doc_server.url), {})
    printed = dict(line.split() for line in out.getvalue().splitlines())
    assert int(printed["sh010/sh010.jsx"]) > 0 and "sh010/build.json" in printed


@pytest.mark.slow  # a real aebridge serve subprocess
def test_the_envelope_example_is_accepted(doc_server: DocServer) -> None:
    (example,) = [
        b for b in blocks(section("Submitting a job: `POST /v1/jobs`"), "json")
    ]
    envelope = json.loads(example)
    envelope["spec"] = json.loads(
        (doc_server.folder / "samples" / "sh010" / "comp.json").read_text()
    )
    response = httpx.post(
        f"{doc_server.url}/v1/jobs",
        json=envelope,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["webhook_secret"].startswith("whsec_")
    httpx.post(f"{doc_server.url}/v1/jobs/{response.json()['id']}/cancel")


def test_the_receiver_example_verifies_a_signed_message() -> None:
    from aebridge.service.webhooks import new_secret, sign

    (code,) = blocks(section("Webhooks"), "python")
    secret = new_secret()
    raw_body = b'{"type": "job.succeeded"}'
    stamp = int(time.time())
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": sign(secret, "msg_1", stamp, raw_body),
    }
    namespace: dict[str, Any] = {
        "secret": secret,
        "headers": headers,
        "raw_body": raw_body,
    }
    exec(code, namespace)
    assert namespace["message_id"] == "msg_1"


def test_every_curl_example_in_the_docs_sends_json() -> None:
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for line in doc.read_text(encoding="utf-8").splitlines():
            if "curl" in line and re.search(r"\s(-d|--data\S*)\s", line):
                assert "Content-Type: application/json" in line, (doc.name, line)


def test_the_serve_help_sends_json_too() -> None:
    from click.testing import CliRunner

    from aebridge.cli import main

    text = CliRunner().invoke(main, ["serve", "--help"]).output
    example = text[text.index("curl") :].split("\n\n")[0]
    assert "Content-Type: application/json" in example and "-d @" in example
