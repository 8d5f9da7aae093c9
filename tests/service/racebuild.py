"""The real ``aebridge.api.build``, paused once at a chosen point so an attack test
can swap a source folder for a link leading outside the input roots.

``AEBRIDGE_TEST_PAUSE_DIR`` names a folder; ``AEBRIDGE_TEST_PAUSE_AT`` says when to
pause: ``start`` (before anything is read, as if the job were still queued),
``probed`` (the sources were probed, no pixel read yet) or a number of frames
converted (between chunks). The build writes ``paused`` into the folder and waits
until the test writes ``go``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from aebridge.api import build as real_build

PAUSE_DIR_ENV = "AEBRIDGE_TEST_PAUSE_DIR"
PAUSE_AT_ENV = "AEBRIDGE_TEST_PAUSE_AT"


def pause(folder: Path) -> None:
    (folder / "paused").write_text("", encoding="utf-8")
    deadline = time.monotonic() + 60
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the test never said go")
        time.sleep(0.02)


def build(spec: Any, out_dir: Any, **options: Any) -> Any:
    folder = Path(os.environ[PAUSE_DIR_ENV])
    at = os.environ.get(PAUSE_AT_ENV, "probed")
    report = options.pop("progress", None)
    done = False

    def hook(update: Any) -> None:
        nonlocal done
        if not done and update.stage == "convert" and update.frames_total > 0:
            wanted = 0 if at == "probed" else int(at)
            if update.frames_done >= wanted:
                done = True
                pause(folder)
        if report is not None:
            report(update)

    if at == "start":
        done = True
        pause(folder)
    return real_build(spec, out_dir, progress=hook, **options)
