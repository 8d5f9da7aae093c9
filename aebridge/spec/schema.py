"""The comp spec's JSON Schema, derived from the models' field rules.

Nothing here is written by hand about a field: every type, range, enum, pattern,
default, description and required field comes from :mod:`aebridge.model.table`, so
the schema file editors use (``aebridge/schema/comp-1.schema.json``), the service's
OpenAPI schemas (:func:`openapi_schemas`) and the build-plan schema
(:mod:`aebridge.emit.plan_schema`, through :func:`field_schema`) change with the
models. What spans fields (frames inside the comp, ids and mattes across layers,
timing, files) is checked by ``aebridge validate``, not by the schema.

``python -m aebridge.spec.schema`` rewrites the schema file; a test fails while the
file differs from what this module derives.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import MISSING
from pathlib import Path
from typing import Any

from ..animation import Ease
from ..model import SCHEMA, AnimatableValue, CompSpec, Keyframe, LayerSource
from ..model.rules import (
    Animatable,
    Choice,
    Const,
    EasingRule,
    Flag,
    Items,
    Nested,
    Pairs,
    PropertyValue,
    Rate,
    Ratio,
    Real,
    Rule,
    Source,
    Text,
    Vector,
    Whole,
)
from ..model.table import (
    FieldSpec,
    conditions,
    definition_name,
    plain_default,
    spec_fields,
    spec_models,
)
from ..timing import RATIO_TEXT
from ..whitespace import NOT_BLANK

__all__ = [
    "SCHEMA_FILE",
    "comp_spec_schema",
    "field_schema",
    "main",
    "openapi_schemas",
    "property_value_schema",
    "real_schema",
    "render",
    "rule_schema",
]

#: The schema file in the package (shipped in the wheel).
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "comp-1.schema.json"

Json = dict[str, Any]
#: How a model is referred to: its class -> a ``$ref`` target.
Ref = Callable[[type], str]


def _local(cls: type) -> str:
    return f"#/$defs/{definition_name(cls)}"


def real_schema(rule: Real) -> Json:
    """The JSON Schema of a number rule."""
    out: Json = {"type": "number"}
    if rule.lo is not None:
        out["exclusiveMinimum" if rule.lo_open else "minimum"] = _number(rule.lo)
    if rule.hi is not None:
        out["maximum"] = _number(rule.hi)
    if rule.min_abs is not None:
        out["not"] = {
            "exclusiveMinimum": -_number(rule.min_abs),
            "exclusiveMaximum": _number(rule.min_abs),
        }
    return out


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def property_value_schema(rule: Animatable | None) -> Json:
    """A property's value: a number, or a vector of 2 or 3 numbers."""
    number = real_schema(rule.value_rule) if rule is not None else {"type": "number"}
    vector = {"type": "array", "items": number, "minItems": 2, "maxItems": 3}
    if rule is None:
        return {"anyOf": [number, vector]}
    return vector if rule.vector else number


def _easing(rule: EasingRule) -> Json:
    handle: Json = {
        "type": "object",
        "additionalProperties": False,
        "required": ["speed"],
        "properties": {
            "speed": real_schema(rule.speed),
            "influence": {
                **real_schema(rule.influence),
                "default": rule.default_influence,
                "description": "percent of the segment the handle reaches",
            },
        },
    }
    side = {"anyOf": [handle, {"type": "null"}]}
    return {
        "anyOf": [
            {"enum": [e.value for e in Ease]},
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {"in": side, "out": side},
            },
        ]
    }


def rule_schema(rule: Rule, ref: Ref = _local, models: tuple[type, ...] = ()) -> Json:
    """The JSON Schema of one rule (``models``: the spec models the field holds).

    Args:
        rule: a field rule.
        ref: how a spec model is referred to.
        models: for :class:`Nested`, :class:`Items` and :class:`Source` rules, the
            models they hold.

    Returns:
        The schema, without the field's default, description or null.
    """
    out: Json
    if isinstance(rule, Whole):
        if rule.choices:
            return {"enum": list(rule.choices)}
        out = {"type": "integer"}
        if rule.lo is not None:
            out["minimum"] = rule.lo
        if rule.hi is not None:
            out["maximum"] = rule.hi
        return out
    if isinstance(rule, Real):
        return real_schema(rule)
    if isinstance(rule, Flag):
        return {"type": "boolean"}
    if isinstance(rule, Const):
        return {"const": rule.value}
    if isinstance(rule, Text):
        out = {"type": "string"}
        if rule.nonempty:
            out["minLength"] = 1
        if rule.max_length is not None:
            out["maxLength"] = rule.max_length
        if rule.pattern is not None:
            out["pattern"] = rule.pattern
            if rule.nonempty:
                out["allOf"] = [{"pattern": NOT_BLANK}]
        elif rule.nonempty:
            out["pattern"] = NOT_BLANK
        return out
    if isinstance(rule, Choice):
        return {"enum": rule.names}
    if isinstance(rule, Rate):
        number: Json = {"type": "number", "exclusiveMinimum": 0}
        if rule.lo is not None:
            number = {"type": "number", "minimum": rule.lo}
        if rule.hi is not None:
            number["maximum"] = rule.hi
        pair = {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 2,
            "maxItems": 2,
        }
        return {"anyOf": [number, {"type": "string", "pattern": RATIO_TEXT}, pair]}
    if isinstance(rule, Ratio):
        number = {
            "type": "number",
            "minimum": _number(float(rule.lo)),
            "maximum": _number(float(rule.hi)),
        }
        return {"anyOf": [number, {"type": "string", "pattern": RATIO_TEXT}]}
    if isinstance(rule, Vector):
        return {
            "type": "array",
            "items": real_schema(rule.item),
            "minItems": rule.size,
            "maxItems": rule.size,
        }
    if isinstance(rule, PropertyValue):
        return property_value_schema(None)
    if isinstance(rule, Animatable):
        value = property_value_schema(rule)
        key = {"allOf": [{"$ref": ref(Keyframe)}, {"properties": {"value": value}}]}
        keys = {
            "type": "object",
            "additionalProperties": False,
            "required": ["keyframes"],
            "properties": {"keyframes": {"type": "array", "items": key, "minItems": 1}},
        }
        return {"anyOf": [value, keys]}
    if isinstance(rule, EasingRule):
        return _easing(rule)
    if isinstance(rule, Pairs):
        text = {"type": ["string", "number", "boolean", "null"]}
        return {"type": "object", "additionalProperties": text}
    if isinstance(rule, Items):
        return {"type": "array", "items": {"$ref": ref(models[0])}}
    if isinstance(rule, Source):
        # A path alone is shorthand for {"path": ...}: its rule is that field's.
        shorthand = rule_schema(spec_fields(LayerSource)["path"].rule)
        path = {**shorthand, "description": "a source path"}
        return {"anyOf": [path, *({"$ref": ref(m)} for m in models)]}
    if isinstance(rule, Nested):
        return {"$ref": ref(models[0])}
    raise TypeError(f"no schema for {type(rule).__name__}")  # pragma: no cover


