"""Comp spec JSON: load with full validation, dump deterministically, upgrade labels.

A spec file is JSON with a versioned label, ``"schema": "aebridge.comp/1"``. Loading
reports every problem at once, each with its spec path (``layers[2].blend``) and what
is allowed, as a :class:`~aebridge.errors.SpecError`; warnings (layers of another size,
rates that After Effects will conform) go to a callback. Specs written for an older
label are lifted to the current one by the functions in :data:`UPGRADES`, one step at
a time, before validation.

Relative paths in a spec (sources, mattes, EXR folders, keyframe images) are relative
to the spec file's folder; :func:`resolve_paths` makes them absolute.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, Field, fields, replace
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from .animation import footage_span, layer_bounds, shown_frames
from .errors import OptionError, OutputError, Problem, SourceError, SpecError
from .model import (
    SCHEMA,
    AlphaMode,
    AnimatableValue,
    BlendMode,
    Camera,
    CameraMove,
    Comp,
    CompSpec,
    ConditioningKeyframe,
    CustomEase,
    Ease,
    EaseHandle,
    Easing,
    ExrSequence,
    Keyframe,
    Layer,
    LayerSource,
    LightUnderAlpha,
    Marker,
    MarkerKind,
    MatteType,
    MoveKind,
    ProjectSettings,
    Provenance,
    Role,
    Style,
    TrackMatte,
    Transform,
    Value,
    VfrPolicy,
)
from .sequence import find_sequence, is_sequence_pattern
from .timing import format_rate, parse_rate

__all__ = [
    "RATE_POLICIES",
    "UPGRADES",
    "dump_spec",
    "format_spec",
    "load_spec",
    "register_upgrade",
    "resolve_paths",
    "save_spec",
    "spec_hash",
    "spec_to_dict",
    "validate",
]

#: What to do when a layer's rate differs from the comp's.
RATE_POLICIES = ("conform", "refuse")

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

#: Old schema label -> function lifting a spec one version up (it sets the new label).
#: ``aebridge.comp/1`` is the first version, so nothing is registered yet; a version 2
#: adds ``UPGRADES["aebridge.comp/1"] = _upgrade_1_to_2``.
UPGRADES: dict[str, Upgrade] = {}

# Layer ids and comp ids become folder and file names.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ID_ALLOWED = "1 to 128 letters, digits, '_', '-', '.', starting with a letter or digit"
# A comp name is free text for After Effects; control characters are not names.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_NAME = 255
# After Effects' own limits (scripting guide: ItemCollection.addComp takes width and
# height 4..30000, a duration up to 10800 s and a rate of 1..99; Layer.startTime,
# inPoint and outPoint lie within +-10800 s; Layer.stretch within +-9900).
_MIN_SIZE = 4
_MAX_SIZE = 30000
_MIN_RATE, _MAX_RATE = 1, 99
_MAX_SECONDS = 10800
_MAX_STRETCH = 9900.0

_MISSING: Any = object()
_E = TypeVar("_E", bound=StrEnum)


def register_upgrade(label: str) -> Callable[[Upgrade], Upgrade]:
    """Register a function that lifts specs labelled ``label`` one version up.

    Args:
        label: the old schema label, e.g. ``"aebridge.comp/1"``.

    Returns:
        A decorator that stores the function in :data:`UPGRADES`.
    """

    def decorate(fn: Upgrade) -> Upgrade:
        UPGRADES[label] = fn
        return fn

    return decorate


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _quote(value: object) -> str:
    # Strings in single quotes, as users type them in messages; other values as JSON.
    if isinstance(value, str) or not _is_jsonish(value):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_jsonish(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _join(items: Iterable[str]) -> str:
    return ", ".join(items)


class _Reader:
    """Walks spec data, building model objects and collecting every problem."""

    def __init__(self, base_dir: Path, *, check_files: bool, rate_policy: str) -> None:
        self.base_dir = base_dir
        self.check_files = check_files
        self.rate_policy = rate_policy
        self.problems: list[Problem] = []
        # The comp's frames, known as soon as start_frame and duration are valid, so
        # frames elsewhere are checked even when another comp field is wrong.
        self.frames: tuple[int, int] | None = None

    # -- reporting -------------------------------------------------------------------

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message))

    def warn(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message, severity="warning"))

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    # -- generic values --------------------------------------------------------------

    def obj(
        self,
        value: object,
        path: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(path, f"expected an object, got {_type_name(value)}")
            return None
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"allowed: {_join(allowed)}"
                )
                self.error(_child(path, str(key)), f"unknown field; {hint}")
        for key in required:
            if key not in value:
                self.error(_child(path, key), "missing; this field is required")
        return value

    def integer(
        self,
        value: object,
        path: str,
        *,
        lo: int | None = None,
        hi: int | None = None,
        what: str = "a whole number",
    ) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(
                path, f"expected {what}, got {_type_name(value)} {_quote(value)}"
            )
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.error(path, f"{value} is out of range; allowed: {_range(lo, hi)}")
            return None
        return value

    def number(
        self,
        value: object,
        path: str,
        *,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
        nonzero: bool = False,
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(
                path, f"expected a number, got {_type_name(value)} {_quote(value)}"
            )
            return None
        number = float(value)
        if not math.isfinite(number):
            self.error(path, f"{value} is not allowed; allowed: a finite number")
            return None
        below = lo is not None and (number <= lo if lo_open else number < lo)
        above = hi is not None and number > hi
        if below or above or (nonzero and number == 0):
            allowed = _range(lo, hi, lo_open=lo_open) + (", not 0" if nonzero else "")
            self.error(path, f"{_num_text(number)} is out of range; allowed: {allowed}")
            return None
        return number

    def boolean(self, value: object, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, got {_type_name(value)}")
            return None
        return value

    def text(self, value: object, path: str, *, nonempty: bool = False) -> str | None:
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {_type_name(value)}")
            return None
        if nonempty and not value.strip():
            self.error(path, "must not be empty")
            return None
        return value

    def identifier(self, value: object, path: str) -> str | None:
        """An id that names folders and files (a layer's, a comp's)."""
        text = self.text(value, path, nonempty=True)
        if text is not None and not _ID_RE.match(text):
            self.error(path, f"{_quote(text)} is not allowed; allowed: {_ID_ALLOWED}")
            return None
        return text

    def optional_text(self, value: object, path: str) -> str | None:
        return None if value is None or value is _MISSING else self.text(value, path)

    def choice(self, value: object, path: str, enum: type[_E]) -> _E | None:
        names = [member.value for member in enum]
        if isinstance(value, str) and value in names:
            return enum(value)
        close = (
            difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            if isinstance(value, str)
            else []
        )
        hint = f"did you mean '{close[0]}'? " if close else ""
        self.error(
            path,
            f"{_quote(value)} is not allowed; {hint}allowed: {_join(names)}",
        )
        return None

    def rate(self, value: object, path: str) -> Fraction | None:
        try:
            return parse_rate(value, option=path)
        except OptionError as exc:
            self.error(path, f"{_quote(value)} is not allowed; allowed: {exc.allowed}")
            return None

    def fraction(self, value: object, path: str) -> Fraction | None:
        """A positive exact ratio: a number or ``"10/11"`` text."""
        result: Fraction | None = None
        if isinstance(value, bool):
            result = None
        elif isinstance(value, int):
            result = Fraction(value)
        elif isinstance(value, float) and math.isfinite(value):
            result = Fraction(repr(value))
        elif isinstance(value, str):
            try:
                result = Fraction(value.replace(" ", ""))
            except (ValueError, ZeroDivisionError):
                result = None
        if result is None or not (Fraction(1, 100) <= result <= 100):
            self.error(
                path,
                f"{_quote(value)} is not allowed; allowed: a ratio from 0.01 to 100 "
                'such as 1, 0.9, "10/11"',
            )
            return None
        return result

    def vector(
        self, value: object, path: str, sizes: Sequence[int]
    ) -> tuple[float, ...] | None:
        allowed = " or ".join(str(n) for n in sizes)
        if not isinstance(value, list) or len(value) not in sizes:
            self.error(
                path,
                f"expected a list of {allowed} numbers, got {_type_name(value)} "
                f"{_quote(value)}",
            )
            return None
        items = [self.number(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if any(item is None for item in items):
            return None
        return tuple(float(item) for item in items if item is not None)

    def path_exists(self, value: str, path: str, *, what: str) -> None:
        """Report a source path that does not exist (sequence patterns included)."""
        if not self.check_files:
            return
        full = self.base_dir / value
        if is_sequence_pattern(value):
            try:
                find_sequence(full)
            except SourceError as exc:
                self.error(path, f"{what} {_quote(value)}: {exc.message}")
        elif not full.exists():
            self.error(
                path,
                f"{what} not found: {_quote(value)} (looked for {full.as_posix()})",
            )

    # -- easing and animation ---------------------------------------------------------

    def easing(self, value: object, path: str, *, move: bool) -> Easing | None:
        if isinstance(value, str):
            return self.choice(value, path, Ease)
        data = self.obj(value, path, ("in", "out"))
        if data is None:
            return None
        if not data:
            self.error(path, "give 'in', 'out' or both, or a named easing")
            return None
        handles: dict[str, EaseHandle | None] = {"in": None, "out": None}
        ok = True
        for side in ("in", "out"):
            if side not in data or data[side] is None:
                continue
            hpath = f"{path}.{side}"
            hdata = self.obj(data[side], hpath, ("speed", "influence"), ("speed",))
            if hdata is None:
                ok = False
                continue
            speed = self.number(
                hdata.get("speed"), f"{hpath}.speed", lo=0.0 if move else None
            )
            influence = self.number(
                hdata.get("influence", 33.333333),
                f"{hpath}.influence",
                lo=0.1,
                hi=100.0,
            )
            if speed is None or influence is None:
                ok = False
                continue
            handles[side] = EaseHandle(speed=speed, influence=influence)
        if not ok:
            return None
        return CustomEase(ease_in=handles["in"], ease_out=handles["out"])

    def animatable(
        self,
        value: object,
        path: str,
        *,
        sizes: Sequence[int] | None,
        comp: Comp | None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> AnimatableValue | None:
        if isinstance(value, dict):
            data = self.obj(value, path, ("keyframes",), ("keyframes",))
            if data is None or "keyframes" not in data:
                return None
            return self._keyframes(
                data["keyframes"], f"{path}.keyframes", sizes, comp, lo, hi
            )
        single = self._value(value, path, sizes, lo, hi)
        return None if single is None else AnimatableValue(value=single)

    def _value(
        self,
        value: object,
        path: str,
        sizes: Sequence[int] | None,
        lo: float | None,
        hi: float | None,
    ) -> Value | None:
        if sizes is None:
            return self.number(value, path, lo=lo, hi=hi)
        return self.vector(value, path, sizes)

    def _keyframes(
        self,
        value: object,
        path: str,
        sizes: Sequence[int] | None,
        comp: Comp | None,
        lo: float | None,
        hi: float | None,
    ) -> AnimatableValue | None:
        if not isinstance(value, list) or not value:
            self.error(
                path, f"expected a non-empty list of keyframes, got {_type_name(value)}"
            )
            return None
        keys: list[Keyframe] = []
        ok = True
        previous: int | None = None
        length: int | None = None
        for i, item in enumerate(value):
            kpath = f"{path}[{i}]"
            data = self.obj(
                item, kpath, ("frame", "value", "easing"), ("frame", "value")
            )
            if data is None or "frame" not in data or "value" not in data:
                ok = False
                continue
            frame = self.frame(data["frame"], f"{kpath}.frame", comp)
            val = self._value(data["value"], f"{kpath}.value", sizes, lo, hi)
            easing = self.easing(
                data.get("easing", "linear"), f"{kpath}.easing", move=False
            )
            if frame is None or val is None or easing is None:
                ok = False
                continue
            if previous is not None and frame <= previous:
                self.error(
                    f"{kpath}.frame",
                    f"{frame} is not after the previous key's frame {previous}; "
                    "keys must be in increasing frame order",
                )
                ok = False
            if isinstance(val, tuple):
                if length is not None and len(val) != length:
                    self.error(
                        f"{kpath}.value",
                        f"has {len(val)} components but earlier keys have {length}",
                    )
                    ok = False
                length = len(val)
            previous = frame
            keys.append(Keyframe(frame=frame, value=val, easing=easing))
        if ok:
            for i in range(len(keys) - 1):
                self._check_influence_sum(
                    keys[i].easing, keys[i + 1].easing, f"{path}[{i}].easing"
                )
        return AnimatableValue(keyframes=tuple(keys)) if ok else None

    def _check_influence_sum(self, left: Easing, right: Easing, path: str) -> None:
        """AE rescales overlapping handles; refuse that instead of guessing."""
        out_side = left.ease_out if isinstance(left, CustomEase) else None
        in_side = right.ease_in if isinstance(right, CustomEase) else None
        if out_side is not None and in_side is not None:
            total = out_side.influence + in_side.influence
            if total > 100.0 + 1e-9:
                self.error(
                    path,
                    f"out influence {_num_text(out_side.influence)} plus the next "
                    f"key's in influence {_num_text(in_side.influence)} is "
                    f"{_num_text(total)}; allowed: at most 100",
                )

    def frame(self, value: object, path: str, comp: Comp | None) -> int | None:
        frame = self.integer(value, path, what="a frame number")
        frames = (comp.start_frame, comp.last_frame) if comp else self.frames
        if frame is None or frames is None:
            return frame
        if not frames[0] <= frame <= frames[1]:
            self.error(
                path,
                f"frame {frame} is outside the comp; allowed: {frames[0]} to "
                f"{frames[1]}",
            )
            return None
        return frame

    # -- spec sections ----------------------------------------------------------------

    def spec(self, data: object) -> CompSpec | None:
        top = self.obj(
            data,
            "",
            ("schema", "comp", "layers", "camera", "markers", "style", "provenance"),
            ("schema", "comp"),
        )
        if top is None:
            return None
        comp = self.comp(top["comp"], "comp") if "comp" in top else None
        layers = self.layers(top.get("layers", []), "layers", comp)
        camera = None
        if top.get("camera") is not None:
            camera = self.camera(top["camera"], "camera", comp)
            if (
                camera is not None
                and layers is not None
                and not any(layer.three_d for layer in layers)
            ):
                self.warn(
                    "camera",
                    "no layer has three_d: true, so the camera changes nothing; "
                    "set three_d on the layers that should follow it",
                )
        markers = self.markers(top.get("markers", []), "markers", comp)
        style = None
        if top.get("style") is not None:
            style = self.style(top["style"], "style")
        provenance = None
        if top.get("provenance") is not None:
            provenance = self.provenance(
                top["provenance"],
                "provenance",
                comp,
                None if comp is None else comp.start_frame,
            )
        if comp is None or layers is None or markers is None or self.error_count:
            return None
        return CompSpec(
            schema=SCHEMA,
            comp=comp,
            layers=layers,
            camera=camera,
            markers=markers,
            style=style,
            provenance=provenance,
        )

    def comp(self, value: object, path: str) -> Comp | None:
        allowed = tuple(f.name for f in fields(Comp))
        data = self.obj(
            value, path, allowed, ("name", "width", "height", "rate", "duration")
        )
        if data is None:
            return None
        name = None
        if "name" in data:
            name = self.text(data["name"], f"{path}.name", nonempty=True)
            if name is not None and (
                len(name) > _MAX_NAME or _CONTROL_RE.search(name) is not None
            ):
                self.error(
                    f"{path}.name",
                    f"{_quote(name)} is not allowed; allowed: any text of 1 to "
                    f"{_MAX_NAME} characters without line breaks or other control "
                    "characters",
                )
                name = None
        comp_id = None
        if data.get("id") is not None:
            comp_id = self.identifier(data["id"], f"{path}.id")
        width = self._get_int(data, "width", path, lo=_MIN_SIZE, hi=_MAX_SIZE)
        height = self._get_int(data, "height", path, lo=_MIN_SIZE, hi=_MAX_SIZE)
        rate = self.rate(data["rate"], f"{path}.rate") if "rate" in data else None
        if rate is not None and not _MIN_RATE <= rate <= _MAX_RATE:
            self.error(
                f"{path}.rate",
                f"{format_rate(rate)} fps is out of range; allowed: {_MIN_RATE} to "
                f"{_MAX_RATE} fps (After Effects' comp rates)",
            )
            rate = None
        duration = self._get_int(data, "duration", path, lo=1, hi=10_000_000)
        if rate is not None and duration is not None and duration > _MAX_SECONDS * rate:
            self.error(
                f"{path}.duration",
                f"{duration} frames at {format_rate(rate)} fps is "
                f"{float(duration / rate):.6g} s; allowed: up to {_MAX_SECONDS} s "
                f"({math.floor(_MAX_SECONDS * rate)} frames), After Effects' longest "
                "comp",
            )
            duration = None
        start = self.integer(data.get("start_frame", 1001), f"{path}.start_frame", lo=0)
        if start is not None and duration is not None:
            self.frames = (start, start + duration - 1)
        pixel_aspect = self.fraction(
            data.get("pixel_aspect", 1), f"{path}.pixel_aspect"
        )
        background = self.vector(
            data.get("background", [0, 0, 0]), f"{path}.background", (3,)
        )
        if background is not None:
            for i, channel in enumerate(background):
                if not 0.0 <= channel <= 1.0:
                    self.error(
                        f"{path}.background[{i}]",
                        f"{_num_text(channel)} is out of range; allowed: 0 to 1",
                    )
                    background = None
                    break
        bpc = self.integer(data.get("bpc", 32), f"{path}.bpc")
        if bpc is not None and bpc not in (8, 16, 32):
            self.error(f"{path}.bpc", f"{bpc} is not allowed; allowed: 8, 16, 32")
            bpc = None
        linear = self.boolean(
            data.get("linear_blending", True), f"{path}.linear_blending"
        )
        working_space = self.optional_text(
            data.get("working_space"), f"{path}.working_space"
        )
        if working_space is not None and not working_space.strip():
            self.error(
                f"{path}.working_space",
                "must not be empty; allowed: a colour profile name as After Effects "
                "lists it, or null for the one matching the comp's colour space",
            )
            working_space = None
        project_settings = self.choice(
            data.get("project_settings", "auto"),
            f"{path}.project_settings",
            ProjectSettings,
        )
        markers_on = self.boolean(
            data.get("keyframe_markers", True), f"{path}.keyframe_markers"
        )
        guides_on = self.boolean(
            data.get("keyframe_guides", False), f"{path}.keyframe_guides"
        )
        if bpc is not None and bpc != 32 and linear:
            self.warn(
                f"{path}.bpc",
                f"{bpc} bpc clips the scene-linear EXR values above 1; 32 keeps them",
            )
        values = (
            name,
            width,
            height,
            rate,
            duration,
            start,
            pixel_aspect,
            background,
            bpc,
            linear,
            markers_on,
            guides_on,
            project_settings,
        )
        if any(v is None for v in values):
            return None
        assert name is not None and width is not None and height is not None
        assert rate is not None and duration is not None and start is not None
        assert pixel_aspect is not None and background is not None and bpc is not None
        assert linear is not None and markers_on is not None and guides_on is not None
        assert project_settings is not None
        if data.get("id") is not None and comp_id is None:
            return None
        return Comp(
            name=name,
            id=comp_id,
            width=width,
            height=height,
            pixel_aspect=pixel_aspect,
            rate=rate,
            duration=duration,
            start_frame=start,
            background=(background[0], background[1], background[2]),
            bpc=bpc,
            linear_blending=linear,
            working_space=working_space,
            project_settings=project_settings,
            keyframe_markers=markers_on,
            keyframe_guides=guides_on,
        )

    def _get_int(
        self, data: Mapping[str, Any], key: str, path: str, *, lo: int, hi: int
    ) -> int | None:
        if key not in data:
            return None
        return self.integer(data[key], f"{path}.{key}", lo=lo, hi=hi)

    def layers(
        self, value: object, path: str, comp: Comp | None
    ) -> tuple[Layer, ...] | None:
        if not isinstance(value, list):
            self.error(path, f"expected a list of layers, got {_type_name(value)}")
            return None
        layers: list[Layer | None] = [
            self.layer(item, f"{path}[{i}]", comp) for i, item in enumerate(value)
        ]
        ids = [
            item.get("id")
            if isinstance(item, dict) and isinstance(item.get("id"), str)
            else None
            for item in value
        ]
        seen: dict[str, int] = {}
        for i, layer_id in enumerate(ids):
            if layer_id is None:
                continue
            if layer_id in seen:
                self.error(
                    f"{path}[{i}].id",
                    f"{_quote(layer_id)} is already the id of "
                    f"{path}[{seen[layer_id]}]; layer ids must be unique",
                )
            else:
                seen[layer_id] = i
        self._check_mattes(value, path, ids)
        if any(layer is None for layer in layers):
            return None
        return tuple(layer for layer in layers if layer is not None)

    def _check_mattes(self, value: list[Any], path: str, ids: list[str | None]) -> None:
        errors_before = self.error_count
        known = list(dict.fromkeys(layer_id for layer_id in ids if layer_id))
        targets: dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(
                item.get("track_matte"), dict
            ):
                continue
            target = item["track_matte"].get("layer")
            if not isinstance(target, str):
                continue
            mpath = f"{path}[{i}].track_matte.layer"
            if target not in known:
                self.error(
                    mpath,
                    f"no layer with id {_quote(target)}; ids are: {_join(known)}",
                )
            elif target == ids[i]:
                self.error(mpath, "a layer cannot be its own track matte")
            else:
                owner = ids[i]
                if owner is not None:
                    targets[owner] = target
        if self.error_count == errors_before:
            self._check_matte_switches(value, path, ids, set(targets.values()))
        reported: set[str] = set()
        for i, layer_id in enumerate(ids):
            if layer_id is None or layer_id in reported:
                continue
            chain = [layer_id]
            current = layer_id
            while current in targets:
                current = targets[current]
                if current in chain:
                    cycle = [*chain[chain.index(current) :], current]
                    reported.update(cycle)
                    self.error(
                        f"{path}[{i}].track_matte.layer",
                        f"track mattes form a cycle: {' -> '.join(cycle)}",
                    )
                    break
                chain.append(current)

    def _check_matte_switches(
        self, value: list[Any], path: str, ids: list[str | None], mattes: set[str]
    ) -> None:
        """Warn where a spec expects a matte layer to render, or not to be one."""
        for i, item in enumerate(value):
            if not isinstance(item, dict) or ids[i] is None:
                continue
            if ids[i] in mattes and item.get("enabled") is True:
                self.warn(
                    f"{path}[{i}].enabled",
                    f"layer '{ids[i]}' is another layer's track matte: its video is "
                    "switched off in After Effects (and the preview never draws it), "
                    "whatever enabled says",
                )
            elif ids[i] not in mattes and item.get("role") == Role.MATTE.value:
                self.warn(
                    f"{path}[{i}].role",
                    f"layer '{ids[i]}' has role 'matte' but no layer uses it as its "
                    "track_matte, so it renders as an ordinary layer",
                )

    def layer(self, value: object, path: str, comp: Comp | None) -> Layer | None:
        allowed = tuple(f.name for f in fields(Layer))
        data = self.obj(value, path, allowed, ("id", "source"))
        if data is None:
            return None
        layer_id = None
        if "id" in data:
            layer_id = self.identifier(data["id"], f"{path}.id")
        name = self.optional_text(data.get("name"), f"{path}.name")
        source = (
            self.source(data["source"], f"{path}.source", comp)
            if "source" in data
            else None
        )
        role = self.choice(data.get("role", "element"), f"{path}.role", Role)
        blend = self.choice(data.get("blend", "normal"), f"{path}.blend", BlendMode)
        opacity = self.number(data.get("opacity", 100), f"{path}.opacity", lo=0, hi=100)
        enabled = self.boolean(data.get("enabled", True), f"{path}.enabled")
        default_guide = data.get("role") == Role.GUIDE.value
        guide = self.boolean(data.get("guide", default_guide), f"{path}.guide")
        three_d = self.boolean(data.get("three_d", False), f"{path}.three_d")
        start = (
            None
            if data.get("start") is None
            else self.integer(data["start"], f"{path}.start", what="a frame number")
        )
        in_frame = (
            None
            if data.get("in_frame") is None
            else self.integer(
                data["in_frame"], f"{path}.in_frame", what="a frame number"
            )
        )
        out_frame = (
            None
            if data.get("out_frame") is None
            else self.integer(
                data["out_frame"], f"{path}.out_frame", what="a frame number"
            )
        )
        stretch = self.number(
            data.get("stretch", 100),
            f"{path}.stretch",
            lo=-_MAX_STRETCH,
            hi=_MAX_STRETCH,
            nonzero=True,
        )
        track_matte = None
        if data.get("track_matte") is not None:
            track_matte = self.track_matte(data["track_matte"], f"{path}.track_matte")
        is_3d = bool(three_d)
        transform = self.transform(
            data.get("transform", {}), f"{path}.transform", comp, is_3d
        )
        comment = self.text(data.get("comment", ""), f"{path}.comment")
        light = self.choice(
            data.get("light_under_alpha", "drop"),
            f"{path}.light_under_alpha",
            LightUnderAlpha,
        )
        if light is LightUnderAlpha.ADD and blend not in (None, BlendMode.NORMAL):
            self.error(
                f"{path}.light_under_alpha",
                f"'add' is not allowed with blend '{blend}'; allowed: 'add' with "
                "blend 'normal' only (the layer becomes a cut-out and an additive "
                "copy, which together are 'over'), else 'drop'",
            )
            light = None
        provenance = None
        layer_start = (
            start if start is not None else (comp.start_frame if comp else None)
        )
        if data.get("provenance") is not None:
            provenance = self.provenance(
                data["provenance"], f"{path}.provenance", comp, layer_start
            )
        if (
            transform is not None
            and transform.opacity is not None
            and data.get("opacity", 100) != 100
        ):
            self.error(
                f"{path}.opacity",
                "set either opacity or transform.opacity, not both",
            )
            opacity = None
        self._check_timing(path, comp, source, start, in_frame, out_frame, stretch)
        if comp is not None and source is not None:
            self._check_source_fit(path, comp, source)
        required = (
            layer_id,
            source,
            role,
            blend,
            opacity,
            enabled,
            guide,
            three_d,
            stretch,
            transform,
            comment,
            light,
        )
        if any(v is None for v in required) or (
            data.get("track_matte") is not None and track_matte is None
        ):
            return None
        assert layer_id is not None and source is not None and role is not None
        assert blend is not None and opacity is not None and enabled is not None
        assert guide is not None and three_d is not None and stretch is not None
        assert transform is not None and comment is not None and light is not None
        return Layer(
            id=layer_id,
            name=name,
            source=source,
            role=role,
            blend=blend,
            opacity=opacity,
            enabled=enabled,
            guide=guide,
            three_d=three_d,
            start=start,
            in_frame=in_frame,
            out_frame=out_frame,
            stretch=stretch,
            track_matte=track_matte,
            transform=transform,
            comment=comment,
            provenance=provenance,
            light_under_alpha=light,
        )

    def _check_timing(
        self,
        path: str,
        comp: Comp | None,
        source: LayerSource | ExrSequence | None,
        start: int | None,
        in_frame: int | None,
        out_frame: int | None,
        stretch: float | None,
    ) -> None:
        if comp is None:
            return
        first = comp.start_frame if start is None else start
        self._check_layer_times(path, comp, source, start, in_frame, out_frame, stretch)
        shown_in: int | None = first if in_frame is None else in_frame
        if in_frame is None and stretch is not None and stretch < 0:
            # A reversed layer ends at its start: it comes in one (stretched) footage
            # length earlier, unknown until the source is converted.
            shown_in = (
                shown_frames(*footage_span(first, source.frame_count, stretch))[0]
                if isinstance(source, ExrSequence)
                else None
            )
        if isinstance(source, ExrSequence) and stretch is not None and stretch != 0:
            for problem in footage_problems(
                path,
                start=first,
                in_frame=in_frame,
                out_frame=out_frame,
                stretch=stretch,
                frame_count=source.frame_count,
            ):
                self.error(problem.path, problem.message)
        elif (
            in_frame is not None
            and stretch is not None
            and stretch > 0
            and in_frame < first
        ):
            self.error(
                f"{path}.in_frame",
                f"{in_frame} is before the layer's start {first} (its source frame 0); "
                f"allowed: {first} or later",
            )
        if shown_in is not None and out_frame is not None and out_frame <= shown_in:
            self.error(
                f"{path}.out_frame",
                f"{out_frame} is not after the in frame {shown_in}; allowed: "
                f"{shown_in + 1} or later (out_frame is exclusive)",
            )
            return
        if shown_in is not None and shown_in > comp.last_frame:
            self.error(
                f"{path}.in_frame" if in_frame is not None else f"{path}.start",
                f"frame {shown_in} is after the comp's last frame {comp.last_frame}; "
                "the layer would never be seen",
            )
        if out_frame is not None and out_frame <= comp.start_frame:
            self.error(
                f"{path}.out_frame",
                f"{out_frame} is not after the comp's first frame {comp.start_frame}; "
                "the layer would never be seen",
            )

    def _check_layer_times(
        self,
        path: str,
        comp: Comp,
        source: LayerSource | ExrSequence | None,
        start: int | None,
        in_frame: int | None,
        out_frame: int | None,
        stretch: float | None,
    ) -> None:
        """After Effects keeps a layer's start, in and out points within 10800 s of
        the comp's start (scripting guide, Layer.startTime, .inPoint, .outPoint)."""
        first = comp.start_frame if start is None else start
        frames: list[tuple[str, Fraction]] = [
            ("start", Fraction(first)),
        ]
        if isinstance(source, ExrSequence) and stretch:
            bounds = layer_bounds(
                start=first,
                frame_count=source.frame_count,
                stretch=stretch,
                in_frame=in_frame,
                out_frame=out_frame,
            )
            frames += [("in_frame", bounds[0]), ("out_frame", bounds[1])]
        else:
            frames += [
                (key, Fraction(value))
                for key, value in (("in_frame", in_frame), ("out_frame", out_frame))
                if value is not None
            ]
        for key, frame in frames:
            seconds = (frame - comp.start_frame) / comp.rate
            if abs(seconds) > _MAX_SECONDS:
                limit = math.floor(_MAX_SECONDS * comp.rate)
                lo, hi = comp.start_frame - limit, comp.start_frame + limit
                self.error(
                    f"{path}.{key}",
                    f"frame {_num_text(float(frame))} is {float(seconds):.6g} s from "
                    f"the comp's first frame; allowed: within {_MAX_SECONDS} s of it "
                    f"(frames {lo} to {hi}), as After Effects keeps layer times",
                )

    def _check_source_fit(
        self, path: str, comp: Comp, source: LayerSource | ExrSequence
    ) -> None:
        rate = source.rate
        if rate is not None and rate != comp.rate:
            message = (
                f"{format_rate(rate)} fps differs from the comp's "
                f"{format_rate(comp.rate)} fps"
            )
            if self.rate_policy == "refuse":
                self.error(
                    f"{path}.source.rate",
                    f"{message}; conform it or build with rate_policy 'conform'",
                )
            else:
                self.warn(
                    f"{path}.source.rate",
                    f"{message}; After Effects conforms it to {format_rate(comp.rate)} "
                    "fps (frame for frame, so its duration changes)",
                )
        if isinstance(source, ExrSequence) and (source.width, source.height) != (
            comp.width,
            comp.height,
        ):
            self.warn(
                f"{path}.source",
                f"{source.width}x{source.height} differs from the comp's "
                f"{comp.width}x{comp.height}; the layer is placed by its transform "
                "(centred by default)",
            )

    def source(
        self, value: object, path: str, comp: Comp | None
    ) -> LayerSource | ExrSequence | None:
        if isinstance(value, str):
            value = {"path": value}
        if isinstance(value, dict) and "folder" in value:
            return self.exr_sequence(value, path)
        allowed = tuple(f.name for f in fields(LayerSource))
        data = self.obj(value, path, allowed, ("path",))
        if data is None or "path" not in data:
            return None
        src = self.text(data["path"], f"{path}.path", nonempty=True)
        if src is not None:
            self.path_exists(src, f"{path}.path", what="source")
        alpha = self.choice(data.get("alpha", "auto"), f"{path}.alpha", AlphaMode)
        matte = self.optional_text(data.get("matte"), f"{path}.matte")
        if matte is not None:
            self.path_exists(matte, f"{path}.matte", what="matte")
        colorspace = self.optional_text(data.get("colorspace"), f"{path}.colorspace")
        rate = (
            None
            if data.get("rate") is None
            else self.rate(data["rate"], f"{path}.rate")
        )
        vfr = self.choice(data.get("vfr", "refuse"), f"{path}.vfr", VfrPolicy)
        pixel_aspect = (
            None
            if data.get("pixel_aspect") is None
            else self.fraction(data["pixel_aspect"], f"{path}.pixel_aspect")
        )
        if matte is not None and alpha not in (
            None,
            AlphaMode.AUTO,
            AlphaMode.STRAIGHT,
        ):
            self.error(
                f"{path}.alpha",
                f"'{alpha}' is not allowed with a matte; allowed: auto, straight (the "
                "matte becomes the alpha and the colour is treated as straight)",
            )
            return None
        if src is None or alpha is None or vfr is None:
            return None
        if data.get("rate") is not None and rate is None:
            return None
        if data.get("pixel_aspect") is not None and pixel_aspect is None:
            return None
        return LayerSource(
            path=src,
            alpha=alpha,
            matte=matte,
            colorspace=colorspace,
            rate=rate,
            vfr=vfr,
            pixel_aspect=pixel_aspect,
        )

    def exr_sequence(self, value: dict[str, Any], path: str) -> ExrSequence | None:
        allowed = tuple(f.name for f in fields(ExrSequence))
        required = ("folder", "name", "first", "last", "rate", "width", "height")
        data = self.obj(value, path, allowed, required)
        if data is None or any(key not in data for key in required):
            return None
        folder = self.text(data["folder"], f"{path}.folder", nonempty=True)
        name = self.text(data["name"], f"{path}.name", nonempty=True)
        first = self.integer(data["first"], f"{path}.first", lo=0)
        last = self.integer(data["last"], f"{path}.last", lo=0)
        padding = self.integer(data.get("padding", 4), f"{path}.padding", lo=1, hi=10)
        rate = self.rate(data["rate"], f"{path}.rate")
        width = self.integer(data["width"], f"{path}.width", lo=1, hi=_MAX_SIZE)
        height = self.integer(data["height"], f"{path}.height", lo=1, hi=_MAX_SIZE)
        pixel_aspect = self.fraction(
            data.get("pixel_aspect", 1), f"{path}.pixel_aspect"
        )
        colorspace = self.text(
            data.get("colorspace", "Linear Rec.709 (sRGB)"),
            f"{path}.colorspace",
            nonempty=True,
        )
        if first is not None and last is not None and last < first:
            self.error(
                f"{path}.last",
                f"{last} is before first {first}; allowed: {first} or later",
            )
            return None
        values = (
            folder,
            name,
            first,
            last,
            padding,
            rate,
            width,
            height,
            pixel_aspect,
            colorspace,
        )
        if any(v is None for v in values):
            return None
        assert folder is not None and name is not None and first is not None
        assert last is not None and padding is not None and rate is not None
        assert width is not None and height is not None and pixel_aspect is not None
        assert colorspace is not None
        seq = ExrSequence(
            folder=folder,
            name=name,
            first=first,
            last=last,
            padding=padding,
            rate=rate,
            width=width,
            height=height,
            pixel_aspect=pixel_aspect,
            colorspace=colorspace,
        )
        if self.check_files:
            base = self.base_dir / folder
            missing = [
                f
                for f in range(first, last + 1)
                if not (base / seq.frame_name(f)).is_file()
            ]
            if missing:
                from .sequence import format_frame_ranges

                self.error(
                    f"{path}.folder",
                    f"frames {format_frame_ranges(missing)} of "
                    f"{name}.{'#' * padding}.exr are missing in {base.as_posix()}",
                )
        return seq

    def track_matte(self, value: object, path: str) -> TrackMatte | None:
        data = self.obj(value, path, ("layer", "type"), ("layer",))
        if data is None or "layer" not in data:
            return None
        layer = self.text(data["layer"], f"{path}.layer", nonempty=True)
        matte_type = self.choice(data.get("type", "alpha"), f"{path}.type", MatteType)
        if layer is None or matte_type is None:
            return None
        return TrackMatte(layer=layer, type=matte_type)

    def transform(
        self, value: object, path: str, comp: Comp | None, three_d: bool
    ) -> Transform | None:
        data = self.obj(
            value, path, ("anchor", "position", "scale", "rotation", "opacity")
        )
        if data is None:
            return None
        sizes = (2, 3) if three_d else (2,)
        parts: dict[str, AnimatableValue | None] = {}
        ok = True
        specs: dict[str, tuple[Sequence[int] | None, float | None, float | None]] = {
            "anchor": (sizes, None, None),
            "position": (sizes, None, None),
            "scale": (sizes, None, None),
            "rotation": (None, None, None),
            "opacity": (None, 0.0, 100.0),
        }
        for key, (vsizes, lo, hi) in specs.items():
            if data.get(key) is None:
                parts[key] = None
                continue
            parts[key] = self.animatable(
                data[key], f"{path}.{key}", sizes=vsizes, comp=comp, lo=lo, hi=hi
            )
            ok = ok and parts[key] is not None
        if not ok:
            return None
        return Transform(**parts)

    def camera(self, value: object, path: str, comp: Comp | None) -> Camera | None:
        allowed = tuple(f.name for f in fields(Camera))
        data = self.obj(value, path, allowed)
        if data is None:
            return None
        name = self.text(data.get("name", "Camera"), f"{path}.name", nonempty=True)
        focal = self.number(
            data.get("focal_length_mm", 50.0),
            f"{path}.focal_length_mm",
            lo=1.0,
            hi=10000.0,
        )
        film = self.number(
            data.get("film_width_mm", 36.0), f"{path}.film_width_mm", lo=1.0, hi=1000.0
        )
        position = None
        poi = None
        if data.get("position") is not None:
            position = self.vector(data["position"], f"{path}.position", (3,))
        if data.get("point_of_interest") is not None:
            poi = self.vector(
                data["point_of_interest"], f"{path}.point_of_interest", (3,)
            )
        moves_data = data.get("moves", [])
        moves: list[CameraMove] = []
        ok = True
        if not isinstance(moves_data, list):
            self.error(
                f"{path}.moves",
                f"expected a list of moves, got {_type_name(moves_data)}",
            )
            ok = False
        else:
            for i, item in enumerate(moves_data):
                move = self.move(item, f"{path}.moves[{i}]", comp)
                if move is None:
                    ok = False
                else:
                    moves.append(move)
        if position is not None and poi is not None and position == poi:
            self.error(
                f"{path}.point_of_interest", "must differ from the camera position"
            )
            ok = False
        if name is None or focal is None or film is None or not ok:
            return None
        if data.get("position") is not None and position is None:
            return None
        if data.get("point_of_interest") is not None and poi is None:
            return None
        return Camera(
            name=name,
            focal_length_mm=focal,
            film_width_mm=film,
            position=None
            if position is None
            else (position[0], position[1], position[2]),
            point_of_interest=None if poi is None else (poi[0], poi[1], poi[2]),
            moves=tuple(moves),
        )

    def move(self, value: object, path: str, comp: Comp | None) -> CameraMove | None:
        data = self.obj(
            value,
            path,
            ("kind", "start", "end", "amount", "easing"),
            ("kind", "start", "end", "amount"),
        )
        if data is None or any(
            k not in data for k in ("kind", "start", "end", "amount")
        ):
            return None
        kind = self.choice(data["kind"], f"{path}.kind", MoveKind)
        start = self.frame(data["start"], f"{path}.start", comp)
        end = self.frame(data["end"], f"{path}.end", comp)
        if kind is MoveKind.ZOOM:
            amount = self.number(
                data["amount"], f"{path}.amount", lo=0.0, lo_open=True, hi=100.0
            )
        else:
            amount = self.number(data["amount"], f"{path}.amount")
        easing = self.easing(data.get("easing", "linear"), f"{path}.easing", move=True)
        if start is not None and end is not None and end <= start:
            self.error(
                f"{path}.end",
                f"{end} is not after start {start}; allowed: {start + 1} or later",
            )
            return None
        if isinstance(easing, CustomEase) and easing.ease_in and easing.ease_out:
            total = easing.ease_in.influence + easing.ease_out.influence
            if total > 100.0 + 1e-9:
                self.error(
                    f"{path}.easing",
                    f"in influence plus out influence is {_num_text(total)}; "
                    "allowed: at most 100",
                )
                return None
        if (
            kind is None
            or start is None
            or end is None
            or amount is None
            or easing is None
        ):
            return None
        return CameraMove(kind=kind, start=start, end=end, amount=amount, easing=easing)

    def markers(
        self, value: object, path: str, comp: Comp | None
    ) -> tuple[Marker, ...] | None:
        if not isinstance(value, list):
            self.error(path, f"expected a list of markers, got {_type_name(value)}")
            return None
        markers = [
            self.marker(item, f"{path}[{i}]", comp) for i, item in enumerate(value)
        ]
        if any(m is None for m in markers):
            return None
        return tuple(m for m in markers if m is not None)

    def marker(self, value: object, path: str, comp: Comp | None) -> Marker | None:
        allowed = tuple(f.name for f in fields(Marker))
        data = self.obj(value, path, allowed, ("frame",))
        if data is None or "frame" not in data:
            return None
        frame = self.frame(data["frame"], f"{path}.frame", comp)
        name = self.text(data.get("name", ""), f"{path}.name")
        comment = self.text(data.get("comment", ""), f"{path}.comment")
        duration = self.integer(data.get("duration", 0), f"{path}.duration", lo=0)
        params = self.string_pairs(data.get("parameters", {}), f"{path}.parameters")
        kind = self.choice(data.get("kind", "note"), f"{path}.kind", MarkerKind)
        label = None
        if data.get("label") is not None:
            label = self.integer(data["label"], f"{path}.label", lo=0, hi=16)
            if label is None:
                return None
        if (
            comp is not None
            and frame is not None
            and duration is not None
            and frame + duration > comp.end_frame
        ):
            self.error(
                f"{path}.duration",
                f"{duration} frames from frame {frame} runs past the comp's last "
                f"frame {comp.last_frame}; allowed: 0 to {comp.end_frame - frame}",
            )
            return None
        values = (frame, name, comment, duration, params, kind)
        if any(v is None for v in values):
            return None
        assert frame is not None and name is not None and comment is not None
        assert duration is not None and params is not None and kind is not None
        return Marker(
            frame=frame,
            name=name,
            comment=comment,
            duration=duration,
            parameters=params,
            kind=kind,
            label=label,
        )

    def string_pairs(
        self, value: object, path: str
    ) -> tuple[tuple[str, str], ...] | None:
        if not isinstance(value, dict):
            self.error(
                path, f"expected an object of text values, got {_type_name(value)}"
            )
            return None
        pairs: list[tuple[str, str]] = []
        ok = True
        for key, item in value.items():
            if isinstance(item, str):
                pairs.append((key, item))
            elif isinstance(item, (int, float, bool)) or item is None:
                # Numbers and flags are kept as their JSON text: AE stores strings only.
                pairs.append((key, json.dumps(item)))
            else:
                self.error(
                    _child(path, key),
                    f"expected text or a number, got {_type_name(item)}",
                )
                ok = False
        return tuple(sorted(pairs)) if ok else None

    def style(self, value: object, path: str) -> Style | None:
        data = self.obj(value, path, ("id", "name"), ("id",))
        if data is None or "id" not in data:
            return None
        style_id = self.text(data["id"], f"{path}.id", nonempty=True)
        name = self.text(data.get("name", ""), f"{path}.name")
        if style_id is None or name is None:
            return None
        return Style(id=style_id, name=name)

    def provenance(
        self, value: object, path: str, comp: Comp | None, origin: int | None
    ) -> Provenance | None:
        allowed = tuple(f.name for f in fields(Provenance))
        data = self.obj(value, path, allowed)
        if data is None:
            return None
        texts: dict[str, str | None] = {}
        for key in ("generator", "model", "prompt", "negative_prompt", "camera_move"):
            texts[key] = self.optional_text(data.get(key), f"{path}.{key}")
        seed = None
        if data.get("seed") is not None:
            seed = self.integer(data["seed"], f"{path}.seed")
        keys_data = data.get("keyframes", [])
        keys: list[ConditioningKeyframe] = []
        ok = True
        if not isinstance(keys_data, list):
            self.error(
                f"{path}.keyframes", f"expected a list, got {_type_name(keys_data)}"
            )
            ok = False
        else:
            for i, item in enumerate(keys_data):
                ckey = self.conditioning(item, f"{path}.keyframes[{i}]", comp, origin)
                ok = ok and ckey is not None
                if ckey is not None:
                    keys.append(ckey)
        extra = self.string_pairs(data.get("extra", {}), f"{path}.extra")
        if not ok or extra is None or (data.get("seed") is not None and seed is None):
            return None
        return Provenance(
            generator=texts["generator"],
            model=texts["model"],
            prompt=texts["prompt"],
            negative_prompt=texts["negative_prompt"],
            seed=seed,
            keyframes=tuple(keys),
            camera_move=texts["camera_move"],
            extra=extra,
        )

    def conditioning(
        self, value: object, path: str, comp: Comp | None, origin: int | None
    ) -> ConditioningKeyframe | None:
        data = self.obj(
            value, path, ("frame", "image", "prompt", "strength"), ("frame",)
        )
        if data is None or "frame" not in data:
            return None
        frame = self.integer(
            data["frame"], f"{path}.frame", lo=0, what="a frame number"
        )
        if frame is not None and comp is not None and origin is not None:
            landing = origin + frame
            if not comp.start_frame <= landing <= comp.last_frame:
                self.error(
                    f"{path}.frame",
                    f"source frame {frame} lands on comp frame {landing}, outside the "
                    f"comp ({comp.start_frame} to {comp.last_frame})",
                )
                frame = None
        image = self.optional_text(data.get("image"), f"{path}.image")
        if image is not None:
            self.path_exists(image, f"{path}.image", what="keyframe image")
        prompt = self.optional_text(data.get("prompt"), f"{path}.prompt")
        strength = None
        if data.get("strength") is not None:
            strength = self.number(data["strength"], f"{path}.strength")
            if strength is None:
                return None
        if frame is None:
            return None
        return ConditioningKeyframe(
            frame=frame, image=image, prompt=prompt, strength=strength
        )


