"""Describe an EXR sequence: frame range, rate, windows and header attributes."""

from __future__ import annotations

import json
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


def _decisions(header: dict[str, Any]) -> list[str]:
    """The decisions aebridge recorded when it wrote the frame (colour read,
    orientation, part and view, fields, rate, alpha); empty for other EXRs."""
    text = header.get("aebridge/decisions")
    if not isinstance(text, str):
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _inspect_file(p: Path, frame: int | None) -> dict[str, Any]:
    """The report of one EXR file that has no frame number (``plate.exr``)."""
    from . import exr

    if p.suffix.lower() != ".exr":
        raise SourceError(
            "not an EXR file; give a layer folder or one .exr file", path=str(p)
        )
    if frame is not None:
        raise SourceError(
            f"--frame {frame}: this file has no frame number (name.####.exr), so it "
            "is not part of a sequence; leave --frame out",
            path=str(p),
        )
    header = exr.read_header(p)
    fps = header.get("framesPerSecond")
    rate = format_rate(Fraction(fps)) if isinstance(fps, (Fraction, int)) else str(fps)
    return {
        "folder": str(p.parent),
        "pattern": p.name,
        "first": None,
        "last": None,
        "count": 1,
        "contiguous": True,
        "gaps": "",
        "rate": rate,
        "display_window": _window(header.get("displayWindow")),
        "data_windows": {_window(header.get("dataWindow")): p.name},
        "header_frame": None,
        "decisions": _decisions(header),
        "header": {
            k: (str(v) if isinstance(v, Fraction) else v) for k, v in header.items()
        },
    }


def inspect_sequence(
    path: str | os.PathLike[str], *, frame: int | None = None
) -> dict[str, Any]:
    """Report on an EXR sequence folder (or the sequence a single EXR file belongs to).

    Args:
        path: a layer folder such as ``out/fg``, one frame of it, or one EXR file
            without a frame number (reported alone: ``first``, ``last`` and
            ``header_frame`` are None).
        frame: the frame whose header is shown (default the frame ``path`` names,
            else the first).

    Returns:
        ``pattern``, ``first``, ``last``, ``count``, ``contiguous``, ``gaps``, ``rate``,
        ``display_window``, ``data_windows`` (window -> frame ranges), ``header_frame``,
        ``decisions`` (what aebridge decided when it read the source: colour,
        orientation, EXR part and view, fields, rate, alpha) and ``header`` (every
        attribute of that frame).

    Raises:
        SourceError: no EXR sequence there, several sequences, the frame is absent,
            or ``frame`` is given for a file without a frame number.
    """
    from . import exr

    p = Path(path)
    only: str | None = None
    given: int | None = None
    if p.is_file():
        m = _FRAME_RE.match(p.name)
        if not m:
            return _inspect_file(p, frame)
        only = m.group("name")
        given = int(m.group("frame"))
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
    # The frame asked for, else the file named, else the first frame.
    shown = frame if frame is not None else given if given is not None else first
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
        "decisions": _decisions(header),
        "header": {
            k: (str(v) if isinstance(v, Fraction) else v) for k, v in header.items()
        },
    }
