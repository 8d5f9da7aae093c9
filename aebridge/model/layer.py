"""A layer of the comp spec: its source, timing, transform, matte and provenance.

Every field carries its rule (:mod:`aebridge.model.rules`); every constructor checks
them and the relations between its fields, so an object never exists invalid.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Annotated

from ..animation import CustomEase, Ease, Easing
from ..errors import Problem
from ..formats import IMAGE_FILE, IMAGE_NAME_PATTERN
from .enums import (
    DEFAULT_COLORSPACE,
    AlphaMode,
    BlendMode,
    FieldMode,
    LightUnderAlpha,
    MatteType,
    Orientation,
    Role,
    Value,
    VfrPolicy,
    YuvMatrix,
)
from .names import ID_ALLOWED, ID_PATTERN, avoid_device_name, text_digest
from .rules import (
    Animatable,
    Choice,
    EasingRule,
    Flag,
    Items,
    Pairs,
    PropertyValue,
    Rate,
    Ratio,
    Real,
    Relation,
    Source,
    Text,
    Whole,
    num_text,
    vector_sizes,
)
from .table import check_model, spec_model

__all__ = [
    "ID",
    "MAX_SIZE",
    "AnimatableValue",
    "ConditioningKeyframe",
    "ExrSequence",
    "Keyframe",
    "Layer",
    "LayerSource",
    "Provenance",
    "TrackMatte",
    "Transform",
    "fold_ascii",
    "id_from_text",
    "named_id",
]

#: Layer and comp ids name folders and files (:mod:`aebridge.model.names`).
ID = Text(nonempty=True, pattern=ID_PATTERN, allowed=ID_ALLOWED)
# Latin letters Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ł": "l",
        "Ł": "L",
        "\u0131": "i",  # dotless i
    }
)
# Runs of characters an id may not hold.
_NOT_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def fold_ascii(text: str) -> str:
    """Text with its Latin letters folded to ASCII: accents dropped (NFKD, ``ünï``
    -> ``uni``), ligatures and compatibility forms split (``ﬁ`` -> ``fi``), and the
    letters with no decomposition spelled out (``ß`` -> ``ss``, ``ø`` -> ``o``).
    Characters with no ASCII form (``東京``) are kept; callers treat them as
    separators.

    Args:
        text: any text (a file or comp name).

    Returns:
        The folded text.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def id_from_text(text: str, *, max_length: int) -> str:
    """The id a name folds to, valid for :data:`ID` (or empty): :func:`fold_ascii`,
    every run of other characters than ``A-Z a-z 0-9 _ . -`` one ``_``, ``_ . -``
    trimmed from the ends, cut to ``max_length``, and a Windows device name
    (``con``, ``nul.v2``) given a ``_`` after it (``con_``, ``nul_.v2``:
    :func:`~aebridge.model.names.avoid_device_name`), since ids name folders and
    files. The same text always gives the same id.

    Args:
        text: a comp or clip name of any text.
        max_length: the longest id wanted (at most 127, which leaves room for the
            device name's ``_``).

    Returns:
        The id, or ``""`` when nothing is left (``東京``): callers choose a fallback.
    """
    folded = _NOT_ID.sub("_", fold_ascii(text)).strip("_.-")
    return avoid_device_name(folded[:max_length].strip("_.-"))


def named_id(text: str, *, kind: str, written: str | None = None) -> str:
    """The id of a name of any text, never empty: :func:`id_from_text` (64
    characters at most, and a device name's ``_``) or, for a name with nothing left
    (``前景``), ``kind`` and 8 hex digits of the SHA-256 of the name as written
    (``layer_a1b2c3d4``), so two such names get two ids and a name always the same
    one, whichever tool names it (``convert``'s default layer name and ``init``'s
    ids, both through :func:`aebridge.naming.name_id`).

    Args:
        text: a comp, layer or clip name of any text.
        kind: what the id names (``comp``, ``layer``), said by a hashed id.
        written: the name as written, when ``text`` is a key made from it (init's
            lower-cased words, ``фон`` of ``Фон``): a hashed id is of the name as
            written (default: ``text``).

    Returns:
        1 to 65 characters from ``A-Z a-z 0-9 _ . -``, starting with a letter or
        digit (``kind`` is such a word).
    """
    made = id_from_text(text, max_length=64)
    if made:
        return made
    return f"{kind}_{text_digest(text if written is None else written)}"


