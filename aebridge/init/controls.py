"""A generator camera control as aebridge camera moves: a heuristic, said to be one.

Generator camera controls are unitless. Kling's ``camera_control.config`` takes
-10..10 per axis and documents only the directions (horizontal: translation along x,
right positive; vertical: along y, up positive; pan: rotation about y, right
positive; tilt: rotation about x, up positive; roll: about z, clockwise positive;
zoom: negative a longer focal length, positive a shorter one), never how far. So
every number here is a choice aebridge makes, not a measurement: :data:`KLING_SCALE`
says what one unit becomes, and ``aebridge init`` prints it with the camera it adds.
The moves run linearly over the generated clip (the control says nothing of easing).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..model import Camera, CameraMove, CompSpec, Ease, MoveKind
from .decisions import Clip, InitOptions, Notes
from .records import CameraControl, Record

__all__ = ["KLING_PRESETS", "KLING_SCALE", "Scale", "add_camera", "camera_moves"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """What one unit of a control axis becomes.

    Attributes:
        kind: the camera move.
        per_unit: amount per unit: a fraction of the comp width (``of_width``), or
            degrees, or (for zoom) the power of two per 10 units.
        of_width: ``per_unit`` is a fraction of the comp width, in pixels.
        explain: the mapping in words, for the printed decisions and the docs.
    """

    kind: MoveKind
    per_unit: float
    of_width: bool
    explain: str


#: Kling axis -> aebridge move (heuristic).
KLING_SCALE: dict[str, Scale] = {
    "horizontal": Scale(
        kind=MoveKind.TRUCK,
        per_unit=0.05,
        of_width=True,
        explain="truck right by 5 % of the comp width per unit",
    ),
    "vertical": Scale(
        kind=MoveKind.PEDESTAL,
        per_unit=0.05,
        of_width=True,
        explain="pedestal up by 5 % of the comp width per unit",
    ),
    "pan": Scale(
        kind=MoveKind.PAN,
        per_unit=3.0,
        of_width=False,
        explain="pan right by 3 degrees per unit",
    ),
    "tilt": Scale(
        kind=MoveKind.TILT,
        per_unit=3.0,
        of_width=False,
        explain="tilt up by 3 degrees per unit",
    ),
    "roll": Scale(
        kind=MoveKind.ROLL,
        per_unit=3.0,
        of_width=False,
        explain="roll clockwise by 3 degrees per unit",
    ),
    "zoom": Scale(
        kind=MoveKind.ZOOM,
        per_unit=-1.0,
        of_width=False,
        explain="zoom by a factor 2^(-units/10): +10 halves the focal length "
        "(wider, as Kling documents), -10 doubles it",
    ),
}

#: Kling's preset types (no config) as a sequence of (axis, units) steps: the
#: motion Kling describes for each, at half strength. A step list of two runs the
#: first half of the clip then the second.
KLING_PRESETS: dict[str, tuple[tuple[tuple[str, float], ...], ...]] = {
    # "the camera descends and moves backward"
    "down_back": ((("vertical", -5.0), ("dolly", -5.0)),),
    # "the camera moves forward and tilts up"
    "forward_up": ((("dolly", 5.0), ("tilt", 5.0)),),
    # "rotate right, then move forward"
    "right_turn_forward": ((("pan", 5.0),), (("dolly", 5.0),)),
    # "rotate left, then move forward"
    "left_turn_forward": ((("pan", -5.0),), (("dolly", 5.0),)),
}

_DOLLY = Scale(
    kind=MoveKind.DOLLY,
    per_unit=0.05,
    of_width=True,
    explain="dolly forward by 5 % of the comp width per unit",
)


def _move(axis: str, units: float, start: int, end: int, width: int) -> CameraMove:
    scale = _DOLLY if axis == "dolly" else KLING_SCALE[axis]
    if scale.kind is MoveKind.ZOOM:
        amount = 2.0 ** (-units / 10.0)
    elif scale.of_width:
        amount = units * scale.per_unit * width
    else:
        amount = units * scale.per_unit
    return CameraMove(
        kind=scale.kind, start=start, end=end, amount=amount, easing=Ease.LINEAR
    )


def camera_moves(
    control: CameraControl, *, start: int, end: int, width: int
) -> tuple[tuple[CameraMove, ...], str]:
    """The heuristic camera moves for a control, and how they were made.

    Args:
        control: the control as the record gave it.
        start: the comp frame the generated clip starts at.
        end: the comp frame its move ends at (after ``start``).
        width: the comp width in pixels (translations scale with it).

    Returns:
        The moves (empty for a control aebridge cannot map) and one sentence
        saying what each axis became.
    """
    if control.generator != "kling" or end <= start:
        return (), ""
    if control.type == "simple":
        moves = tuple(
            _move(axis, units, start, end, width) for axis, units in control.config
        )
        said = "; ".join(
            f"{axis} {units:g} -> {KLING_SCALE[axis].explain}"
            for axis, units in control.config
        )
        return moves, said
    steps = KLING_PRESETS.get(control.type)
    if steps is None:
        return (), ""
    moves_list: list[CameraMove] = []
    bounds = [start + (end - start) * i // len(steps) for i in range(len(steps) + 1)]
    for (lo, hi), step in zip(itertools.pairwise(bounds), steps, strict=True):
        moves_list.extend(_move(axis, units, lo, hi, width) for axis, units in step)
    said = (
        f"preset {control.type} -> "
        + ", then ".join(
            " and ".join(f"{axis} {units:g} units" for axis, units in step)
            for step in steps
        )
        + " (5 % of the comp width or 3 degrees per unit)"
    )
    return tuple(moves_list), said


def add_camera(
    spec: CompSpec,
    ordered: Sequence[Clip],
    plate: Clip,
    comp_record: Record | None,
    options: InitOptions,
    notes: Notes,
) -> CompSpec:
    """The spec with a camera for the first record's camera control, when the user
    asked for one (``--camera``); otherwise the control is only noted.

    The camera follows the clip whose record has the control: that clip stays 2D
    (the move is already in its pixels) and every other layer becomes 3D.
    """
    owners: list[tuple[Record, Clip]] = [
        (c.record, c) for c in ordered if c.record is not None and c.record.camera
    ]
    if comp_record is not None and comp_record.camera is not None:
        owners.append((comp_record, plate))
    say = notes.spelling
    if not owners:
        if options.camera:
            notes.warnings.append(
                f"{say.option('camera')}: no record in the folder carries a camera "
                "control; no camera is added"
            )
        return spec
    record, owner = owners[0]
    assert record.camera is not None
    if not options.camera:
        notes.guess(
            f"camera: {record.files[0]} has a camera control ("
            f"{record.camera.describe()}); it is recorded in provenance.camera_move, "
            "no camera is added",
            f"{say.setting('camera')} adds a heuristic camera move for it",
        )
        return spec
    comp = spec.comp
    end = min(comp.start_frame + owner.media.frame_count - 1, comp.last_frame)
    moves, said = camera_moves(
        record.camera, start=comp.start_frame, end=end, width=comp.width
    )
    if not moves:
        notes.warnings.append(
            f"{say.option('camera')}: {record.camera.describe()} cannot be turned "
            "into a camera move (an unknown type, or a clip of one frame); no camera "
            "is added"
        )
        return spec
    if len(owners) > 1:
        notes.warnings.append(
            f"{say.option('camera')}: {len(owners)} records carry camera controls; "
            f"the camera follows {record.files[0]}"
        )
    followers = [layer.id for layer in spec.layers if layer.id != owner.layer_id]
    layers = tuple(
        replace(layer, three_d=True) if layer.id in followers else layer
        for layer in spec.layers
    )
    notes.guess(
        f"camera: a HEURISTIC for {record.camera.describe()}: {said}; linear over "
        f"frames {comp.start_frame}-{end}. Generator camera controls are unitless, "
        "so these amounts are aebridge's choice, not the generator's (docs/init.md)",
        "edit camera.moves in the spec",
    )
    notes.guess(
        f"3D: {', '.join(followers) or 'no layer'} follow the camera; "
        f"{owner.layer_id} stays 2D (the move is already in its pixels)",
        "set three_d in the spec",
    )
    moves_list: tuple[CameraMove, ...] = moves
    return replace(spec, layers=layers, camera=Camera(moves=moves_list))
