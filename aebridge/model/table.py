"""The comp spec's one definition: each model's table of field rules, and the checks
built on it.

Each field of a spec model carries its rule (:mod:`aebridge.model.rules`) as
``Annotated`` metadata; its default is the dataclass default, and a field without one
is required. :func:`spec_fields` compiles a model's rules into a table of
:class:`FieldSpec` (the one table the rest reads, and the one a test patches), which
is used three ways, so a range added to a field changes all of them:

- the constructors of :mod:`aebridge.model` (:func:`check_model`), so a model object
  never exists invalid;
- :mod:`aebridge.spec.reader`, which reads JSON with it and reports every problem
  with its spec path, what is allowed and a did-you-mean;
- :mod:`aebridge.spec.schema`, which derives the JSON Schema file, the service's
  OpenAPI schemas and (through :mod:`aebridge.emit.plan_schema`) the plan schema.

Every model is closed: a field the model does not have is an error. Rules between
fields of one object are its :class:`~aebridge.model.rules.Relation` s; rules across
sections, files and policies are :mod:`aebridge.spec.crossfield`'s.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import ModelError, Problem
from ..timing import format_rate
from .rules import (
    Choice,
    Flag,
    Found,
    Items,
    Nested,
    Relation,
    Rule,
    Text,
    When,
    Whole,
    type_name,
)

__all__ = [
    "FieldSpec",
    "check_model",
    "conditions",
    "definition_name",
    "plain_default",
    "relations",
    "spec_fields",
    "spec_model",
    "spec_models",
    "walk_comp_frames",
]

T = TypeVar("T")


# -- the table -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One field of a spec model as the rules see it.

    Attributes:
        name: the field's name (also its JSON key).
        rule: what it allows.
        required: JSON must give it (no default, or ``rule.json_required``).
        nullable: ``None`` (JSON null) is allowed.
        default: the model's default (``dataclasses.MISSING`` when it has none).
        models: the spec models the field holds (its items, for :class:`Items`).
    """

    name: str
    rule: Rule
    required: bool
    nullable: bool
    default: Any
    models: tuple[type, ...] = ()

    @property
    def model(self) -> type:
        """The one spec model the field holds.

        Raises:
            TypeError: it holds none, or several.
        """
        if len(self.models) != 1:
            raise TypeError(f"{self.name} does not hold one spec model")
        return self.models[0]


_MODELS: dict[type, tuple[tuple[When, ...], tuple[Relation, ...]]] = {}
_FIELDS: dict[type, dict[str, FieldSpec]] = {}


def spec_model(
    *, when: tuple[When, ...] = (), relations: tuple[Relation, ...] = ()
) -> Callable[[type[T]], type[T]]:
    """Mark a dataclass as a spec model, with its conditional rules and relations."""

    def mark(cls: type[T]) -> type[T]:
        _MODELS[cls] = (when, relations)
        return cls

    return mark


def spec_models() -> tuple[type, ...]:
    """Every spec model, in the order they were defined."""
    return tuple(_MODELS)


def conditions(cls: type) -> tuple[When, ...]:
    """A model's conditional rules."""
    return _MODELS[cls][0]


def relations(cls: type) -> tuple[Relation, ...]:
    """A model's relations between its fields."""
    return _MODELS[cls][1]