#: After Effects' largest comp and layer size (scripting guide, ``addComp``).
MAX_SIZE = 30000
# After Effects keeps a layer's stretch within +-9900 % and sets one between 0 and 1
# to 1, one between -1 and 0 to -1 (scripting guide, ``Layer.stretch``): refused here,
# so the preview never plays a stretch After Effects would not.
_MAX_STRETCH = 9900.0
_MIN_STRETCH = 1.0
_FRAME = "a frame number"


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class Keyframe:
    """A key at a comp frame; ``easing`` shapes the value around this key."""

    frame: Annotated[int, Whole(what=_FRAME, in_comp=True)]
    value: Annotated[Value, PropertyValue()]
    easing: Annotated[
        Easing,
        EasingRule(
            doc="how the value arrives at (ease_in) and leaves (ease_out) this key"
        ),
    ] = Ease.LINEAR

    def __post_init__(self) -> None:
        check_model(self)


def _influences(left: Easing, right: Easing) -> tuple[float, float] | None:
    """One key's out influence and the next key's in influence, when both are set."""
    out_side = left.ease_out if isinstance(left, CustomEase) else None
    in_side = right.ease_in if isinstance(right, CustomEase) else None
    if out_side is None or in_side is None:
        return None
    return out_side.influence, in_side.influence


def _keys(value: Value | None, keyframes: tuple[Keyframe, ...]) -> Iterator[Problem]:
    """A value or keys (not both), in increasing frame order, alike, and with
    influences After Effects would not rescale."""
    if (value is None) == (not keyframes):
        yield Problem(
            path="",
            message="an animatable value needs a value or keyframes, not both",
        )
        return
    ordered = True
    for i in range(1, len(keyframes)):
        key, previous = keyframes[i], keyframes[i - 1]
        if key.frame <= previous.frame:
            ordered = False
            yield Problem(
                path=f"keyframes[{i}].frame",
                message=f"{key.frame} is not after the previous key's frame "
                f"{previous.frame}; keys must be in increasing frame order",
            )
        shape = _shape(key.value)
        if shape != _shape(keyframes[0].value):
            ordered = False
            earlier = _shape(keyframes[0].value)
            yield Problem(
                path=f"keyframes[{i}].value",
                message=f"has {shape} components but earlier keys have {earlier}",
            )
    if not ordered:
        return
    for i in range(len(keyframes) - 1):
        pair = _influences(keyframes[i].easing, keyframes[i + 1].easing)
        if pair is not None and sum(pair) > 100.0 + 1e-9:
            yield Problem(
                path=f"keyframes[{i}].easing",
                message=f"out influence {num_text(pair[0])} plus the next key's "
                f"in influence {num_text(pair[1])} is {num_text(sum(pair))}; "
                "allowed: at most 100",
            )


@spec_model(relations=(Relation(fields=("value", "keyframes"), check=_keys),))
@dataclass(frozen=True, slots=True, kw_only=True)
class AnimatableValue:
    """A static ``value`` or (exclusive) a list of ``keyframes`` in frame order.

    In JSON it is either the bare value (``[960, 540]``) or
    ``{"keyframes": [{"frame": 1001, "value": [960, 540], "easing": "ease_out"}]}``.
    Keys are in increasing frame order, their values alike (all numbers, or vectors
    of one length), and one key's out influence plus the next key's in influence is
    at most 100 (After Effects would rescale them).
    """

    value: Annotated[Value | None, PropertyValue()] = None
    keyframes: Annotated[tuple[Keyframe, ...], Items()] = ()

    def __post_init__(self) -> None:
        check_model(self)

    @property
    def animated(self) -> bool:
        """True when the property has keyframes."""
        return bool(self.keyframes)

    def first_value(self) -> Value:
        """The static value, or the first key's value when animated."""
        if self.keyframes:
            return self.keyframes[0].value
        assert self.value is not None  # the constructor refuses neither
        return self.value


