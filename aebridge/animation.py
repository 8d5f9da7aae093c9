"""Keyframes, easing and layer timing, evaluated as After Effects evaluates them.

This is the one definition of how a value moves between keys and of which footage
frame a layer shows: the camera (:mod:`aebridge.camera`), the build plan
(:mod:`aebridge.emit`), the preview (:mod:`aebridge.preview`), the OpenTimelineIO
export and spec validation all use it. Pure Python: no numpy, no I/O.

**Vocabulary.** A key has an incoming and an outgoing side. Each side has an
:class:`Interpolation` (AE's ``KeyframeInterpolationType``) and, on a ``bezier``
side, a temporal ease (AE's ``KeyframeEase``: :class:`EaseHandle`, speed in property
units per second and influence in percent of the segment). Named easings
(:class:`Ease`) are AE's keyframe assistants: Easy Ease is speed 0, influence 33.33 %
(:data:`EASY_INFLUENCE`).

**The evaluator** (:func:`evaluate`). Between keys ``k0`` (time ``t0``, value ``v0``)
and ``k1`` (``t1``, ``v1``), ``T = t1 - t0`` seconds, the value follows the cubic
Bezier in (time, value) through

    (0, v0), (a T, v0 + s0 a T), (T - b T, v1 - s1 b T), (T, v1)

where ``s0``/``a`` are ``k0``'s outgoing speed and influence (as a fraction) and
``s1``/``b`` ``k1``'s incoming ones. This is the speed graph of AE's Keyframe
Velocity dialog (speed in units per second, influence the share of the interval
the handle reaches: Adobe help "Speed", helpx.adobe.com/after-effects/using/speed.html)
drawn as a value graph; the same construction is what Lottie's After Effects
exporter reads back from ``keyInTemporalEase``/``keyOutTemporalEase``
(airbnb/lottie-web ``extension/jsx/utils/keyframeHelper.jsx``). Neither source
states the curve in these words: it is a derivation, not seen in a running AE.

- A ``linear`` side has the segment's average speed and influence 16.67 %
  (:data:`LINEAR_INFLUENCE`, what AE reports for a linear key), so two linear sides
  give an exactly linear segment. A ``hold`` side on either key holds ``v0`` until
  ``t1``.
- Spatial properties (position, anchor, the camera's point of interest) move along
  the straight line between keys (aebridge gives them zero spatial tangents); the
  curve is applied to the distance travelled, with speeds along the path. As in the
  Lottie exporter, a spatial handle never reaches past the segment's length
  (influence is capped at ``100 L / (speed T)``).
- Other multi-dimensional properties (scale) ease each dimension on its own; one
  ease given for such a property applies to every dimension.

**Timing.** A footage layer starting at comp frame ``start`` with time stretch ``s``
percent covers ``frame_count * |s| / 100`` comp frames: from ``start`` on, or ending
at ``start`` when ``s`` is negative (:func:`footage_span`). Comp frame ``f`` shows
source frame ``floor((f - start) * 100 / s)``, or ``ceil(...) - 1`` when reversed
(:func:`source_frame_index`): AE shows the footage frame whose duration covers the
comp frame, without frame blending.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

__all__ = [
    "EASY_INFLUENCE",
    "LINEAR_INFLUENCE",
    "CustomEase",
    "Ease",
    "EaseHandle",
    "Easing",
    "Interpolation",
    "Key",
    "KeyLike",
    "Track",
    "bezier_progress",
    "evaluate",
    "first_frame_showing",
    "footage_span",
    "frame_seconds",
    "key_sides",
    "keys_from_spec",
    "layer_bounds",
    "linear_ease",
    "shown_frames",
    "side_ease",
    "source_frame_index",
]

#: Influence (percent) of AE's Easy Ease handles.
EASY_INFLUENCE = 100.0 / 3.0
#: Influence (percent) After Effects reports for a linear side of a key.
LINEAR_INFLUENCE = 100.0 / 6.0

Value = float | tuple[float, ...]


class Interpolation(StrEnum):
    """AE's ``KeyframeInterpolationType`` for one side of a key."""

    LINEAR = "linear"
    BEZIER = "bezier"
    HOLD = "hold"


