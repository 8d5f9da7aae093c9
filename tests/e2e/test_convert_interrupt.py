"""Ctrl-C during a parallel ``aebridge convert``: a clean exit that keeps the frames
already written, and a re-run that resumes from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def _noise_sequence(folder: Path, count: int) -> None:
    import OpenImageIO as oiio

    folder.mkdir()
    rng = np.random.default_rng(7)
    for number in range(1, count + 1):
        # Noise does not compress, so each frame takes long enough to interrupt.
        pixels = rng.integers(0, 256, (270, 480, 3), dtype=np.uint8)
        out = oiio.ImageOutput.create(str(folder / f"n.{number:04d}.png"))
        assert out is not None
        out.open(
            str(folder / f"n.{number:04d}.png"), oiio.ImageSpec(480, 270, 3, "uint8")
        )
        out.write_image(pixels)
        out.close()


def test_ctrl_c_during_a_parallel_run_exits_cleanly_and_the_rerun_resumes(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    _noise_sequence(tmp_path / "src", 80)
    command = [sys.executable, "-m", "aebridge", "convert", str(tmp_path / "src")]
    command += ["-o", str(tmp_path / "out"), "--name", "n", "--fps", "24", "-j", "2"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # A terminal's Ctrl-C reaches a process with SIGINT at its default even when
        # this test runs under a shell that ignores it for background jobs.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    seen = b""
    while b"converting n: " not in seen or seen.endswith(b" 0/80 frames\n"):
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, seen.decode()
        seen += chunk
    # Ctrl-C signals the whole foreground process group: the CLI and its workers.
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the run hung after Ctrl-C")
    err = (seen + rest).decode()
    assert proc.returncode == 130, err
    assert "interrupted; finished frames are kept" in err
    assert "Traceback" not in err
    layer = tmp_path / "out" / "n"
    names = sorted(p.name for p in layer.iterdir())
    written = [n for n in names if n.endswith(".exr")]
    assert all(n.startswith("n.") and n[2:6].isdigit() for n in written), names
    assert 0 < len(written) < 80
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{80 - len(written)} written, {len(written)} up to date" in done.stdout
