"""``aebridge serve`` / ``aebridge watch`` and the OpenAPI document in the repo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from servicekit import Running, spec_for

from aebridge.cli import main

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def test_the_served_openapi_document_is_the_one_in_the_repo(server: Running) -> None:
    served = httpx.get(f"{server.url}/openapi.json").json()
    kept = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served == kept, (
        "docs/openapi.json is out of date; regenerate it with: "
        "python -m aebridge.service.openapi docs/openapi.json"
    )
    assert set(kept["paths"]) >= {
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/cancel",
        "/v1/jobs/{job_id}/artifacts",
        "/v1/jobs/{job_id}/events",
        "/v1/health",
    }


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AEBRIDGE_TOKEN", raising=False)
    monkeypatch.delenv("AEBRIDGE_WEBHOOK_SECRET", raising=False)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_serve_refuses_a_public_address_without_a_token(
    no_token: None, tmp_path: Path
) -> None:
    code, output = run_cli("serve", "--host", "0.0.0.0", "--data", str(tmp_path))
    assert code == 1
    assert "--host: '0.0.0.0' is not allowed" in output
    assert "needs a bearer token (--token or the AEBRIDGE_TOKEN" in output
    assert "Traceback" not in output


def test_serve_names_a_build_it_cannot_import(no_token: None, tmp_path: Path) -> None:
    code, output = run_cli(
        "serve", "--data", str(tmp_path), "--build", "no_such_module:build"
    )
    assert code == 1
    assert "--build: 'no_such_module:build' is not allowed" in output


def test_serve_runs_aebridges_own_build_unless_given_another() -> None:
    import fakebuild

    from aebridge.api import build
    from aebridge.cli.serve import build_function

    assert build_function(None) is build
    assert build_function("fakebuild:build") is fakebuild.build


def test_serve_refuses_a_malformed_webhook_secret(
    no_token: None, tmp_path: Path
) -> None:
    code, output = run_cli(
        "serve", "--data", str(tmp_path), "--webhook-secret", "hunter2"
    )
    assert code == 1
    assert "--webhook-secret: '<hidden>' is not allowed; allowed: 'whsec_'" in output
    assert "hunter2" not in output


def test_watch_turns_a_dropped_spec_into_a_result_file(
    tmp_path: Path, inputs: Path
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "aebridge", "watch", str(folder)]
    command += ["--data", str(tmp_path / "data"), "--input-root", str(inputs)]
    command += ["--interval", "0.1", "--build", "fakebuild:build"]
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        spec = spec_for("sh050")
        spec["layers"][0]["source"]["path"] = str(inputs / "fg" / "fg.####.png")
        tmp = folder / "sh050.json.part"
        tmp.write_text(json.dumps(spec), encoding="utf-8")
        tmp.rename(folder / "sh050.json")
        result = folder / "sh050.result.json"
        deadline = time.monotonic() + 30
        while not result.exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no result file"
            time.sleep(0.1)
        assert json.loads(result.read_text())["status"] == "succeeded"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, output
    assert "watching" in output


def test_serve_checks_its_edge_options(no_token: None, tmp_path: Path) -> None:
    code, output = run_cli(
        "serve", "--data", str(tmp_path), "--cors-origin", "*", "--port", "0"
    )
    assert code == 1
    assert "--cors-origin: '*' is not allowed; allowed: an origin like" in output
    code, output = run_cli(
        "serve", "--data", str(tmp_path), "--allowed-host", "a b", "--port", "0"
    )
    assert code == 1 and "--allowed-host: 'a b' is not allowed" in output
