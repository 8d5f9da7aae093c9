"""Reading spec files: JSON without duplicate keys, schema labels and upgrades,
then :class:`~aebridge.spec.crossfield.SpecReader`; :func:`load_spec` and
:func:`validate`.

A spec file is JSON with a versioned label, ``"schema": "aebridge.comp/1"``. Specs
written for an older label are lifted to the current one by the functions in
:data:`UPGRADES`, one step at a time, before validation; a label aebridge does not
know is a clear error naming the ones it reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import OptionError, Problem, SpecError
from ..model import SCHEMA, CompSpec
from ..model.rules import quote, type_name
from ..sequence import FoundSequences
from ..timing import format_rate
from .crossfield import RATE_POLICIES, SpecReader

__all__ = [
    "UPGRADES",
    "Upgrade",
    "load_spec",
    "read_json",
    "register_upgrade",
    "validate",
]

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

#: Old schema label -> function lifting a spec one version up (it sets the new label).
#: ``aebridge.comp/1`` is the first version, so nothing is registered yet; a version 2
#: adds ``UPGRADES["aebridge.comp/1"] = _upgrade_1_to_2``.
UPGRADES: dict[str, Upgrade] = {}

_MISSING: Any = object()


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


def read_json(path: Path) -> dict[str, Any]:
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
                    path="", message=f"expected a JSON object, got {type_name(data)}"
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
                    message=f"{quote(schema)} is not a comp spec label this "
                    f"version of aebridge reads; known labels: {', '.join(known)}",
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
    sequences: FoundSequences | None = None,
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
        data = read_json(path)
        base = Path(base_dir) if base_dir is not None else path.resolve().parent
    data = _upgrade(data, label)
    reader = SpecReader(
        base, check_files=check_files, rate_policy=rate_policy, sequences=sequences
    )
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
    sequences: FoundSequences | None = None,
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
        sequences: a build's listings (see :class:`aebridge.sequence.FoundSequences`):
            the sequence sources checked here are listed into it, so the build's
            probes do not list them again.

    Returns:
        The validated spec; paths stay as written (see :func:`resolve_paths`).

    Raises:
        SpecError: the file cannot be read or parsed, has an unknown schema label, or
            has problems; ``problems`` lists every error and warning with its path.
        OptionError: ``rate_policy`` is not one of ``conform``, ``refuse``.
    """
    spec, problems, label = _check(
        source,
        base_dir=base_dir,
        rate_policy=rate_policy,
        check_files=check_files,
        sequences=sequences,
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
