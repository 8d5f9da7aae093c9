"""The comp spec's field rules: every type, range, enum and default, defined once.

Each field of a spec model carries its rule as ``Annotated`` metadata
(``width: Annotated[int, Whole(lo=4, hi=30000)]``); its default is the dataclass
default, and a field without one is required. :func:`spec_fields` compiles a model's
rules into a table of :class:`FieldSpec` (the one table the rest reads, and the one a
test patches), which is used three ways, so a range added here changes all of them:

- the constructors of :mod:`aebridge.model` (:func:`check_model`), so a model object
  never exists invalid;
- :mod:`aebridge.spec.reader`, which reads JSON with them and reports every problem
  with its spec path, what is allowed and a did-you-mean;
- :mod:`aebridge.spec.schema`, which derives the JSON Schema file, the service's
  OpenAPI schemas and (through :mod:`aebridge.emit.plan_schema`) the plan schema.

Every model is closed: a field the model does not have is an error. Rules that span
fields are the models' own ``_relations`` (checked by their constructors) and the
validation rules of :mod:`aebridge.spec.crossfield`. The message texts live here too
(:func:`quote`, :func:`range_text`, :func:`choice_message`), so the reader and the
constructors say the same thing.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import ModelError, Problem
from ..timing import format_rate

__all__ = [
    "Choice",
    "Const",
    "EasingRule",
    "FieldSpec",
    "Flag",
    "Items",
    "Nested",
    "Pairs",
    "PropertyValue",
    "Rate",
    "Ratio",
    "Real",
    "Rule",
    "Source",
    "Text",
    "Vector",
    "When",
    "Whole",
    "check_model",
    "choice_message",
    "comp_frame_problem",
    "conditions",
    "definition_name",
    "num_text",
    "quote",
    "range_text",
    "spec_fields",
    "spec_model",
    "spec_models",
    "type_name",
    "vector_sizes",
]

T = TypeVar("T")


# -- message texts ---------------------------------------------------------------------


def type_name(value: object) -> str:
    """The JSON name of a value's type, as messages show it (``list``)."""
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


