"""The camera-move language evaluated: the camera's state, what each move does to it
along its eased progress, and the rig that applies the moves in order (the definition
the keys of :func:`aebridge.camera.camera_keys` reproduce)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..animation import (
    EASY_INFLUENCE,
    LINEAR_INFLUENCE,
    CustomEase,
    Ease,
    EaseHandle,
    Interpolation,
    Key,
    evaluate,
)
from ..model import Camera, CameraMove, CompSpec, MoveKind

__all__ = [
    "AFFINE",
    "CameraState",
    "Rig",
    "RigState",
    "Side",
    "Vec3",
    "base_state",
    "move_sides",
    "moves_state_at",
    "norm",
    "ordered_moves",
]


Vec3 = tuple[float, float, float]

# Moves whose property changes are an eased straight line (exact with two keys).
AFFINE = frozenset({MoveKind.DOLLY, MoveKind.TRUCK, MoveKind.PEDESTAL})


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraState:
    """The camera at one instant: position, point of interest, zoom (px), roll (deg)."""

    position: Vec3
    point_of_interest: Vec3
    zoom: float
    roll: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RigState:
    position: Vec3
    poi: Vec3
    zoom: float
    roll: float

    def get(self, name: str) -> tuple[float, ...]:
        if name == "position":
            return self.position
        if name == "point_of_interest":
            return self.poi
        if name == "zoom":
            return (self.zoom,)
        return (self.roll,)


# -- small vector helpers (no numpy: this module stays importable without it) ---------


def _add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _scale(a: Vec3, k: float) -> Vec3:
    return (a[0] * k, a[1] * k, a[2] * k)


def _cross(a: Vec3, b: Vec3) -> Vec3:
    return (
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    )


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(a: Sequence[float]) -> float:
    return math.sqrt(_dot(a, a))


def _unit(a: Vec3) -> Vec3:
    length = norm(a)
    return _scale(a, 1.0 / length) if length > 0 else (0.0, 0.0, 0.0)


def _rotate(v: Vec3, axis: Vec3, degrees: float) -> Vec3:
    """Rodrigues' rotation of ``v`` about the unit ``axis`` (right-handed)."""
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    k = axis
    term1 = _scale(v, c)
    term2 = _scale(_cross(k, v), s)
    term3 = _scale(k, _dot(k, v) * (1 - c))
    return _add(_add(term1, term2), term3)


_DOWN: Vec3 = (0.0, 1.0, 0.0)  # world vertical in AE (y grows downwards)


def _axes(state: RigState) -> tuple[Vec3, Vec3, Vec3]:
    """(forward, right, up) unit vectors of the camera, ignoring roll."""
    forward = _unit(_sub(state.poi, state.position))
    right = _unit(_cross(_DOWN, forward))
    if norm(right) == 0:
        # Looking straight up or down: the horizontal axis is undefined; use +x.
        right = (1.0, 0.0, 0.0)
    down = _cross(forward, right)
    return forward, right, _scale(down, -1.0)


def _apply(state: RigState, move: CameraMove, p: float, origin: RigState) -> RigState:
    """The camera after ``move`` has progressed by ``p`` (0..1, eased).

    ``origin`` is the camera when the move started: translations and tilts use its
    axes, so a finished move's effect never changes while other moves run.
    """
    if p == 0.0:
        return state
    kind = move.kind
    amount = move.amount
    if kind in AFFINE:
        forward, right, up = _axes(origin)
        axis = {MoveKind.DOLLY: forward, MoveKind.TRUCK: right}.get(kind, up)
        offset = _scale(axis, amount * p)
        return RigState(
            position=_add(state.position, offset),
            poi=_add(state.poi, offset),
            zoom=state.zoom,
            roll=state.roll,
        )
    if kind is MoveKind.PAN:
        # A positive pan turns the view to the right: about +y (down) in AE's
        # right-handed x-right, y-down, z-forward space.
        rel = _rotate(_sub(state.poi, state.position), _DOWN, amount * p)
        return RigState(
            position=state.position,
            poi=_add(state.position, rel),
            zoom=state.zoom,
            roll=state.roll,
        )
    if kind is MoveKind.TILT:
        # Positive tilts up: about the camera's right axis, which lifts +z towards -y.
        _forward, right, _up = _axes(origin)
        rel = _rotate(_sub(state.poi, state.position), right, amount * p)
        return RigState(
            position=state.position,
            poi=_add(state.position, rel),
            zoom=state.zoom,
            roll=state.roll,
        )
    if kind is MoveKind.ORBIT:
        # The camera travels to its right around the point of interest: about -y.
        rel = _rotate(_sub(state.position, state.poi), _DOWN, -amount * p)
        return RigState(
            position=_add(state.poi, rel),
            poi=state.poi,
            zoom=state.zoom,
            roll=state.roll,
        )
    if kind is MoveKind.ROLL:
        return RigState(
            position=state.position,
            poi=state.poi,
            zoom=state.zoom,
            roll=state.roll + amount * p,
        )
    # zoom: a factor on the zoom, interpolated linearly in zoom pixels.
    return RigState(
        position=state.position,
        poi=state.poi,
        zoom=state.zoom * (1.0 + (amount - 1.0) * p),
        roll=state.roll,
    )


