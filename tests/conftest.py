"""Options and fixtures shared by the whole suite, registered here so they work from
the root."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files in tests/golden from the current code",
    )


#: Runs the distribution's ffmpeg with the given arguments (quiet, overwriting).
Ffmpeg = Callable[..., Path]


@pytest.fixture(scope="session")
def ffmpeg() -> Ffmpeg:
    """FFmpeg's command line, for fixtures PyAV cannot encode (10-bit VP9, VP8 alpha,
    interlaced, edit lists, rotation). CI installs it (.ci/run); elsewhere the tests
    that need it are skipped with this reason."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("needs the ffmpeg command (apt-get install ffmpeg; .ci/run does)")

    def run(*args: str | Path, output: Path) -> Path:
        command = [exe, "-nostdin", "-v", "error", "-y", *map(str, args), str(output)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        return output

    return run