def _is_jsonish(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def quote(value: object) -> str:
    """A value as a message quotes it: text in single quotes, other values as JSON,
    cut to 60 characters."""
    if isinstance(value, str) or not _is_jsonish(value):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def num_text(value: float) -> str:
    """A number as messages write it: ``2``, ``0.5``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def range_text(lo: float | None, hi: float | None, *, lo_open: bool = False) -> str:
    """What a range allows, in words: ``4 to 30000``, ``more than 0 up to 100``."""
    if lo is not None and hi is not None:
        return (
            f"more than {num_text(lo)} up to {num_text(hi)}"
            if lo_open
            else f"{num_text(lo)} to {num_text(hi)}"
        )
    if lo is not None:
        return f"more than {num_text(lo)}" if lo_open else f"{num_text(lo)} or more"
    if hi is not None:
        return f"{num_text(hi)} or less"
    return "any number"


def choice_message(value: object, names: Iterable[str]) -> str:
    """The message for a value that is not one of ``names``, with a did-you-mean."""
    allowed = list(names)
    close = (
        difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
        if isinstance(value, str)
        else []
    )
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{quote(value)} is not allowed; {hint}allowed: {', '.join(allowed)}"


def comp_frame_problem(frame: int, frames: tuple[int, int]) -> str | None:
    """The message for a comp frame outside the comp's ``(first, last)`` frames."""
    if frames[0] <= frame <= frames[1]:
        return None
    return f"frame {frame} is outside the comp; allowed: {frames[0]} to {frames[1]}"


def vector_sizes(three_d: bool) -> tuple[int, ...]:
    """How many components a layer's vectors have: 2, or 2 or 3 on a 3D layer."""
    return (2, 3) if three_d else (2,)


# -- rules -----------------------------------------------------------------------------

#: (path below the field, message) found in a value.
Found = Iterator[tuple[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What a field allows. ``doc`` describes it (the JSON Schema's description);
    ``json_required`` makes JSON give the field although the model has a default."""

    doc: str = ""
    json_required: bool = False

    @property
    def expected(self) -> str:
        """What a value of the right type is, for type errors ("a whole number")."""
        return "a value"

    def accepts(self, value: object) -> bool:
        """Whether a Python value has the field's type (before its range)."""
        return True

    def check(self, value: Any) -> str | None:
        """The problem with a value of the right type (range, pattern), if any."""
        return None

    def found(self, value: object) -> Found:
        """Every problem of a Python value (constructors): type, then range."""
        if not self.accepts(value):
            yield "", f"expected {self.expected}, got {type_name(value)} {quote(value)}"
            return
        message = self.check(value)
        if message is not None:
            yield "", message


@dataclass(frozen=True, slots=True, kw_only=True)
class Whole(Rule):
    """A whole number: ``lo``..``hi``, or one of ``choices``; ``in_comp`` marks a
    comp frame, which must lie inside the comp."""

    lo: int | None = None
    hi: int | None = None
    choices: tuple[int, ...] = ()
    what: str = "a whole number"
    in_comp: bool = False

    @property
    def expected(self) -> str:
        return self.what

    def accepts(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def check(self, value: int) -> str | None:
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            return f"{value} is not allowed; allowed: {allowed}"
        if (self.lo is not None and value < self.lo) or (
            self.hi is not None and value > self.hi
        ):
            return f"{value} is out of range; allowed: {range_text(self.lo, self.hi)}"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Real(Rule):
    """A finite number ``lo``..``hi`` (``lo`` excluded when ``lo_open``), maybe
    not 0."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    nonzero: bool = False

    @property
    def expected(self) -> str:
        return "a number"

    def accepts(self, value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def check(self, value: float) -> str | None:
        number = float(value)
        if not math.isfinite(number):
            return f"{value} is not allowed; allowed: a finite number"
        lo, hi = self.lo, self.hi
        below = lo is not None and (number <= lo if self.lo_open else number < lo)
        above = hi is not None and number > hi
        if below or above or (self.nonzero and number == 0):
            allowed = range_text(lo, hi, lo_open=self.lo_open)
            allowed += ", not 0" if self.nonzero else ""
            return f"{num_text(number)} is out of range; allowed: {allowed}"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag(Rule):
    """True or false."""

    @property
    def expected(self) -> str:
        return "true or false"

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True, slots=True, kw_only=True)
class Text(Rule):
    """Text: maybe not blank, at most ``max_length`` characters, matching ``pattern``
    in full; ``allowed`` says in words what is allowed (and, with ``explain_empty``,
    what to give instead of blank text)."""

    nonempty: bool = False
    max_length: int | None = None
    pattern: str | None = None
    allowed: str = ""
    explain_empty: bool = False

    @property
    def expected(self) -> str:
        return "a string"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def check(self, value: str) -> str | None:
        if self.nonempty and not value.strip():
            hint = f"; allowed: {self.allowed}" if self.explain_empty else ""
            return "must not be empty" + hint
        too_long = self.max_length is not None and len(value) > self.max_length
        if too_long or (
            self.pattern is not None and re.fullmatch(self.pattern, value) is None
        ):
            return f"{quote(value)} is not allowed; allowed: {self.allowed}"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice(Rule):
    """One of a str enum's values."""

    enum: type[StrEnum]

    @property
    def expected(self) -> str:
        return f"a {self.enum.__name__}"

    def accepts(self, value: object) -> bool:
        return isinstance(value, self.enum)

    @property
    def names(self) -> list[str]:
        """The allowed values, in the enum's order."""
        return [member.value for member in self.enum]


@dataclass(frozen=True, slots=True, kw_only=True)
class Const(Rule):
    """Exactly ``value`` (the schema label)."""

    value: str

    @property
    def expected(self) -> str:
        return "a string"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def check(self, value: str) -> str | None:
        return None if value == self.value else f"expected '{self.value}'"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate(Rule):
    """An exact frame rate, ``lo``..``hi`` fps when given (``note`` says why)."""

    lo: int | None = None
    hi: int | None = None
    note: str = ""

    @property
    def expected(self) -> str:
        return "a rate (a positive Fraction)"

    def accepts(self, value: object) -> bool:
        return isinstance(value, Fraction) and value > 0

    def check(self, value: Fraction) -> str | None:
        if (self.lo is not None and value < self.lo) or (
            self.hi is not None and value > self.hi
        ):
            note = f" ({self.note})" if self.note else ""
            return (
                f"{format_rate(value)} fps is out of range; allowed: "
                f"{range_text(self.lo, self.hi)} fps{note}"
            )
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ratio(Rule):
    """A positive exact ratio ``lo``..``hi``: a number or ``"10/11"`` text."""

    lo: Fraction = Fraction(1, 100)
    hi: Fraction = Fraction(100)

    @property
    def expected(self) -> str:
        return "a ratio (a Fraction)"

    def accepts(self, value: object) -> bool:
        return isinstance(value, Fraction)

    def message(self, raw: object) -> str:
        """The one message for a ratio that cannot be read or is out of range."""
        return (
            f"{quote(raw)} is not allowed; allowed: a ratio from "
            f"{num_text(float(self.lo))} to {num_text(float(self.hi))} "
            'such as 1, 0.9, "10/11"'
        )

    def check(self, value: Fraction) -> str | None:
        return None if self.lo <= value <= self.hi else self.message(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Vector(Rule):
    """A list of ``size`` numbers, each ``lo``..``hi``."""

    size: int
    lo: float | None = None
    hi: float | None = None

    @property
    def expected(self) -> str:
        return f"a list of {self.size} numbers"

    @property
    def item(self) -> Real:
        """The rule of one component."""
        return Real(lo=self.lo, hi=self.hi)

    def found(self, value: object) -> Found:
        if not isinstance(value, tuple) or len(value) != self.size:
            yield "", f"expected {self.expected}, got {type_name(value)} {quote(value)}"
            return
        for i, item in enumerate(value):
            for sub, message in self.item.found(item):
                yield f"[{i}]{sub}", message


@dataclass(frozen=True, slots=True, kw_only=True)
class PropertyValue(Rule):
    """A property's value: a number, or a vector of 2 or 3 numbers (a key's value;
    its property says which and its range)."""

    @property
    def expected(self) -> str:
        return "a number or a tuple of 2 or 3 numbers"

    def found(self, value: object) -> Found:
        items = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and len(value) not in (2, 3):
            yield "", f"expected {self.expected}, got {type_name(value)} {quote(value)}"
            return
        for i, item in enumerate(items):
            where = f"[{i}]" if isinstance(value, tuple) else ""
            for sub, message in Real().found(item):
                yield where + sub, message


@dataclass(frozen=True, slots=True, kw_only=True)
class Animatable(Rule):
    """A transform property: a value or keyframes (an ``AnimatableValue``); vectors
    (``vector``) have 2 components, or 3 on a 3D layer; values lie in ``lo``..``hi``."""

    vector: bool = False
    lo: float | None = None
    hi: float | None = None

    @property
    def value_rule(self) -> Real:
        """The rule of one number of the property."""
        return Real(lo=self.lo, hi=self.hi)

    def found(self, value: object) -> Found:
        # The AnimatableValue itself is checked by its own constructor.
        keyframes = getattr(value, "keyframes", ())
        values = (
            [(f".keyframes[{i}].value", k.value) for i, k in enumerate(keyframes)]
            if keyframes
            else [("", getattr(value, "value", None))]
        )
        for where, item in values:
            if self.vector != isinstance(item, tuple):
                kind = "a vector of 2 or 3 numbers" if self.vector else "a number"
                yield where, f"expected {kind}, got {quote(item)}"
                continue
            for i, number in enumerate(item if isinstance(item, tuple) else (item,)):
                message = self.value_rule.check(number)
                if message is not None:
                    yield where + (f"[{i}]" if self.vector else ""), message


@dataclass(frozen=True, slots=True, kw_only=True)
class EasingRule(Rule):
    """A named easing or explicit handles (``{"in": {...}, "out": {...}}``): each
    handle's ``speed`` follows ``speed``, its ``influence`` (percent, default
    ``default_influence``) follows ``influence``."""

    speed: Real = Real()
    influence: Real = Real(lo=0.1, hi=100.0)
    default_influence: float = 33.333333

    @property
    def expected(self) -> str:
        return "an Ease or a CustomEase"

    def found(self, value: object) -> Found:
        from ..animation import CustomEase, Ease

        if isinstance(value, Ease):
            return
        if not isinstance(value, CustomEase):
            yield "", f"expected {self.expected}, got {type_name(value)} {quote(value)}"
            return
        for side, handle in (("in", value.ease_in), ("out", value.ease_out)):
            if handle is None:
                continue
            for name, rule in (("speed", self.speed), ("influence", self.influence)):
                for sub, message in rule.found(getattr(handle, name)):
                    yield f".{side}.{name}{sub}", message


@dataclass(frozen=True, slots=True, kw_only=True)
class Nested(Rule):
    """Another spec model (inferred from the field's type)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Items(Rule):
    """A list of another spec model; ``noun`` names the items in messages."""

    noun: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pairs(Rule):
    """Text pairs: a JSON object whose values are text (numbers and flags are kept as
    their JSON text), held as sorted ``(key, value)`` tuples."""

    @property
    def expected(self) -> str:
        return "a tuple of (text, text) pairs"

    def accepts(self, value: object) -> bool:
        return isinstance(value, tuple) and all(
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
            for pair in value
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Source(Rule):
    """A layer's source: a path (shorthand for ``{"path": ...}``), a source to convert
    or (an object with ``folder``) an already converted EXR sequence."""


@dataclass(frozen=True, slots=True, kw_only=True)
class When:
    """A rule that applies to ``field`` while ``key`` has the value ``equals`` (a zoom
    move's amount is a factor)."""

    key: str
    equals: StrEnum
    field: str
    rule: Rule


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


_MODELS: dict[type, tuple[When, ...]] = {}
_FIELDS: dict[type, dict[str, FieldSpec]] = {}


def spec_model(*when: When) -> Callable[[type[T]], type[T]]:
    """Mark a dataclass as a spec model (conditional rules ``when`` included)."""

    def mark(cls: type[T]) -> type[T]:
        _MODELS[cls] = when
        return cls

    return mark


def spec_models() -> tuple[type, ...]:
    """Every spec model, in the order they were defined."""
    return tuple(_MODELS)


def conditions(cls: type) -> tuple[When, ...]:
    """A model's conditional rules."""
    return _MODELS[cls]


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


def check_model(obj: object, relations: Callable[[], Iterable[Problem]] | None) -> None:
    """Check a model object against its field rules, then its ``relations``.

    Called by every spec model's ``__post_init__``; ``relations`` (the rules spanning
    its fields) run only when every field is valid on its own.

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
    for when in conditions(cls):
        if not problems and getattr(obj, when.key) == when.equals:
            for sub, message in when.rule.found(getattr(obj, when.field)):
                problems.append(Problem(path=when.field + sub, message=message))
    if not problems and relations is not None:
        problems.extend(relations())
    if problems:
        raise ModelError(problems, source=cls.__name__)


def walk_comp_frames(obj: object, path: str = "") -> Iterator[tuple[str, int]]:
    """Every comp frame a model object holds (keys, moves, markers), with its path."""
    for spec in spec_fields(type(obj)).values():
        value = getattr(obj, spec.name)
        where = f"{path}.{spec.name}" if path else spec.name
        if isinstance(spec.rule, Whole) and spec.rule.in_comp and value is not None:
            yield where, value
        elif isinstance(spec.rule, Items):
            for i, item in enumerate(value):
                yield from walk_comp_frames(item, f"{where}[{i}]")
        elif spec.models and value is not None:
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
