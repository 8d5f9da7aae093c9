"""The build plan's JSON Schema (``aebridge.plan/2``), derived.

The plan's shape is :func:`aebridge.emit.plan.build_plan`'s (documented in
``jsx/PLAN.md``); every value that comes from the spec takes its schema from the
spec models' field rules (:func:`aebridge.spec.schema.field_schema`): the comp's
size, duration, start frame and background, the blend, matte and project-settings
enums, stretch, marker durations and labels, ... So a range added to a spec field
changes the plan schema too. ``python -m aebridge.emit.plan_schema`` rewrites
``aebridge/schema/plan-2.schema.json``; a test fails while it differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..animation import Interpolation
from ..model import (
    LIGHT_SUFFIX,
    Camera,
    Comp,
    ExrSequence,
    Layer,
    Marker,
    TrackMatte,
    Transform,
)
from ..model.rules import Animatable, EasingRule, Ratio
from ..model.table import spec_fields
from ..spec.schema import field_schema, property_value_schema
from .plan import _BUILD_ID, _WORKING_PRIMARIES, PLAN_SCHEMA

__all__ = ["PLAN_SCHEMA_FILE", "main", "plan_schema", "render"]

#: The schema file in the package (shipped in the wheel).
PLAN_SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "plan-2.schema.json"

Json = dict[str, Any]

_TEXT: Json = {"type": "string"}
_NULLABLE_TEXT: Json = {"type": ["string", "null"]}
_WHOLE: Json = {"type": "integer", "minimum": 1}
_FLAG: Json = {"type": "boolean"}


def _spec(cls: type, name: str) -> Json:
    """A spec field's schema as the plan carries it: always present, no default."""
    schema = dict(field_schema(cls, name))
    schema.pop("default", None)
    return schema


