"""Keyframe evaluation as After Effects does it: linear, hold and temporal Bezier.

A segment between keys k0 and k1 (times t0 < t1 in seconds, dt = t1 - t0) is a cubic
Bezier in (time, value) with control points

    P0 = (t0, v0)
    P1 = (t0 + i0 dt, v0 + s0 i0 dt)      out-ease of k0: speed s0, influence i0
    P2 = (t1 - i1 dt, v1 - s1 i1 dt)      in-ease of k1:  speed s1, influence i1
    P3 = (t1, v1)

which is AE's ``KeyframeEase(speed, influence)`` model: speed in value units per second,
influence the fraction of the segment's duration the handle reaches. A linear side has
the segment's average speed (v1 - v0)/dt and influence 16.67 %, what AE reports for a
linear key and the convention :mod:`aebridge.camera` uses too: two linear sides give
exactly linear interpolation, and a linear side next to an eased one bends the same
way for layers as for the camera. A hold out-side keeps v0 up to
(not including) t1; so does a hold in-side on k1. Spatial properties (position, anchor)
move along the straight line between keys, the ease acting on the distance travelled
(speed in pixels per second along the path), as AE does for a linear spatial path.
Multi-dimensional non-spatial properties (scale) ease each dimension on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "LINEAR_INFLUENCE",
    "Ease",
    "Interpolation",
    "Key",
    "bezier_progress",
    "evaluate",
]

#: Influence (as a fraction) of a linear side's handle: AE reports 16.67 %.
LINEAR_INFLUENCE = 1.0 / 6.0


class Interpolation(StrEnum):
    """Temporal interpolation on one side of a key (``KeyframeInterpolationType``)."""

    LINEAR = "linear"
    BEZIER = "bezier"
    HOLD = "hold"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ease:
    """AE ``KeyframeEase``: speed (units per second) and influence (0.1..100 %)."""

    speed: float
    influence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One key: comp frame, value, and the interpolation/ease on each side.

    ``ease_in``/``ease_out`` hold one :class:`Ease` for a spatial or 1-D property, or
    one per dimension for a multi-dimensional non-spatial property; they matter only on
    a ``bezier`` side.
    """

    frame: float
    value: tuple[float, ...]
    in_type: Interpolation = Interpolation.LINEAR
    out_type: Interpolation = Interpolation.LINEAR
    ease_in: tuple[Ease, ...] = ()
    ease_out: tuple[Ease, ...] = ()


def _cubic(p0: float, p1: float, p2: float, p3: float, s: float) -> float:
    u = 1.0 - s
    return u * u * u * p0 + 3 * u * u * s * p1 + 3 * u * s * s * p2 + s * s * s * p3


def bezier_progress(
    t: float, dt: float, delta: float, out: Ease | None, into: Ease | None
) -> float:
    """Value change at time ``t`` into a segment of length ``dt`` changing by ``delta``.

    Args:
        t: seconds since the segment's first key (0..dt).
        dt: segment duration in seconds.
        delta: total change of the value over the segment.
        out: the first key's out-ease, None for a linear side.
        into: the second key's in-ease, None for a linear side.

    Returns:
        The change from the first key's value at time ``t``.
    """
    lin = delta / dt
    s0, i0 = (
        (lin, LINEAR_INFLUENCE) if out is None else (out.speed, out.influence / 100)
    )
    s1, i1 = (
        (lin, LINEAR_INFLUENCE) if into is None else (into.speed, into.influence / 100)
    )
    x1, x2 = i0 * dt, dt - i1 * dt
    y1, y2 = s0 * i0 * dt, delta - s1 * i1 * dt
    # x(s) is non-decreasing for influences in 0..1: bisection finds s with x(s) = t.
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _cubic(0.0, x1, x2, dt, mid) < t:
            lo = mid
        else:
            hi = mid
    return _cubic(0.0, y1, y2, delta, 0.5 * (lo + hi))


def _pick(eases: tuple[Ease, ...], dim: int) -> Ease | None:
    if not eases:
        return None
    return eases[dim] if dim < len(eases) else eases[0]


def evaluate(
    keys: Sequence[Key], frame: float, rate: float, *, spatial: bool = False
) -> tuple[float, ...]:
    """The property's value at a comp frame.

    Args:
        keys: keys sorted by frame (at least one).
        frame: the comp frame, may be fractional.
        rate: comp frames per second (speeds are per second).
        spatial: True for position-like properties (ease along the path).

    Returns:
        The value; before the first key the first value, after the last the last.

    Raises:
        ValueError: no keys (the spec layer guarantees at least one).
    """
    if not keys:
        raise ValueError("a keyframed property needs at least one key")
    if frame <= keys[0].frame:
        return keys[0].value
    if frame >= keys[-1].frame:
        return keys[-1].value
    index = max(i for i, k in enumerate(keys) if k.frame <= frame)
    k0, k1 = keys[index], keys[index + 1]
    # AE holds a segment when either of its sides is hold.
    if Interpolation.HOLD in (k0.out_type, k1.in_type):
        return k0.value
    dt = (k1.frame - k0.frame) / rate
    t = (frame - k0.frame) / rate
    bez_out = k0.out_type is Interpolation.BEZIER
    bez_in = k1.in_type is Interpolation.BEZIER
    if spatial:
        diff = [b - a for a, b in zip(k0.value, k1.value, strict=True)]
        length = math.sqrt(sum(d * d for d in diff))
        if length == 0.0:
            return k0.value
        travelled = bezier_progress(
            t,
            dt,
            length,
            _pick(k0.ease_out, 0) if bez_out else None,
            _pick(k1.ease_in, 0) if bez_in else None,
        )
        f = travelled / length
        return tuple(a + d * f for a, d in zip(k0.value, diff, strict=True))
    return tuple(
        a
        + bezier_progress(
            t,
            dt,
            b - a,
            _pick(k0.ease_out, dim) if bez_out else None,
            _pick(k1.ease_in, dim) if bez_in else None,
        )
        for dim, (a, b) in enumerate(zip(k0.value, k1.value, strict=True))
    )
