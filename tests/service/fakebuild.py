"""A scripted stand-in for ``aebridge.api.build`` with the same contract.

It writes one small "frame" file per comp frame and layer, each under a temporary name
then renamed (as convert does), skips frames already written (resume), reports
``BuildProgress``-like updates, stops between frames when ``cancel`` is set (raising
CanceledError), and sleeps ``AEBRIDGE_TEST_FRAME_DELAY`` seconds per frame so tests can
kill or cancel a job in the middle. A frame's content embeds its own SHA-256, so a
test can tell a whole frame from a partial one.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aebridge.errors import CanceledError

FRAME_DELAY_ENV = "AEBRIDGE_TEST_FRAME_DELAY"
#: Set to a file path: every frame actually written appends a line there.
WRITE_LOG_ENV = "AEBRIDGE_TEST_WRITE_LOG"


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    stage: str
    layer: str | None
    frames_done: int
    frames_total: int
    build_frames_done: int
    build_frames_total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    comp_dir: Path
    script: Path
    build_json: Path
    preview: Path | None
    layers: tuple[str, ...]
    warnings: tuple[str, ...]


def frame_bytes(layer: str, frame: int) -> bytes:
    """The content of one frame: a payload followed by its SHA-256 (hex)."""
    payload = f"{layer}:{frame}:".encode() + bytes(range(256)) * 16
    return payload + hashlib.sha256(payload).hexdigest().encode()


def frame_is_whole(path: Path) -> bool:
    data = path.read_bytes()
    payload, digest = data[:-64], data[-64:]
    return hashlib.sha256(payload).hexdigest().encode() == digest


def build(
    spec: Any,
    out_dir: str | os.PathLike[str],
    *,
    base_dir: Any = None,
    preview: bool = False,
    engine: str = "local",
    jobs: int | None = None,
    force: bool = False,
    aep: Any = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Result:
    delay = float(os.environ.get(FRAME_DELAY_ENV, "0"))
    log = os.environ.get(WRITE_LOG_ENV)
    comp = spec.comp
    comp_dir = Path(out_dir) / comp.name
    # Progress per layer and over the build, as aebridge.api.build reports it: the
    # build's total is known before any frame.
    total = comp.duration * len(spec.layers)
    if progress is not None:
        progress(
            Progress(
                stage="validate",
                layer=None,
                frames_done=0,
                frames_total=0,
                build_frames_done=0,
                build_frames_total=total,
            )
        )
    for number, layer in enumerate(spec.layers):
        folder = comp_dir / "layers" / layer.id
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(comp.duration):
            if cancel is not None and cancel.is_set():
                raise CanceledError(f"build of {comp.name} canceled between frames")
            frame = comp.start_frame + index
            path = folder / f"{layer.id}.{frame:04d}.frame"
            if force or not (path.exists() and frame_is_whole(path)):
                time.sleep(delay)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_bytes(frame_bytes(layer.id, frame))
                os.replace(tmp, path)
                if log:
                    with open(log, "a", encoding="utf-8") as handle:
                        handle.write(f"{layer.id} {frame}\n")
            if progress is not None:
                progress(
                    Progress(
                        stage="convert",
                        layer=layer.id,
                        frames_done=index + 1,
                        frames_total=comp.duration,
                        build_frames_done=number * comp.duration + index + 1,
                        build_frames_total=total,
                    )
                )
    script = comp_dir / f"{comp.name}.jsx"
    script.write_text(f"// generated for {comp.name}\n", encoding="utf-8")
    build_json = comp_dir / "build.json"
    build_json.write_text(json.dumps({"comp": comp.name}), encoding="utf-8")
    preview_path = None
    if preview:
        preview_path = comp_dir / "preview"
        preview_path.mkdir(exist_ok=True)
        (preview_path / f"{comp.name}.png").write_bytes(b"\x89PNG fake")
    if progress is not None:
        progress(
            Progress(
                stage="script",
                layer=None,
                frames_done=0,
                frames_total=0,
                build_frames_done=total,
                build_frames_total=total,
            )
        )
    return Result(
        comp_dir=comp_dir,
        script=script,
        build_json=build_json,
        preview=preview_path,
        layers=tuple(layer.id for layer in spec.layers),
        warnings=(),
    )


def failing_build(spec: Any, out_dir: Any, **_: Any) -> Result:
    """A build that fails with a user error, to check the failure fields."""
    from aebridge.errors import SourceError

    raise SourceError("frame is truncated", path="fg/fg.1002.png", frame=1002)


def crashing_build(spec: Any, out_dir: Any, **_: Any) -> Result:
    """A build with a bug: the service must not leak its traceback."""
    raise ZeroDivisionError("secret internal detail")
