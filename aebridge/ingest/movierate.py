"""A movie's frame timing: the exact rate its timestamps state, a variable rate found
from them, and resampling to a constant rate by timestamp.

Probe, never trust: the rate is the stream's exact rational rate checked against the
timestamps (an exact rational is kept as it is, an approximation snapped to the
standard rate it is near), and variable rate is detected from the timestamps
themselves, allowing for muxers that round them to the millisecond.
"""

from __future__ import annotations

import bisect
import itertools
from fractions import Fraction
from typing import Any

from ..timing import format_rate

__all__ = ["decide_rate", "is_variable", "resample", "snap"]


# Timestamp jitter tolerated in a constant-rate movie: one tick of the time base
# (rounding, e.g. 24000/1001 in milliseconds gives 41 and 42) or 2 % of a frame.
_JITTER = Fraction(2, 100)
# Muxers that keep time in whole milliseconds (Matroska/WebM, and MP4s remuxed from
# them) round every timestamp to the nearest millisecond, whatever finer time base
# the file states: such timestamps lie within half a millisecond of the true
# constant-rate grid, so within a millisecond of the grid through the first and last
# (each of those is itself off by up to half). A variable rate drifts from any grid by
# a large part of a frame.
_ROUNDING = Fraction(1, 1000)
# A stream-declared rate is believed if it matches the timestamps within 1 %.
_RATE_AGREEMENT = Fraction(1, 100)
# Rates within 0.02 % of a standard (integer or NTSC x/1001) rate are snapped to it;
# 24 and 24000/1001 differ by 0.1 %, so they never snap onto each other.
_SNAP = Fraction(2, 10000)


def _fits_exr(rate: Fraction) -> bool:
    """Whether a rate fits the EXR rational (int32 numerator, uint32 denominator)."""
    return 0 < rate.numerator < 2**31 and rate.denominator < 2**32


def snap(rate: Fraction) -> Fraction:
    """The standard rate an inexact rate approximates, else its nearest small rational.

    Only for rates that are approximations (a float such as 23.976023, or an average
    of rounded timestamps): within 0.02 % of an integer or NTSC (x/1001) rate it is
    that rate; otherwise the nearest rational with a denominator up to 1001.
    """
    for candidate in (
        Fraction(round(rate)),
        Fraction(round(rate * 1001 / 1000) * 1000, 1001),
    ):
        if candidate > 0 and abs(rate / candidate - 1) <= _SNAP:
            return candidate
    return rate.limit_denominator(1001)


def _exact_rate(pts: tuple[int, ...], time_base: Fraction) -> Fraction | None:
    """The rate the timestamps state exactly: one frame every ``d`` ticks, every time.

    None when the durations vary (rounded timestamps) or the rate does not fit the EXR
    rational; such rates are approximations and are snapped.
    """
    deltas = {b - a for a, b in itertools.pairwise(pts)}
    if len(deltas) != 1:
        return None
    rate = 1 / (deltas.pop() * time_base)
    return rate if _fits_exr(rate) else None


def _stream_rate(stream: Any, measured: Fraction | None) -> Fraction | None:
    for candidate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if not candidate:
            continue
        value = Fraction(candidate)
        if measured is None or abs(value / measured - 1) <= _RATE_AGREEMENT:
            return snap(value) if value.denominator not in (1, 1001) else value
    return None


def decide_rate(
    stream: Any, pts: tuple[int, ...], time_base: Fraction, variable: bool
) -> tuple[Fraction | None, str]:
    """(rate, why): exact when the timestamps state it, else snapped.

    An exact rational from the container (every frame ``d`` ticks of the time base)
    that fits the EXR rational is kept as it is (45000/1499 stays 45000/1499); only an
    inexact approximation is snapped to the standard rate it is near (23.976023 ->
    24000/1001).
    """
    if not variable:
        exact = _exact_rate(pts, time_base)
        if exact is not None:
            d = (1 / (exact * time_base)).numerator
            return exact, (
                f"rate {format_rate(exact)} fps exactly, as the timestamps state it "
                f"(one frame every {d} ticks of {time_base} s)"
            )
    measured = (
        Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base)
        if len(pts) > 1
        else None
    )
    declared = _stream_rate(stream, None if variable else measured)
    rate = declared or (snap(measured) if measured else None)
    if rate is not None and measured is not None and not variable:
        rate = _closest_grid(stream, pts, time_base, measured, rate)
    if rate is None:
        return None, ""
    return rate, (
        f"rate {format_rate(rate)} fps: the timestamps are rounded (durations vary by "
        "a tick or a millisecond), so the container's rate "
        + (f"{float(measured):.6f} " if measured else "")
        + "is an approximation, read as the standard rate it is within 0.02 % of (or "
        "its nearest rational with a denominator up to 1001)"
        if len(pts) > 1
        else f"rate {format_rate(rate)} fps: as the container declares it (one frame)"
    )


def _closest_grid(
    stream: Any,
    pts: tuple[int, ...],
    time_base: Fraction,
    measured: Fraction,
    chosen: Fraction,
) -> Fraction:
    """Of the rates the stream states and the standard rate the timestamps are near,
    the one whose frame grid lies closest to the rounded timestamps.

    Within the 1 % the container's rate is believed, 24 and 24000/1001 both agree
    with timestamps rounded to milliseconds, and a muxer may state either; the grid
    tells them apart (24000/1001 in milliseconds stays within half of one of its
    grid, 24 drifts away by a millisecond every 24 seconds).
    """
    candidates = {chosen, snap(measured)}
    for value in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if value and abs(Fraction(value) / measured - 1) <= _RATE_AGREEMENT:
            candidates.add(snap(Fraction(value)))

    def drift(rate: Fraction) -> Fraction:
        step = 1 / (rate * time_base)
        return max(abs(p - pts[0] - k * step) for k, p in enumerate(pts))

    # Ties keep the rate chosen before (the container's own statement).
    return min(sorted(candidates, key=lambda r: r != chosen), key=drift)


def is_variable(pts: tuple[int, ...], time_base: Fraction) -> tuple[bool, str]:
    if len(pts) < 3:
        return False, ""
    deltas = [b - a for a, b in itertools.pairwise(pts)]
    low, high = min(deltas), max(deltas)
    mean = Fraction(pts[-1] - pts[0], len(deltas))
    if high - low <= 1 or high - low <= mean * _JITTER:
        return False, ""
    # Within a millisecond (and a tick) of the grid from the first timestamp to the
    # last: constant rate, rounded.
    tolerance = _ROUNDING / time_base + 1
    if all(abs(p - pts[0] - k * mean) <= tolerance for k, p in enumerate(pts)):
        return False, ""
    ms = [float(d * time_base * 1000) for d in (low, high)]
    return True, f"frame durations vary from {ms[0]:.2f} ms to {ms[1]:.2f} ms"


def resample(
    pts: tuple[int, ...], time_base: Fraction, rate: Fraction
) -> tuple[int, ...]:
    """Source timestamp shown at each output frame: the latest frame at or before it."""
    deltas = sorted(b - a for a, b in itertools.pairwise(pts))
    last_duration = deltas[len(deltas) // 2] if deltas else 1
    span = (pts[-1] - pts[0] + last_duration) * time_base
    count = max(1, round(span * rate))
    chosen: list[int] = []
    for k in range(count):
        # One tick of slack: timestamps are rounded to the time base.
        at = pts[0] + Fraction(k) / rate / time_base + 1
        i = bisect.bisect_right(pts, at) - 1
        chosen.append(pts[max(i, 0)])
    return tuple(chosen)
