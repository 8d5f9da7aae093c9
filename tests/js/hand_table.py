"""Values worked out by hand, which both evaluations must reproduce.

The frame-by-frame cross-check (tests/e2e/test_crosscheck.py) holds the DOM model's
evaluation of a built comp (tests/js/ae_math.js) against the preview's
(aebridge.animation, aebridge.camera, aebridge.preview). Agreement alone could come
from a shared mistake, so both are also held against these numbers, derived here on
paper from the definitions (docs: aebridge/animation.py, tests/js/ae_math.js):

* A segment of ``N`` frames at 24 fps lasts ``T = N / 24`` s. Its curve has control
  points ``(0, v0)``, ``(a T, v0 + s0 a T)``, ``(T - b T, v1 - s1 b T)``, ``(T, v1)``
  with ``s``/``a`` the outgoing speed/influence of the first key and the incoming ones
  of the second; a linear side is the chord (speed ``(v1 - v0) / T``, influence 1/6);
  Easy Ease is speed 0, influence 1/3.
* Normalised (``v0 = 0``, ``v1 = 1``, ``T = 1``), ``B(u) = 3(1-u)^2 u P1 +
  3(1-u) u^2 P2 + u^3``. Each case picks ``u`` so that the time ``x(u)`` lands on a
  whole frame.

The camera starts framing a 320 x 180 comp 1:1 with the 50 mm default on 36 mm film:
zoom ``Z = 320 * 50 / 36 = 444.444...``, position ``(160, 90, -Z)``, point of interest
``(160, 90, 0)``, looking along +z with -y up.
"""

from __future__ import annotations

import math
from typing import Any

W, H = 320, 180
Z = W * 50 / 36

Vec = list[float]


def _comp(duration: int, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "width": W,
        "height": H,
        "rate": 24,
        "duration": duration,
        "start_frame": 1001,
    }


def _seq(name: str, frames: int) -> dict[str, Any]:
    return {
        "folder": f"layers/{name}",
        "name": name,
        "first": 1001,
        "last": 1000 + frames,
        "rate": 24,
        "width": W,
        "height": H,
    }


def camera_spec(move: dict[str, Any], duration: int = 25) -> dict[str, Any]:
    """A comp with one 3D layer and a camera making one move."""
    return {
        "schema": "aebridge.comp/1",
        "comp": _comp(duration, f"cam {move['kind']}"),
        "layers": [{"id": "bg", "source": _seq("bg", duration), "three_d": True}],
        "camera": {"moves": [move]},
    }


def _dir(x: float, y: float, z: float) -> Vec:
    n = math.sqrt(x * x + y * y + z * z)
    return [x / n, y / n, z / n]


S22, C22 = math.sin(math.radians(22.5)), math.cos(math.radians(22.5))
S15, C15 = math.sin(math.radians(15)), math.cos(math.radians(15))
R2 = math.sqrt(0.5)
S5, C5 = math.sin(math.radians(5)), math.cos(math.radians(5))