def footage_problems(
    path: str,
    *,
    start: int,
    in_frame: int | None,
    out_frame: int | None,
    stretch: float,
    frame_count: int,
) -> list[Problem]:
    """Problems with a layer's in and out frames against the footage it shows.

    After Effects cannot trim a footage layer beyond its footage: an in frame at or
    past its end (or an out frame past it) would abort the build script.

    Args:
        path: the layer's spec path (``layers[2]``).
        start: the layer's start frame.
        in_frame: its in frame, or None for the footage's first frame.
        out_frame: its exclusive out frame, or None for the footage's end.
        stretch: its time stretch in percent (not 0).
        frame_count: frames in its source.

    Returns:
        One problem per offending field (empty when the trim fits the footage).
    """
    lo, hi = shown_frames(*footage_span(start, frame_count, stretch))
    shown = (
        f"{frame_count} frames played backwards, ending at frame {start}"
        if stretch < 0
        else f"{frame_count} frames from frame {start}"
    )
    problems: list[Problem] = []
    if in_frame is not None and not lo <= in_frame < hi:
        problems.append(
            Problem(
                path=f"{path}.in_frame",
                message=f"{in_frame} is outside the source ({shown}); allowed: "
                f"{lo} to {hi - 1}",
            )
        )
    if out_frame is not None and out_frame > hi:
        problems.append(
            Problem(
                path=f"{path}.out_frame",
                message=f"{out_frame} is past the end of the source ({shown}); "
                f"allowed: up to {hi}",
            )
        )
    return problems


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _range(lo: float | None, hi: float | None, *, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return (
            f"more than {_num_text(lo)} up to {_num_text(hi)}"
            if lo_open
            else f"{_num_text(lo)} to {_num_text(hi)}"
        )
    if lo is not None:
        return f"more than {_num_text(lo)}" if lo_open else f"{_num_text(lo)} or more"
    if hi is not None:
        return f"{_num_text(hi)} or less"
    return "any number"


def _num_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- loading ---------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _read_json(path: Path) -> dict[str, Any]:
    label = path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            [Problem(path="", message="spec file not found")], source=label
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(
            [Problem(path="", message=f"cannot read the spec file: {exc}")],
            source=label,
        ) from exc
    return _parse_json(text, label)


def _parse_json(text: str, label: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise SpecError(
            [
                Problem(
                    path="", message=f"the key '{exc.key}' appears twice in one object"
                )
            ],
            source=label,
        ) from exc
    except json.JSONDecodeError as exc:
        raise SpecError(
            [
                Problem(
                    path="",
                    message=f"not valid JSON: line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}",
                )
            ],
            source=label,
        ) from exc
    if not isinstance(data, dict):
        raise SpecError(
            [
                Problem(
                    path="", message=f"expected a JSON object, got {_type_name(data)}"
                )
            ],
            source=label,
        )
    return data


def _upgrade(data: dict[str, Any], label: str | None) -> dict[str, Any]:
    seen: set[str] = set()
    schema = data.get("schema", _MISSING)
    while isinstance(schema, str) and schema in UPGRADES and schema not in seen:
        seen.add(schema)
        data = UPGRADES[schema](dict(data))
        schema = data.get("schema", _MISSING)
    known = sorted({SCHEMA, *UPGRADES})
    if schema is _MISSING:
        raise SpecError(
            [Problem(path="schema", message=f"missing; expected '{SCHEMA}'")],
            source=label,
        )
    if schema != SCHEMA:
        raise SpecError(
            [
                Problem(
                    path="schema",
                    message=f"{_quote(schema)} is not a comp spec label this "
                    f"version of aebridge reads; known labels: {_join(known)}",
                )
            ],
            source=label,
        )
    return data


def _check(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None,
    rate_policy: str,
    check_files: bool,
) -> tuple[CompSpec | None, tuple[Problem, ...], str | None]:
    if rate_policy not in RATE_POLICIES:
        raise OptionError("rate_policy", rate_policy, RATE_POLICIES)
    label: str | None
    if isinstance(source, Mapping):
        data = json.loads(json.dumps(source, default=_json_default))
        label = None
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        path = Path(source)
        label = path.as_posix()
        data = _read_json(path)
        base = Path(base_dir) if base_dir is not None else path.resolve().parent
    data = _upgrade(data, label)
    reader = _Reader(base, check_files=check_files, rate_policy=rate_policy)
    spec = reader.spec(data)
    return spec, tuple(reader.problems), label


def _json_default(value: object) -> object:
    if isinstance(value, Fraction):
        return format_rate(value)
    raise TypeError(f"not JSON data: {value!r}")


def load_spec(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    rate_policy: str = "conform",
    check_files: bool = True,
    warn: Callable[[Problem], None] | None = None,
) -> CompSpec:
    """Load and validate a comp spec.

    Args:
        source: a spec file path, or the spec as a mapping (e.g. parsed JSON).
        base_dir: the folder relative paths are resolved against; default the spec
            file's folder (or the current folder for a mapping).
        rate_policy: ``conform`` (a layer rate that differs from the comp's is a
            warning; After Effects conforms it) or ``refuse`` (it is an error).
        check_files: check that every source, matte and keyframe image exists.
        warn: called with each warning (a :class:`Problem` with severity "warning").

    Returns:
        The validated spec; paths stay as written (see :func:`resolve_paths`).

    Raises:
        SpecError: the file cannot be read or parsed, has an unknown schema label, or
            has problems; ``problems`` lists every error and warning with its path.
        OptionError: ``rate_policy`` is not one of ``conform``, ``refuse``.
    """
    spec, problems, label = _check(
        source, base_dir=base_dir, rate_policy=rate_policy, check_files=check_files
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors or spec is None:
        raise SpecError(problems, source=label)
    if warn is not None:
        for problem in problems:
            warn(problem)
    return spec


def validate(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    rate_policy: str = "conform",
    check_files: bool = True,
) -> tuple[Problem, ...]:
    """Every problem of a comp spec, errors and warnings, without raising for them.

    Args:
        source: a spec file path or the spec as a mapping.
        base_dir: see :func:`load_spec`.
        rate_policy: see :func:`load_spec`.
        check_files: see :func:`load_spec`.

    Returns:
        The problems in spec order; empty when the spec is clean.

    Raises:
        OptionError: ``rate_policy`` is not allowed.
    """
    try:
        _spec, problems, _label = _check(
            source, base_dir=base_dir, rate_policy=rate_policy, check_files=check_files
        )
    except SpecError as exc:
        return exc.problems
    return problems


# -- writing ---------------------------------------------------------------------------


def _plain(value: object) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Fraction):
        return format_rate(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        # Whole numbers are written as integers so files read naturally; loading turns
        # them back into the same float, so the round trip is exact.
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot write {value!r} into a spec")


def _easing_dict(easing: Easing) -> Any:
    if isinstance(easing, Ease):
        return easing.value
    out: dict[str, Any] = {}
    for side, handle in (("in", easing.ease_in), ("out", easing.ease_out)):
        if handle is not None:
            out[side] = {
                "speed": _plain(handle.speed),
                "influence": _plain(handle.influence),
            }
    return out


def _animatable_dict(value: AnimatableValue) -> Any:
    if not value.keyframes:
        return _plain(value.value)
    return {
        "keyframes": [
            {
                "frame": k.frame,
                "value": _plain(k.value),
                "easing": _easing_dict(k.easing),
            }
            for k in value.keyframes
        ]
    }


def _object_dict(obj: Any, *, human: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None or (human and _reads_back_by_default(obj, f, value)):
            continue
        if isinstance(value, (Ease, CustomEase)) and f.name == "easing":
            out[f.name] = _easing_dict(value)
        elif isinstance(value, AnimatableValue):
            out[f.name] = _animatable_dict(value)
        elif f.name in ("parameters", "extra"):
            out[f.name] = dict(value)
        elif (
            isinstance(value, tuple)
            and value
            and hasattr(value[0], "__dataclass_fields__")
        ):
            out[f.name] = [_object_dict(item, human=human) for item in value]
        elif hasattr(value, "__dataclass_fields__"):
            out[f.name] = _object_dict(value, human=human)
        else:
            out[f.name] = _plain(value)
    return out


# Fields a person looks for first, written even when they hold the default.
_ALWAYS_WRITTEN = {
    (CompSpec, "schema"),
    (Comp, "start_frame"),
    (Layer, "role"),
    (LayerSource, "alpha"),
}


def _reads_back_by_default(obj: Any, f: Field[Any], value: object) -> bool:
    """Whether leaving the field out reads back as ``value`` (so it can be omitted)."""
    if (type(obj), f.name) in _ALWAYS_WRITTEN:
        return False
    if isinstance(obj, Layer) and f.name == "guide":
        # Loading defaults a layer's guide switch to "its role is guide".
        return value == (obj.role is Role.GUIDE)
    if f.default is not MISSING:
        return bool(value == f.default)
    if f.default_factory is not MISSING:
        return bool(value == f.default_factory())
    return False


_HUMAN_WIDTH = 88


def _human_json(value: Any, indent: str, prefix: str, expand: int) -> str:
    """``value`` as JSON text: on one line when it fits in the width (after
    ``indent`` and ``prefix``), else one item per line; the first ``expand`` levels
    are always broken into lines."""
    flat = json.dumps(
        value, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")
    )
    fits = len(indent) + len(prefix) + len(flat) + 1 <= _HUMAN_WIDTH
    if not isinstance(value, (dict, list)) or not value or (fits and expand <= 0):
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(key, ensure_ascii=False)}: "
            + _human_json(
                item,
                inner,
                json.dumps(key, ensure_ascii=False) + ": ",
                _expand_child(key, expand),
            )
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + _human_json(item, inner, "", expand - 1) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def _expand_child(key: str, expand: int) -> int:
    # The layer list and each layer in it are always broken into lines, so every
    # layer is its own block of one field per line.
    return 2 if key == "layers" and expand > 0 else expand - 1


def format_spec(spec: CompSpec) -> str:
    """Write a spec as JSON for people to read and edit; :func:`load_spec` reads it
    back equal.

    Fields keep the model's order (``schema``, ``comp``, ``layers`` bottom to top,
    ``camera``, ``markers``, ``style``, ``provenance``; within a layer ``id``,
    ``name``, ``source``, ``role`` ...); fields that read back as their default are
    left out (except ``schema``, ``comp.start_frame``, a layer's ``role`` and a
    source's ``alpha``); every layer is a block of one field per line; anything
    shorter than a line stays on one line. Unlike :func:`dump_spec` (sorted keys,
    the form that is hashed), this is the form ``aebridge init`` writes.

    Args:
        spec: a spec.

    Returns:
        The JSON text, ending with a newline.
    """
    return _human_json(_object_dict(spec, human=True), "", "", 1) + "\n"


def save_spec(
    spec: CompSpec, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write :func:`format_spec` text to a file, atomically.

    The text goes to a temporary file in the same folder first; it then takes the
    final name in one step, so a reader never sees half a spec, and (without
    ``overwrite``) an existing file is never replaced, even by a writer racing this
    one.

    Args:
        spec: the spec to write.
        path: the spec file; its folder is created when missing.
        overwrite: replace an existing file.

    Returns:
        The path written.

    Raises:
        OutputError: the file exists (and ``overwrite`` is false) or cannot be
            written.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(
            "the spec file exists already; give --force to overwrite it",
            path=target.as_posix(),
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(format_spec(spec), encoding="utf-8")
        if overwrite:
            os.replace(tmp, target)
        else:
            # A hard link fails when the name is taken, unlike a rename.
            os.link(tmp, target)
    except FileExistsError:
        raise OutputError(
            "the spec file exists already; give --force to overwrite it",
            path=target.as_posix(),
        ) from None
    except OSError as exc:
        raise OutputError(
            f"cannot write the spec: {exc.strerror or exc}", path=target.as_posix()
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def spec_to_dict(spec: CompSpec) -> dict[str, Any]:
    """The spec as JSON-ready data (what :func:`dump_spec` writes).

    Args:
        spec: a spec.

    Returns:
        Plain dicts, lists, strings and numbers; rates as ``"24000/1001"`` text.
    """
    return _object_dict(spec)


def dump_spec(spec: CompSpec) -> str:
    """Write a spec as deterministic JSON that :func:`load_spec` reads back equal.

    Keys are sorted, rates written as ``"24000/1001"``, whole numbers without a
    decimal point, ``None`` fields left out; the text ends with a newline.

    Args:
        spec: a spec.

    Returns:
        The JSON text.
    """
    text = json.dumps(
        spec_to_dict(spec),
        sort_keys=True,
        indent=2,
        ensure_ascii=False,
        allow_nan=False,
    )
    return text + "\n"


def spec_hash(spec: CompSpec) -> str:
    """A stable content hash of a spec: SHA-256 hex of :func:`dump_spec`.

    Args:
        spec: a spec.

    Returns:
        64 hexadecimal digits; equal specs give equal hashes.
    """
    return hashlib.sha256(dump_spec(spec).encode("utf-8")).hexdigest()


def _absolute(path: str, base: Path) -> str:
    return os.path.normpath(base / path).replace(os.sep, "/")


def _resolve_provenance(prov: Provenance | None, base: Path) -> Provenance | None:
    if prov is None:
        return None
    keys = tuple(
        replace(k, image=None if k.image is None else _absolute(k.image, base))
        for k in prov.keyframes
    )
    return replace(prov, keyframes=keys)


def resolve_paths(spec: CompSpec, base_dir: str | os.PathLike[str]) -> CompSpec:
    """Make every path in a spec absolute, relative paths taken from ``base_dir``.

    Args:
        spec: a spec whose paths are as written in its file.
        base_dir: the spec file's folder.

    Returns:
        The spec with absolute sources, mattes, EXR folders and keyframe images.
    """
    base = Path(base_dir).resolve()
    layers: list[Layer] = []
    for layer in spec.layers:
        source: LayerSource | ExrSequence
        if isinstance(layer.source, LayerSource):
            matte = layer.source.matte
            source = replace(
                layer.source,
                path=_absolute(layer.source.path, base),
                matte=None if matte is None else _absolute(matte, base),
            )
        else:
            source = replace(layer.source, folder=_absolute(layer.source.folder, base))
        layers.append(
            replace(
                layer,
                source=source,
                provenance=_resolve_provenance(layer.provenance, base),
            )
        )
    return replace(
        spec,
        layers=tuple(layers),
        provenance=_resolve_provenance(spec.provenance, base),
    )