def _nullable(schema: Json) -> Json:
    kind = schema.get("type")
    if isinstance(kind, str) and not {"anyOf", "allOf", "enum"} & set(schema):
        return {**schema, "type": [kind, "null"]}
    if "enum" in schema and len(schema) == 1:
        return {"enum": [*schema["enum"], None]}
    return {"anyOf": [schema, {"type": "null"}]}


def _field(spec: FieldSpec, ref: Ref) -> Json:
    out = rule_schema(spec.rule, ref, spec.models)
    if spec.nullable:
        out = _nullable(out)
    if spec.rule.doc:
        out = {**out, "description": spec.rule.doc}
    if spec.default is not MISSING and spec.default is not None:
        out = {**out, "default": plain_default(spec.default)}
    return out


def field_schema(cls: type, name: str, ref: Ref = _local) -> Json:
    """The JSON Schema of one field of a spec model, as the spec schema has it.

    Args:
        cls: a spec model (``Comp``).
        name: one of its fields (``width``).
        ref: how a spec model is referred to.

    Returns:
        The field's schema: type, range, enum, pattern, null, description, default.
    """
    return _field(spec_fields(cls)[name], ref)


def _object(cls: type, ref: Ref) -> Json:
    table = spec_fields(cls)
    out: Json = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: _field(spec, ref) for name, spec in table.items()},
    }
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        out["description"] = " ".join(doc.split())
    required = [name for name, spec in table.items() if spec.required]
    if required:
        out["required"] = required
    rules = [
        {
            "if": {
                "properties": {when.key: {"const": when.equals.value}},
                "required": [when.key],
            },
            "then": {"properties": {when.field: rule_schema(when.rule, ref)}},
        }
        for when in conditions(cls)
    ]
    if rules:
        out["allOf"] = rules
    return out


def _definitions(ref: Ref) -> dict[type, Json]:
    # An AnimatableValue is written as a bare value or {"keyframes": [...]}, so each
    # property has its own schema (rule_schema) rather than a definition.
    return {
        cls: _object(cls, ref)
        for cls in spec_models()
        if cls not in (CompSpec, AnimatableValue)
    }


def comp_spec_schema() -> Json:
    """The comp spec's JSON Schema (draft 2020-12), as the schema file holds it."""
    top = _object(CompSpec, _local)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://aebridge.dev/schema/comp-1.schema.json",
        "title": f"aebridge comp spec ({SCHEMA})",
        **top,
        "description": "Structure of a comp spec, derived from aebridge's spec models "
        "(python -m aebridge.spec.schema); aebridge validate checks more (frames "
        "inside the comp, ids and track mattes across layers, timing, files). See "
        "docs/comp-spec.md.",
        "$defs": {
            definition_name(cls): schema for cls, schema in _definitions(_local).items()
        },
    }


def openapi_schemas(prefix: str = "#/components/schemas/") -> dict[str, Json]:
    """The comp spec as OpenAPI 3.1 component schemas, one per spec model, named
    by its class (``CompSpec``, ``Layer``, ...).

    Args:
        prefix: where the components live in the OpenAPI document.

    Returns:
        Component name -> schema.
    """

    def ref(cls: type) -> str:
        return prefix + cls.__name__

    schemas = {cls.__name__: schema for cls, schema in _definitions(ref).items()}
    schemas["CompSpec"] = {
        **_object(CompSpec, ref),
        "description": f"A comp spec ({SCHEMA}); see docs/comp-spec.md.",
    }
    return schemas


def render() -> str:
    """The schema file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(comp_spec_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema to the path given (default: the package's schema file)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SCHEMA_FILE
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