def definition_name(cls: type) -> str:
    """A model's name in the JSON Schema: ``LayerSource`` -> ``layer_source``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def spec_fields(cls: type) -> dict[str, FieldSpec]:
    """The field table of a spec model, in field order (built once, then shared).

    Raises:
        TypeError: ``cls`` is not a spec model, or a field has no rule.
    """
    table = _FIELDS.get(cls)
    if table is None:
        if cls not in _MODELS or not is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a spec model")
        table = _FIELDS[cls] = _compile(cls)
    return table


def _compile(cls: type) -> dict[str, FieldSpec]:
    hints = get_type_hints(cls, include_extras=True)
    table: dict[str, FieldSpec] = {}
    for f in fields(cls):
        hint = hints[f.name]
        rule: Rule | None = None
        if get_origin(hint) is Annotated:
            hint, *meta = get_args(hint)
            rule = next(m for m in meta if isinstance(m, Rule))
        options = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else ()
        nullable = type(None) in options
        inner = [o for o in options if o is not type(None)] if options else [hint]
        base = inner[0] if len(inner) == 1 else None
        if base is not None and get_origin(base) is tuple:
            inner = [get_args(base)[0]]
        models = tuple(t for t in inner if t in _MODELS)
        if rule is None:
            rule = _inferred(base, models, cls, f.name)
        if f.default is not MISSING:
            default: Any = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        table[f.name] = FieldSpec(
            name=f.name,
            rule=rule,
            required=default is MISSING or rule.json_required,
            nullable=nullable,
            default=default,
            models=models,
        )
    return table


def _inferred(base: object, models: tuple[type, ...], cls: type, name: str) -> Rule:
    if models:
        return Nested()
    if isinstance(base, type) and issubclass(base, StrEnum):
        return Choice(enum=base)
    if base is bool:
        return Flag()
    if base is str:
        return Text()
    raise TypeError(f"{cls.__name__}.{name} has no rule")


# -- constructors ----------------------------------------------------------------------


def _found(spec: FieldSpec, value: object) -> Found:
    if spec.models:
        if isinstance(spec.rule, Items):
            ok = isinstance(value, tuple) and all(
                isinstance(item, spec.models) for item in value
            )
        else:
            ok = isinstance(value, spec.models)
        if not ok:
            kinds = " or ".join(m.__name__ for m in spec.models)
            kind = f"a tuple of {kinds}" if isinstance(spec.rule, Items) else kinds
            yield "", f"expected {kind}, got {type_name(value)}"
            return
    yield from spec.rule.found(value)


def check_model(obj: object) -> None:
    """Check a model object against its field rules, then its relations.

    Called by every spec model's ``__post_init__``; a relation runs when the fields
    it relates are valid on their own.

    Raises:
        ModelError: every problem found, with paths relative to the object.
    """
    cls = type(obj)
    problems: list[Problem] = []
    for spec in spec_fields(cls).values():
        value = getattr(obj, spec.name)
        if value is None and spec.nullable:
            continue
        for sub, message in _found(spec, value):
            problems.append(Problem(path=spec.name + sub, message=message))
    bad = {p.path.split(".")[0].split("[")[0] for p in problems}
    for when in conditions(cls):
        if not bad & {when.key, when.field} and getattr(obj, when.key) == when.equals:
            for sub, message in when.rule.found(getattr(obj, when.field)):
                problems.append(Problem(path=when.field + sub, message=message))
    for relation in relations(cls):
        if not bad & set(relation.fields):
            values = [getattr(obj, name) for name in relation.fields]
            problems.extend(relation.check(*values))
    if problems:
        raise ModelError(problems, source=cls.__name__)


_FRAME_FIELDS: dict[type, tuple[FieldSpec, ...]] = {}


def _frame_fields(cls: type) -> tuple[FieldSpec, ...]:
    """The fields of a model that hold comp frames, themselves or inside."""
    found = _FRAME_FIELDS.get(cls)
    if found is None:
        _FRAME_FIELDS[cls] = ()  # a model never holds itself
        found = tuple(
            spec
            for spec in spec_fields(cls).values()
            if (isinstance(spec.rule, Whole) and spec.rule.in_comp)
            or any(_frame_fields(model) for model in spec.models)
        )
        _FRAME_FIELDS[cls] = found
    return found


def walk_comp_frames(obj: object, path: str = "") -> Iterator[tuple[str, int]]:
    """Every comp frame a model object holds (keys, moves, markers), with its path."""
    for spec in _frame_fields(type(obj)):
        value = getattr(obj, spec.name)
        if value is None:
            continue
        where = f"{path}.{spec.name}" if path else spec.name
        if not spec.models:
            yield where, value
        elif isinstance(spec.rule, Items):
            for i, item in enumerate(value):
                yield from walk_comp_frames(item, f"{where}[{i}]")
        else:
            yield from walk_comp_frames(value, where)


def plain_default(value: object) -> Any:
    """A model default as JSON (for schemas): enums as their value, ratios and rates
    as numbers or ``"n/d"`` text, tuples as lists."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else format_rate(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple):
        return [plain_default(item) for item in value]
    if isinstance(value, Mapping):
        return {k: plain_default(v) for k, v in value.items()}
    if is_dataclass(value):
        return {}
    return value
