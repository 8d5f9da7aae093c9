"""The shared animation module: AE's keyframe evaluator, named easings, layer timing.

Exact values worked by hand in the comments; the same cases, and the camera moves,
are in the cross-check's committed table (tests/e2e/hand_table.py) that the DOM
model reproduces too.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from aebridge.animation import (
    EASY_INFLUENCE,
    LINEAR_INFLUENCE,
    CustomEase,
    Ease,
    EaseHandle,
    Interpolation,
    Key,
    evaluate,
    first_frame_showing,
    footage_span,
    keys_from_spec,
    layer_bounds,
    shown_frames,
    source_frame_index,
)
from aebridge.model import Keyframe

# --- keyframes and easing -------------------------------------------------------------


BEZ = Interpolation.BEZIER
EASY = (EaseHandle(speed=0.0, influence=100 / 3),)


def two_keys(
    out_type: Interpolation, in_type: Interpolation, **eases: object
) -> list[Key]:
    return [
        Key(frame=0, value=(0.0,), out_type=out_type, **eases),  # type: ignore[arg-type]
        Key(frame=24, value=(1.0,), in_type=in_type, ease_in=EASY),
    ]


def test_linear_keys_interpolate_linearly() -> None:
    keys = two_keys(Interpolation.LINEAR, Interpolation.LINEAR)
    assert evaluate(keys, 6, 24.0) == pytest.approx((0.25,))


def test_hold_keeps_the_value_until_the_next_key() -> None:
    keys = two_keys(Interpolation.HOLD, Interpolation.LINEAR)
    assert evaluate(keys, 23.99, 24.0) == (0.0,)
    assert evaluate(keys, 24, 24.0) == (1.0,)


def test_easy_ease_both_sides_is_smoothstep_in_time() -> None:
    # speed 0, influence 1/3 both sides: x(s) = dt s and y(s) = 3s^2 - 2s^3, so at a
    # quarter of the way y = 3/16 - 2/64 = 0.15625.
    keys = two_keys(BEZ, BEZ, ease_out=EASY)
    assert evaluate(keys, 6, 24.0)[0] == pytest.approx(0.15625, abs=1e-9)
    assert evaluate(keys, 12, 24.0)[0] == pytest.approx(0.5, abs=1e-9)


def test_ease_in_only_starts_linear_and_lands_at_rest() -> None:
    # Normalised (dt = 1, change 1): out side linear -> handle (1/6, 1/6); in side speed
    # 0 influence 1/3 -> handle (2/3, 1). At s = 1/2:
    # x = 3/8 * 1/6 + 3/8 * 2/3 + 1/8 = 0.4375, y = 3/8 * 1/6 + 3/8 * 1 + 1/8 = 0.5625
    keys = two_keys(Interpolation.LINEAR, BEZ)
    assert evaluate(keys, 0.4375 * 24, 24.0)[0] == pytest.approx(0.5625, abs=1e-9)


def test_full_influence_ease_is_symmetric_and_slow_at_the_ends() -> None:
    full = (EaseHandle(speed=0.0, influence=100.0),)
    keys = [
        Key(frame=0, value=(0.0,), out_type=BEZ, ease_out=full),
        Key(frame=24, value=(1.0,), in_type=BEZ, ease_in=full),
    ]
    # x'(1/2) = 0 here, so time -> s is ill-conditioned at mid-segment: float64
    # rounding of x leaves ~1e-6 in s; far below a visible difference.
    assert evaluate(keys, 12, 24.0)[0] == pytest.approx(0.5, abs=1e-5)
    # x(s) = dt(3s - 6s^2 + 4s^3), y(s) = 3s^2 - 2s^3; s = 1/4 -> t = 0.4375 dt
    # -> y = 0.15625
    assert evaluate(keys, 0.4375 * 24, 24.0)[0] == pytest.approx(0.15625, abs=1e-9)


def test_speed_is_in_units_per_second() -> None:
    # Value 0 -> 10 over 1 s, out speed 30/s at 100 % influence, a linear in side.
    keys = [
        Key(
            frame=0,
            value=(0.0,),
            out_type=BEZ,
            ease_out=(EaseHandle(speed=30, influence=100),),
        ),
        Key(frame=24, value=(10.0,)),
    ]
    # Control points x: 0, 1, 5/6, 1; y: 0, 30, 25/3, 10 (linear side: average speed
    # 10/s over a sixth of the segment). At s = 1/2:
    x = 3 / 8 * 1 + 3 / 8 * (5 / 6) + 1 / 8
    y = 3 / 8 * 30 + 3 / 8 * (25 / 3) + 1 / 8 * 10
    assert evaluate(keys, x * 24, 24.0)[0] == pytest.approx(y, abs=1e-7)


def test_spatial_keys_move_along_the_straight_path() -> None:
    keys = [
        Key(frame=0, value=(0.0, 0.0), out_type=BEZ, ease_out=EASY),
        Key(frame=24, value=(30.0, 40.0), in_type=BEZ, ease_in=EASY),
    ]
    x, y = evaluate(keys, 6, 24.0, spatial=True)
    assert (x, y) == pytest.approx((30 * 0.15625, 40 * 0.15625), abs=1e-7)


def test_values_clamp_outside_the_keys() -> None:
    keys = two_keys(Interpolation.LINEAR, Interpolation.LINEAR)
    assert evaluate(keys, -5, 24.0) == (0.0,)
    assert evaluate(keys, 99, 24.0) == (1.0,)


def test_a_spatial_handle_never_reaches_past_the_path() -> None:
    # 0 -> 10 px in 1 s, out speed 100 px/s at 50 %: the handle would reach 50 px
    # along a 10 px path; the influence is capped at 100 * 10 / (100 * 1) = 10 %.
    fast = (EaseHandle(speed=100.0, influence=50.0),)
    capped = (EaseHandle(speed=100.0, influence=10.0),)
    keys = [
        Key(frame=0, value=(0.0, 0.0), out_type=BEZ, ease_out=fast),
        Key(frame=24, value=(10.0, 0.0)),
    ]
    same = [
        Key(frame=0, value=(0.0, 0.0), out_type=BEZ, ease_out=capped),
        Key(frame=24, value=(10.0, 0.0)),
    ]
    for frame in (1, 3, 12, 20):
        assert evaluate(keys, frame, 24, spatial=True) == pytest.approx(
            evaluate(same, frame, 24, spatial=True), abs=1e-12
        )
    # A one-dimensional property is not capped: the value overshoots.
    one_d = [
        Key(frame=0, value=(0.0,), out_type=BEZ, ease_out=fast),
        Key(frame=24, value=(10.0,)),
    ]
    assert max(evaluate(one_d, f, 24)[0] for f in range(24)) > 10.0


def test_an_unchanged_dimension_moves_only_with_explicit_speeds() -> None:
    # Scale z stays at 100 with linear sides; an out speed of 12 %/s at 50 % lifts
    # it: y1 = 100 + 12 * 0.5 * 1 = 106, y2 = 100 (linear in side, no change).
    keys = [
        Key(frame=0, value=(100.0, 100.0)),
        Key(frame=24, value=(120.0, 100.0)),
    ]
    assert evaluate(keys, 12, 24)[1] == 100.0
    lifted = [
        Key(
            frame=0,
            value=(100.0, 100.0),
            out_type=BEZ,
            ease_out=(EaseHandle(speed=12.0, influence=50.0),),
        ),
        Key(frame=24, value=(120.0, 100.0)),
    ]
    assert evaluate(lifted, 12, 24)[1] > 100.0


def test_named_easings_become_key_sides() -> None:
    rate = Fraction(24)
    keys = keys_from_spec(
        (
            Keyframe(frame=0, value=(0.0, 0.0), easing=Ease.EASE_OUT),
            Keyframe(frame=24, value=(30.0, 40.0), easing=Ease.HOLD),
            Keyframe(frame=36, value=(30.0, 10.0)),
            Keyframe(
                frame=48,
                value=(0.0, 10.0),
                easing=CustomEase(ease_in=EaseHandle(speed=5.0, influence=20.0)),
            ),
        ),
        rate,
        spatial=True,
    )
    first, second, third, fourth = keys
    easy = EaseHandle(speed=0.0, influence=EASY_INFLUENCE)
    assert (first.in_type, first.out_type, first.ease_out) == (
        Interpolation.LINEAR,
        Interpolation.BEZIER,
        (easy,),
    )
    # The linear in side of key 2 carries the chord: 50 px in 1 s.
    assert second.ease_in == (EaseHandle(speed=50.0, influence=LINEAR_INFLUENCE),)
    assert second.out_type is Interpolation.HOLD
    # After a hold the next key arrives with a hold too.
    assert third.in_type is Interpolation.HOLD
    # 30 px in 0.5 s along the path.
    assert third.ease_out == (EaseHandle(speed=60.0, influence=LINEAR_INFLUENCE),)
    assert (fourth.in_type, fourth.ease_in) == (
        Interpolation.BEZIER,
        (EaseHandle(speed=5.0, influence=20.0),),
    )
    # Non-spatial: one signed linear speed per dimension.
    scale = keys_from_spec(
        (
            Keyframe(frame=0, value=(100.0, 100.0)),
            Keyframe(frame=12, value=(50.0, 110.0)),
        ),
        rate,
        spatial=False,
    )
    assert [e.speed for e in scale[0].ease_out] == [-100.0, 20.0]


def test_an_infinite_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        keys_from_spec(
            (Keyframe(frame=0, value=-1e308), Keyframe(frame=1, value=1e308)),
            Fraction(60),
            spatial=False,
        )


# --- layer timing ----------------------------------------------------------------


def test_footage_span_is_exact_and_whole_frames_round_up() -> None:
    assert footage_span(1001, 48, 100) == (Fraction(1001), Fraction(1049))
    # 3 frames at 150 %: 4.5 comp frames; frames 1001..1005 show some of it.
    assert footage_span(1001, 3, 150.0) == (Fraction(1001), Fraction(2011, 2))
    assert shown_frames(*footage_span(1001, 3, 150.0)) == (1001, 1006)
    # Reversed: it ends at its start; 1010 - 4.5 = 1005.5, so 1006 is the first
    # whole frame that shows it.
    assert footage_span(1010, 3, -150) == (Fraction(2011, 2), Fraction(1010))
    assert shown_frames(*footage_span(1010, 3, -150)) == (1006, 1010)
    # 33.3 % is the decimal, not the binary float 33.29999...
    assert footage_span(0, 10, 33.3) == (Fraction(0), Fraction(333, 100))


def test_layer_bounds_default_to_the_footage() -> None:
    assert layer_bounds(
        start=1001, frame_count=8, stretch=200, in_frame=None, out_frame=None
    ) == (1001, 1017)
    assert layer_bounds(
        start=1001, frame_count=8, stretch=200, in_frame=1003, out_frame=1009
    ) == (1003, 1009)
    assert layer_bounds(
        start=1010, frame_count=4, stretch=-100, in_frame=None, out_frame=None
    ) == (1006, 1010)


def test_source_frame_index_and_its_inverse() -> None:
    # 200 %: every footage frame shows on two comp frames.
    shown = [
        source_frame_index(f, start=1001, stretch=200, frame_count=3)
        for f in range(1000, 1008)
    ]
    assert shown == [None, 0, 0, 1, 1, 2, 2, None]
    # Reversed: 1009 (just before the start) shows frame 0.
    shown = [
        source_frame_index(f, start=1010, stretch=-100, frame_count=3)
        for f in range(1006, 1011)
    ]
    assert shown == [None, 2, 1, 0, None]
    # 24000/1001-style exactness: 33.3 % skips frames without drifting.
    assert [
        source_frame_index(f, start=0, stretch=33.3, frame_count=100) for f in range(4)
    ] == [0, 3, 6, 9]
    for stretch in (100, 200, 50, 33.3, -100, -250):
        for k in range(3):
            frame = first_frame_showing(k, start=1010, stretch=stretch)
            index = source_frame_index(
                frame, start=1010, stretch=stretch, frame_count=100
            )
            assert index is not None and (index >= k if stretch > 0 else index <= k)
