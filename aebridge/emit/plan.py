"""The build plan: a comp spec as the one data literal ``jsx/aebridge.jsx`` reads.

The plan (schema ``aebridge.plan/1``, documented field by field in ``jsx/PLAN.md``) is
plain JSON-ready data already in After Effects' units: comp frames plus the exact rate
as two integers, pixels, percent, degrees, and AE enum names as lower-case strings the
library maps through tables written out in full. Nothing here knows an AE call.

Keyframe easing follows After Effects (and :mod:`aebridge.camera`): an eased side is
``bezier`` with speed 0 and influence 33.33 %, a linear side is ``linear`` with the
segment's average speed and influence 16.67 % (what AE reports for a linear key), a
hold leaves with ``hold``. Speeds are property units per second: along the straight
path for spatial properties (anchor, position), per dimension for scale, signed for
one-dimensional properties.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import OptionError, Problem, SpecError
from ..model import (
    AnimatableValue,
    CompSpec,
    CustomEase,
    Ease,
    EaseHandle,
    ExrSequence,
    Keyframe,
    Layer,
    Provenance,
    Value,
)

__all__ = [
    "EASY_INFLUENCE",
    "LINEAR_INFLUENCE",
    "PLAN_SCHEMA",
    "build_plan",
    "default_build_id",
]

#: The plan schema label; the library refuses any other.
PLAN_SCHEMA = "aebridge.plan/1"
#: Influence (percent) of AE's Easy Ease handles.
EASY_INFLUENCE = 100.0 / 3.0
#: Influence (percent) After Effects reports for either side of a linear key.
LINEAR_INFLUENCE = 100.0 / 6.0

#: Decimal places kept for every float so the generated text is deterministic.
_PLACES = 6
_BUILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Transform properties whose AE ease arrays hold one element and whose speed is the
# speed along the spatial path.
_SPATIAL = frozenset({"anchor", "position"})
_TRANSFORM_ORDER = ("anchor", "position", "scale", "rotation", "opacity")

Json = dict[str, Any]


def default_build_id(spec: CompSpec) -> str:
    """A build id that stays the same when the same comp is built again.

    A second run of a newer script for the same comp must find the items the first
    one made, so the id depends on the comp name only, not on the spec's content.

    Args:
        spec: the comp spec.

    Returns:
        ``ab`` followed by 12 hexadecimal digits.
    """
    import hashlib

    digest = hashlib.sha256(("aebridge comp " + spec.comp.name).encode("utf-8"))
    return "ab" + digest.hexdigest()[:12]


def _num(x: float | int | Fraction) -> float | int:
    """A JSON number: ints stay ints, floats are rounded (and -0.0 becomes 0.0)."""
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(x, int):
        return x
    value = round(float(x), _PLACES)
    if not math.isfinite(value):
        raise ValueError(f"{x!r} is not a finite number")
    if value == int(value) and abs(value) < 2**53:
        return int(value)
    return value + 0.0


def _vec(value: Value) -> float | int | list[float | int]:
    if isinstance(value, tuple):
        return [_num(v) for v in value]
    return _num(value)


def _components(value: Value) -> tuple[float, ...]:
    return value if isinstance(value, tuple) else (float(value),)


def _segment_speed(
    a: Keyframe, b: Keyframe, rate: Fraction, spatial: bool
) -> float | list[float]:
    """Average speed from key ``a`` to key ``b`` in units per second."""
    seconds = float(Fraction(b.frame - a.frame) / rate)
    va, vb = _components(a.value), _components(b.value)
    if len(va) != len(vb):
        raise ValueError("keys of one property have different numbers of components")
    deltas = [y - x for x, y in zip(va, vb, strict=True)]
    if seconds <= 0:
        return 0.0 if spatial or len(deltas) == 1 else [0.0] * len(deltas)
    if spatial:
        # hypot: squaring a large finite delta would overflow to infinity.
        return math.hypot(*deltas) / seconds
    if len(deltas) == 1:
        return deltas[0] / seconds
    return [d / seconds for d in deltas]


def _speed_json(speed: float | list[float]) -> float | int | list[float | int]:
    if isinstance(speed, list):
        return [_num(s) for s in speed]
    return _num(speed)


def _side(
    handle: EaseHandle | None, eased: bool, chord: float | list[float]
) -> tuple[str, Json]:
    """(interpolation type, ease) for one side of a key."""
    if handle is not None:
        ease = {"speed": _num(handle.speed), "influence": _num(handle.influence)}
        return "bezier", ease
    if eased:
        return "bezier", {"speed": 0, "influence": _num(EASY_INFLUENCE)}
    return "linear", {"speed": _speed_json(chord), "influence": _num(LINEAR_INFLUENCE)}


def _key_json(keys: Sequence[Keyframe], i: int, rate: Fraction, spatial: bool) -> Json:
    key = keys[i]
    zero: float | list[float] = (
        0.0 if spatial or not isinstance(key.value, tuple) else [0.0] * len(key.value)
    )
    chord_in = _segment_speed(keys[i - 1], key, rate, spatial) if i > 0 else zero
    chord_out = (
        _segment_speed(key, keys[i + 1], rate, spatial) if i + 1 < len(keys) else zero
    )
    easing = key.easing
    if isinstance(easing, CustomEase):
        in_type, ease_in = _side(easing.ease_in, False, chord_in)
        out_type, ease_out = _side(easing.ease_out, False, chord_out)
    else:
        in_type, ease_in = _side(
            None, easing in (Ease.EASE_IN, Ease.EASE_IN_OUT), chord_in
        )
        out_type, ease_out = _side(
            None, easing in (Ease.EASE_OUT, Ease.EASE_IN_OUT), chord_out
        )
        if easing is Ease.HOLD:
            out_type = "hold"
    # A hold on the previous key makes this key's arrival a jump: AE shows it as a
    # hold on the arriving side too.
    if i > 0 and keys[i - 1].easing is Ease.HOLD:
        in_type = "hold"
    return {
        "frame": key.frame,
        "value": _vec(key.value),
        "in_type": in_type,
        "out_type": out_type,
        "ease_in": ease_in,
        "ease_out": ease_out,
    }


def _property(
    value: AnimatableValue, rate: Fraction, spatial: bool, where: str
) -> Json:
    """A plan property: ``{"value": v}`` or ``{"keys": [...]}``."""
    if not value.keyframes:
        if value.value is None:
            raise SpecError([Problem(path=where, message="needs a value or keyframes")])
        return {"value": _vec(value.value)}
    keys = tuple(value.keyframes)
    frames = [k.frame for k in keys]
    if frames != sorted(set(frames)):
        raise SpecError(
            [
                Problem(
                    path=f"{where}.keyframes",
                    message=f"frames must increase with no repeats; got {frames}",
                )
            ]
        )
    out: list[Json] = []
    for i in range(len(keys)):
        try:
            out.append(_key_json(keys, i, rate, spatial))
        except ValueError as exc:
            # Finite values can still give an infinite speed (1e300 in 1/60 s).
            raise SpecError(
                [
                    Problem(
                        path=f"{where}.keyframes[{i}].value",
                        message=f"the speed into or out of this key is too large to "
                        f"express ({exc}); allowed: values that change by less "
                        "than about 1e300 per second",
                    )
                ]
            ) from exc
    return {"keys": out}


def _provenance_lines(prov: Provenance | None) -> list[str]:
    if prov is None:
        return []
    lines: list[str] = []
    fields: list[tuple[str, object]] = [
        ("generator", prov.generator),
        ("model", prov.model),
        ("prompt", prov.prompt),
        ("negative prompt", prov.negative_prompt),
        ("seed", prov.seed),
        ("camera move", prov.camera_move),
    ]
    for label, item in fields:
        if item is not None and item != "":
            lines.append(f"{label}: {item}")
    for key in prov.keyframes:
        parts = [f"frame {key.frame}"]
        if key.image:
            parts.append(f"image {key.image}")
        if key.prompt:
            parts.append(f"prompt {key.prompt}")
        if key.strength is not None:
            parts.append(f"strength {key.strength!r}")
        lines.append("keyframe: " + ", ".join(parts))
    lines.extend(f"{k}: {v}" for k, v in prov.extra)
    return lines


def _join(*blocks: Sequence[str]) -> str:
    return "\n".join(line for block in blocks for line in block)


def _relative(path: str | os.PathLike[str], script_dir: Path, where: str) -> str:
    """``path`` relative to the script's folder, with ``/`` separators."""
    p = Path(path)
    if p.is_absolute():
        try:
            rel = os.path.relpath(p, script_dir)
        except ValueError as exc:  # another drive on Windows
            raise OptionError(
                where, str(path), f"a path on the same drive as {script_dir}"
            ) from exc
    else:
        rel = str(p)
    posix = PurePosixPath(*Path(rel).parts).as_posix() if rel not in ("", ".") else "."
    return posix


