"""Which pixels of a foreign EXR are the picture: part, view, channels, deep, Y/YC.

An EXR can hold several parts (beauty, depth, ...), several views (stereo left and
right, in one part as ``right.R`` or one part per view), deep samples, luminance
only (``Y``) or luminance/chroma (``Y``, ``RY``, ``BY``). The structure is read here
from the header with the OpenEXR binding; the pixels are read by OpenImageIO, whose
subimages are the file's parts in order. The default is the file's default view (the
first of ``multiView``) in the first part that has a picture for it; ``--part`` and
``--view`` choose others. Channels are taken by name, never by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..encoding import KNOWN_PRIMARIES, rgb_to_xyz
from ..errors import SourceError

__all__ = [
    "ExrChoice",
    "ExrRefusal",
    "choose",
    "refuse_selection",
    "to_picture",
]


def refuse_selection(
    part: str | None, view: str | None, *, kind: str, path: str
) -> None:
    """Refuse a part or view chosen for a file that is no EXR (it would be ignored,
    and the whole picture read instead of the one asked for).

    Raises:
        SourceError: ``part`` or ``view`` is set.
    """
    for name, value in (("part", part), ("view", view)):
        if value is not None:
            raise SourceError(
                f"an EXR {name} ({value}; {name}, --{name}) applies only to EXR "
                f"files, and this is a {kind}; remove it",
                path=path,
                field=name,
            )


class ExrRefusal(ValueError):
    """The EXR holds no picture aebridge can read for the chosen part and view."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExrChoice:
    """The part and channels that make the picture, and how to read them."""

    part: int
    """Index of the part (OpenImageIO subimage)."""
    names: tuple[str, ...]
    """Channel names as in the file, in picture order: R, G, B[, A] / Y[, A] /
    Y, RY, BY[, A]."""
    kind: str
    """``rgb``, ``y`` (luminance only) or ``yc`` (luminance and chroma)."""
    deep: bool
    luminance: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)
    """The Y weights of the file's chromaticities, to turn Y, RY, BY into RGB."""
    note: str = ""
    """What was chosen and what else the file holds, for the decisions."""

    @property
    def channels(self) -> int:
        """Channels of the picture arrays (1 grey, 2 grey + alpha, 3, 4)."""
        alpha = self.names[-1].rpartition(".")[2] == "A"
        colour = 1 if self.kind == "y" else 3
        return colour + int(alpha)


def _name(channel: Any) -> str:
    return str(getattr(channel, "name", channel))


def _views(header: dict[str, Any]) -> list[str]:
    value = header.get("multiView")
    return [str(v) for v in value] if value else []


def _picture(
    channels: list[Any], view: str | None, views: list[str], default: str | None
) -> tuple[str, tuple[str, ...]] | None:
    """(kind, names) of the picture channels of ``view`` among ``channels``."""
    by_base: dict[str, str] = {}
    sampling: dict[str, tuple[int, int]] = {}
    for channel in channels:
        name = _name(channel)
        head, _, base = name.rpartition(".")
        if not head:
            owner = default
        elif head in views:
            owner = head
        else:
            continue  # a layer (diffuse.R, depth.Z): not the picture
        if owner == view or (view is None and owner is None):
            by_base[base] = name
            sampling[base] = (
                int(getattr(channel, "xSampling", 1)),
                int(getattr(channel, "ySampling", 1)),
            )
    alpha = (by_base["A"],) if "A" in by_base else ()
    if {"R", "G", "B"} <= by_base.keys():
        picked = ("rgb", (by_base["R"], by_base["G"], by_base["B"], *alpha))
    elif {"Y", "RY", "BY"} <= by_base.keys():
        picked = ("yc", (by_base["Y"], by_base["RY"], by_base["BY"], *alpha))
    elif "Y" in by_base:
        picked = ("y", (by_base["Y"], *alpha))
    else:
        return None
    subsampled = [n for n in picked[1] if sampling[n.rpartition(".")[2]] != (1, 1)]
    if subsampled:
        raise ExrRefusal(
            "subsampled channels ("
            + ", ".join(
                f"{n} at 1/{sampling[n.rpartition('.')[2]][0]} x "
                f"1/{sampling[n.rpartition('.')[2]][1]}"
                for n in subsampled
            )
            + "): aebridge reads luminance/chroma at full resolution only; "
            "re-save the file as RGB"
        )
    return picked


