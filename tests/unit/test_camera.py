"""Camera moves to After Effects keys: exact values, eases, and the curves they draw."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aebridge.animation import EASY_INFLUENCE, LINEAR_INFLUENCE, Interpolation
from aebridge.camera import (
    CameraKeys,
    camera_keys,
    camera_state_at,
    moves_state_at,
)
from aebridge.model import CompSpec, EaseHandle
from aebridge.spec_io import load_spec

W, H = 320, 180
ZOOM = W * 50.0 / 36.0  # 444.44: the 50 mm default on 36 mm film
CX, CY = W / 2, H / 2
LIN = Interpolation.LINEAR
BEZ = Interpolation.BEZIER


def spec_with(*moves: dict[str, Any], **camera: Any) -> CompSpec:
    return load_spec(
        {
            "schema": "aebridge.comp/1",
            "comp": {"name": "c", "width": W, "height": H, "rate": 24, "duration": 48},
            "layers": [],
            "camera": {"moves": list(moves), **camera},
        },
        check_files=False,
    )


def move(
    kind: str, start: int, end: int, amount: float, easing: Any = "linear"
) -> dict[str, Any]:
    return {
        "kind": kind,
        "start": start,
        "end": end,
        "amount": amount,
        "easing": easing,
    }


def approx3(value: tuple[float, ...]) -> Any:
    return pytest.approx(value, abs=1e-9)


def test_without_moves_the_camera_frames_the_comp_one_to_one() -> None:
    keys = camera_keys(spec_with())
    assert keys.position.value == (CX, CY, -ZOOM)
    assert keys.point_of_interest.value == (CX, CY, 0.0)
    assert keys.zoom.value == (ZOOM,)
    assert keys.roll.value == (0.0,)
    assert all(not prop.keys for prop in keys.properties())
    assert [p.match_name for p in keys.properties()] == [
        "ADBE Position",
        "ADBE Anchor Point",
        "ADBE Camera Zoom",
        "ADBE Rotate Z",
    ]
    state = camera_state_at(keys, 1020)
    assert (state.position, state.zoom) == ((CX, CY, -ZOOM), ZOOM)


def test_focal_length_sets_the_zoom() -> None:
    keys = camera_keys(spec_with(focal_length_mm=35, film_width_mm=24))
    assert keys.zoom.value == (pytest.approx(W * 35 / 24),)
    assert keys.position.value[2] == pytest.approx(-W * 35 / 24)


def test_linear_dolly_gives_two_linear_keys_with_the_average_speed() -> None:
    keys = camera_keys(spec_with(move("dolly", 1001, 1025, 120)))
    pos = keys.position.keys
    assert [k.frame for k in pos] == [1001, 1025]
    assert pos[0].value == approx3((CX, CY, -ZOOM))
    assert pos[1].value == approx3((CX, CY, -ZOOM + 120))
    # 120 px in 24 frames at 24 fps: 120 px/s along the path.
    assert (pos[0].out_type, pos[1].in_type) == (LIN, LIN)
    assert pos[0].ease_out == (EaseHandle(speed=120.0, influence=LINEAR_INFLUENCE),)
    assert pos[1].ease_in == (EaseHandle(speed=120.0, influence=LINEAR_INFLUENCE),)
    poi = keys.point_of_interest.keys
    assert poi[1].value == approx3((CX, CY, 120.0))
    assert not keys.zoom.keys and not keys.roll.keys
    assert camera_state_at(keys, 1013).position == approx3((CX, CY, -ZOOM + 60))


def test_ease_in_out_dolly_is_easy_ease_on_both_keys() -> None:
    keys = camera_keys(spec_with(move("dolly", 1001, 1025, 120, "ease_in_out")))
    k0, k1 = keys.position.keys
    assert (k0.out_type, k1.in_type) == (BEZ, BEZ)
    assert k0.ease_out == (EaseHandle(speed=0.0, influence=EASY_INFLUENCE),)
    assert k1.ease_in == (EaseHandle(speed=0.0, influence=EASY_INFLUENCE),)
    # Speed 0 and influence 1/3 on both sides is the smoothstep 3x^2 - 2x^3.
    for frame, x in ((1007, 0.25), (1013, 0.5), (1019, 0.75)):
        z = camera_state_at(keys, frame).position[2]
        assert z == pytest.approx(-ZOOM + 120 * (3 * x**2 - 2 * x**3), abs=1e-9)


def test_ease_out_leaves_slowly_and_arrives_at_full_speed() -> None:
    keys = camera_keys(spec_with(move("truck", 1001, 1025, 100, "ease_out")))
    k0, k1 = keys.position.keys
    assert (k0.out_type, k1.in_type) == (BEZ, LIN)
    assert k0.ease_out[0].speed == 0.0 and k1.ease_in[0].speed == 100.0
    x = [camera_state_at(keys, f).position[0] for f in (1001, 1001.01, 1024.99, 1025)]
    assert (x[1] - x[0]) / 0.01 * 24 < 1.0  # nearly still at the start
    assert (x[3] - x[2]) / 0.01 * 24 == pytest.approx(100.0, rel=0.02)


def test_ease_in_arrives_slowly() -> None:
    keys = camera_keys(spec_with(move("pedestal", 1001, 1025, 50, "ease_in")))
    k0, k1 = keys.position.keys
    assert (k0.out_type, k1.in_type) == (LIN, BEZ)
    # Pedestal up: y decreases in AE's y-down space.
    assert k1.value == approx3((CX, CY - 50, -ZOOM))


def test_truck_and_pedestal_move_camera_and_point_of_interest_together() -> None:
    keys = camera_keys(
        spec_with(move("truck", 1001, 1010, -30), move("pedestal", 1010, 1020, 20))
    )
    assert [k.frame for k in keys.position.keys] == [1001, 1010, 1020]
    assert keys.position.keys[-1].value == approx3((CX - 30, CY - 20, -ZOOM))
    assert keys.point_of_interest.keys[-1].value == approx3((CX - 30, CY - 20, 0.0))


def test_pan_swings_the_point_of_interest_on_an_arc_baked_per_frame() -> None:
    keys = camera_keys(spec_with(move("pan", 1001, 1011, 90)))
    poi = keys.point_of_interest.keys
    assert [k.frame for k in poi] == list(range(1001, 1012))
    assert all(k.in_type is LIN and k.out_type is LIN for k in poi)
    # Panning right by 90 degrees: the view turns from +z to +x.
    assert poi[-1].value == approx3((CX + ZOOM, CY, -ZOOM))
    half = poi[5].value
    assert half == approx3(
        (
            CX + ZOOM * math.sin(math.radians(45)),
            CY,
            -ZOOM + ZOOM * math.cos(math.radians(45)),
        )
    )
    assert not keys.position.keys


def test_tilt_up_lifts_the_point_of_interest() -> None:
    keys = camera_keys(spec_with(move("tilt", 1001, 1005, 90)))
    assert keys.point_of_interest.keys[-1].value == approx3((CX, CY - ZOOM, -ZOOM))


def test_orbit_carries_the_camera_to_its_right_around_the_point_of_interest() -> None:
    keys = camera_keys(spec_with(move("orbit", 1001, 1005, 90)))
    assert keys.position.keys[-1].value == approx3((CX + ZOOM, CY, 0.0))
    assert not keys.point_of_interest.keys
    state = camera_state_at(keys, 1005)
    distance = math.dist(state.position, state.point_of_interest)
    assert distance == pytest.approx(ZOOM)


def test_roll_keys_z_rotation_in_degrees() -> None:
    keys = camera_keys(spec_with(move("roll", 1001, 1013, -15)))
    k0, k1 = keys.roll.keys
    assert (k0.value, k1.value) == ((0.0,), (-15.0,))
    # A one-dimensional property's linear speed carries its sign: -15 deg in 0.5 s.
    assert k0.ease_out[0].speed == pytest.approx(-30.0)
    assert camera_state_at(keys, 1007).roll == pytest.approx(-7.5)


def test_zoom_is_a_factor_on_the_zoom() -> None:
    keys = camera_keys(spec_with(move("zoom", 1001, 1025, 2, "ease_in_out")))
    k0, k1 = keys.zoom.keys
    assert (k0.value, k1.value) == ((pytest.approx(ZOOM),), (pytest.approx(2 * ZOOM),))
    assert camera_state_at(keys, 1013).zoom == pytest.approx(1.5 * ZOOM)


def test_explicit_speed_and_influence_reach_the_keys_signed_for_one_d() -> None:
    easing = {
        "out": {"speed": 10, "influence": 50},
        "in": {"speed": 0, "influence": 20},
    }
    keys = camera_keys(spec_with(move("zoom", 1001, 1025, 0.5, easing)))
    k0, k1 = keys.zoom.keys
    assert k0.ease_out == (EaseHandle(speed=-10.0, influence=50.0),)
    assert k1.ease_in == (EaseHandle(speed=0.0, influence=20.0),)
    dolly = camera_keys(spec_with(move("dolly", 1001, 1025, -100, easing)))
    # Spatial speeds are magnitudes along the path.
    assert dolly.position.keys[0].ease_out == (EaseHandle(speed=10.0, influence=50.0),)


def test_hold_jumps_at_the_end_frame() -> None:
    keys = camera_keys(spec_with(move("truck", 1001, 1010, 40, "hold")))
    k0, _k1 = keys.position.keys
    assert k0.out_type is Interpolation.HOLD
    assert camera_state_at(keys, 1009.9).position[0] == CX
    assert camera_state_at(keys, 1010).position[0] == CX + 40


def test_consecutive_moves_share_a_key_with_each_side_from_its_move() -> None:
    keys = camera_keys(
        spec_with(
            move("dolly", 1001, 1010, 50, "ease_in"),
            move("dolly", 1010, 1020, 50, "ease_out"),
        )
    )
    shared = keys.position.keys[1]
    assert shared.frame == 1010
    assert (shared.in_type, shared.out_type) == (BEZ, BEZ)
    assert shared.ease_in[0].speed == 0.0 and shared.ease_out[0].speed == 0.0


def test_a_still_stretch_between_moves_keeps_the_value() -> None:
    keys = camera_keys(
        spec_with(move("dolly", 1001, 1005, 20), move("dolly", 1015, 1020, 20))
    )
    pos = keys.position.keys
    assert [k.frame for k in pos] == [1001, 1005, 1015, 1020]
    assert pos[1].value == pos[2].value
    assert (pos[1].ease_out[0].speed, pos[2].ease_in[0].speed) == (0.0, 0.0)
    assert camera_state_at(keys, 1010).position == approx3(pos[1].value)


def test_overlapping_moves_are_sampled_on_every_frame() -> None:
    keys = camera_keys(
        spec_with(move("dolly", 1001, 1011, 100), move("truck", 1006, 1016, 50))
    )
    assert [k.frame for k in keys.position.keys] == list(range(1001, 1017))
    final = camera_state_at(keys, 1016)
    assert final.position == approx3((CX + 50, CY, -ZOOM + 100))


def test_moves_after_a_pan_follow_the_new_view_direction() -> None:
    keys = camera_keys(
        spec_with(move("pan", 1001, 1005, 90), move("dolly", 1005, 1010, 10))
    )
    assert camera_state_at(keys, 1010).position == approx3((CX + 10, CY, -ZOOM))


def test_camera_keys_need_a_camera() -> None:
    spec = load_spec(
        {
            "schema": "aebridge.comp/1",
            "comp": {"name": "c", "width": 4, "height": 4, "rate": 24, "duration": 4},
        }
    )
    with pytest.raises(ValueError, match="no camera"):
        camera_keys(spec)


def _close(a: Any, b: Any) -> bool:
    return all(x == pytest.approx(y, abs=1e-6) for x, y in zip(a, b, strict=True))


def _same_state(keys: CameraKeys, spec: CompSpec, frame: float) -> bool:
    got, want = camera_state_at(keys, frame), moves_state_at(spec, frame)
    return (
        _close(got.position, want.position)
        and _close(got.point_of_interest, want.point_of_interest)
        and got.zoom == pytest.approx(want.zoom, abs=1e-6)
        and got.roll == pytest.approx(want.roll, abs=1e-6)
    )


_KINDS = ["dolly", "truck", "pedestal", "pan", "tilt", "roll", "zoom", "orbit"]
_EASINGS = ["linear", "ease_in", "ease_out", "ease_in_out"]


@st.composite
def _moves(draw: st.DrawFn) -> list[dict[str, Any]]:
    moves = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(_KINDS))
        start = draw(st.integers(1001, 1040))
        end = draw(st.integers(start + 1, 1048))
        if kind == "zoom":
            amount = draw(st.floats(0.25, 4))
        elif kind in ("pan", "tilt", "orbit", "roll"):
            amount = draw(st.floats(-60, 60))
        else:
            amount = draw(st.floats(-300, 300))
        moves.append(move(kind, start, end, amount, draw(st.sampled_from(_EASINGS))))
    return moves


@settings(max_examples=60, deadline=None)
@given(_moves())
def test_keys_reproduce_the_move_language_at_every_frame(
    moves: list[dict[str, Any]],
) -> None:
    spec = spec_with(*moves)
    keys = camera_keys(spec)
    for frame in range(1001, 1049):
        assert _same_state(keys, spec, frame), frame


@pytest.mark.parametrize("easing", _EASINGS)
@pytest.mark.parametrize("kind", ["dolly", "truck", "pedestal", "zoom", "roll"])
def test_two_key_segments_match_between_frames_too(kind: str, easing: str) -> None:
    amount = 1.7 if kind == "zoom" else 75.0
    spec = spec_with(move(kind, 1003, 1027, amount, easing))
    keys = camera_keys(spec)
    assert all(len(p.keys) in (0, 2) for p in keys.properties())
    for tenth in range(1001 * 10, 1030 * 10, 7):
        assert _same_state(keys, spec, tenth / 10), tenth / 10
