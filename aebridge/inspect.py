"""Describe an EXR sequence: frame range, rate, windows and header attributes."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import SourceError
from .timing import format_rate

__all__ = ["inspect_sequence"]

_FRAME_RE = re.compile(r"^(?P<name>.+)\.(?P<frame>\d+)\.exr$")


def _window(value: Any) -> str:
    if isinstance(value, (tuple, list)) and len(value) == 4:
        x0, y0, x1, y1 = (int(v) for v in value)
        return f"({x0}, {y0}) - ({x1}, {y1}), {x1 - x0 + 1}x{y1 - y0 + 1}"
    return str(value)


def _ranges(frames: list[int]) -> str:
    parts: list[str] = []
    start = prev = frames[0]
    for f in [*frames[1:], None]:
        if f is not None and f == prev + 1:
            prev = f
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if f is not None:
            start = prev = f
    return ",".join(parts)


def inspect_sequence(
    path: str | os.PathLike[str], *, frame: int | None = None
) -> dict[str, Any]:
    """Report on an EXR sequence folder (or the sequence a single EXR file belongs to).

    Args:
        path: a layer folder such as ``out/fg``, or one frame of it.
        frame: the frame whose header is shown (default the first).

    Returns:
        ``pattern``, ``first``, ``last``, ``count``, ``contiguous``, ``gaps``, ``rate``,
        ``display_window``, ``data_windows`` (window -> frame ranges), ``header_frame``
        and ``header`` (every attribute of that frame).

    Raises:
        SourceError: no EXR sequence there, several sequences, or the frame is absent.
    """
    from . import exr

    p = Path(path)
    only: str | None = None
    if p.is_file():
        m = _FRAME_RE.match(p.name)
        if not m:
            raise SourceError("not a frame of a sequence (name.####.exr)", path=str(p))
        only = m.group("name")
        p = p.parent
    by_name: dict[str, dict[int, Path]] = defaultdict(dict)
    padding: dict[str, int] = {}
    for entry in sorted(p.iterdir()):
        m = _FRAME_RE.match(entry.name)
        if m and not entry.name.startswith("."):
            by_name[m.group("name")][int(m.group("frame"))] = entry
            padding[m.group("name")] = len(m.group("frame"))
    if only is not None:
        by_name = defaultdict(dict, {only: by_name.get(only, {})})
    if not by_name:
        raise SourceError("no EXR sequence (name.####.exr) here", path=str(p))
    if len(by_name) > 1:
        raise SourceError(
            "several sequences here: "
            + ", ".join(sorted(by_name))
            + "; name one frame",
            path=str(p),
        )
    name, files = next(iter(by_name.items()))
    frames = sorted(files)
    first, last = frames[0], frames[-1]
    missing = sorted(set(range(first, last + 1)) - set(frames))
    shown = first if frame is None else frame
    if shown not in files:
        raise SourceError(
            f"frame {shown} is not in the sequence ({first}-{last})", path=str(p)
        )
    windows: dict[str, list[int]] = defaultdict(list)
    display = ""
    header: dict[str, Any] = {}
    for f in frames:
        h = exr.read_header(files[f])
        windows[_window(h.get("dataWindow"))].append(f)
        if f == shown:
            header = h
            display = _window(h.get("displayWindow"))
    fps = header.get("framesPerSecond")
    rate = format_rate(Fraction(fps)) if isinstance(fps, (Fraction, int)) else str(fps)
    return {
        "folder": str(p),
        "pattern": f"{name}.{'#' * padding[name]}.exr",
        "first": first,
        "last": last,
        "count": len(frames),
        "contiguous": not missing,
        "gaps": _ranges(missing) if missing else "",
        "rate": rate,
        "display_window": display,
        "data_windows": {w: _ranges(fs) for w, fs in windows.items()},
        "header_frame": shown,
        "header": {
            k: (str(v) if isinstance(v, Fraction) else v) for k, v in header.items()
        },
    }
