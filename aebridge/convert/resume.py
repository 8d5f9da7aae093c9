"""Resuming and cleaning an output folder: which frames are already current, and
what an earlier run left behind (temporaries, frames past a shorter range).

A frame is current when its header records the same source hash and settings hash
(and the light-under-alpha-0 count), so a re-run skips it without reading pixels.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from .. import fileio
from ..errors import AebridgeError, OutputError

__all__ = [
    "LIGHT_ATTRIBUTE",
    "check_writable",
    "clean_folder",
    "current_light",
    "frame_path",
]

#: Header attribute holding a frame's count of light under alpha 0, so a resumed run
#: reports it without reading pixels.
LIGHT_ATTRIBUTE = "aebridge/lightUnderAlpha0"


def frame_path(folder: str, name: str, frame: int, padding: int) -> str:
    """``folder/<name>.<frame>.exr``, the frame number padded to ``padding``."""
    return os.path.join(folder, f"{name}.{frame:0{padding}d}.exr")


def current_light(path: str, source_sha: str, settings_hash: str) -> int | None:
    """The light-under-alpha-0 count of ``path`` when it is a whole aebridge frame made
    from this source and settings (and records the count); None when it must be
    (re)made."""
    from .. import exr

    if not os.path.exists(path):
        return None
    try:
        header = exr.read_header(path)
    except AebridgeError:
        return None  # unreadable: redo it
    if (
        header.get("aebridge/sourceSha256") != source_sha
        or header.get("aebridge/settingsHash") != settings_hash
    ):
        return None
    light = header.get(LIGHT_ATTRIBUTE)
    try:
        return int(str(light))
    except ValueError:
        return None  # written before frames recorded it: redo it once


def check_writable(folder: Path) -> None:
    """Create ``folder`` and check that files can be written in it.

    Raises:
        OutputError: it cannot be created or written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder: {exc.strerror}", path=str(folder)
        ) from exc
    probe = folder / f".aebridge-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"the output folder is not writable: {exc.strerror}", path=str(folder)
        ) from exc


def clean_folder(
    folder: Path, name: str, keep: range | None, frames: set[int]
) -> list[str]:
    """Remove what earlier runs left: temporaries of the frames about to be written
    (whoever wrote them), temporaries of this layer's files whose writer is gone,
    and, on a full run, frames of this name outside the new range (so After Effects
    imports no stale tail).

    Temporaries are :mod:`aebridge.fileio`'s
    (``.<name>.<frame>.<pid>-<token>.tmp.exr``, the sidecar's
    ``.<name>.aebridge.<pid>-<token>.tmp.json``) and the
    ``.<name>.<frame>.exr.tmp-<pid>`` names earlier versions wrote.

    Returns:
        The names of the frames removed, sorted.
    """
    removed: list[str] = []
    frame_re = re.compile(rf"^{re.escape(name)}\.(\d+)\.exr$")
    old_tmp_re = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.exr\.tmp")
    stale = {path.name for path in fileio.stale_temporaries(folder)}
    for entry in os.scandir(folder):
        temporary = fileio.TEMPORARY_RE.match(entry.name)
        if temporary is not None:
            frame = frame_re.match(f"{temporary['stem']}{temporary['suffix'] or ''}")
            if (frame is not None and int(frame.group(1)) in frames) or (
                entry.name in stale and temporary["stem"].startswith(f"{name}.")
            ):
                # A writer racing this run may have renamed it meanwhile.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            continue
        m = old_tmp_re.match(entry.name)
        if m and int(m.group(1)) in frames:
            os.unlink(entry.path)
            continue
        m = frame_re.match(entry.name)
        if m and keep is not None and int(m.group(1)) not in keep:
            os.unlink(entry.path)
            removed.append(entry.name)
    return sorted(removed)