# -- easing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    """One side of a segment's ease: type, speed (units/s), influence (percent)."""

    type: Interpolation
    speed: float
    influence: float


def move_sides(move: CameraMove, distance: float, seconds: float) -> tuple[Side, Side]:
    """(out side at the move's start, in side at its end) for a property that moves
    ``distance`` (>= 0, property units) over ``seconds``."""
    average = distance / seconds if seconds > 0 else 0.0
    linear = Side(type=Interpolation.LINEAR, speed=average, influence=LINEAR_INFLUENCE)
    easy = Side(type=Interpolation.BEZIER, speed=0.0, influence=EASY_INFLUENCE)
    easing = move.easing
    if isinstance(easing, CustomEase):

        def side(handle: EaseHandle | None) -> Side:
            if handle is None:
                return linear
            return Side(
                type=Interpolation.BEZIER,
                speed=handle.speed,
                influence=handle.influence,
            )

        return side(easing.ease_out), side(easing.ease_in)
    if easing is Ease.HOLD:
        hold = Side(type=Interpolation.HOLD, speed=0.0, influence=LINEAR_INFLUENCE)
        return hold, hold
    out_side = easy if easing in (Ease.EASE_OUT, Ease.EASE_IN_OUT) else linear
    in_side = easy if easing in (Ease.EASE_IN, Ease.EASE_IN_OUT) else linear
    return out_side, in_side


def _move_magnitude(move: CameraMove, zoom_at_start: float) -> float:
    """How far the move goes in the units its custom ease speeds are given in."""
    if move.kind is MoveKind.ZOOM:
        return abs(zoom_at_start * (move.amount - 1.0))
    return abs(move.amount)


def _progress(move: CameraMove, frame: float, rate: Fraction, zoom0: float) -> float:
    """Eased progress 0..1 of ``move`` at ``frame`` (the curve AE draws for it).

    The move is evaluated as the two keys that would carry it alone
    (:func:`aebridge.animation.evaluate`), on its magnitude: so a translation's
    progress follows the same spatial curve as its position keys. ``zoom0`` is the
    zoom when the move starts; only a zoom move with explicit speeds needs it (its
    speeds are zoom pixels per second).
    """
    if frame <= move.start:
        return 0.0
    if frame >= move.end:
        return 1.0
    seconds = (move.end - move.start) / float(rate)
    magnitude = _move_magnitude(move, zoom0)
    if magnitude == 0:
        return 1.0
    out_side, in_side = move_sides(move, magnitude, seconds)
    keys = (
        Key(
            frame=move.start,
            value=(0.0,),
            out_type=out_side.type,
            ease_out=(EaseHandle(speed=out_side.speed, influence=out_side.influence),),
        ),
        Key(
            frame=move.end,
            value=(magnitude,),
            in_type=in_side.type,
            ease_in=(EaseHandle(speed=in_side.speed, influence=in_side.influence),),
        ),
    )
    travelled = evaluate(keys, frame, rate, spatial=move.kind in AFFINE)[0]
    return travelled / magnitude


def ordered_moves(moves: Sequence[CameraMove]) -> list[CameraMove]:
    order = sorted(enumerate(moves), key=lambda item: (item[1].start, item[0]))
    return [move for _index, move in order]


class Rig:
    """Evaluates the move language: the camera at any frame, moves in start order.

    The camera at each move's start is cached, so evaluation is quadratic in the
    number of moves at worst.
    """

    def __init__(
        self, base: RigState, moves: Sequence[CameraMove], rate: Fraction
    ) -> None:
        self.base = base
        self.moves = list(moves)
        self.rate = rate
        self._origins: dict[int, RigState] = {}

    def origin(self, index: int) -> RigState:
        """The camera when move ``index`` starts."""
        if index not in self._origins:
            self._origins[index] = self.state(self.moves[index].start)
        return self._origins[index]

    def state(self, frame: float) -> RigState:
        """The camera at ``frame``: every started move applied, in order."""
        state = self.base
        for index, move in enumerate(self.moves):
            if frame <= move.start:
                continue
            origin = self.origin(index)
            progress = _progress(move, frame, self.rate, origin.zoom)
            state = _apply(state, move, progress, origin)
        return state


def base_state(spec: CompSpec) -> tuple[Camera, RigState]:
    camera = spec.camera
    if camera is None:
        raise ValueError("the spec has no camera")
    comp = spec.comp
    return camera, RigState(
        position=camera.start_position(comp),
        poi=camera.start_point_of_interest(comp),
        zoom=camera.zoom(comp),
        roll=0.0,
    )


def moves_state_at(spec: CompSpec, frame: float) -> CameraState:
    """The camera at a (fractional) frame straight from the move language.

    This is the definition the keys of :func:`camera_keys` reproduce: equal at every
    whole frame, and at every instant of a segment with two eased keys.

    Args:
        spec: a validated spec with a camera.
        frame: comp frame.

    Returns:
        Position, point of interest, zoom and roll.

    Raises:
        ValueError: the spec has no camera.
    """
    camera, base = base_state(spec)
    state = Rig(base, ordered_moves(camera.moves), spec.comp.rate).state(frame)
    return CameraState(
        position=state.position,
        point_of_interest=state.poi,
        zoom=state.zoom,
        roll=state.roll,
    )
