"""The real ``aebridge.api.build``, slowed down for crash tests.

Each progress report sleeps ``AEBRIDGE_TEST_FRAME_DELAY`` seconds (default 0.3) in the
build's own thread, so a server can be killed while the build is under way; conversion
itself is the real one (one process, so chunks come one at a time).
"""

from __future__ import annotations

import os
import time
from typing import Any

from aebridge.api import build as real_build


def build(spec: Any, out_dir: Any, **options: Any) -> Any:
    delay = float(os.environ.get("AEBRIDGE_TEST_FRAME_DELAY", "0.3"))
    report = options.pop("progress", None)

    def slowed(update: Any) -> None:
        time.sleep(delay)
        if report is not None:
            report(update)

    options["jobs"] = 1
    return real_build(spec, out_dir, progress=slowed, **options)
