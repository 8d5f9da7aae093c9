"""The build plan: a comp spec as the one data literal ``jsx/aebridge.jsx`` reads.

The plan (schema ``aebridge.plan/2``, documented field by field in ``jsx/PLAN.md``;
its JSON Schema, ``aebridge/schema/plan-2.schema.json``, is derived by
:mod:`aebridge.emit.plan_schema`) is
plain JSON-ready data already in After Effects' units: comp frames plus the exact rate
as two integers, pixels, percent, degrees, and AE enum names as lower-case strings the
library maps through tables written out in full. Nothing here knows an AE call.

Keys and their eases are :func:`aebridge.animation.keys_from_spec`'s, the same the
preview evaluates: an eased side is ``bezier`` with speed 0 and influence 33.33 %, a
linear side is ``linear`` with the segment's average speed and influence 16.67 % (what
AE reports for a linear key), a hold leaves with ``hold``. Speeds are property units
per second: along the straight path for spatial properties (anchor, position), per
dimension for scale, signed for one-dimensional properties.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

from ..animation import EaseHandle, Key, keys_from_spec, layer_bounds
from ..errors import OptionError, Problem, SpecError
from ..model import (
    DEFAULT_COLORSPACE,
    LIGHT_COPY_BLEND,
    LIGHT_CUTOUT_BLEND,
    LIGHT_SUFFIX,
    AnimatableValue,
    CompSpec,
    ExrSequence,
    Keyframe,
    Layer,
    LightUnderAlpha,
    Provenance,
    Value,
)
from .markers import plan_markers

__all__ = [
    "PLAN_SCHEMA",
    "build_plan",
    "default_build_id",
]

#: The plan schema label; the library refuses any other.
PLAN_SCHEMA = "aebridge.plan/2"

# Colour spaces aebridge writes (and their OCIO aliases) by the primaries of the After
# Effects working space they need; the library holds the profile names for each.
_WORKING_PRIMARIES = {
    "linear rec.709 (srgb)": "rec709",
    "lin_rec709": "rec709",
    "lin_srgb": "rec709",
    "linear": "rec709",
    "acescg": "ap1",
    "lin_ap1": "ap1",
}

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
    one made, so the id depends only on the comp's identity, not on the spec's
    content: its explicit ``id`` when it has one (so renaming the comp keeps its
    items), else its name.

    Args:
        spec: the comp spec.

    Returns:
        ``ab`` followed by 12 hexadecimal digits.
    """
    import hashlib

    comp = spec.comp
    key = (
        "aebridge comp " + comp.name
        if comp.id is None
        else "aebridge comp id " + comp.id
    )
    digest = hashlib.sha256(key.encode("utf-8"))
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


def _ease_json(eases: tuple[EaseHandle, ...], spatial: bool) -> Json:
    """One side's ease for the plan: one speed, or one per dimension."""
    speeds = [_num(e.speed) for e in eases]
    return {
        "speed": speeds[0] if spatial or len(speeds) == 1 else speeds,
        "influence": _num(eases[0].influence),
    }


def _key_json(key: Key, spatial: bool) -> Json:
    value: Value = key.value if len(key.value) > 1 else key.value[0]
    return {
        "frame": int(key.frame),
        "value": _vec(value),
        "in_type": str(key.in_type),
        "out_type": str(key.out_type),
        "ease_in": _ease_json(key.ease_in, spatial),
        "ease_out": _ease_json(key.ease_out, spatial),
    }


def _property(
    value: AnimatableValue, rate: Fraction, spatial: bool, where: str
) -> Json:
    """A plan property: ``{"value": v}`` or ``{"keys": [...]}`` (the model holds the
    keys in increasing frame order)."""
    if not value.keyframes:
        return {"value": _vec(value.first_value())}
    keys = tuple(value.keyframes)
    try:
        evaluable = keys_from_spec(keys, rate, spatial=spatial)
        return {"keys": [_key_json(key, spatial) for key in evaluable]}
    except ValueError as exc:
        # Finite values can still give an infinite speed (1e300 in 1/60 s).
        index = _offending_key(keys, rate, spatial)
        raise SpecError(
            [
                Problem(
                    path=f"{where}.keyframes[{index}].value",
                    message=f"the speed into or out of this key is too large to "
                    f"express ({exc}); allowed: values that change by less "
                    "than about 1e300 per second",
                )
            ]
        ) from exc


def _offending_key(keys: tuple[Keyframe, ...], rate: Fraction, spatial: bool) -> int:
    """The first key whose evaluable form cannot be made (for the error's path)."""
    for i in range(1, len(keys) + 1):
        try:
            keys_from_spec(keys[:i], rate, spatial=spatial)
        except ValueError:
            return i - 2 if i > 1 else 0
    return 0


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
) -> Json:
    where = f"layers[{index}]"
    rate = spec.comp.rate
    start = spec.layer_start(layer)
    # Without an explicit in or out frame the layer spans its (stretched) footage;
    # reversed, it ends at ``start`` (the preview and OTIO use the same bounds).
    in_frame, out_frame = layer_bounds(
        start=start,
        frame_count=seq.frame_count,
        stretch=layer.stretch,
        in_frame=layer.in_frame,
        out_frame=layer.out_frame,
    )
    # The spec holds its mattes: each names another of its layers.
    matte: Json | None = None
    if layer.track_matte is not None:
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
        # One file is a still in After Effects (no rate to conform).
        "still": seq.first == seq.last,
        # The comp rate, not the sequence's: the spec conformed mismatches already and
        # a layer must play one EXR frame per comp frame.
        "rate_num": spec.comp.rate.numerator,
        "rate_den": spec.comp.rate.denominator,
        "pixel_aspect": _num(seq.pixel_aspect),
        "alpha": "premultiplied",
        "comment": _join(lines, _provenance_lines(layer.provenance)),
    }