def _closed(properties: Json, *, optional: tuple[str, ...] = ()) -> Json:
    """An object with exactly these keys (all present but ``optional``)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in properties if k not in optional],
        "properties": properties,
    }


def _ratio_number(cls: type, name: str) -> Json:
    rule = spec_fields(cls)[name].rule
    assert isinstance(rule, Ratio)
    return {
        "type": "number",
        "minimum": float(rule.lo),
        "maximum": float(rule.hi),
    }


def _property(rule: Animatable | None) -> Json:
    """A plan property: ``{"value": v}`` or ``{"keys": [...]}``."""
    value = property_value_schema(rule)
    easing = EasingRule()
    speed: Json = {"type": "number"}
    ease = {
        "anyOf": [
            _closed(
                {
                    "speed": {"anyOf": [speed, {"type": "array", "items": speed}]},
                    "influence": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": easing.influence.hi,
                    },
                }
            ),
            {"type": "null"},
        ]
    }
    side = {"enum": [i.value for i in Interpolation]}
    key = _closed(
        {
            "frame": {"type": "integer"},
            "value": value,
            "in_type": side,
            "out_type": side,
            "ease_in": ease,
            "ease_out": ease,
        }
    )
    return {
        "oneOf": [
            _closed({"value": value}),
            _closed({"keys": {"type": "array", "items": key, "minItems": 1}}),
        ]
    }


def _transform_property(name: str) -> Json:
    rule = spec_fields(Transform)[name].rule
    assert isinstance(rule, Animatable)
    return _property(rule)


def plan_schema() -> Json:
    """The plan's JSON Schema (draft 2020-12), as the schema file holds it."""
    number: Json = {"type": "number"}
    scalar = _property(Animatable())
    point = _property(Animatable(vector=True))
    project = _closed(
        {
            "settings": _spec(Comp, "project_settings"),
            "bpc": _spec(Comp, "bpc"),
            "linear_blending": _spec(Comp, "linear_blending"),
            "colorspace": _spec(ExrSequence, "colorspace"),
            "primaries": {"enum": [*sorted(set(_WORKING_PRIMARIES.values())), None]},
            "working_space": _spec(Comp, "working_space"),
        }
    )
    comp = _closed(
        {
            "name": _spec(Comp, "name"),
            "width": _spec(Comp, "width"),
            "height": _spec(Comp, "height"),
            "pixel_aspect": _ratio_number(Comp, "pixel_aspect"),
            "rate_num": _WHOLE,
            "rate_den": _WHOLE,
            "duration": _spec(Comp, "duration"),
            "start_frame": _spec(Comp, "start_frame"),
            "bg": _spec(Comp, "background"),
            "renderer": {"const": "classic_3d"},
            "comment": _TEXT,
        }
    )
    footage = _closed(
        {
            "id": {
                "type": "string",
                "description": f"a layer id, or <id>{LIGHT_SUFFIX}",
            },
            "name": _spec(ExrSequence, "name"),
            "path": {"type": "string", "description": "the first frame, relative"},
            "first": _spec(ExrSequence, "first"),
            "last": _spec(ExrSequence, "last"),
            "padding": _spec(ExrSequence, "padding"),
            "still": _FLAG,
            "rate_num": _WHOLE,
            "rate_den": _WHOLE,
            "pixel_aspect": _ratio_number(ExrSequence, "pixel_aspect"),
            "alpha": {"enum": ["premultiplied", "ignore"]},
            "comment": _TEXT,
        }
    )
    matte = {
        "anyOf": [
            _closed(
                {"layer": _spec(TrackMatte, "layer"), "type": _spec(TrackMatte, "type")}
            ),
            {"type": "null"},
        ]
    }
    transform = _closed(
        {name: _transform_property(name) for name in spec_fields(Transform)},
        optional=("anchor", "position", "scale", "rotation"),
    )
    layer = _closed(
        {
            "id": {
                "type": "string",
                "description": f"a layer id, or <id>{LIGHT_SUFFIX}",
            },
            "name": _TEXT,
            "footage": _TEXT,
            "blend": _spec(Layer, "blend"),
            "enabled": _spec(Layer, "enabled"),
            "guide": _spec(Layer, "guide"),
            "three_d": _spec(Layer, "three_d"),
            "start": {"type": "integer"},
            "in_frame": number,
            "out_frame": number,
            "stretch": _spec(Layer, "stretch"),
            "matte": matte,
            "transform": transform,
            "comment": _TEXT,
        }
    )
    camera = _closed(
        {
            "name": _spec(Camera, "name"),
            "auto_orient": {"const": True},
            "comment": _TEXT,
            "position": point,
            "point_of_interest": point,
            "zoom": scalar,
            "roll": scalar,
            "orientation": point,
            "rotation_x": scalar,
            "rotation_y": scalar,
        }
    )
    pair = {"type": "array", "items": _TEXT, "minItems": 2, "maxItems": 2}
    marker = _closed(
        {
            "frame": {"type": "integer"},
            "name": _TEXT,
            "comment": _TEXT,
            "duration": _spec(Marker, "duration"),
            "label": _spec(Marker, "label"),
            "params": {"type": "array", "items": pair},
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://aebridge.dev/schema/plan-2.schema.json",
        "title": f"aebridge build plan ({PLAN_SCHEMA})",
        "description": "The one data literal a generated script hands to "
        "jsx/aebridge.jsx (see jsx/PLAN.md), derived from aebridge's plan writer and "
        "spec models (python -m aebridge.emit.plan_schema).",
        **_closed(
            {
                "schema": {"const": PLAN_SCHEMA},
                "build_id": {"type": "string", "pattern": _BUILD_ID.pattern},
                "spec_hash": _TEXT,
                "generator": _TEXT,
                "project": project,
                "folder": _spec(Comp, "name"),
                "comp": comp,
                "footage": {"type": "array", "items": footage},
                "layers": {"type": "array", "items": layer},
                "camera": {"anyOf": [camera, {"type": "null"}]},
                "markers": {"type": "array", "items": marker},
                "aep": _NULLABLE_TEXT,
            }
        ),
    }


def render() -> str:
    """The schema file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema to the path given (default: the package's schema file)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else PLAN_SCHEMA_FILE
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