def _sequence_for(
    layer: Layer, index: int, layers: Mapping[str, ExrSequence]
) -> ExrSequence:
    if layer.id in layers:
        return layers[layer.id]
    if isinstance(layer.source, ExrSequence):
        return layer.source
    raise SpecError(
        [
            Problem(
                path=f"layers[{index}].source",
                message=(
                    f"layer '{layer.id}' has not been converted: pass its EXR "
                    f"sequence (converted layers given: "
                    f"{', '.join(sorted(layers)) or 'none'})"
                ),
            )
        ]
    )


def _layer_json(
    spec: CompSpec,
    layer: Layer,
    index: int,
    seq: ExrSequence,
    ids: set[str],
) -> Json:
    where = f"layers[{index}]"
    rate = spec.comp.rate
    start = spec.layer_start(layer)
    # Without an explicit in or out frame the layer spans its (stretched) footage.
    # A negative stretch plays the footage backwards and ends at ``start``: AE puts
    # the in point stretch * duration before the start time (so does the preview).
    footage_end = (
        Fraction(start) + Fraction(seq.frame_count) * Fraction(layer.stretch) / 100
    )
    natural_in: Fraction | int = footage_end if layer.stretch < 0 else start
    natural_out: Fraction | int = start if layer.stretch < 0 else footage_end
    in_frame = natural_in if layer.in_frame is None else layer.in_frame
    out_frame = natural_out if layer.out_frame is None else layer.out_frame
    matte: Json | None = None
    if layer.track_matte is not None:
        if layer.track_matte.layer not in ids or layer.track_matte.layer == layer.id:
            raise SpecError(
                [
                    Problem(
                        path=f"{where}.track_matte.layer",
                        message=(
                            f"no other layer with id '{layer.track_matte.layer}'; "
                            f"ids are: {', '.join(sorted(ids))}"
                        ),
                    )
                ]
            )
        matte = {"layer": layer.track_matte.layer, "type": str(layer.track_matte.type)}
    transform: Json = {}
    for name in _TRANSFORM_ORDER:
        value = (
            layer.opacity_value()
            if name == "opacity"
            else getattr(layer.transform, name)
        )
        if value is not None:
            transform[name] = _property(
                value, rate, name in _SPATIAL, f"{where}.transform.{name}"
            )
    comment_lines = [layer.comment] if layer.comment else []
    return {
        "id": layer.id,
        "name": layer.display_name,
        "footage": layer.id,
        "blend": str(layer.blend),
        "enabled": layer.enabled,
        "guide": layer.guide,
        "three_d": layer.three_d,
        "start": start,
        "in_frame": _num(in_frame),
        "out_frame": _num(out_frame),
        "stretch": _num(layer.stretch),
        "matte": matte,
        "transform": transform,
        "comment": _join(
            comment_lines, [f"role: {layer.role}"], _provenance_lines(layer.provenance)
        ),
    }