def choose(path: str, *, part: str | None, view: str | None) -> ExrChoice:
    """Choose the part, view and channels of an EXR frame file.

    Args:
        path: the EXR file.
        part: a part name or index (``--part``); None for the first with a picture.
        view: a view name (``--view``); None for the file's default view.

    Raises:
        ExrRefusal: no such part or view, or no R, G, B / Y channels there
            (names what the file holds), or subsampled chroma.
        OSError: the file cannot be read as an EXR.
    """
    import OpenEXR

    try:
        parts = OpenEXR.File(path, header_only=True).parts
    except (RuntimeError, ValueError) as exc:
        raise OSError(str(exc)) from exc
    headers = [dict(p.header) for p in parts]
    names = [str(h.get("name", "")) or f"part {i}" for i, h in enumerate(headers)]
    views: list[str] = []
    for h in headers:
        views.extend(v for v in _views(h) if v not in views)
    for h in headers:
        if h.get("view") and str(h["view"]) not in views:
            views.append(str(h["view"]))
    default = views[0] if views else None
    if view is not None and view not in views:
        raise ExrRefusal(
            f"--view {view!r}: the file has "
            + (f"views {', '.join(views)}" if views else "no views")
        )
    wanted = view if view is not None else default
    candidates = list(range(len(headers)))
    if part is not None:
        if part.isdigit() and int(part) < len(headers):
            candidates = [int(part)]
        elif part in names:
            candidates = [names.index(part)]
        else:
            raise ExrRefusal(
                f"--part {part!r}: the file has parts "
                + ", ".join(f"{i} {n!r}" for i, n in enumerate(names))
            )
    found: tuple[int, str, tuple[str, ...]] | None = None
    holdings: list[str] = []
    for index in candidates:
        h = headers[index]
        part_view = str(h["view"]) if h.get("view") else None
        channels = list(h.get("channels") or [])
        holdings.append(
            f"{index} {names[index]!r}"
            + (f" (view {part_view})" if part_view else "")
            + ": "
            + ", ".join(_name(c) for c in channels)
        )
        if part_view is not None and wanted is not None and part_view != wanted:
            continue
        own_views = _views(h)
        if own_views and part_view is None:
            # One part, several views: right.R beside R (the default view).
            picked = _picture(channels, wanted, own_views, own_views[0])
        else:  # a part of one view (or of none)
            picked = _picture(channels, part_view, [], part_view)
        if picked is not None:
            found = (index, *picked)
            break
    if found is None:
        raise ExrRefusal(
            "no R, G, B or Y channels"
            + (f" for view {wanted!r}" if wanted else "")
            + (f" in part {part!r}" if part is not None else "")
            + "; the file holds "
            + "; ".join(holdings)
            + (" (choose with --part / --view)" if len(headers) > 1 or views else "")
        )
    index, kind, picked_names = found
    header = headers[index]
    deep = "deep" in str(header.get("type", "")).lower()
    chroma = header.get("chromaticities")
    primaries = (
        tuple(float(v) for v in chroma) if chroma is not None else None
    ) or KNOWN_PRIMARIES["Rec.709"]
    weights = rgb_to_xyz(primaries)[1]
    notes = []
    if len(headers) > 1:
        others = [n for i, n in enumerate(names) if i != index]
        notes.append(
            f"EXR part {index} {names[index]!r} of {len(headers)} "
            + ("(--part)" if part is not None else "(the first with a picture)")
            + "; not read: "
            + ", ".join(repr(o) for o in others)
        )
    if views:
        notes.append(
            f"view {wanted!r} "
            + ("(--view)" if view is not None else "(the file's default view)")
            + " of "
            + ", ".join(views)
        )
    if deep:
        notes.append("deep samples flattened front to back (OpenImageIO flatten)")
    if kind == "y":
        notes.append("luminance only (Y): read as grey")
    if kind == "yc":
        notes.append("luminance/chroma (Y, RY, BY) converted to RGB")
    notes.append("channels read: " + ", ".join(picked_names))
    return ExrChoice(
        part=index,
        names=picked_names,
        kind=kind,
        deep=deep,
        luminance=(float(weights[0]), float(weights[1]), float(weights[2])),
        note="; ".join(notes),
    )


def to_picture(planes: list[npt.NDArray[Any]], choice: ExrChoice) -> npt.NDArray[Any]:
    """The chosen channel planes (H x W each, in ``choice.names`` order) as the
    H x W x C picture: RGB[A], grey[A], or Y/RY/BY turned into RGB[A].

    Y, RY, BY follow OpenEXR's RgbaYca: RY = (R - Y) / Y, BY = (B - Y) / Y, with Y
    weighted by the file's chromaticities.
    """
    if choice.kind != "yc":
        return np.ascontiguousarray(np.stack(planes, axis=-1))
    y, ry, by = (p.astype(np.float32) for p in planes[:3])
    wr, wg, wb = choice.luminance
    r = (ry + 1) * y
    b = (by + 1) * y
    g = (y - r * np.float32(wr) - b * np.float32(wb)) / np.float32(wg)
    out = [r, g, b, *(p.astype(np.float32) for p in planes[3:])]
    return np.ascontiguousarray(np.stack(out, axis=-1).astype(planes[0].dtype))