class Ease(StrEnum):
    """Named easings, After Effects' keyframe assistants.

    On a keyframe: ``ease_in`` eases the arrival, ``ease_out`` the departure,
    ``ease_in_out`` both (Easy Ease, F9), ``hold`` holds the value until the next key.
    On a camera move: ``ease_out`` makes the move leave its start slowly, ``ease_in``
    arrive at its end slowly, ``ease_in_out`` both; ``hold`` jumps at the end frame.
    Eased sides have speed 0 and influence 33.33 %; linear sides follow the chord.
    """

    LINEAR = "linear"
    EASE_IN = "ease_in"
    EASE_OUT = "ease_out"
    EASE_IN_OUT = "ease_in_out"
    HOLD = "hold"


@dataclass(frozen=True, slots=True, kw_only=True)
class EaseHandle:
    """One side of an After Effects temporal ease (``KeyframeEase``).

    Attributes:
        speed: property units per second (pixels, degrees, percent, zoom pixels);
            along the path for a spatial property. On a camera move, the speed along
            the move, never negative.
        influence: percent of the segment's duration the handle reaches, 0.1..100.
    """

    speed: float
    influence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomEase:
    """Explicit speed and influence; a side left as ``None`` is linear.

    ``ease_in`` is the arriving side (at a move's end frame), ``ease_out`` the leaving
    side (at a move's start frame).
    """

    ease_in: EaseHandle | None = None
    ease_out: EaseHandle | None = None


#: A named easing or explicit speed/influence handles.
Easing = Ease | CustomEase


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One key: comp frame, value, and the interpolation and ease of each side.

    ``ease_in``/``ease_out`` matter on a ``bezier`` side only: one
    :class:`EaseHandle` for a spatial or one-dimensional property, one per dimension
    (or one for all) for another multi-dimensional property. A ``linear`` side's
    handle is computed from the segment (:func:`linear_ease`), whatever is stored.
    """

    frame: float
    value: tuple[float, ...]
    in_type: Interpolation = Interpolation.LINEAR
    out_type: Interpolation = Interpolation.LINEAR
    ease_in: tuple[EaseHandle, ...] = ()
    ease_out: tuple[EaseHandle, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """An animatable property: a static ``value``, or ``keys`` in frame order."""

    value: tuple[float, ...] = ()
    keys: tuple[Key, ...] = ()
    spatial: bool = False

    def at(self, frame: float, rate: Fraction | float) -> tuple[float, ...]:
        """The value at a (fractional) comp frame; ``rate`` in frames per second."""
        if self.keys:
            return evaluate(self.keys, frame, rate, spatial=self.spatial)
        return self.value

    @staticmethod
    def const(*value: float) -> Track:
        """A property that does not move."""
        return Track(value=tuple(float(v) for v in value))


class KeyLike(Protocol):
    """A spec keyframe (:class:`aebridge.model.Keyframe` has this shape)."""

    @property
    def frame(self) -> int: ...

    @property
    def value(self) -> Value: ...

    @property
    def easing(self) -> Easing: ...


# -- the ease curve -------------------------------------------------------------------


def _cubic(p1: float, p2: float, u: float) -> float:
    """B(u) of the cubic Bezier with P0 = 0, P3 = 1 and inner points p1, p2."""
    v = 1.0 - u
    return 3.0 * v * v * u * p1 + 3.0 * v * u * u * p2 + u * u * u


def _solve(x: float, out_influence: float, in_influence: float) -> float:
    """The curve parameter u whose time is ``x`` (both normalised to 0..1)."""
    x1, x2 = out_influence, 1.0 - in_influence
    # x(u) is non-decreasing for influences in 0..1: bisection is robust, and 64
    # halvings reach double precision.
    lo, hi = 0.0, 1.0
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if _cubic(x1, x2, mid) < x:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _curve(
    v0: float,
    v1: float,
    seconds: float,
    x: float,
    out_side: tuple[float, float],
    in_side: tuple[float, float],
) -> float:
    """The value at normalised time ``x`` of one segment of the (time, value) curve.

    ``out_side``/``in_side`` are (speed in units per second, influence 0..1).
    """
    (s0, a), (s1, b) = out_side, in_side
    u = _solve(x, a, b)
    y1 = v0 + s0 * a * seconds
    y2 = v1 - s1 * b * seconds
    v = 1.0 - u
    return v * v * v * v0 + 3.0 * v * v * u * y1 + 3.0 * v * u * u * y2 + u * u * u * v1


def bezier_progress(
    x: float,
    out_influence: float,
    out_slope: float,
    in_influence: float,
    in_slope: float,
) -> float:
    """Progress (0 at the first key, 1 at the second) at normalised time ``x``.

    The unit curve of :func:`evaluate`: control points ``(0, 0)``,
    ``(a, a * out_slope)``, ``(1 - b, 1 - b * in_slope)``, ``(1, 1)``, with the
    influences ``a``, ``b`` as fractions and the speeds divided by the segment's
    average speed (``out_slope = 1`` is a handle along the chord).

    Args:
        x: normalised time, 0..1 (clamped).
        out_influence: ``a``, 0..1.
        out_slope: outgoing speed / average speed.
        in_influence: ``b``, 0..1.
        in_slope: incoming speed / average speed.

    Returns:
        The eased progress (it leaves 0..1 where a speed overshoots).
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return _curve(
        0.0, 1.0, 1.0, x, (out_slope, out_influence), (in_slope, in_influence)
    )


