"""The two evaluations of a built comp, side by side, frame by frame.

One is the DOM model's: the generated script runs against tests/js/ae_dom.js, which
then evaluates the comp it built at every frame (ae_math.js: which layers render,
the footage frame, each transform after easing, the active camera and where it
looks). The other is the preview's: :func:`aebridge.preview.render.plan_from_spec`
and :meth:`~aebridge.preview.plan.CompPlan.layer_state` /
:meth:`~aebridge.preview.plan.CompPlan.camera_at`, with the view direction from the
preview's own camera matrix (:func:`aebridge.preview.composite.camera_view`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aejsx

from aebridge.model import CompSpec
from aebridge.preview import composite
from aebridge.preview.plan import CompPlan
from aebridge.preview.render import plan_from_spec

#: Values agree to this (absolute): the plan rounds every number to 6 decimals.
TOLERANCE = 1e-6

Frame = dict[str, Any]


def layer_id(tag: str) -> tuple[str, str] | None:
    """(kind, id) from a tag ``[aebridge <build> <kind> <id>]``; None otherwise."""
    if not tag.startswith("[aebridge ") or not tag.endswith("]"):
        return None
    parts = tag[1:-1].split(" ", 3)
    if len(parts) != 4:
        return None
    return parts[2], parts[3]


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=TOLERANCE)
    return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))


def _three(value: Any, z: float) -> list[float]:
    values = [float(value)] if isinstance(value, (int, float)) else list(value)
    return [*values, z, z, z][:3]


@dataclass
class Comparison:
    """What was compared and every disagreement (empty when they agree)."""

    frames: int = 0
    values: int = 0
    problems: list[str] = field(default_factory=list)

    def check(self, where: str, ours: Any, theirs: Any) -> None:
        self.values += 1
        if not _close(ours, theirs):
            self.problems.append(f"{where}: preview {ours!r}, DOM model {theirs!r}")


def js_layers(frame: Frame) -> dict[str, list[dict[str, Any]]]:
    """The model's footage layers at one frame by plan layer id (a layer keeping its
    light under alpha 0 is two: its id and its copy's ``<id>#light``, as in the
    preview's plan)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for lay in frame["layers"]:
        tagged = layer_id(lay["tag"])
        if lay["type"] == "AVLayer" and tagged is not None and tagged[0] == "layer":
            found.setdefault(tagged[1], []).append(lay)
    return found


def ae_blend(name: str) -> str:
    """The ``BlendingMode`` constant of a blend name (AE spells SILHOUETE_ALPHA with
    one T)."""
    return "BlendingMode." + name.upper().replace("SILHOUETTE_A", "SILHOUETE_A")


def preview_camera(plan: CompPlan, frame: int) -> dict[str, Any]:
    """The preview's camera at a frame, with the axes of its view matrix."""
    position, poi, zoom, roll = plan.camera_at(frame)
    view = composite.camera_view(position, poi, roll=roll)
    return {
        "position": list(position),
        "point_of_interest": list(poi),
        "zoom": zoom,
        "direction": [float(v) for v in view[2, :3]],
        "up": [float(-v) for v in view[1, :3]],
    }


def compare(spec: CompSpec, base_dir: Path, evaluation: dict[str, Any]) -> Comparison:
    """Hold the model's evaluation of one comp against the preview's, every frame.

    Args:
        spec: the comp as built (every layer an EXR sequence).
        base_dir: the folder its sequence folders are relative to.
        evaluation: the model's evaluation of that comp (``evaluate_in_model``).
    """
    plan = plan_from_spec(spec, base_dir)
    result = Comparison()
    frames = evaluation["frames"]
    result.check("frame count", plan.duration, len(frames))
    for k, number in enumerate(plan.frames):
        if k >= len(frames):
            break
        frame = frames[k]
        result.frames += 1
        result.check(f"frame {number}: number", number, frame["frame"])
        theirs = js_layers(frame)
        rendering = sorted(
            lid for lid, lays in theirs.items() if any(lay["renders"] for lay in lays)
        )
        states = [plan.layer_state(i, number) for i in range(len(plan.layers))]
        ours = sorted(
            lp.id for lp, st in zip(plan.layers, states, strict=True) if st.renders
        )
        if ours != rendering:
            result.problems.append(
                f"frame {number}: layers rendering: preview {ours}, DOM model "
                f"{rendering}"
            )
        for lp, st in zip(plan.layers, states, strict=True):
            for lay in theirs.get(lp.id, []):
                where = f"frame {number}: {lay['name']!r} ({lp.id})"
                if lay["three_d"] != lp.three_d:
                    result.problems.append(f"{where}: three_d differs")
                if lay["blend"] != ae_blend(lp.blend):
                    result.problems.append(
                        f"{where}: blend: preview {lp.blend!r}, DOM model "
                        f"{lay['blend']!r}"
                    )
                t = lay["transform"]
                result.check(f"{where}: anchor", st.anchor, _three(t["anchor"], 0.0))
                result.check(
                    f"{where}: position", st.position, _three(t["position"], 0.0)
                )
                result.check(f"{where}: scale", st.scale, _three(t["scale"], 100.0))
                result.check(f"{where}: rotation", st.rotation, t["rotation"])
                result.check(
                    f"{where}: opacity", st.opacity, min(max(t["opacity"], 0), 100)
                )
                if st.renders:
                    result.check(
                        f"{where}: footage frame", st.source_frame, lay["source_frame"]
                    )
        if spec.camera is not None:
            cam = frame["camera"]
            if cam is None:
                result.problems.append(f"frame {number}: the DOM model has no camera")
                continue
            mine = preview_camera(plan, number)
            for key in ("position", "point_of_interest", "zoom", "direction", "up"):
                result.check(f"frame {number}: camera {key}", mine[key], cam[key])
    return result


def evaluate_script(script: Path) -> dict[str, Any]:
    """Run a generated script in the DOM model once and evaluate its comp.

    Raises:
        AssertionError: the script failed in the model, or built other than one comp.
    """
    runs, evaluation = aejsx.evaluate_in_model(script)
    (snap,) = runs
    assert snap["uncaught"] is None, snap["uncaught"]
    assert snap["alerts"] == [], snap["alerts"]
    (comp,) = evaluation
    return comp
