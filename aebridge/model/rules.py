"""The comp spec's field rules: the kinds of rule a field carries, and the message
texts they share.

Each field of a spec model carries one rule as ``Annotated`` metadata
(``width: Annotated[int, Whole(lo=4, hi=30000)]``): what type, range, enum or pattern
it allows, and a description. A model may add :class:`When` (a rule that applies
while another field has a value) and :class:`Relation` (a rule between its fields).
:mod:`aebridge.model.table` compiles them into the table everything else reads. The
message texts live here (:func:`quote`, :func:`range_text`, :func:`choice_message`),
so the reader and the constructors say the same thing.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeVar

from ..animation import CustomEase, Ease
from ..errors import Problem
from ..timing import format_rate
from ..whitespace import is_blank

__all__ = [
    "Animatable",
    "Choice",
    "Const",
    "EasingRule",
    "Flag",
    "Found",
    "Items",
    "Nested",
    "Pairs",
    "PropertyValue",
    "Rate",
    "Ratio",
    "Real",
    "Relation",
    "Rule",
    "Source",
    "Text",
    "Vector",
    "When",
    "Whole",
    "choice_message",
    "comp_frame_problem",
    "num_text",
    "quote",
    "range_text",
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
    at least ``min_abs`` (above 0) away from 0."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    min_abs: float | None = None

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
        near_zero = self.min_abs is not None and abs(number) < self.min_abs
        if below or above or near_zero:
            allowed = range_text(lo, hi, lo_open=self.lo_open)
            if self.min_abs is not None:
                m = num_text(self.min_abs)
                allowed += f", not between -{m} and {m}"
            return f"{num_text(number)} is out of range; allowed: {allowed}"
        return None


#: Any finite number.
_ANY_NUMBER = Real()


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
    """Text: maybe not blank (:func:`~aebridge.whitespace.is_blank`, the JSON
    Schema's pattern too), at most ``max_length`` characters, matching ``pattern``
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
        if self.nonempty and is_blank(value):
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
        return list(_values(self.enum))


@functools.cache
def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


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
            for sub, message in _ANY_NUMBER.found(item):
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
        if self.lo is None and self.hi is None and not self.vector:
            kinds_only = True
        else:
            kinds_only = False
        number_rule = self.value_rule
        for where, item in values:
            if self.vector != isinstance(item, tuple):
                kind = "a vector of 2 or 3 numbers" if self.vector else "a number"
                yield where, f"expected {kind}, got {quote(item)}"
                continue
            if kinds_only:
                continue
            for i, number in enumerate(item if isinstance(item, tuple) else (item,)):
                message = number_rule.check(number)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation:
    """A rule between ``fields`` of one object (a move ends after it starts):
    ``check`` gets their values, in that order, and yields its problems with paths
    relative to the object. It runs once each of those fields is valid on its own,
    in the constructor and (so every problem comes at once) in the reader."""

    fields: tuple[str, ...]
    check: Callable[..., Iterable[Problem]]
