"""The comp, its camera and markers, and the whole spec that holds its layers.

Every field carries its rule (:mod:`aebridge.model.rules`); every constructor checks
them and the relations between its fields. A :class:`CompSpec` also holds its
layers' references: ids are unique (in any case), each track matte names another
layer and mattes form no cycle, and every comp frame in it (keys, camera moves,
markers) lies inside the comp; so nothing downstream checks them again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated

from ..animation import CustomEase, Ease, Easing
from ..errors import Problem
from ..timing import format_rate
from .enums import (
    DEFAULT_COLORSPACE,
    SCHEMA,
    MarkerKind,
    MoveKind,
    ProjectSettings,
    Role,
)
from .layer import ID, MAX_SIZE, ExrSequence, Layer, Provenance, named_id
from .names import folder_key
from .rules import (
    Choice,
    Const,
    EasingRule,
    Items,
    Pairs,
    Rate,
    Ratio,
    Real,
    Relation,
    Text,
    Vector,
    When,
    Whole,
    comp_frame_problem,
    num_text,
    quote,
)
from .table import check_model, spec_model, walk_comp_frames

__all__ = [
    "CONTROL_CHARACTERS",
    "MAX_SECONDS",
    "MAX_START_SECONDS",
    "Camera",
    "CameraMove",
    "Comp",
    "CompSpec",
    "Marker",
    "Style",
    "comp_slug",
    "duplicate_id_problems",
    "duration_problem",
    "latest_start_frame",
    "matte_cycle_problems",
    "matte_target_problems",
    "start_problem",
]

#: After Effects' longest comp and farthest layer time, in seconds (scripting guide:
#: ``ItemCollection.addComp`` takes a duration up to 10800 s; ``Layer.startTime``,
#: ``inPoint`` and ``outPoint`` lie within +-10800 s).
MAX_SECONDS = 10800
#: The control characters (C0, DEL and C1) a comp name may not hold, as the body of
#: a regular-expression character class (Python's and the JSON Schema's alike).
CONTROL_CHARACTERS = r"\u0000-\u001f\u007f-\u009f"
#: The latest time a comp may start at, in seconds (scripting guide,
#: ``CompItem.displayStartTime``: -10800 to 86339, that is 23:59:00).
MAX_START_SECONDS = 86339
_FRAME = "a frame number"

#: A zoom move's amount is a factor on the zoom, not a distance.
ZOOM_AMOUNT = Real(lo=0.0, lo_open=True, hi=100.0)


def _end_after_start(start: int, end: int) -> Iterator[Problem]:
    if end <= start:
        yield Problem(
            path="end",
            message=f"{end} is not after start {start}; allowed: {start + 1} or later",
        )


def _move_influences(easing: Easing) -> Iterator[Problem]:
    """A move's in and out handles share its duration."""
    if isinstance(easing, CustomEase) and easing.ease_in and easing.ease_out:
        total = easing.ease_in.influence + easing.ease_out.influence
        if total > 100.0 + 1e-9:
            yield Problem(
                path="easing",
                message=f"in influence plus out influence is {num_text(total)}; "
                "allowed: at most 100",
            )


@spec_model(
    when=(When(key="kind", equals=MoveKind.ZOOM, field="amount", rule=ZOOM_AMOUNT),),
    relations=(
        Relation(fields=("start", "end"), check=_end_after_start),
        Relation(fields=("easing",), check=_move_influences),
    ),
)
@dataclass(frozen=True, slots=True, kw_only=True)
class CameraMove:
    """One camera move from comp frame ``start`` to comp frame ``end``.

    ``amount`` by kind (positive direction first):

    - ``dolly``: pixels forward along the view direction (negative pulls back);
      camera and point of interest move together.
    - ``truck``: pixels to the camera's right; ``pedestal``: pixels up.
    - ``pan``: degrees to the right about the vertical axis (the point of interest
      swings around the camera); ``tilt``: degrees up.
    - ``roll``: degrees of Z rotation, clockwise on screen as After Effects counts it.
    - ``orbit``: degrees the camera travels to its right around the point of interest.
    - ``zoom``: a factor on the camera's zoom (2 doubles the focal length, 0.5 halves
      it); the zoom value is interpolated linearly under the easing, as AE does.
    """

    kind: MoveKind
    start: Annotated[int, Whole(what=_FRAME, in_comp=True)]
    end: Annotated[int, Whole(what=_FRAME, in_comp=True)]
    amount: Annotated[
        float, Real(doc="pixels, degrees, or for zoom a factor (more than 0 up to 100)")
    ]
    easing: Annotated[
        Easing,
        EasingRule(
            speed=Real(lo=0.0),
            doc="ease_out leaves the start slowly, ease_in arrives at the end slowly",
        ),
    ] = Ease.LINEAR

    def __post_init__(self) -> None:
        check_model(self)


