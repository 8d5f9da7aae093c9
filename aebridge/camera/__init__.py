"""Camera moves to After Effects camera keyframes, and the curves those keys describe.

The spec's camera is a two-node After Effects camera: a position, a point of interest,
a zoom, and a Z rotation for rolls. :func:`camera_keys` turns its moves (dolly, truck,
pedestal, pan, tilt, roll, zoom, orbit) into keys for those four properties, with the
temporal ease AE wants (``KeyframeEase(speed, influence)`` and an interpolation type
per side). :func:`camera_state_at` evaluates the same keys at any frame, so the
preview renderer sees exactly what After Effects will.

Coordinates are AE comp pixels: x right, y down, z into the screen; the camera looks
from its position towards its point of interest.

**What a move means.** Moves are applied in order of their start frame (ties in spec
order), each to the camera as the earlier moves left it at that frame. A move's
progress runs from 0 at ``start`` to 1 at ``end`` along its easing curve. Translations
(dolly, truck, pedestal) move camera and point of interest together along the camera's
own axes; pan and tilt swing the point of interest around the camera (pan about the
world vertical, tilt about the camera's horizontal axis, like a tripod head); orbit
swings the camera around the point of interest about the world vertical; roll adds to
the Z rotation; zoom multiplies the zoom, interpolated linearly in zoom pixels.

**The ease model (After Effects').** Between two keys ``t0 < t1`` (duration ``T``
seconds) with values ``v0``, ``v1`` a property travels a distance ``D`` (the straight
line length for position and point of interest, which are given linear spatial paths;
the signed change for zoom and roll). Travel ``s`` over time follows the cubic Bezier
through ``(0, 0)``, ``(a*T, a*T*speed_out)``, ``(T - b*T, D - b*T*speed_in)``,
``(T, D)``, where ``a`` and ``b`` are the out influence of the first key and the in
influence of the second (as fractions) and the speeds are in property units per
second. AE's Easy Ease is speed 0, influence 33.33 %; a linear side has the segment's
average speed and influence 16.67 % (what AE reports for linear keys), which keeps the
segment exactly linear. A ``hold`` side keeps ``v0`` until ``t1``.

**How moves become keys.** The move frames split the timeline into segments. A segment
in which exactly one move runs, from its start to its end, and that move is a
translation, zoom or roll (or holds), gets keys at its two ends carrying the move's
ease: AE reproduces it exactly. Anything else (a pan, tilt or orbit, whose paths are
arcs, or moves that overlap) is sampled with a linear key on every frame, which AE
reproduces exactly at every frame. Consecutive moves share a key whose in side belongs
to the first move and whose out side to the second.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from ..animation import (
    LINEAR_INFLUENCE,
    Ease,
    EaseHandle,
    Interpolation,
    Key,
    evaluate,
)
from ..model import CompSpec, MoveKind
from .rig import (
    AFFINE,
    CameraState,
    Rig,
    Side,
    base_state,
    move_sides,
    moves_state_at,
    norm,
    ordered_moves,
)

__all__ = [
    "CameraKeys",
    "CameraState",
    "PropertyKeys",
    "camera_keys",
    "camera_state_at",
    "evaluate_property",
    "moves_state_at",
]
# Moves that two eased keys reproduce exactly when they run alone.
_TWO_KEY_KINDS = AFFINE | {MoveKind.ZOOM, MoveKind.ROLL}
_PROPERTIES = ("position", "point_of_interest", "zoom", "roll")


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyKeys:
    """One camera property: its value before any key, and its keys in frame order.

    ``match_name`` is the AE property to set; ``spatial`` properties (position, point
    of interest) need linear spatial tangents so AE's path is the straight line between
    keys (``setSpatialTangentsAtKey(k, [0, 0, 0], [0, 0, 0])``). Every key carries one
    :class:`~aebridge.animation.EaseHandle` per side, as AE's ease arrays for these
    properties have one element: for position and point of interest the speed along
    the (straight) path, never negative; for zoom and roll the signed rate of change.
    """

    name: str
    match_name: str
    value: tuple[float, ...]
    keys: tuple[Key, ...]
    spatial: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraKeys:
    """Everything the script needs to build the camera, at comp frames and ``rate``.

    Zoom and roll values are one-element tuples; roll is AE's Z rotation in degrees.
    """

    name: str
    rate: Fraction
    focal_length_mm: float
    film_width_mm: float
    position: PropertyKeys
    point_of_interest: PropertyKeys
    zoom: PropertyKeys
    roll: PropertyKeys

    def properties(self) -> tuple[PropertyKeys, ...]:
        """The four properties in a fixed order."""
        return (self.position, self.point_of_interest, self.zoom, self.roll)


# -- building keys --------------------------------------------------------------------


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal up to floating-point noise from rotations (1e-9 of the magnitude)."""
    scale = max(1.0, *(abs(x) for x in a))
    return all(abs(x - y) <= 1e-9 * scale for x, y in zip(a, b, strict=True))