def _pick(eases: tuple[EaseHandle, ...], dim: int) -> EaseHandle | None:
    if not eases:
        return None
    return eases[dim] if dim < len(eases) else eases[0]


def _side(
    ease: EaseHandle | None, v0: float, v1: float, seconds: float, *, spatial: bool
) -> tuple[float, float]:
    """(speed, influence 0..1) of one side; None is a linear side (the chord)."""
    if ease is None:
        return (v1 - v0) / seconds, LINEAR_INFLUENCE / 100.0
    influence = ease.influence / 100.0
    length = v1 - v0
    if spatial and ease.speed > 0 and length > 0:
        # A spatial handle stops at the end of the path (Lottie's exporter caps the
        # influence the same way).
        influence = min(influence, length / (ease.speed * seconds))
    return ease.speed, influence


def evaluate(
    keys: Sequence[Key], frame: float, rate: Fraction | float, *, spatial: bool = False
) -> tuple[float, ...]:
    """The value of a keyed property at a comp frame, as After Effects computes it.

    Args:
        keys: keys in increasing frame order (at least one).
        frame: the comp frame, may be fractional.
        rate: comp frames per second (speeds are per second).
        spatial: True for position-like properties (ease along the straight path).

    Returns:
        The value; before the first key the first key's value, after the last the
        last key's.

    Raises:
        ValueError: no keys.
    """
    if not keys:
        raise ValueError("a keyed property needs at least one key")
    if frame <= keys[0].frame:
        return keys[0].value
    if frame >= keys[-1].frame:
        return keys[-1].value
    lo, hi = 0, len(keys) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if keys[mid].frame <= frame:
            lo = mid
        else:
            hi = mid
    k0, k1 = keys[lo], keys[hi]
    if Interpolation.HOLD in (k0.out_type, k1.in_type):
        return k0.value
    seconds = float(k1.frame - k0.frame) / float(rate)
    x = float(frame - k0.frame) / float(k1.frame - k0.frame)
    bez_out = k0.out_type is Interpolation.BEZIER
    bez_in = k1.in_type is Interpolation.BEZIER
    if spatial:
        diff = [b - a for a, b in zip(k0.value, k1.value, strict=True)]
        length = math.hypot(*diff)
        if length == 0.0:
            return k0.value
        out_ease = _pick(k0.ease_out, 0) if bez_out else None
        in_ease = _pick(k1.ease_in, 0) if bez_in else None
        travelled = _curve(
            0.0,
            length,
            seconds,
            x,
            _side(out_ease, 0.0, length, seconds, spatial=True),
            _side(in_ease, 0.0, length, seconds, spatial=True),
        )
        f = travelled / length
        return tuple(a + d * f for a, d in zip(k0.value, diff, strict=True))
    values: list[float] = []
    for dim, (a, b) in enumerate(zip(k0.value, k1.value, strict=True)):
        out_ease = _pick(k0.ease_out, dim) if bez_out else None
        in_ease = _pick(k1.ease_in, dim) if bez_in else None
        values.append(
            _curve(
                a,
                b,
                seconds,
                x,
                _side(out_ease, a, b, seconds, spatial=False),
                _side(in_ease, a, b, seconds, spatial=False),
            )
        )
    return tuple(values)


# -- named easings to key sides --------------------------------------------------------


def frame_seconds(frames: float | Fraction, rate: Fraction) -> float:
    """Seconds of a span of comp frames at ``rate`` (exact for whole frames)."""
    if isinstance(frames, (int, Fraction)):
        return float(Fraction(frames) / rate)
    return float(frames) / float(rate)