def _aimed(
    position: tuple[float, float, float] | None,
    point_of_interest: tuple[float, float, float] | None,
) -> Iterator[Problem]:
    if position is not None and position == point_of_interest:
        yield Problem(
            path="point_of_interest", message="must differ from the camera position"
        )


@spec_model(
    relations=(Relation(fields=("position", "point_of_interest"), check=_aimed),)
)
@dataclass(frozen=True, slots=True, kw_only=True)
class Camera:
    """A two-node camera (position plus point of interest) and its moves.

    Unset starting values are derived from the comp so that the camera frames the comp
    1:1: zoom = comp width * focal length / film width, position
    ``[W/2, H/2, -zoom]``, point of interest ``[W/2, H/2, 0]``.
    """

    name: Annotated[str, Text(nonempty=True)] = "Camera"
    focal_length_mm: Annotated[float, Real(lo=1.0, hi=10000.0)] = 50.0
    film_width_mm: Annotated[float, Real(lo=1.0, hi=1000.0)] = 36.0
    position: Annotated[
        tuple[float, float, float] | None,
        Vector(size=3, doc="default [W/2, H/2, -zoom], framing the comp 1:1"),
    ] = None
    point_of_interest: Annotated[
        tuple[float, float, float] | None,
        Vector(size=3, doc="default the comp's centre [W/2, H/2, 0]"),
    ] = None
    moves: Annotated[tuple[CameraMove, ...], Items(noun="moves")] = ()

    def __post_init__(self) -> None:
        check_model(self)

    def zoom(self, comp: Comp) -> float:
        """The camera's zoom in pixels for ``comp`` (AE's Camera Zoom)."""
        return comp.width * self.focal_length_mm / self.film_width_mm

    def start_position(self, comp: Comp) -> tuple[float, float, float]:
        """The position before any move (given, or framing the comp 1:1)."""
        if self.position is not None:
            return self.position
        return (comp.width / 2, comp.height / 2, -self.zoom(comp))

    def start_point_of_interest(self, comp: Comp) -> tuple[float, float, float]:
        """The point of interest before any move (given, or the comp's centre)."""
        if self.point_of_interest is not None:
            return self.point_of_interest
        return (comp.width / 2, comp.height / 2, 0.0)


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class Marker:
    """A comp marker at a comp frame; ``parameters`` are text pairs (setParameters)."""

    frame: Annotated[int, Whole(what=_FRAME, in_comp=True)]
    name: str = ""
    comment: str = ""
    duration: Annotated[int, Whole(lo=0, doc="frames")] = 0
    parameters: Annotated[tuple[tuple[str, str], ...], Pairs()] = ()
    kind: MarkerKind = MarkerKind.NOTE
    label: Annotated[int | None, Whole(lo=0, hi=16, doc="AE label colour")] = None

    def __post_init__(self) -> None:
        check_model(self)


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """The look the material was generated in (a generator's style preset)."""

    id: Annotated[str, Text(nonempty=True)]
    name: str = ""

    def __post_init__(self) -> None:
        check_model(self)