def _distance(a: tuple[float, ...], b: tuple[float, ...], spatial: bool) -> float:
    """Path length for spatial properties; signed change for one-dimensional ones."""
    if spatial:
        return norm([y - x for x, y in zip(a, b, strict=True)])
    return b[0] - a[0]


@dataclass(slots=True)
class _KeyDraft:
    frame: int
    value: tuple[float, ...]
    in_side: Side | None = None
    out_side: Side | None = None


def _linear_side(distance: float, seconds: float) -> Side:
    speed = distance / seconds if seconds > 0 else 0.0
    return Side(type=Interpolation.LINEAR, speed=speed, influence=LINEAR_INFLUENCE)


def _signed(side: Side, distance: float, spatial: bool) -> Side:
    """Spatial speeds are magnitudes; a 1-D property's speed carries its direction."""
    if spatial or distance >= 0 or side.speed == 0:
        return side
    return Side(type=side.type, speed=-side.speed, influence=side.influence)


def _finish(draft: _KeyDraft) -> Key:
    still = Side(type=Interpolation.LINEAR, speed=0.0, influence=LINEAR_INFLUENCE)
    # A side no move drives (before the first move, after the last, or next to a
    # still stretch between moves) is linear with speed 0: the value stays put.
    in_side = draft.in_side or still
    out_side = draft.out_side or still
    return Key(
        frame=draft.frame,
        value=tuple(draft.value),
        in_type=in_side.type,
        out_type=out_side.type,
        ease_in=(EaseHandle(speed=in_side.speed, influence=in_side.influence),),
        ease_out=(EaseHandle(speed=out_side.speed, influence=out_side.influence),),
    )