#: (name, spec, {frame: {"position", "point_of_interest", "zoom", "direction",
#: "up"}}); a key left out is not checked at that frame.
CAMERA_CASES: list[tuple[str, dict[str, Any], dict[int, dict[str, Any]]]] = [
    (
        # Dolly 100 px, Easy Ease both sides, 24 frames. With influence 1/3 on both
        # sides x(u) = u (P1x = 1/3, P2x = 2/3) and y(u) = 3u^2 - 2u^3. Frame 1007:
        # u = 6/24 = 1/4, y = 3/16 - 2/64 = 0.15625 -> 15.625 px forward (+z);
        # frame 1013: y = 1/2 -> 50 px. The point of interest moves with it.
        "dolly ease_in_out",
        camera_spec(
            {
                "kind": "dolly",
                "start": 1001,
                "end": 1025,
                "amount": 100,
                "easing": "ease_in_out",
            }
        ),
        {
            1007: {
                "position": [160, 90, -Z + 15.625],
                "point_of_interest": [160, 90, 15.625],
                "direction": [0, 0, 1],
                "up": [0, -1, 0],
            },
            1013: {"position": [160, 90, -Z + 50], "point_of_interest": [160, 90, 50]},
        },
    ),
    (
        # Truck 48 px, linear, 24 frames: 2 px a frame to the camera's right, which
        # is down x forward = (0, 1, 0) x (0, 0, 1) = (1, 0, 0). Frame 1007: +12 px.
        "truck linear",
        camera_spec(
            {"kind": "truck", "start": 1001, "end": 1025, "amount": 48},
        ),
        {
            1007: {
                "position": [172, 90, -Z],
                "point_of_interest": [172, 90, 0],
                "direction": [0, 0, 1],
            }
        },
    ),
    (
        # Pedestal 24 px up, ease_out, 16 frames: the out side is Easy Ease
        # (P1 = (1/3, 0)), the in side linear (P2 = (5/6, 5/6)). At u = 1/2:
        # x = 3/8 * 1/3 + 3/8 * 5/6 + 1/8 = 0.5625 = 9/16 -> frame 1010;
        # y = 3/8 * 0 + 3/8 * 5/6 + 1/8 = 0.4375 -> 10.5 px up (-y): y = 79.5.
        "pedestal ease_out",
        camera_spec(
            {
                "kind": "pedestal",
                "start": 1001,
                "end": 1017,
                "amount": 24,
                "easing": "ease_out",
            }
        ),
        {1010: {"position": [160, 79.5, -Z], "point_of_interest": [160, 79.5, 0]}},
    ),
    (
        # Pan 90 degrees right, linear, 4 frames: 22.5 degrees a frame about +y (y
        # is down, so +y turns +z towards +x). The point of interest swings round the
        # camera at distance Z: frame 1002 looks along (sin 22.5, 0, cos 22.5).
        "pan linear",
        camera_spec({"kind": "pan", "start": 1001, "end": 1005, "amount": 90}),
        {
            1002: {
                "position": [160, 90, -Z],
                "point_of_interest": [160 + Z * S22, 90, -Z + Z * C22],
                "direction": [S22, 0, C22],
                "up": [0, -1, 0],
            },
            1003: {"direction": [R2, 0, R2]},
        },
    ),
    (
        # Tilt 30 degrees up, linear, 2 frames: frame 1002 is 15 degrees up, towards
        # -y: direction (0, -sin 15, cos 15); the level horizon keeps up in the
        # y-z plane: (0, -cos 15, -sin 15).
        "tilt linear",
        camera_spec({"kind": "tilt", "start": 1001, "end": 1003, "amount": 30}),
        {
            1002: {
                "point_of_interest": [160, 90 - Z * S15, -Z + Z * C15],
                "direction": [0, -S15, C15],
                "up": [0, -C15, -S15],
            }
        },
    ),
    (
        # Orbit 90 degrees, linear, 2 frames: at frame 1002 the camera has travelled
        # 45 degrees to its right round the point of interest: from (0, 0, -Z)
        # relative to it to (Z / sqrt 2, 0, -Z / sqrt 2), looking back at it.
        "orbit linear",
        camera_spec({"kind": "orbit", "start": 1001, "end": 1003, "amount": 90}),
        {
            1002: {
                "position": [160 + Z * R2, 90, -Z * R2],
                "point_of_interest": [160, 90, 0],
                "direction": [-R2, 0, R2],
                "up": [0, -1, 0],
            }
        },
    ),
    (
        # Roll 10 degrees, linear, 2 frames: frame 1002 is a 5 degree Z rotation,
        # clockwise on screen: the view stays along +z, up turns from (0, -1, 0)
        # towards +x: (sin 5, -cos 5, 0).
        "roll linear",
        camera_spec({"kind": "roll", "start": 1001, "end": 1003, "amount": 10}),
        {1002: {"direction": [0, 0, 1], "up": [S5, -C5, 0]}},
    ),
    (
        # Zoom x2, linear in zoom pixels, 4 frames: frame 1002 is a quarter of the
        # way, Z * (1 + 0.25) = 555.555...
        "zoom linear",
        camera_spec({"kind": "zoom", "start": 1001, "end": 1005, "amount": 2}),
        {1002: {"zoom": Z * 1.25, "position": [160, 90, -Z]}},
    ),
    (
        # Dolly 100 px held: nothing moves until the end frame, then all of it.
        "dolly hold",
        camera_spec(
            {
                "kind": "dolly",
                "start": 1001,
                "end": 1005,
                "amount": 100,
                "easing": "hold",
            }
        ),
        {1004: {"position": [160, 90, -Z]}, 1005: {"position": [160, 90, -Z + 100]}},
    ),
]


def _opacity(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"opacity": {"keyframes": list(keys)}}