def _shape(value: Value) -> int:
    """Components of a value: 1 for a number."""
    return len(value) if isinstance(value, tuple) else 1


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class Transform:
    """Layer transform; ``None`` keeps After Effects' default for that property.

    Defaults: anchor at the layer's centre, position at the comp's centre, scale 100 %,
    rotation 0 (Z rotation, degrees clockwise on screen), opacity 100. Vectors have two
    components, or three on a 3D layer.
    """

    anchor: Annotated[
        AnimatableValue | None, Animatable(vector=True, doc="pixels; layer centre")
    ] = None
    position: Annotated[
        AnimatableValue | None, Animatable(vector=True, doc="pixels; comp centre")
    ] = None
    scale: Annotated[
        AnimatableValue | None, Animatable(vector=True, doc="percent; 100")
    ] = None
    rotation: Annotated[
        AnimatableValue | None,
        Animatable(doc="Z rotation, degrees clockwise on screen; 0"),
    ] = None
    opacity: Annotated[
        AnimatableValue | None, Animatable(lo=0.0, hi=100.0, doc="percent; 100")
    ] = None

    def __post_init__(self) -> None:
        check_model(self)


def _matte_alpha(alpha: AlphaMode, matte: str | None) -> Iterator[Problem]:
    """A matte becomes the alpha, so the colour is straight."""
    if matte is not None and alpha not in (AlphaMode.AUTO, AlphaMode.STRAIGHT):
        yield Problem(
            path="alpha",
            message=f"'{alpha}' is not allowed with a matte; allowed: auto, "
            "straight (the matte becomes the alpha and the colour is treated as "
            "straight)",
        )


@spec_model(relations=(Relation(fields=("alpha", "matte"), check=_matte_alpha),))
@dataclass(frozen=True, slots=True, kw_only=True)
class LayerSource:
    """A source to convert, with the conversion options of :func:`aebridge.convert`.

    Attributes:
        path: an image sequence (``fg.####.png``), a folder of frames, or a movie;
            relative paths are relative to the spec file's folder.
        alpha: how its alpha is stored.
        matte: a separate matte source (its alpha, or its luma when it has none).
        colorspace: the input colour space (OCIO name); default from the format.
        rate: the source's rate when it differs from what the file says (image
            sequences carry none; aebridge assumes the comp rate for them).
        vfr: what to do with a variable-frame-rate movie.
        pixel_aspect: override the source's pixel aspect ratio.
        orientation: an orientation the file declares (EXIF, a phone movie's
            display matrix): apply it (None: the default) or keep the stored pixels.
        fields: interlaced movies: keep the two woven fields (None: the default,
            with a warning) or interpolate whole frames from the first field.
        part: EXR sources: the part to read, by name or index; None: the first
            part with R, G, B or Y channels for the view.
        view: EXR sources: the view to read; None: the file's default view.
        yuv_matrix: YUV movies: the YCbCr matrix to read them with instead of the
            tag (None: as tagged; untagged HD as BT.709, SD as BT.601).
    """

    path: Annotated[
        str,
        Text(
            nonempty=True,
            doc="an image sequence (name.####.png), a folder of frames or a movie, "
            "relative to the spec file",
        ),
    ]
    alpha: Annotated[
        AlphaMode,
        Choice(enum=AlphaMode, doc="how the alpha is stored; auto from the format"),
    ] = AlphaMode.AUTO
    matte: Annotated[
        str | None, Text(doc="a separate matte source: its alpha, or its luma")
    ] = None
    colorspace: Annotated[
        str | None,
        Text(doc="the input colour space (an OCIO name); default from the format"),
    ] = None
    rate: Annotated[
        Fraction | None, Rate(doc="the source's rate; image sequences carry none")
    ] = None
    vfr: VfrPolicy = VfrPolicy.REFUSE
    pixel_aspect: Annotated[Fraction | None, Ratio()] = None
    orientation: Annotated[
        Orientation | None,
        Choice(
            enum=Orientation,
            doc="an orientation the file declares (EXIF, a movie's display matrix): "
            "apply it (default) or keep the pixels as stored",
        ),
    ] = None
    fields: Annotated[
        FieldMode | None,
        Choice(
            enum=FieldMode,
            doc="interlaced movies: keep the woven fields (default) or interpolate "
            "whole frames from the first field",
        ),
    ] = None
    part: Annotated[
        str | None,
        Text(
            nonempty=True,
            doc='EXR: the part to read, by name or index ("1"); default the first '
            "part with R, G, B or Y channels for the view",
        ),
    ] = None
    view: Annotated[
        str | None,
        Text(nonempty=True, doc="EXR: the view to read; default the file's default"),
    ] = None
    yuv_matrix: Annotated[
        YuvMatrix | None,
        Choice(
            enum=YuvMatrix,
            doc="YUV movies: the YCbCr matrix to read them with, instead of the tag "
            "(default: as tagged; untagged HD as BT.709, SD as BT.601)",
        ),
    ] = None

    def __post_init__(self) -> None:
        check_model(self)