def comp_slug(name: str) -> str:
    """A safe file and folder name for a comp name of any text.

    The name's id (:func:`~aebridge.model.layer.named_id`: accents folded to ASCII,
    every run of other characters one ``_``, ``_ . -`` trimmed from the ends, a
    Windows device name given a ``_``, cut to 64 characters); a name with nothing
    left becomes ``comp_`` and 8 hex digits of its hash. The same name always gives
    the same slug.

    Args:
        name: the comp name.

    Returns:
        1 to 65 characters from ``A-Z a-z 0-9 _ . -``, starting with a letter or digit.
    """
    return named_id(name, kind="comp")


def duration_problem(duration: int, rate: Fraction) -> str | None:
    """The message for a comp longer than After Effects' longest (10800 s)."""
    if duration <= MAX_SECONDS * rate:
        return None
    return (
        f"{duration} frames at {format_rate(rate)} fps is "
        f"{float(duration / rate):.6g} s; allowed: up to {MAX_SECONDS} s "
        f"({math.floor(MAX_SECONDS * rate)} frames), After Effects' longest comp"
    )


def _longest(rate: Fraction, duration: int) -> Iterator[Problem]:
    message = duration_problem(duration, rate)
    if message is not None:
        yield Problem(path="duration", message=message)


def latest_start_frame(rate: Fraction) -> int:
    """The last frame a comp at ``rate`` may start on (:data:`MAX_START_SECONDS`)."""
    return math.floor(MAX_START_SECONDS * rate)


def start_problem(start_frame: int, rate: Fraction) -> str | None:
    """The message for a comp starting after After Effects' latest start (23:59:00)."""
    latest = latest_start_frame(rate)
    if start_frame <= latest:
        return None
    return (
        f"frame {start_frame} at {format_rate(rate)} fps is "
        f"{float(start_frame / rate):.6g} s; allowed: up to {MAX_START_SECONDS} s "
        f"({latest} frames, 23:59:00), the latest "
        "start After Effects gives a comp"
    )


def _latest_start(rate: Fraction, start_frame: int) -> Iterator[Problem]:
    message = start_problem(start_frame, rate)
    if message is not None:
        yield Problem(path="start_frame", message=message)


