"""Reading spec JSON by the models' field rules, collecting every problem at once.

:class:`RuleReader` walks JSON data with the rules of :mod:`aebridge.model.rules`:
each field is read by its rule (type, range, enum, pattern, default), an unknown
field gets a did-you-mean, a missing required one is named; then the model's own
constructor checks the relations between its fields and its problems are reported
at their spec paths. It knows no field by name: the rules that span fields and
sections (comp frames, layer timing, files, rate policy, warnings) are the hooks
:class:`aebridge.spec.crossfield.SpecReader` fills in.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from ..animation import CustomEase, Ease, EaseHandle
from ..errors import ModelError, Problem
from ..model import AnimatableValue, ExrSequence, Keyframe, LayerSource
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
    Source,
    Text,
    Vector,
    Whole,
    choice_message,
    comp_frame_problem,
    quote,
    type_name,
)
from ..model.table import FieldSpec, conditions, relations, spec_fields
from ..timing import (
    RATE_ALLOWED,
    RATE_RANGE,
    exact_rate,
    format_rate,
    in_rate_range,
    ratio_from_text,
)

__all__ = ["FAIL", "Context", "RuleReader", "child"]

#: A field that could not be read (its problem is reported).
FAIL: Any = object()

_EASE = Choice(enum=Ease)


def child(path: str, key: str) -> str:
    """The spec path of ``key`` inside ``path`` (``layers[0]`` + ``blend``)."""
    if not key:
        return path
    return f"{path}.{key}" if path else key


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a section's reading knows of the sections around it.

    Attributes:
        comp: the comp, once read (``None`` when it has problems).
        sizes: how many components a vector may have (a 2D or 3D layer).
        origin: the comp frame a conditioning keyframe's frame 0 lands on.
        prop: the transform property whose keys are being read.
        number: the rule of one of its numbers.
    """

    comp: Any = None
    sizes: tuple[int, ...] = (2,)
    origin: int | None = None
    prop: Animatable | None = None
    number: Real | None = None