def _footage_json(
    spec: CompSpec, layer: Layer, seq: ExrSequence, script_dir: Path
) -> Json:
    first_frame = _relative(
        Path(seq.folder) / seq.frame_name(seq.first),
        script_dir,
        f"layers[{layer.id}] sequence folder",
    )
    lines = [
        f"layer: {layer.id}",
        f"frames: {seq.first}-{seq.last} at {seq.rate} fps as converted",
        f"colour space: {seq.colorspace} (premultiplied, scene-linear)",
    ]
    return {
        "id": layer.id,
        "name": seq.name,
        "path": first_frame,
        "first": seq.first,
        "last": seq.last,
        "padding": seq.padding,
        # The comp rate, not the sequence's: the spec conformed mismatches already and
        # a layer must play one EXR frame per comp frame.
        "rate_num": spec.comp.rate.numerator,
        "rate_den": spec.comp.rate.denominator,
        "pixel_aspect": _num(seq.pixel_aspect),
        "comment": _join(lines, _provenance_lines(layer.provenance)),
    }


def _camera_json(spec: CompSpec) -> Json | None:
    if spec.camera is None:
        return None
    from ..camera import PropertyKeys, camera_keys

    keys = camera_keys(spec)

    def prop(p: PropertyKeys) -> Json:
        def value(v: tuple[float, ...]) -> float | int | list[float | int]:
            return _num(v[0]) if len(v) == 1 else [_num(x) for x in v]

        if not p.keys:
            return {"value": value(p.value)}
        return {
            "keys": [
                {
                    "frame": k.frame,
                    "value": value(k.value),
                    "in_type": str(k.in_type),
                    "out_type": str(k.out_type),
                    "ease_in": {
                        "speed": _num(k.in_ease.speed),
                        "influence": _num(k.in_ease.influence),
                    },
                    "ease_out": {
                        "speed": _num(k.out_ease.speed),
                        "influence": _num(k.out_ease.influence),
                    },
                }
                for k in p.keys
            ]
        }

    return {
        "name": keys.name,
        "auto_orient": False,
        "comment": (
            f"focal length {keys.focal_length_mm!r} mm, film width "
            f"{keys.film_width_mm!r} mm"
        ),
        "position": prop(keys.position),
        "point_of_interest": prop(keys.point_of_interest),
        "zoom": prop(keys.zoom),
        "roll": prop(keys.roll),
    }


