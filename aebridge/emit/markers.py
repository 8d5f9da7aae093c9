"""Comp markers for the build plan: one marker per comp frame, as After Effects keeps.

After Effects holds one marker per time on a marker property: ``setValueAtTime`` on a
time that already has a key replaces it (scripting guide, ``Property.setValueAtTime``).
Conditioning keyframes of several layers, and the user's own spec markers, can land
on the same comp frame, so :func:`plan_markers` merges the markers of each frame into
one that keeps every name, comment and parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from ..model import Marker

__all__ = ["plan_markers"]

Json = dict[str, Any]


def _text(marker: Marker) -> str:
    if marker.name and marker.comment:
        return f"{marker.name}: {marker.comment}"
    return marker.name or marker.comment


def _merged(group: Sequence[Marker]) -> Json:
    """One plan marker for markers on the same frame (a single one unchanged)."""
    first = group[0]
    if len(group) == 1:
        return {
            "frame": first.frame,
            "name": first.name,
            "comment": first.comment,
            "duration": first.duration,
            "label": first.label,
            "params": [[k, v] for k, v in first.parameters]
            + [["aebridge_kind", str(first.kind)]],
        }
    params: list[list[str]] = []
    taken: set[str] = set()
    for number, marker in enumerate(group, start=1):
        for key, value in marker.parameters:
            # A key two markers share keeps the first's value under its own name and
            # the others' as "key (2)", "key (3)", numbered by marker.
            name = key if key not in taken else f"{key} ({number})"
            taken.add(name)
            params.append([name, value])
    kinds = list(dict.fromkeys(str(m.kind) for m in group))
    labels = [m.label for m in group if m.label is not None]
    return {
        "frame": first.frame,
        "name": " + ".join(m.name for m in group if m.name),
        "comment": "\n".join(_text(m) for m in group if m.comment),
        "duration": max(m.duration for m in group),
        "label": labels[0] if labels else None,
        "params": [*params, ["aebridge_kind", ",".join(kinds)]],
    }


def plan_markers(markers: Sequence[Marker]) -> list[Json]:
    """The plan's ``markers`` list: one entry per comp frame, in frame order.

    Markers of one frame are merged (in spec order): names joined with ``" + "``,
    comments kept line by line as ``name: comment``, every parameter kept (a repeated
    key is numbered by marker), the longest duration, the first label given, and
    ``aebridge_kind`` listing each kind once.

    Args:
        markers: the spec's comp markers (conditioning keyframes already expanded).

    Returns:
        JSON-ready plan markers (``jsx/PLAN.md``).
    """
    ordered = sorted(markers, key=lambda m: m.frame)
    return [
        _merged(list(group))
        for _frame, group in groupby(ordered, key=lambda m: m.frame)
    ]