class RuleReader:
    """Walks spec data, building model objects and collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # The comp's (first, last) frames, known as soon as start_frame and duration
        # are valid, so frames elsewhere are checked even when another comp field is
        # wrong.
        self.frames: tuple[int, int] | None = None

    # -- reporting -----------------------------------------------------------------

    def error(self, path: str, message: str) -> None:
        """Report an error at a spec path (once: a relation the reader already
        found is not reported again by the constructor)."""
        problem = Problem(path=path, message=message)
        if problem not in self.problems:
            self.problems.append(problem)

    def warn(self, path: str, message: str) -> None:
        """Report a warning at a spec path."""
        self.problems.append(Problem(path=path, message=message, severity="warning"))

    @property
    def error_count(self) -> int:
        """Errors reported so far."""
        return sum(1 for p in self.problems if p.severity == "error")

    # -- hooks (the rules that span fields) ------------------------------------------

    def context(
        self, cls: type, name: str, values: dict[str, Any], ctx: Context
    ) -> Context:
        """The context a field is read in (the values read before it are known)."""
        return ctx

    def default(self, cls: type, spec: FieldSpec, data: dict[str, Any]) -> Any:
        """The value of a field the data leaves out: the model's default."""
        return spec.default

    def after_field(
        self,
        cls: type,
        name: str,
        values: dict[str, Any],
        data: dict[str, Any],
        path: str,
        ctx: Context,
    ) -> None:
        """Called after each field is read (``values[name]`` may be :data:`FAIL`)."""

    def after(
        self,
        cls: type,
        values: dict[str, Any],
        data: dict[str, Any],
        path: str,
        ctx: Context,
    ) -> None:
        """Called after every field of an object is read, before it is built."""

    def built(self, obj: Any, path: str) -> None:
        """Called with each object built."""

    # -- objects -------------------------------------------------------------------

    def obj(
        self,
        value: object,
        path: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        """A JSON object with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(value, dict):
            self.error(path, f"expected an object, got {type_name(value)}")
            return None
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"allowed: {', '.join(allowed)}"
                )
                self.error(child(path, str(key)), f"unknown field; {hint}")
        for key in required:
            if key not in value:
                self.error(child(path, key), "missing; this field is required")
        return value

    def model(self, cls: type, value: object, path: str, ctx: Context) -> Any:
        """Read one model object by its field rules; ``None`` when it has problems."""
        table = spec_fields(cls)
        required = tuple(name for name, spec in table.items() if spec.required)
        data = self.obj(value, path, tuple(table), required)
        if data is None:
            return None
        values: dict[str, Any] = {}
        for name, spec in table.items():
            where = child(path, name)
            if name in data:
                field_ctx = self.context(cls, name, values, ctx)
                values[name] = self.field(spec, data[name], where, field_ctx)
            else:
                values[name] = FAIL if spec.required else self.default(cls, spec, data)
            self.after_field(cls, name, values, data, where, ctx)
        for when in conditions(cls):
            value_now = values.get(when.field, FAIL)
            if values.get(when.key) == when.equals and value_now is not FAIL:
                message = when.rule.check(value_now)
                if message is not None:
                    self.error(child(path, when.field), message)
                    values[when.field] = FAIL
        failed = any(v is FAIL for v in values.values())
        if failed:
            # Each relation whose fields are valid runs anyway, so every problem comes
            # at once (with every field valid, the constructor runs them all).
            for relation in relations(cls):
                args = [values.get(name, FAIL) for name in relation.fields]
                if all(arg is not FAIL for arg in args):
                    for problem in relation.check(*args):
                        self.error(child(path, problem.path), problem.message)
        self.after(cls, values, data, path, ctx)
        if failed:
            return None
        return self.build(cls, values, path)

    def build(self, cls: type, values: dict[str, Any], path: str) -> Any:
        """Construct a model; its relation problems are reported at their paths."""
        try:
            obj = cls(**values)
        except ModelError as exc:
            for problem in exc.problems:
                self.error(
                    child(path, problem.path) if problem.path else path, problem.message
                )
            return None
        self.built(obj, path)
        return obj

    # -- fields ----------------------------------------------------------------------

    def field(self, spec: FieldSpec, value: object, path: str, ctx: Context) -> Any:
        """Read one field by its rule; :data:`FAIL` when it has a problem."""
        if value is None and spec.nullable:
            return None
        rule = spec.rule
        result: Any
        if isinstance(rule, Whole):
            result = self.whole(value, path, rule)
        elif isinstance(rule, Real):
            result = self.real(value, path, rule)
        elif isinstance(rule, Flag):
            result = self.flag(value, path)
        elif isinstance(rule, (Text, Const)):
            result = self.text(value, path, rule)
        elif isinstance(rule, Choice):
            result = self.choice(value, path, rule)
        elif isinstance(rule, Rate):
            result = self.rate(value, path, rule)
        elif isinstance(rule, Ratio):
            result = self.ratio(value, path, rule)
        elif isinstance(rule, Vector):
            result = self.vector(value, path, (rule.size,), rule.item)
        elif isinstance(rule, PropertyValue):
            result = self.property_value(value, path, ctx)
        elif isinstance(rule, Animatable):
            result = self.animatable(value, path, rule, ctx)
        elif isinstance(rule, EasingRule):
            result = self.easing(value, path, rule)
        elif isinstance(rule, Items):
            result = self.items(value, path, spec.model, rule.noun, ctx)
        elif isinstance(rule, Pairs):
            result = self.pairs(value, path)
        elif isinstance(rule, Source):
            result = self.source(value, path, ctx)
        elif isinstance(rule, Nested):
            result = self.model(spec.model, value, path, ctx)
        else:  # pragma: no cover - every rule kind is read above
            raise TypeError(f"no reader for {type(rule).__name__}")
        return FAIL if result is None else result

    def whole(self, value: object, path: str, rule: Whole) -> int | None:
        """A whole number (``2.0`` is 2) in the rule's range; a comp frame inside the
        comp."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(
                path, f"expected {rule.what}, got {type_name(value)} {quote(value)}"
            )
            return None
        message = rule.check(value)
        if message is None and rule.in_comp and self.frames is not None:
            message = comp_frame_problem(value, self.frames)
        if message is not None:
            self.error(path, message)
            return None
        return value

    def real(self, value: object, path: str, rule: Real) -> float | None:
        """A finite number in the rule's range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(
                path, f"expected a number, got {type_name(value)} {quote(value)}"
            )
            return None
        message = rule.check(float(value))
        if message is not None:
            self.error(path, message)
            return None
        return float(value)

    def flag(self, value: object, path: str) -> bool | None:
        """True or false."""
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, got {type_name(value)}")
            return None
        return value

    def text(self, value: object, path: str, rule: Text | Const) -> str | None:
        """A string the rule allows."""
        if not isinstance(value, str):
            self.error(path, f"expected a string, got {type_name(value)}")
            return None
        message = rule.check(value)
        if message is not None:
            self.error(path, message)
            return None
        return value

    def choice(self, value: object, path: str, rule: Choice) -> Any:
        """One of the enum's values, with a did-you-mean."""
        if isinstance(value, str):
            try:
                return rule.enum(value)
            except ValueError:
                pass
        self.error(path, choice_message(value, rule.names))
        return None

    def rate(self, value: object, path: str, rule: Rate) -> Fraction | None:
        """An exact rate (``24``, ``"23.976"``, ``"24000/1001"``, ``[24000, 1001]``)."""
        rate = exact_rate(value)
        if rate is None:
            self.error(path, f"{quote(value)} is not allowed; allowed: {RATE_ALLOWED}")
            return None
        # The field's own range first (a comp's 1 to 99), then the one of every rate.
        message = rule.check(rate)
        if message is None and not in_rate_range(rate):
            message = f"{format_rate(rate)} fps is out of range; allowed: {RATE_RANGE}"
        if message is not None:
            self.error(path, message)
            return None
        return rate

    def ratio(self, value: object, path: str, rule: Ratio) -> Fraction | None:
        """A positive exact ratio: a number or ``"10/11"`` text."""
        result: Fraction | None = None
        if isinstance(value, bool):
            result = None
        elif isinstance(value, int):
            result = Fraction(value)
        elif isinstance(value, float) and math.isfinite(value):
            result = Fraction(repr(value))
        elif isinstance(value, str):
            result = ratio_from_text(value)
        if result is None or rule.check(result) is not None:
            self.error(path, rule.message(value))
            return None
        return result

    def vector(
        self, value: object, path: str, sizes: Sequence[int], item: Real
    ) -> tuple[float, ...] | None:
        """A list of ``sizes`` numbers, each as ``item`` allows."""
        allowed = " or ".join(str(n) for n in sizes)
        if not isinstance(value, list) or len(value) not in sizes:
            self.error(
                path,
                f"expected a list of {allowed} numbers, got {type_name(value)} "
                f"{quote(value)}",
            )
            return None
        items = [self.real(v, f"{path}[{i}]", item) for i, v in enumerate(value)]
        if any(v is None for v in items):
            return None
        return tuple(float(v) for v in items if v is not None)

    def property_value(self, value: object, path: str, ctx: Context) -> Any:
        """A transform property's value (a number or a vector), as its rule says."""
        number = ctx.number if ctx.number is not None else Real()
        if ctx.prop is not None and ctx.prop.vector:
            return self.vector(value, path, ctx.sizes, number)
        return self.real(value, path, number)

    def animatable(
        self, value: object, path: str, rule: Animatable, ctx: Context
    ) -> AnimatableValue | None:
        """A value, or ``{"keyframes": [...]}`` in increasing frame order."""
        ctx = replace(ctx, prop=rule, number=rule.value_rule)
        if not isinstance(value, dict):
            single = self.property_value(value, path, ctx)
            return None if single is None else AnimatableValue(value=single)
        data = self.obj(value, path, ("keyframes",), ("keyframes",))
        if data is None or "keyframes" not in data:
            return None
        where = f"{path}.keyframes"
        items = data["keyframes"]
        if not isinstance(items, list) or not items:
            self.error(
                where,
                f"expected a non-empty list of keyframes, got {type_name(items)}",
            )
            return None
        keys = [
            self.model(Keyframe, k, f"{where}[{i}]", ctx) for i, k in enumerate(items)
        ]
        if any(key is None for key in keys):
            return None
        built: AnimatableValue | None = self.build(
            AnimatableValue, {"keyframes": tuple(keys)}, path
        )
        return built

    def easing(self, value: object, path: str, rule: EasingRule) -> Any:
        """A named easing, or ``{"in": {...}, "out": {...}}`` handles."""
        if isinstance(value, str):
            return self.choice(value, path, _EASE)
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
            speed = self.real(hdata.get("speed"), f"{hpath}.speed", rule.speed)
            influence = self.real(
                hdata.get("influence", rule.default_influence),
                f"{hpath}.influence",
                rule.influence,
            )
            if speed is None or influence is None:
                ok = False
                continue
            handles[side] = EaseHandle(speed=speed, influence=influence)
        if not ok:
            return None
        return CustomEase(ease_in=handles["in"], ease_out=handles["out"])

    def items(
        self, value: object, path: str, cls: type, noun: str, ctx: Context
    ) -> tuple[Any, ...] | None:
        """A list of model objects."""
        if not isinstance(value, list):
            of = f" of {noun}" if noun else ""
            self.error(path, f"expected a list{of}, got {type_name(value)}")
            return None
        found = [
            self.model(cls, item, f"{path}[{i}]", ctx) for i, item in enumerate(value)
        ]
        if any(item is None for item in found):
            return None
        return tuple(found)

    def pairs(self, value: object, path: str) -> tuple[tuple[str, str], ...] | None:
        """Text pairs, sorted; numbers and flags are kept as their JSON text."""
        import json

        if not isinstance(value, dict):
            self.error(
                path, f"expected an object of text values, got {type_name(value)}"
            )
            return None
        found: list[tuple[str, str]] = []
        ok = True
        for key, item in value.items():
            if isinstance(item, str):
                found.append((key, item))
            elif isinstance(item, (int, float, bool)) or item is None:
                # Numbers and flags are kept as their JSON text: AE stores strings only.
                found.append((key, json.dumps(item)))
            else:
                self.error(
                    child(path, key),
                    f"expected text or a number, got {type_name(item)}",
                )
                ok = False
        return tuple(sorted(found)) if ok else None

    def source(self, value: object, path: str, ctx: Context) -> Any:
        """A path, a source to convert, or (with ``folder``) an EXR sequence."""
        if isinstance(value, str):
            value = {"path": value}
        if isinstance(value, dict) and "folder" in value:
            return self.model(ExrSequence, value, path, ctx)
        return self.model(LayerSource, value, path, ctx)