def _last_after_first(first: int, last: int) -> Iterator[Problem]:
    if last < first:
        yield Problem(
            path="last",
            message=f"{last} is before first {first}; allowed: {first} or later",
        )


@spec_model(relations=(Relation(fields=("first", "last"), check=_last_after_first),))
@dataclass(frozen=True, slots=True, kw_only=True)
class ExrSequence:
    """An already converted EXR sequence: ``folder/name.<frame>.exr``, first..last.

    Frames are premultiplied and scene-linear, as :func:`aebridge.convert` writes them.
    ``folder`` is relative to the spec file (or, in ``build.json``, to the comp folder).
    """

    folder: Annotated[str, Text(nonempty=True, doc="relative to the spec file")]
    name: Annotated[str, Text(nonempty=True)]
    first: Annotated[int, Whole(lo=0)]
    last: Annotated[int, Whole(lo=0)]
    padding: Annotated[int, Whole(lo=1, hi=10)] = 4
    rate: Annotated[Fraction, Rate()]
    width: Annotated[int, Whole(lo=1, hi=MAX_SIZE)]
    height: Annotated[int, Whole(lo=1, hi=MAX_SIZE)]
    pixel_aspect: Annotated[Fraction, Ratio()] = Fraction(1)
    colorspace: Annotated[str, Text(nonempty=True)] = DEFAULT_COLORSPACE

    def __post_init__(self) -> None:
        check_model(self)

    @property
    def frame_count(self) -> int:
        """Number of frames in the sequence."""
        return self.last - self.first + 1

    def frame_name(self, frame: int) -> str:
        """The file name of one frame, e.g. ``fg.1001.exr``."""
        return f"{self.name}.{frame:0{self.padding}d}.exr"


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class TrackMatte:
    """Use another layer (by id) as this layer's track matte."""

    layer: Annotated[str, Text(nonempty=True, doc="the matte layer's id")]
    type: MatteType = MatteType.ALPHA

    def __post_init__(self) -> None:
        check_model(self)


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class ConditioningKeyframe:
    """A point a generator was conditioned on (a keyframe image and/or a prompt).

    ``frame`` is the 0-based frame of the generated clip; it lands on the comp frame
    that shows it: ``layer.start + frame`` for a layer's provenance at 100 % (scaled
    by the layer's stretch otherwise), ``comp.start_frame + frame`` for the comp's.
    """

    frame: Annotated[
        int, Whole(lo=0, what=_FRAME, doc="0-based frame of the generated clip")
    ]
    image: Annotated[
        str | None,
        Text(
            pattern=IMAGE_NAME_PATTERN,
            allowed=IMAGE_FILE,
            doc=f"{IMAGE_FILE}, relative to the spec file",
        ),
    ] = None
    prompt: str | None = None
    strength: Annotated[float | None, Real()] = None

    def __post_init__(self) -> None:
        check_model(self)


