"""The architecture holds: import contracts, typing, documented commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_command_has_help_and_examples() -> None:
    from aebridge.cli import main

    # Contexts made as click makes them (make_context applies context_settings such
    # as the -h help name); a bare Context made click cache a help option without
    # -h on each command, and later invocations in the same process refused -h.
    ctx = main.make_context("aebridge", [], resilient_parsing=True)
    missing = []
    for name, command in main.commands.items():
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        text = command.get_help(sub)
        if "Examples:" not in text or not (command.help or "").strip():
            missing.append(name)
    assert not missing, f"commands without help and examples: {missing}"


def test_version_and_short_help_flag() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "aebridge", "-V"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "aebridge" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "aebridge", "-h"], capture_output=True, text=True
    )
    assert run.returncode == 0 and "convert" in run.stdout


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "aebridge").rglob("__init__.py")
    }
    assert found | {"aebridge.jsx"} == listed


def test_a_wheel_carries_the_extendscript_library(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("aebridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "aebridge/jsx/aebridge.jsx" in names
    assert "aebridge/schema/comp-1.schema.json" in names
