"""The comp spec as data: frozen dataclasses and str enums, no I/O, no numpy.

A :class:`CompSpec` describes one After Effects comp: its settings, its layers (bottom
to top), an optional camera driven by a small camera-move language, comp markers, and
the style and provenance of the generated material. :mod:`aebridge.spec` reads and
writes it as versioned JSON (``"schema": "aebridge.comp/1"``) and validates it;
:mod:`aebridge.camera` turns the camera moves into keyframes; :mod:`aebridge.emit`
turns the whole spec into an ExtendScript.

This package is the one definition of the spec's shape: every field carries its rule
(type, range, enum, default; :mod:`aebridge.model.rules`), and the JSON reader, the
JSON Schema, the service's OpenAPI schemas and the build-plan schema are all derived
from those rules. The constructors check them, and the relations between fields, so
a model object never exists invalid (:class:`~aebridge.errors.ModelError`, a
``SpecError`` that is also a ``ValueError``); nothing downstream checks them again.

Conventions shared by every field:

- Time is integer comp frames plus the exact comp rate (a :class:`~fractions.Fraction`).
  A comp runs over frames ``start_frame .. start_frame + duration - 1``; ``out_frame``
  values are exclusive, as After Effects' ``outPoint`` is.
- Space is After Effects' comp pixels: x right, y down, z into the screen.
- Angles are degrees; scale and stretch are percent; opacity is 0..100.
- Easing uses After Effects' own vocabulary: a key's ``ease_in`` shapes how the value
  arrives at the key, its ``ease_out`` how it leaves (Easy Ease In / Easy Ease Out).

Modules, in dependency order: ``enums`` (the vocabulary), ``names`` (the id grammar:
what may name a folder or file), ``rules`` (the field rules and the checks built on
them), ``layer``, ``comp``, ``conditioning``
(:func:`expand_conditioning`). Importing the package loads ``enums``; the others load
when one of their names is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The vocabulary, loaded with the package: every layer of aebridge names these.
from .enums import (
    DEFAULT_COLORSPACE,
    LIGHT_COPY_BLEND,
    LIGHT_CUTOUT_BLEND,
    LIGHT_SUFFIX,
    SCHEMA,
    AlphaMode,
    BlendMode,
    FieldMode,
    LightUnderAlpha,
    MarkerKind,
    MatteType,
    MoveKind,
    Orientation,
    ProjectSettings,
    Role,
    Value,
    VfrPolicy,
    YuvMatrix,
)

if TYPE_CHECKING:
    # The easing vocabulary is the animation module's; the spec uses it as it is.
    from ..animation import CustomEase, Ease, EaseHandle, Easing
    from .comp import Camera, CameraMove, Comp, CompSpec, Marker, Style, comp_slug
    from .conditioning import expand_conditioning
    from .layer import (
        AnimatableValue,
        ConditioningKeyframe,
        ExrSequence,
        Keyframe,
        Layer,
        LayerSource,
        Provenance,
        TrackMatte,
        Transform,
    )

# The spec's classes load on first use (some 50 ms of dataclasses and rules), so code
# that needs only the vocabulary above, a conversion's options and its readers, does
# not load them: the module that defines each of the other public names.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("CustomEase", "Ease", "EaseHandle", "Easing"), "..animation"),
    **dict.fromkeys(
        ("Camera", "CameraMove", "Comp", "CompSpec", "Marker", "Style", "comp_slug"),
        ".comp",
    ),
    "expand_conditioning": ".conditioning",
    **dict.fromkeys(
        (
            "AnimatableValue",
            "ConditioningKeyframe",
            "ExrSequence",
            "Keyframe",
            "Layer",
            "LayerSource",
            "Provenance",
            "TrackMatte",
            "Transform",
        ),
        ".layer",
    ),
}


if not TYPE_CHECKING:
    # Type checkers read the imports above instead, so a name the package does not
    # have stays an error there.

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # looked up once
        return value


__all__ = [
    "DEFAULT_COLORSPACE",
    "LIGHT_COPY_BLEND",
    "LIGHT_CUTOUT_BLEND",
    "LIGHT_SUFFIX",
    "SCHEMA",
    "AlphaMode",
    "AnimatableValue",
    "BlendMode",
    "Camera",
    "CameraMove",
    "Comp",
    "CompSpec",
    "ConditioningKeyframe",
    "CustomEase",
    "Ease",
    "EaseHandle",
    "Easing",
    "ExrSequence",
    "FieldMode",
    "Keyframe",
    "Layer",
    "LayerSource",
    "LightUnderAlpha",
    "Marker",
    "MarkerKind",
    "MatteType",
    "MoveKind",
    "Orientation",
    "ProjectSettings",
    "Provenance",
    "Role",
    "Style",
    "TrackMatte",
    "Transform",
    "Value",
    "VfrPolicy",
    "YuvMatrix",
    "comp_slug",
    "expand_conditioning",
]