@spec_model()
@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where generated material came from; goes into EXR headers, build.json, comments.

    ``extra`` holds any other generator field as sorted (key, value) text pairs.
    """

    generator: str | None = None
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: Annotated[int | None, Whole()] = None
    keyframes: Annotated[tuple[ConditioningKeyframe, ...], Items()] = ()
    camera_move: str | None = None
    extra: Annotated[tuple[tuple[str, str], ...], Pairs()] = ()

    def __post_init__(self) -> None:
        check_model(self)


def _light_blend(blend: BlendMode, light: LightUnderAlpha) -> Iterator[Problem]:
    """Keeping light under alpha 0 makes the layer a cut-out plus an additive copy,
    which together give the colour of 'over' only for the normal blend."""
    if light is LightUnderAlpha.ADD and blend is not BlendMode.NORMAL:
        yield Problem(
            path="light_under_alpha",
            message=f"'add' is not allowed with blend '{blend}'; allowed: 'add' "
            "with blend 'normal' only (the layer becomes a cut-out and an additive "
            "copy, which together give the colour of 'over'), else 'drop'",
        )


def _one_opacity(opacity: float, transform: Transform) -> Iterator[Problem]:
    if transform.opacity is not None and opacity != 100:
        yield Problem(
            path="opacity", message="set either opacity or transform.opacity, not both"
        )


def _vector_sizes(three_d: bool, transform: Transform) -> Iterator[Problem]:
    """Vectors have 2 components, or 2 or 3 on a 3D layer."""
    sizes = vector_sizes(three_d)
    for name in ("anchor", "position", "scale"):
        value = getattr(transform, name)
        if value is None:
            continue
        keys = value.keyframes
        for where, item in (
            [(f".keyframes[{i}].value", k.value) for i, k in enumerate(keys)]
            if keys
            else [("", value.value)]
        ):
            if isinstance(item, tuple) and len(item) not in sizes:
                allowed = " or ".join(str(n) for n in sizes)
                yield Problem(
                    path=f"transform.{name}{where}",
                    message=f"has {len(item)} components; allowed: {allowed} "
                    "(3 on a 3D layer)",
                )


@spec_model(
    relations=(
        Relation(fields=("blend", "light_under_alpha"), check=_light_blend),
        Relation(fields=("opacity", "transform"), check=_one_opacity),
        Relation(fields=("three_d", "transform"), check=_vector_sizes),
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One layer of the comp.

    Attributes:
        id: unique within the spec; an id (:data:`~aebridge.model.names.ID_PATTERN`:
            letters, digits, ``_ - .``, not ending in ``.``); also the name of the
            converted sequence's folder.
        name: the layer name shown in After Effects (default: the id).
        source: what to convert, or an already converted sequence.
        role: what the layer is for.
        blend: blending mode.
        opacity: static opacity 0..100 (use ``transform.opacity`` to animate it).
        enabled: the layer's video switch.
        guide: a guide layer (shown in AE, never rendered).
        three_d: a 3D layer (it then follows the camera).
        start: comp frame where source frame 0 lands (default: the comp's first frame).
        in_frame: first comp frame shown (default: ``start``).
        out_frame: comp frame after the last one shown (default: end of the source).
        stretch: time stretch in percent (200 plays at half speed).
        track_matte: another layer used as this layer's matte.
        transform: anchor, position, scale, rotation, opacity.
        comment: free text for the layer's comment.
        provenance: how this layer was generated.
        light_under_alpha: what becomes of light its frames hold under alpha 0.
    """

    id: Annotated[str, ID]
    name: Annotated[str | None, Text(doc="the layer name; default the id")] = None
    source: Annotated[LayerSource | ExrSequence, Source()]
    role: Role = Role.ELEMENT
    blend: BlendMode = BlendMode.NORMAL
    opacity: Annotated[float, Real(lo=0.0, hi=100.0)] = 100.0
    enabled: Annotated[bool, Flag(doc="the video switch")] = True
    guide: Annotated[
        bool,
        Flag(doc="a guide layer, never rendered; default: role is guide"),
    ] = False
    three_d: Annotated[
        bool, Flag(doc="a 3D layer; only 3D layers follow the camera")
    ] = False
    start: Annotated[
        int | None, Whole(what=_FRAME, doc="comp frame of source frame 0")
    ] = None
    in_frame: Annotated[
        int | None, Whole(what=_FRAME, doc="first comp frame shown")
    ] = None
    out_frame: Annotated[
        int | None, Whole(what=_FRAME, doc="comp frame after the last one shown")
    ] = None
    stretch: Annotated[
        float,
        Real(
            lo=-_MAX_STRETCH,
            hi=_MAX_STRETCH,
            min_abs=_MIN_STRETCH,
            doc="time stretch, percent (200 plays at half speed; negative reverses)",
        ),
    ] = 100.0
    track_matte: TrackMatte | None = None
    transform: Transform = field(default_factory=Transform)
    comment: str = ""
    provenance: Provenance | None = None
    light_under_alpha: Annotated[
        LightUnderAlpha,
        Choice(
            enum=LightUnderAlpha,
            doc="What becomes of light the layer's frames hold under alpha 0: drop "
            "(After Effects drops it when it unpremultiplies; the preview shows the "
            "same) or add (kept by an additive copy, which makes the layer's whole "
            "frame opaque: for a layer above an opaque plate; blend normal only).",
        ),
    ] = LightUnderAlpha.DROP

    def __post_init__(self) -> None:
        check_model(self)

    @property
    def display_name(self) -> str:
        """The layer name, or its id when no name is given."""
        return self.name if self.name else self.id

    def opacity_value(self) -> AnimatableValue:
        """Opacity as one animatable value (``transform.opacity`` wins)."""
        if self.transform.opacity is not None:
            return self.transform.opacity
        return AnimatableValue(value=self.opacity)