def _light_copy(footage: Json, layer_json: Json) -> tuple[Json, Json, Json]:
    """A layer that keeps its light under alpha 0 in After Effects.

    AE unpremultiplies premultiplied footage, dropping colour where alpha is 0. The
    layer becomes two: itself blended Silhouette Alpha (the layer's alpha cuts what
    is below: ``below * (1 - a)``) and, just above, a copy of the same frames with
    alpha ignored blended Add (``+ rgb``, premultiplied colour as stored, light
    included). Together their colour is premultiplied 'over' with the light kept, but
    the copy is opaque, so the layer's whole frame becomes opaque (alpha 1); opacity
    and a track matte scale both alike. Returns (light footage, cut-out layer, light
    layer).
    """
    light_id = footage["id"] + LIGHT_SUFFIX
    light_footage = {
        **footage,
        "id": light_id,
        "name": f"{footage['name']} (light)",
        "alpha": "ignore",
        "comment": footage["comment"]
        + "\nthe layer's light under alpha 0, added (alpha ignored)",
    }
    cutout = {**layer_json, "blend": LIGHT_CUTOUT_BLEND.value}
    light = {
        **layer_json,
        "id": light_id,
        "name": f"{layer_json['name']} (light)",
        "footage": light_id,
        "blend": LIGHT_COPY_BLEND.value,
        "comment": layer_json["comment"]
        + "\nlight under alpha 0 kept (light_under_alpha: add)",
    }
    return light_footage, cutout, light


def _camera_json(spec: CompSpec) -> Json | None:
    if spec.camera is None:
        return None
    from ..camera import PropertyKeys, camera_keys

    keys = camera_keys(spec)

    def prop(p: PropertyKeys) -> Json:
        if not p.keys:
            value: Value = p.value[0] if len(p.value) == 1 else p.value
            return {"value": _vec(value)}
        return {"keys": [_key_json(k, True) for k in p.keys]}

    return {
        "name": keys.name,
        # A two-node camera: it looks at its (keyed) point of interest.
        "auto_orient": True,
        "comment": (
            f"focal length {keys.focal_length_mm!r} mm, film width "
            f"{keys.film_width_mm!r} mm"
        ),
        "position": prop(keys.position),
        "point_of_interest": prop(keys.point_of_interest),
        "zoom": prop(keys.zoom),
        "roll": prop(keys.roll),
        # The camera turns only through its point of interest and roll, as the
        # preview's does: Orientation and X/Y Rotation stay at 0.
        "orientation": {"value": [0, 0, 0]},
        "rotation_x": {"value": 0},
        "rotation_y": {"value": 0},
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
        SpecError: a layer has no converted sequence, or a value cannot be expressed
            (a speed too large for a number).
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
    try:
        footage: list[Json] = []
        plan_layers: list[Json] = []
        seqs = [_sequence_for(layer, i, layers) for i, layer in enumerate(spec.layers)]
        # The bottom drawn layer's colour space, as CompSpec.colorspace (the preview's
        # working space) picks it.
        drawn = [
            seq.colorspace
            for layer, seq in zip(spec.layers, seqs, strict=True)
            if spec.draws(layer)
        ]
        colorspace = drawn[0] if drawn else DEFAULT_COLORSPACE
        for index, (layer, seq) in enumerate(zip(spec.layers, seqs, strict=True)):
            item = _footage_json(spec, layer, seq, folder)
            layer_json = _layer_json(spec, layer, index, seq)
            if layer.light_under_alpha is LightUnderAlpha.ADD and spec.draws(layer):
                light_item, cutout, light = _light_copy(item, layer_json)
                footage += [item, light_item]
                plan_layers += [cutout, light]
            else:
                footage.append(item)
                plan_layers.append(layer_json)
        markers = plan_markers(spec.markers)
        comp_lines = [f"built by {generator}", f"spec sha256: {spec_hash or '-'}"]
        if spec.style is not None:
            comp_lines.append(f"style: {spec.style.id} {spec.style.name}".rstrip())
        plan: Json = {
            "schema": PLAN_SCHEMA,
            "build_id": build_id,
            "spec_hash": spec_hash,
            "generator": generator,
            "project": {
                "settings": str(comp.project_settings),
                "bpc": comp.bpc,
                "linear_blending": comp.linear_blending,
                "colorspace": colorspace,
                "primaries": _WORKING_PRIMARIES.get(colorspace.lower()),
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
                # The 3D renderer the preview models.
                "renderer": "classic_3d",
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
