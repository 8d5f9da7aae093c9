"""The comp After Effects builds is the comp the preview shows, frame by frame.

For every sample (built with ``aebridge build``) and for a spec with every camera move
kind, layer timing (stretch, reverse, in/out), eased transform keys and mattes, the
generated script runs in the DOM model, which evaluates the comp it built at every
frame (tests/js/ae_math.js); the preview evaluates the same comp
(aebridge.preview.plan); the two must agree, layer for layer, on which layers
render and their blend modes, and to 1e-6 on the footage frame, every transform value
after easing, and the camera's position, point of interest, zoom, view direction and
up vector. The two evaluators are written
independently, and both reproduce the hand-derived values of tests/js/hand_table.py.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx
import crosscheck
import hand_table

from aebridge.api import BuildResult
from aebridge.build_io import load_build
from aebridge.camera import camera_keys, camera_state_at
from aebridge.emit import write_script
from aebridge.model import CompSpec
from aebridge.preview.render import plan_from_spec


def _build(spec: CompSpec, folder: Path) -> Path:
    script = folder / "comp.jsx"
    write_script(spec, {}, script)
    aejsx.touch_sequences(spec, folder)
    return script


def _assert_agree(result: crosscheck.Comparison, frames: int) -> None:
    assert result.frames == frames
    assert result.problems == [], "\n".join(result.problems[:20])


# ---------------------------------------------------------------------------------
# The samples


@pytest.mark.parametrize("shot", ["sh010", "sh020", "sh030"])
def test_every_sample_evaluates_alike_in_after_effects_and_the_preview(
    built: dict[str, BuildResult], shot: str
) -> None:
    result = built[shot]
    built = load_build(result.build_json)
    spec, comp_dir = built.spec, built.comp_dir
    comp = crosscheck.evaluate_script(result.script)
    comparison = crosscheck.compare(spec, comp_dir, comp)
    _assert_agree(comparison, spec.comp.duration)
    # Something was compared on every frame: each sample has layers (and sh010 and
    # sh030 a camera) to hold against each other.
    assert comparison.values >= spec.comp.duration * 5 * len(spec.layers) // 2


# ---------------------------------------------------------------------------------
# Every camera move, layer timing, easing and mattes


def _seq(name: str, frames: int, first: int = 1001) -> dict[str, Any]:
    return {
        "folder": f"layers/{name}",
        "name": name,
        "first": first,
        "last": first + frames - 1,
        "rate": "24000/1001",
        "width": 320,
        "height": 180,
    }


def _keys(*keys: tuple[int, Any, Any]) -> dict[str, Any]:
    return {
        "keyframes": [
            {"frame": f, "value": v, "easing": e if e is not None else "linear"}
            for f, v, e in keys
        ]
    }


def all_moves_spec() -> dict[str, Any]:
    """Every camera move kind (some overlapping, one held), stretched, reversed and
    trimmed layers, every easing on 2D and 3D transforms, alpha and luma mattes (one
    matte left enabled), a layer keeping its light under alpha 0 (two layers in
    AE and in the preview), a guide, a still and a disabled layer; 24000/1001 fps."""
    custom = {
        "out": {"speed": 40, "influence": 60},
        "in": {"speed": 5, "influence": 25},
    }
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "all moves",
            "width": 320,
            "height": 180,
            "rate": "24000/1001",
            "duration": 96,
            "background": [0.1, 0.1, 0.1],
        },
        "layers": [
            {"id": "bg", "source": _seq("bg", 96), "three_d": True},
            {
                "id": "fg",
                "source": _seq("fg", 48),
                "three_d": True,
                "stretch": 200,
                "start": 1011,
                "in_frame": 1015,
                "out_frame": 1080,
                "transform": {
                    "position": _keys(
                        (1015, [160, 90, 0], "ease_in_out"),
                        (1030, [200, 60, -50], "hold"),
                        (1040, [220, 60, -50], {"out": {"speed": 30, "influence": 50}}),
                        (1070, [120, 120, 40], "ease_in"),
                    ),
                    "opacity": _keys((1015, 0, "ease_out"), (1025, 100, None)),
                    "rotation": 12,
                },
            },
            {
                "id": "rev",
                "source": _seq("rev", 40),
                "stretch": -100,
                "start": 1060,
                "transform": {
                    "scale": _keys(
                        (1020, [100, 100], custom),
                        (1050, [140, 80], "ease_in_out"),
                        (1060, [90, 90], None),
                    ),
                    "rotation": _keys((1020, 0, None), (1060, -45, "ease_in")),
                    "anchor": [100, 40],
                },
            },
            {
                "id": "fast",
                "source": _seq("fast", 96),
                "stretch": 50,
                "transform": {"position": [80, 45], "scale": [50, 50]},
            },
            {
                "id": "odd",
                "source": _seq("odd", 5),
                "stretch": 150,
                "start": 1088,
                "blend": "add",
            },
            {
                "id": "matte",
                "source": _seq("matte", 96),
                "role": "matte",
                "enabled": True,
                "transform": {
                    "position": _keys((1001, [150, 80], None), (1096, [170, 100], None))
                },
            },
            {
                "id": "over",
                "source": _seq("over", 96),
                "blend": "screen",
                "track_matte": {"layer": "matte", "type": "luma_inverted"},
                "transform": {"opacity": _keys((1001, 100, "hold"), (1050, 40, None))},
            },
            {
                "id": "cutout",
                "source": _seq("cutout", 96),
                "three_d": True,
                "track_matte": {"layer": "matte", "type": "alpha"},
                "light_under_alpha": "add",
                "transform": {"position": [160, 90, 30]},
            },
            {"id": "ref", "source": _seq("ref", 96), "role": "guide"},
            {
                "id": "kf",
                "source": _seq("kf", 1, 1050),
                "start": 1050,
                "in_frame": 1050,
                "out_frame": 1051,
            },
            {"id": "off", "source": _seq("off", 96), "enabled": False},
        ],
        "camera": {
            "focal_length_mm": 35,
            "moves": [
                {
                    "kind": "dolly",
                    "start": 1001,
                    "end": 1025,
                    "amount": 150,
                    "easing": "ease_in_out",
                },
                {
                    "kind": "pan",
                    "start": 1013,
                    "end": 1037,
                    "amount": 25,
                    "easing": "ease_out",
                },
                {"kind": "truck", "start": 1037, "end": 1049, "amount": -40},
                {
                    "kind": "pedestal",
                    "start": 1049,
                    "end": 1061,
                    "amount": 30,
                    "easing": {
                        "out": {"speed": 10, "influence": 40},
                        "in": {"speed": 0, "influence": 40},
                    },
                },
                {
                    "kind": "tilt",
                    "start": 1061,
                    "end": 1073,
                    "amount": -12,
                    "easing": "ease_in",
                },
                {
                    "kind": "roll",
                    "start": 1061,
                    "end": 1085,
                    "amount": 8,
                    "easing": "ease_in_out",
                },
                {
                    "kind": "zoom",
                    "start": 1073,
                    "end": 1085,
                    "amount": 1.5,
                    "easing": "ease_out",
                },
                {"kind": "orbit", "start": 1085, "end": 1096, "amount": 40},
                {
                    "kind": "dolly",
                    "start": 1090,
                    "end": 1094,
                    "amount": 20,
                    "easing": "hold",
                },
            ],
        },
    }


def test_every_camera_move_timing_ease_and_matte_evaluates_alike(
    tmp_path: Path,
) -> None:
    spec = aejsx.load(all_moves_spec())
    comp = crosscheck.evaluate_script(_build(spec, tmp_path))
    comparison = crosscheck.compare(spec, tmp_path, comp)
    _assert_agree(comparison, 96)
    # What the comparison saw: the matte left enabled does not render, the guide and
    # the disabled layer never do, the still shows on its one frame, the stretched
    # and reversed layers come and go.
    by_frame = {f["frame"]: crosscheck.js_layers(f) for f in comp["frames"]}

    def renders(frame: int, layer_id: str) -> bool:
        return any(lay["renders"] for lay in by_frame[frame][layer_id])

    assert not any(renders(f, lid) for f in by_frame for lid in ("matte", "ref", "off"))
    assert [f for f in by_frame if renders(f, "kf")] == [1050]
    assert [f for f in by_frame if renders(f, "fg")] == list(range(1015, 1080))
    assert [f for f in by_frame if renders(f, "rev")] == list(range(1020, 1060))
    assert [f for f in by_frame if renders(f, "fast")] == list(range(1001, 1049))
    assert [f for f in by_frame if renders(f, "odd")] == list(range(1088, 1096))
    assert all(renders(f, "cutout") and renders(f, "cutout#light") for f in by_frame)


# ---------------------------------------------------------------------------------
# Both evaluations reproduce the hand-derived table


def _expect(where: str, got: Any, want: Any) -> None:
    assert got == pytest.approx(want, abs=1e-6), where


@pytest.mark.parametrize(
    ("name", "data", "frames"),
    hand_table.CAMERA_CASES,
    ids=[case[0] for case in hand_table.CAMERA_CASES],
)
def test_camera_moves_match_the_hand_table(
    tmp_path: Path, name: str, data: dict[str, Any], frames: dict[int, dict[str, Any]]
) -> None:
    spec = aejsx.load(data)
    plan = plan_from_spec(spec, tmp_path)
    keys = camera_keys(spec)
    comp = crosscheck.evaluate_script(_build(spec, tmp_path))
    for frame, expected in frames.items():
        ours = crosscheck.preview_camera(plan, frame)
        state = camera_state_at(keys, frame)
        ours_from_keys = {
            "position": list(state.position),
            "point_of_interest": list(state.point_of_interest),
            "zoom": state.zoom,
        }
        (theirs,) = [f["camera"] for f in comp["frames"] if f["frame"] == frame]
        for key, want in expected.items():
            _expect(f"{name} {frame} {key}: preview", ours[key], want)
            if key in ours_from_keys:
                _expect(f"{name} {frame} {key}: keys", ours_from_keys[key], want)
            _expect(f"{name} {frame} {key}: DOM model", theirs[key], want)


def test_layer_easing_and_timing_match_the_hand_table(tmp_path: Path) -> None:
    spec = aejsx.load(hand_table.LAYERS_SPEC)
    plan = plan_from_spec(spec, tmp_path)
    index = {lp.id: i for i, lp in enumerate(plan.layers)}
    comp = crosscheck.evaluate_script(_build(spec, tmp_path))
    frames = {f["frame"]: crosscheck.js_layers(f) for f in comp["frames"]}
    for layer_id, frame, what, want in hand_table.LAYER_CASES:
        state = plan.layer_state(index[layer_id], frame)
        (theirs,) = frames[frame][layer_id]
        where = f"{layer_id} {frame} {what}"
        if what == "source_frame":
            assert state.source_frame == want, where
            assert theirs["source_frame"] == want, where
            continue
        ours = getattr(state, what)
        got = theirs["transform"][what]
        if what == "position":
            got = [*got, 0.0][:3]
        if what == "scale":
            got = [*got, 100.0][:3]
        _expect(f"{where}: preview", ours, want)
        _expect(f"{where}: DOM model", got, want)


def test_the_comparison_catches_a_disagreement(tmp_path: Path) -> None:
    """The check can fail: a comp evaluated against a different spec disagrees."""
    data = hand_table.camera_spec(
        {"kind": "pan", "start": 1001, "end": 1005, "amount": 90}
    )
    spec = aejsx.load(data)
    comp = crosscheck.evaluate_script(_build(spec, tmp_path / "built"))
    data["camera"]["moves"][0]["amount"] = 80
    other = aejsx.load(json.loads(json.dumps(data)))
    result = crosscheck.compare(other, tmp_path / "built", comp)
    assert any("camera direction" in p for p in result.problems)
    assert not math.isnan(result.values)