def _components(value: Value) -> tuple[float, ...]:
    return (
        tuple(float(v) for v in value) if isinstance(value, tuple) else (float(value),)
    )


def linear_ease(
    a: Sequence[float], b: Sequence[float], seconds: float, *, spatial: bool
) -> tuple[EaseHandle, ...]:
    """The handle(s) AE reports for a linear side of the segment from ``a`` to ``b``.

    Speed is the average speed (along the path for a spatial property, signed per
    dimension otherwise), influence :data:`LINEAR_INFLUENCE`.

    Raises:
        ValueError: the values have different numbers of components, or a speed is
            not finite.
    """
    if len(a) != len(b):
        raise ValueError("keys of one property have different numbers of components")
    deltas = [y - x for x, y in zip(a, b, strict=True)]
    if seconds <= 0:
        speeds = [0.0] if spatial else [0.0] * len(deltas)
    elif spatial:
        # hypot: squaring a large finite delta would overflow to infinity.
        speeds = [math.hypot(*deltas) / seconds]
    else:
        speeds = [d / seconds for d in deltas]
    if not all(math.isfinite(s) for s in speeds):
        raise ValueError(f"the speed {speeds} is not a finite number")
    return tuple(EaseHandle(speed=s, influence=LINEAR_INFLUENCE) for s in speeds)


def key_sides(
    easing: Easing, *, after_hold: bool
) -> tuple[Interpolation, Interpolation, EaseHandle | None, EaseHandle | None]:
    """(in type, out type, in ease, out ease) of a spec key with this easing.

    Eased sides are ``bezier`` with Easy Ease (or the custom handle); the rest are
    ``linear`` (ease None: computed from the segment); ``hold`` leaves with a hold,
    and a key after a hold arrives with one (AE shows the jump on both sides).

    Args:
        easing: the key's easing.
        after_hold: the previous key holds.
    """
    easy = EaseHandle(speed=0.0, influence=EASY_INFLUENCE)
    if isinstance(easing, CustomEase):
        in_ease, out_ease = easing.ease_in, easing.ease_out
    else:
        in_ease = easy if easing in (Ease.EASE_IN, Ease.EASE_IN_OUT) else None
        out_ease = easy if easing in (Ease.EASE_OUT, Ease.EASE_IN_OUT) else None
    in_type = Interpolation.BEZIER if in_ease else Interpolation.LINEAR
    out_type = Interpolation.BEZIER if out_ease else Interpolation.LINEAR
    if easing is Ease.HOLD:
        out_type = Interpolation.HOLD
    if after_hold:
        in_type, in_ease = Interpolation.HOLD, None
    return in_type, out_type, in_ease, out_ease


def keys_from_spec(
    keyframes: Sequence[KeyLike], rate: Fraction, *, spatial: bool
) -> tuple[Key, ...]:
    """Evaluable keys from spec keyframes, every side's ease spelled out.

    Bezier sides carry their handle (one for every dimension); linear sides carry
    the handle AE reports (:func:`linear_ease`), so the keys can be handed to
    ``setTemporalEaseAtKey`` as they are; hold sides carry the linear handle too.

    Args:
        keyframes: spec keys in increasing frame order.
        rate: the comp rate.
        spatial: position-like property.

    Raises:
        ValueError: values differ in length or a speed is not finite.
    """
    values = [_components(k.value) for k in keyframes]
    out: list[Key] = []
    for i, kf in enumerate(keyframes):
        after_hold = i > 0 and keyframes[i - 1].easing is Ease.HOLD
        in_type, out_type, in_ease, out_ease = key_sides(
            kf.easing, after_hold=after_hold
        )
        if i > 0:
            seconds = frame_seconds(kf.frame - keyframes[i - 1].frame, rate)
            chord_in = linear_ease(values[i - 1], values[i], seconds, spatial=spatial)
        else:
            chord_in = linear_ease(values[i], values[i], 0.0, spatial=spatial)
        if i + 1 < len(keyframes):
            seconds = frame_seconds(keyframes[i + 1].frame - kf.frame, rate)
            chord_out = linear_ease(values[i], values[i + 1], seconds, spatial=spatial)
        else:
            chord_out = linear_ease(values[i], values[i], 0.0, spatial=spatial)
        out.append(
            Key(
                frame=kf.frame,
                value=values[i],
                in_type=in_type,
                out_type=out_type,
                ease_in=(in_ease,) if in_ease is not None else chord_in,
                ease_out=(out_ease,) if out_ease is not None else chord_out,
            )
        )
    return tuple(out)