@spec_model(
    relations=(
        Relation(fields=("rate", "duration"), check=_longest),
        Relation(fields=("rate", "start_frame"), check=_latest_start),
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class Comp:
    """Comp and project settings.

    Attributes:
        name: comp name in After Effects: any text, up to 255 characters.
        id: names the output folder and files (an id: letters, digits, ``_ - .``,
            not ending in ``.``); default :func:`comp_slug` of the name. See
            :attr:`folder_name`.
        width, height: pixels.
        pixel_aspect: pixel aspect ratio.
        rate: exact frame rate.
        duration: frames.
        start_frame: number of the first frame (AE ``displayStartFrame``).
        background: RGB 0..1.
        bpc: project bits per channel (8, 16 or 32).
        linear_blending: blend in linear light (project setting).
        working_space: the project's working colour space as After Effects lists it
            (an ICC profile description), or ``None`` for the one that matches the
            comp's colour space (Rec.709/sRGB primaries for Linear Rec.709, ACEScg for
            ACEScg), linearized; the script matches names at run time.
        project_settings: when the script may change the project-wide settings above:
            ``auto`` in a new or empty project (or one holding only this comp's
            items), ``set`` always, ``keep`` never (it only reports differences).
        keyframe_markers: add a comp marker for every conditioning keyframe.
        keyframe_guides: add every conditioning keyframe image as a guide layer.
    """

    name: Annotated[
        str,
        Text(
            nonempty=True,
            max_length=255,
            pattern=rf"^[^{CONTROL_CHARACTERS}]+$",
            allowed="any text of 1 to 255 characters without line breaks or other "
            "control characters",
            doc="The comp's name in After Effects: any text without line breaks or "
            "control characters.",
        ),
    ]
    id: Annotated[
        str | None,
        Text(
            nonempty=ID.nonempty,
            pattern=ID.pattern,
            allowed=ID.allowed,
            doc="Names the output folder and files; default a slug of the name.",
        ),
    ] = None
    width: Annotated[int, Whole(lo=4, hi=MAX_SIZE, doc="pixels")]
    height: Annotated[int, Whole(lo=4, hi=MAX_SIZE, doc="pixels")]
    pixel_aspect: Annotated[Fraction, Ratio()] = Fraction(1)
    rate: Annotated[
        Fraction, Rate(lo=1, hi=99, note="After Effects' comp rates", doc="fps")
    ]
    duration: Annotated[
        int, Whole(lo=1, hi=10_000_000, doc="frames; at most 10800 s at the rate")
    ]
    start_frame: Annotated[
        int,
        Whole(
            lo=0,
            hi=MAX_START_SECONDS * 99,
            doc="first frame number (displayStartFrame); at most 86339 s at the rate",
        ),
    ] = 1001
    background: Annotated[
        tuple[float, float, float], Vector(size=3, lo=0.0, hi=1.0, doc="RGB 0..1")
    ] = (0.0, 0.0, 0.0)
    bpc: Annotated[int, Whole(choices=(8, 16, 32), doc="project bits per channel")] = 32
    linear_blending: bool = True
    working_space: Annotated[
        str | None,
        Text(
            nonempty=True,
            explain_empty=True,
            allowed="a colour profile name as After Effects lists it, or null for the "
            "one matching the comp's colour space",
            doc="An After Effects colour profile name, or null for the one matching "
            "the comp's colour space (linearized).",
        ),
    ] = None
    project_settings: Annotated[
        ProjectSettings,
        Choice(
            enum=ProjectSettings,
            doc="When the script may change project-wide settings: auto (a new "
            "project, or one holding only this comp), set (always), keep (never; "
            "differences are reported).",
        ),
    ] = ProjectSettings.AUTO
    keyframe_markers: bool = True
    keyframe_guides: bool = False

    def __post_init__(self) -> None:
        check_model(self)

    @property
    def folder_name(self) -> str:
        """The name of the comp's output folder and files: its ``id``, else the slug
        of its name (stable: the same name always gives the same slug)."""
        return self.id if self.id is not None else comp_slug(self.name)

    @property
    def end_frame(self) -> int:
        """The comp frame after the last one (exclusive)."""
        return self.start_frame + self.duration

    @property
    def last_frame(self) -> int:
        """The comp's last frame (inclusive)."""
        return self.start_frame + self.duration - 1


def duplicate_id_problems(ids: Sequence[str | None]) -> Iterator[Problem]:
    """A problem for every layer id (``None``: unknown) used by an earlier layer, or
    differing from an earlier one only in case: the ids name folders side by side,
    one folder on Windows and macOS (:func:`~aebridge.model.names.folder_key`)."""
    seen: dict[str, int] = {}
    for i, layer_id in enumerate(ids):
        if layer_id is None:
            continue
        first = seen.get(folder_key(layer_id))
        if first is None:
            seen[folder_key(layer_id)] = i
            continue
        earlier = ids[first]
        if earlier == layer_id:
            message = (
                f"{quote(layer_id)} is already the id of layers[{first}]; layer ids "
                "must be unique"
            )
        else:
            message = (
                f"{quote(layer_id)} differs only in case from {quote(str(earlier))}, "
                f"the id of layers[{first}]; layer ids must differ in more than case, "
                "as they name folders, which Windows and macOS do not tell apart by "
                "case"
            )
        yield Problem(path=f"layers[{i}].id", message=message)


def matte_target_problems(
    ids: Sequence[str | None], targets: Sequence[str | None]
) -> tuple[list[Problem], dict[str, str]]:
    """Track mattes (layer ``i`` uses ``targets[i]``) naming no layer or the layer
    itself; and the valid ones, owner id -> matte id."""
    known = list(dict.fromkeys(layer_id for layer_id in ids if layer_id))
    problems: list[Problem] = []
    valid: dict[str, str] = {}
    for i, target in enumerate(targets):
        if target is None:
            continue
        path = f"layers[{i}].track_matte.layer"
        if target not in known:
            problems.append(
                Problem(
                    path=path,
                    message=f"no layer with id {quote(target)}; ids are: "
                    + ", ".join(known),
                )
            )
        elif target == ids[i]:
            problems.append(
                Problem(path=path, message="a layer cannot be its own track matte")
            )
        elif ids[i] is not None:
            valid[str(ids[i])] = target
    return problems, valid


def matte_cycle_problems(
    ids: Sequence[str | None], valid: dict[str, str]
) -> Iterator[Problem]:
    """Track mattes that form a cycle (``valid`` from :func:`matte_target_problems`)."""
    reported: set[str] = set()
    for i, layer_id in enumerate(ids):
        if layer_id is None or layer_id in reported:
            continue
        chain = [layer_id]
        current = layer_id
        while current in valid:
            current = valid[current]
            if current in chain:
                cycle = [*chain[chain.index(current) :], current]
                reported.update(cycle)
                yield Problem(
                    path=f"layers[{i}].track_matte.layer",
                    message=f"track mattes form a cycle: {' -> '.join(cycle)}",
                )
                break
            chain.append(current)


def _references(layers: tuple[Layer, ...]) -> Iterator[Problem]:
    """Layer ids are unique in any case; each track matte names another layer; no
    cycles."""
    ids: list[str | None] = [layer.id for layer in layers]
    targets = [
        layer.track_matte.layer if layer.track_matte else None for layer in layers
    ]
    yield from duplicate_id_problems(ids)
    problems, valid = matte_target_problems(ids, targets)
    yield from problems
    yield from matte_cycle_problems(ids, valid)


def _inside(
    comp: Comp,
    layers: tuple[Layer, ...],
    camera: Camera | None,
    markers: tuple[Marker, ...],
) -> Iterator[Problem]:
    """Every comp frame (keys, camera moves, markers) lies inside the comp."""
    frames = (comp.start_frame, comp.last_frame)
    held: list[tuple[str, object]] = [
        (f"layers[{i}]", layer) for i, layer in enumerate(layers)
    ]
    held += [("camera", camera)] if camera is not None else []
    held += [(f"markers[{i}]", marker) for i, marker in enumerate(markers)]
    for where, obj in held:
        for path, frame in walk_comp_frames(obj, where):
            message = comp_frame_problem(frame, frames)
            if message is not None:
                yield Problem(path=path, message=message)


@spec_model(
    relations=(
        Relation(fields=("layers",), check=_references),
        Relation(fields=("comp", "layers", "camera", "markers"), check=_inside),
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class CompSpec:
    """A whole comp: settings, layers bottom to top, camera, markers, metadata."""

    schema: Annotated[str, Const(value=SCHEMA, json_required=True)] = SCHEMA
    comp: Comp
    layers: Annotated[tuple[Layer, ...], Items(noun="layers", doc="bottom to top")] = ()
    camera: Camera | None = None
    markers: Annotated[tuple[Marker, ...], Items(noun="markers")] = ()
    style: Style | None = None
    provenance: Provenance | None = None

    def __post_init__(self) -> None:
        check_model(self)

    def layer(self, layer_id: str) -> Layer:
        """The layer with this id.

        Raises:
            KeyError: no layer has that id.
        """
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(layer_id)

    def layer_start(self, layer: Layer) -> int:
        """The comp frame where the layer's source frame 0 lands."""
        return self.comp.start_frame if layer.start is None else layer.start

    @property
    def matte_ids(self) -> frozenset[str]:
        """The ids of the layers other layers use as their track matte."""
        return frozenset(
            layer.track_matte.layer for layer in self.layers if layer.track_matte
        )

    def draws(self, layer: Layer) -> bool:
        """Whether a layer shows itself in a render: enabled, not a guide (AE never
        renders guide layers) and no one's track matte (a matte's video is off)."""
        return (
            layer.enabled
            and not layer.guide
            and layer.role is not Role.GUIDE
            and layer.id not in self.matte_ids
        )

    @property
    def colorspace(self) -> str:
        """The comp's working colour space: the bottom drawn layer's converted colour
        space (the preview blends in it; the script picks the AE working space for
        it), or :data:`DEFAULT_COLORSPACE`."""
        for layer in self.layers:
            if isinstance(layer.source, ExrSequence) and self.draws(layer):
                return layer.source.colorspace
        return DEFAULT_COLORSPACE