def camera_keys(spec: CompSpec) -> CameraKeys:
    """Keyframes for the spec's camera: position, point of interest, zoom, roll.

    Args:
        spec: a validated spec with a camera.

    Returns:
        Per-property keys at comp frames with AE interpolation types and temporal
        eases; a property no move touches has no keys, only its value.

    Raises:
        ValueError: the spec has no camera.
    """
    camera, base = base_state(spec)
    rate = spec.comp.rate
    moves = ordered_moves(camera.moves)
    bounds = sorted({m.start for m in moves} | {m.end for m in moves})

    drafts: dict[str, dict[int, _KeyDraft]] = {name: {} for name in _PROPERTIES}
    spatial = {
        "position": True,
        "point_of_interest": True,
        "zoom": False,
        "roll": False,
    }
    touched: dict[str, list[tuple[int, int]]] = {name: [] for name in _PROPERTIES}
    rig = Rig(base, moves, rate)
    states = (
        {f: rig.state(f) for f in range(bounds[0], bounds[-1] + 1)} if bounds else {}
    )

    def draft(name: str, frame: int) -> _KeyDraft:
        table = drafts[name]
        if frame not in table:
            table[frame] = _KeyDraft(frame=frame, value=states[frame].get(name))
        return table[frame]

    def still(name: str, b0: int, b1: int) -> bool:
        first = states[b0].get(name)
        return all(_same(states[f].get(name), first) for f in range(b0 + 1, b1 + 1))

    for b0, b1 in itertools.pairwise(bounds):
        active = [m for m in moves if m.start <= b0 and m.end >= b1]
        single = active[0] if len(active) == 1 else None
        # Two eased keys reproduce a lone move exactly when its path is a straight
        # line (or a number) or when it holds; arcs and overlaps are sampled.
        exact = (
            single is not None
            and single.start == b0
            and single.end == b1
            and (single.kind in _TWO_KEY_KINDS or single.easing is Ease.HOLD)
        )
        for name in _PROPERTIES:
            if not active or still(name, b0, b1):
                continue
            touched[name].append((b0, b1))
            is_spatial = spatial[name]
            if exact and single is not None:
                k0, k1 = draft(name, b0), draft(name, b1)
                seconds = (b1 - b0) / float(rate)
                dist = _distance(k0.value, k1.value, is_spatial)
                out_side, in_side = move_sides(single, abs(dist), seconds)
                k0.out_side = _signed(out_side, dist, is_spatial)
                k1.in_side = _signed(in_side, dist, is_spatial)
                continue
            seconds = 1.0 / float(rate)
            for frame in range(b0, b1):
                k0, k1 = draft(name, frame), draft(name, frame + 1)
                dist = _distance(k0.value, k1.value, is_spatial)
                side = _linear_side(abs(dist) if is_spatial else dist, seconds)
                k0.out_side = side
                k1.in_side = side

    properties: dict[str, PropertyKeys] = {}
    match_names = {
        "position": "ADBE Position",
        "point_of_interest": "ADBE Anchor Point",
        "zoom": "ADBE Camera Zoom",
        "roll": "ADBE Rotate Z",
    }
    for name in _PROPERTIES:
        spans = touched[name]
        keys: list[Key] = []
        if spans:
            first, last = spans[0][0], spans[-1][1]
            # Keys at the ends of a still stretch between two moves keep the value
            # still there (equal values, linear, speed 0).
            for b in bounds:
                if first <= b <= last:
                    draft(name, b)
            keys = [_finish(drafts[name][f]) for f in sorted(drafts[name])]
        properties[name] = PropertyKeys(
            name=name,
            match_name=match_names[name],
            value=base.get(name),
            keys=tuple(keys),
            spatial=spatial[name],
        )
    return CameraKeys(
        name=camera.name,
        rate=rate,
        focal_length_mm=camera.focal_length_mm,
        film_width_mm=camera.film_width_mm,
        position=properties["position"],
        point_of_interest=properties["point_of_interest"],
        zoom=properties["zoom"],
        roll=properties["roll"],
    )


# -- evaluating keys ------------------------------------------------------------------


def evaluate_property(
    prop: PropertyKeys, frame: float, rate: Fraction
) -> tuple[float, ...]:
    """The value of one property at a (fractional) comp frame, as AE computes it.

    Args:
        prop: the property's keys.
        frame: comp frame; before the first key the first value holds, after the last
            key the last.
        rate: the comp rate (speeds are per second).

    Returns:
        The value (a one-element tuple for zoom and roll).
    """
    if not prop.keys:
        return prop.value
    return evaluate(prop.keys, frame, rate, spatial=prop.spatial)


def camera_state_at(keys: CameraKeys, frame: float) -> CameraState:
    """The camera at a (fractional) comp frame, evaluated from its keys.

    Args:
        keys: what :func:`camera_keys` returned.
        frame: comp frame.

    Returns:
        Position, point of interest, zoom and roll at that instant.
    """
    pos = evaluate_property(keys.position, frame, keys.rate)
    poi = evaluate_property(keys.point_of_interest, frame, keys.rate)
    zoom = evaluate_property(keys.zoom, frame, keys.rate)
    roll = evaluate_property(keys.roll, frame, keys.rate)
    return CameraState(
        position=(pos[0], pos[1], pos[2]),
        point_of_interest=(poi[0], poi[1], poi[2]),
        zoom=zoom[0],
        roll=roll[0],
    )