def side_ease(
    keys: Sequence[Key], index: int, *, incoming: bool, rate: Fraction, spatial: bool
) -> tuple[EaseHandle, ...]:
    """The ease of one side as AE holds it: the stored handle on a bezier side, the
    chord's handle (:func:`linear_ease`) on a linear or hold side."""
    key = keys[index]
    kind = key.in_type if incoming else key.out_type
    if kind is Interpolation.BEZIER:
        return key.ease_in if incoming else key.ease_out
    other = index - 1 if incoming else index + 1
    if not 0 <= other < len(keys):
        return linear_ease(key.value, key.value, 0.0, spatial=spatial)
    a, b = (keys[other], key) if incoming else (key, keys[other])
    return linear_ease(
        a.value, b.value, frame_seconds(b.frame - a.frame, rate), spatial=spatial
    )


# -- layer timing ----------------------------------------------------------------------


def footage_span(
    start: int, frame_count: int, stretch: float | Fraction
) -> tuple[Fraction, Fraction]:
    """The comp frames ``[first, end)`` a layer's footage covers, exactly.

    Args:
        start: the comp frame of source frame 0 (a reversed layer ends there).
        frame_count: frames in the footage.
        stretch: time stretch in percent (at least 1 either side of 0); negative plays
            backwards.

    Returns:
        The first comp frame and the exclusive end, as fractions: a stretch can end
        the footage between two comp frames.
    """
    speed = Fraction(str(stretch)) if isinstance(stretch, float) else Fraction(stretch)
    length = abs(Fraction(frame_count) * speed / 100)
    return (
        (start - length, Fraction(start))
        if speed < 0
        else (
            Fraction(start),
            start + length,
        )
    )


def shown_frames(first: Fraction, end: Fraction) -> tuple[int, int]:
    """The whole comp frames ``f`` with ``first <= f < end``, as ``[lo, hi)``."""
    return math.ceil(first), math.ceil(end)


def layer_bounds(
    *,
    start: int,
    frame_count: int,
    stretch: float | Fraction,
    in_frame: int | None,
    out_frame: int | None,
) -> tuple[Fraction, Fraction]:
    """A footage layer's in and out points in comp frames (out exclusive).

    An unset in or out point is the footage's own (:func:`footage_span`): AE sets
    ``inPoint``/``outPoint`` there, and so does the build script.
    """
    first, end = footage_span(start, frame_count, stretch)
    return (
        first if in_frame is None else Fraction(in_frame),
        end if out_frame is None else Fraction(out_frame),
    )


def source_frame_index(
    frame: int | Fraction, *, start: int, stretch: float | Fraction, frame_count: int
) -> int | None:
    """The 0-based footage frame a layer shows at a comp frame, or None.

    ``(frame - start) * 100 / stretch`` frames into the footage, rounded down: the
    footage frame whose duration covers that time. Reversed (negative stretch), the
    comp frame just before ``start`` shows footage frame 0, the one before it frame
    1: the frame covering the reversed interval, hence ``ceil - 1``. Exact rational
    arithmetic, so 24000/1001 or a 33.3 % stretch never drifts.

    Returns:
        The index, or None where the footage has no frame (before it, after it).
    """
    speed = Fraction(str(stretch)) if isinstance(stretch, float) else Fraction(stretch)
    if speed == 0:
        return None
    offset = Fraction(frame - start) * 100 / speed
    index = math.floor(offset) if speed > 0 else math.ceil(offset) - 1
    return index if 0 <= index < frame_count else None


def first_frame_showing(
    source_frame: int, *, start: int, stretch: float | Fraction
) -> int:
    """The first comp frame that shows footage frame ``source_frame`` (or, when a
    stretch under 100 % skips it, the next one): the inverse of
    :func:`source_frame_index`.

    Footage frame ``k`` starts ``k * stretch / 100`` comp frames after ``start``;
    reversed, it comes in ``(k + 1) * |stretch| / 100`` frames before ``start``.
    """
    speed = Fraction(str(stretch)) if isinstance(stretch, float) else Fraction(stretch)
    speed /= 100
    offset = (source_frame + 1) * speed if speed < 0 else source_frame * speed
    return start + math.ceil(offset)