def build_plan(
    spec: CompSpec,
    layers: Mapping[str, ExrSequence],
    *,
    script_dir: str | os.PathLike[str],
    build_id: str,
    aep: str | os.PathLike[str] | None = None,
    spec_hash: str = "",
    generator: str = "aebridge",
) -> Json:
    """The plan for one comp: everything the ExtendScript library needs, as data.

    Pure: reads no file and needs no After Effects. Layer sequence folders and the
    ``aep`` path may be absolute (made relative to ``script_dir``) or already relative
    to ``script_dir``.

    Args:
        spec: a validated comp spec (conditioning keyframes already expanded with
            :func:`aebridge.model.expand_conditioning` if wanted).
        layers: the converted EXR sequence of each layer, by layer id; a layer whose
            spec source is already an :class:`~aebridge.model.ExrSequence` may be
            left out.
        script_dir: the folder the generated script will be written to.
        build_id: the id stored in every comment the script writes (letters, digits,
            ``_ . -``; see :func:`default_build_id`).
        aep: save the After Effects project here after building, or ``None``.
        spec_hash: the spec's hash, recorded in the plan.
        generator: ``aebridge <version>``, recorded in the plan.

    Returns:
        A JSON-ready dict following ``jsx/PLAN.md``.

    Raises:
        OptionError: ``build_id`` is not allowed, or a path cannot be made relative.
        SpecError: a layer has no converted sequence, a track matte names no other
            layer, keyframes are out of order, or a value is not a finite number.
    """
    if not _BUILD_ID.match(build_id):
        raise OptionError(
            "build_id",
            build_id,
            "1-64 characters: letters, digits, '_', '.', '-' (starting with a "
            "letter or digit)",
        )
    folder = Path(script_dir)
    comp = spec.comp
    ids = {layer.id for layer in spec.layers}
    try:
        footage: list[Json] = []
        plan_layers: list[Json] = []
        for index, layer in enumerate(spec.layers):
            seq = _sequence_for(layer, index, layers)
            footage.append(_footage_json(spec, layer, seq, folder))
            plan_layers.append(_layer_json(spec, layer, index, seq, ids))
        markers = [
            {
                "frame": m.frame,
                "name": m.name,
                "comment": m.comment,
                "duration": m.duration,
                "label": m.label,
                "params": [[k, v] for k, v in m.parameters]
                + [["aebridge_kind", str(m.kind)]],
            }
            for m in spec.markers
        ]
        comp_lines = [f"built by {generator}", f"spec sha256: {spec_hash or '-'}"]
        if spec.style is not None:
            comp_lines.append(f"style: {spec.style.id} {spec.style.name}".rstrip())
        plan: Json = {
            "schema": PLAN_SCHEMA,
            "build_id": build_id,
            "spec_hash": spec_hash,
            "generator": generator,
            "project": {
                "bpc": comp.bpc,
                "linear_blending": comp.linear_blending,
                "working_space": comp.working_space,
            },
            "folder": comp.name,
            "comp": {
                "name": comp.name,
                "width": comp.width,
                "height": comp.height,
                "pixel_aspect": _num(comp.pixel_aspect),
                "rate_num": comp.rate.numerator,
                "rate_den": comp.rate.denominator,
                "duration": comp.duration,
                "start_frame": comp.start_frame,
                "bg": [_num(c) for c in comp.background],
                "comment": _join(comp_lines, _provenance_lines(spec.provenance)),
            },
            "footage": footage,
            "layers": plan_layers,
            "camera": _camera_json(spec),
            "markers": markers,
            "aep": None if aep is None else _relative(aep, folder, "aep"),
        }
    except (ValueError, TypeError) as exc:
        if isinstance(exc, OptionError):
            raise
        raise SpecError(
            [Problem(path="", message=f"cannot express the spec as a plan: {exc}")]
        ) from exc
    return plan