#: One comp of 2D layers, each keyed one way (no camera).
LAYERS_SPEC: dict[str, Any] = {
    "schema": "aebridge.comp/1",
    "comp": _comp(65, "hand layers"),
    "layers": [
        {
            "id": "linear",
            "source": _seq("linear", 65),
            "transform": _opacity(
                {"frame": 1001, "value": 0}, {"frame": 1005, "value": 100}
            ),
        },
        {
            "id": "easy",
            "source": _seq("easy", 65),
            "transform": _opacity(
                {"frame": 1001, "value": 0, "easing": "ease_in_out"},
                {"frame": 1025, "value": 100, "easing": "ease_in_out"},
            ),
        },
        {
            "id": "path",
            "source": _seq("path", 65),
            "transform": {
                "position": {
                    "keyframes": [
                        {"frame": 1001, "value": [100, 50], "easing": "ease_in_out"},
                        {"frame": 1025, "value": [130, 90], "easing": "ease_in_out"},
                    ]
                }
            },
        },
        {
            "id": "arrive",
            "source": _seq("arrive", 65),
            "transform": {
                "rotation": {
                    "keyframes": [
                        {"frame": 1001, "value": 0},
                        {"frame": 1017, "value": 90, "easing": "ease_in"},
                    ]
                }
            },
        },
        {
            "id": "held",
            "source": _seq("held", 65),
            "transform": {
                "scale": {
                    "keyframes": [
                        {"frame": 1001, "value": [100, 100], "easing": "hold"},
                        {"frame": 1005, "value": [50, 50]},
                    ]
                }
            },
        },
        {
            "id": "half",
            "source": _seq("half", 65),
            "transform": _opacity(
                {
                    "frame": 1001,
                    "value": 0,
                    "easing": {"out": {"speed": 0, "influence": 50}},
                },
                {
                    "frame": 1065,
                    "value": 100,
                    "easing": {"in": {"speed": 0, "influence": 50}},
                },
            ),
        },
        {
            "id": "fast",
            "source": _seq("fast", 65),
            "transform": _opacity(
                {
                    "frame": 1001,
                    "value": 0,
                    "easing": {"out": {"speed": 30, "influence": 100}},
                },
                {"frame": 1033, "value": 10},
            ),
        },
        {"id": "slow", "source": _seq("slow", 4), "stretch": 200, "start": 1003},
        {"id": "back", "source": _seq("back", 4), "stretch": -100, "start": 1010},
    ],
}

#: (layer id, frame, what, expected): what is a transform name or "source_frame".
LAYER_CASES: list[tuple[str, int, str, Any]] = [
    # Linear 0 -> 100 over 4 frames: 25 a frame.
    ("linear", 1002, "opacity", 25.0),
    # Easy Ease both sides over 24 frames: smoothstep (see the dolly case).
    ("easy", 1007, "opacity", 15.625),
    ("easy", 1013, "opacity", 50.0),
    ("easy", 1019, "opacity", 84.375),
    # Spatial: 50 px along (30, 40), smoothstep: frame 1007 has travelled 15.625 %
    # of it: (100 + 30 * 0.15625, 50 + 40 * 0.15625).
    ("path", 1007, "position", [104.6875, 56.25, 0.0]),
    # ease_in over 16 frames: the out side linear (P1 = (1/6, 1/6)), the in side
    # Easy Ease (P2 = (2/3, 1)). At u = 1/2: x = 3/8 * 1/6 + 3/8 * 2/3 + 1/8 = 0.4375
    # = 7/16 -> frame 1008; y = 3/8 * 1/6 + 3/8 + 1/8 = 0.5625 -> 50.625 degrees.
    ("arrive", 1008, "rotation", 50.625),
    # Hold: 100 % until frame 1005, then 50 %.
    ("held", 1004, "scale", [100.0, 100.0, 100.0]),
    ("held", 1005, "scale", [50.0, 50.0, 100.0]),
    # Speed 0 at influence 1/2 both sides, 64 frames: P1 = (1/2, 0), P2 = (1/2, 1):
    # x(u) = 3/2 u (1 - u) + u^3, y(u) = 3u^2 - 2u^3. u = 1/4: x = 9/32 + 1/64 =
    # 19/64 -> frame 1020; y = 0.15625.
    ("half", 1020, "opacity", 15.625),
    # 0 -> 10 over 32 frames (T = 4/3 s), leaving at 30 %/s with 100 % influence, a
    # linear in side: normalised P1 = (1, 30 * 4/3 / 10) = (1, 4), P2 = (5/6, 5/6).
    # At u = 1/2: x = 3/8 + 3/8 * 5/6 + 1/8 = 0.8125 = 26/32 -> frame 1027;
    # y = 3/8 * 4 + 3/8 * 5/6 + 1/8 = 1.9375 -> 19.375 (it overshoots the key).
    ("fast", 1027, "opacity", 19.375),
    # 200 %: footage frame k shows on comp frames 1003 + 2k and 1004 + 2k.
    ("slow", 1003, "source_frame", 0),
    ("slow", 1006, "source_frame", 1),
    ("slow", 1010, "source_frame", 3),
    ("slow", 1011, "source_frame", None),
    # -100 %, 4 frames ending at 1010: 1009 shows frame 0, 1006 frame 3.
    ("back", 1009, "source_frame", 0),
    ("back", 1006, "source_frame", 3),
    ("back", 1005, "source_frame", None),
    ("back", 1010, "source_frame", None),
]
