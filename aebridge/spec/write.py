"""Writing specs: deterministic JSON (hashed), the form for people, atomic files,
and paths made absolute.

:func:`dump_spec` writes sorted keys (the form :func:`spec_hash` hashes);
:func:`format_spec` writes fields in the model's order, defaults left out, one layer
per block (what ``aebridge init`` writes); both read back equal through
:func:`~aebridge.spec.load_spec`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import MISSING, Field, fields, replace
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..fileio import write_text
from ..model import (
    AnimatableValue,
    Comp,
    CompSpec,
    CustomEase,
    Ease,
    Easing,
    ExrSequence,
    Layer,
    LayerSource,
    Provenance,
    Role,
)
from ..timing import format_rate

__all__ = [
    "check_spec_target",
    "dump_spec",
    "format_spec",
    "resolve_paths",
    "save_spec",
    "spec_hash",
    "spec_to_dict",
]


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


def check_spec_target(path: str | os.PathLike[str]) -> None:
    """Refuse a spec path whose folder can be neither found nor made, before any work.

    The nearest part of the path that exists must be a folder this process may write
    in (the rest is created when the spec is saved).

    Raises:
        OutputError: a part of the path is a file or a link to nothing, or the
            folder is not writable.
    """
    target = Path(path)
    ancestor = target.parent
    # A link to nothing does not "exist", but no folder can be made in its place.
    while not (ancestor.exists() or ancestor.is_symlink()) and (
        ancestor != ancestor.parent
    ):
        ancestor = ancestor.parent
    if not ancestor.exists():
        link = Path(os.readlink(ancestor))
        problem = (
            f"{ancestor.as_posix()} is a link to {link.as_posix()}, which does not "
            "exist, not a folder"
        )
    elif not ancestor.is_dir():
        problem = f"{ancestor.as_posix()} is a file, not a folder"
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        problem = f"the folder {ancestor.as_posix()} is not writable"
    else:
        return
    raise OutputError(f"cannot write the spec: {problem}", path=target.as_posix())


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
    # lexists: a link to nothing cannot be written through without overwrite either.
    if os.path.lexists(target) and not overwrite:
        raise OutputError(
            "the spec file exists already; give --force to overwrite it",
            path=target.as_posix(),
        )
    check_spec_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot write the spec: {exc.strerror or exc}", path=target.as_posix()
        ) from exc
    try:
        write_text(
            target, format_spec(spec), exclusive=not overwrite, what="the spec file"
        )
    except OutputError as exc:
        if not overwrite and os.path.lexists(target):
            raise OutputError(
                "the spec file exists already; give --force to overwrite it",
                path=target.as_posix(),
            ) from exc
        raise
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
