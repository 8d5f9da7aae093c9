"""The comp spec's vocabulary: its str enums and constants, defined once.

Every enum here is imported wherever its idea is used (the reader, the JSON Schema,
the build plan, the preview, the command line's choices).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DEFAULT_COLORSPACE",
    "LIGHT_COPY_BLEND",
    "LIGHT_CUTOUT_BLEND",
    "LIGHT_SUFFIX",
    "SCHEMA",
    "AlphaMode",
    "BlendMode",
    "FieldMode",
    "LightUnderAlpha",
    "MarkerKind",
    "MatteType",
    "MoveKind",
    "Orientation",
    "ProjectSettings",
    "Role",
    "Value",
    "VfrPolicy",
    "YuvMatrix",
]

#: The schema label written into every spec this version of aebridge produces.
SCHEMA = "aebridge.comp/1"

#: The colour space aebridge converts to unless told otherwise.
DEFAULT_COLORSPACE = "Linear Rec.709 (sRGB)"

#: A property value: a number (rotation, opacity) or a vector (anchor, position, scale).
Value = float | tuple[float, ...]


class AlphaMode(StrEnum):
    """How the source's alpha is stored (``auto`` decides from the format)."""

    AUTO = "auto"
    STRAIGHT = "straight"
    PREMULTIPLIED = "premultiplied"
    NONE = "none"


class VfrPolicy(StrEnum):
    """What to do with a variable-frame-rate movie."""

    REFUSE = "refuse"
    RESAMPLE = "resample"


class Orientation(StrEnum):
    """What to do with an orientation the file declares (EXIF in JPEG/TIFF/PNG, a
    phone movie's display matrix): ``apply`` it, or ``keep`` the pixels as stored."""

    APPLY = "apply"
    KEEP = "keep"


class FieldMode(StrEnum):
    """Interlaced movies: ``keep`` the two woven fields of each frame, or
    ``interpolate`` whole frames from the first field."""

    KEEP = "keep"
    INTERPOLATE = "interpolate"


class YuvMatrix(StrEnum):
    """The YCbCr->RGB matrix to read a YUV movie with, instead of its tag (an
    untagged movie is otherwise read as BT.709 at 720 lines or more, BT.601 below).

    Robust Video Matting's writer, for one, encodes BT.601 and tags nothing, at
    any size. ``bt2020`` is BT.2020's non-constant-luminance matrix.
    """

    BT709 = "bt709"
    BT601 = "bt601"
    BT2020 = "bt2020"


class Role(StrEnum):
    """What a layer is for (a ``guide`` becomes a guide layer)."""

    BACKGROUND = "background"
    FOREGROUND = "foreground"
    ELEMENT = "element"
    MATTE = "matte"
    GUIDE = "guide"


class LightUnderAlpha(StrEnum):
    """What becomes of light a layer's frames hold under alpha 0 (colour where alpha
    is 0: glows and fire from premultiplied linear sources).

    After Effects unpremultiplies premultiplied footage, so that light contributes
    nothing there: ``drop`` (AE's own behaviour, which the preview shows too).
    ``add`` keeps it: the script builds the layer as two, one cutting the layer's
    alpha out of what is below (Silhouette Alpha) and an additive copy with alpha
    ignored adding its premultiplied colour (:data:`LIGHT_CUTOUT_BLEND`,
    :data:`LIGHT_COPY_BLEND`). That is the colour of premultiplied 'over' with the
    light kept, but the copy is opaque: the layer's whole frame becomes opaque (alpha
    1), so ``add`` is meant for a layer above an opaque plate. Only for layers blended
    ``normal``.
    """

    DROP = "drop"
    ADD = "add"


class BlendMode(StrEnum):
    """After Effects' full list of layer blending modes, by readable name.

    The ExtendScript library maps each name to its ``BlendingMode`` constant through a
    table written out in full (AE spells ``SILHOUETE_ALPHA`` with one T).
    """

    NORMAL = "normal"
    DISSOLVE = "dissolve"
    DANCING_DISSOLVE = "dancing_dissolve"
    DARKEN = "darken"
    MULTIPLY = "multiply"
    COLOR_BURN = "color_burn"
    CLASSIC_COLOR_BURN = "classic_color_burn"
    LINEAR_BURN = "linear_burn"
    DARKER_COLOR = "darker_color"
    ADD = "add"
    LIGHTEN = "lighten"
    SCREEN = "screen"
    COLOR_DODGE = "color_dodge"
    CLASSIC_COLOR_DODGE = "classic_color_dodge"
    LINEAR_DODGE = "linear_dodge"
    LIGHTER_COLOR = "lighter_color"
    OVERLAY = "overlay"
    SOFT_LIGHT = "soft_light"
    HARD_LIGHT = "hard_light"
    LINEAR_LIGHT = "linear_light"
    VIVID_LIGHT = "vivid_light"
    PIN_LIGHT = "pin_light"
    HARD_MIX = "hard_mix"
    DIFFERENCE = "difference"
    CLASSIC_DIFFERENCE = "classic_difference"
    EXCLUSION = "exclusion"
    SUBTRACT = "subtract"
    DIVIDE = "divide"
    HUE = "hue"
    SATURATION = "saturation"
    COLOR = "color"
    LUMINOSITY = "luminosity"
    STENCIL_ALPHA = "stencil_alpha"
    STENCIL_LUMA = "stencil_luma"
    SILHOUETTE_ALPHA = "silhouette_alpha"
    SILHOUETTE_LUMA = "silhouette_luma"
    ALPHA_ADD = "alpha_add"
    LUMINESCENT_PREMUL = "luminescent_premul"


# A layer with light_under_alpha 'add' is two layers in After Effects (jsx/PLAN.md,
# "Light under alpha 0"), and the preview draws the same two: the layer itself,
# blended LIGHT_CUTOUT_BLEND, and just above it a copy of its frames with the
# footage's alpha ignored, blended LIGHT_COPY_BLEND, its id the layer's plus
# LIGHT_SUFFIX ('#' is never in a spec id).
LIGHT_CUTOUT_BLEND = BlendMode.SILHOUETTE_ALPHA
LIGHT_COPY_BLEND = BlendMode.ADD
LIGHT_SUFFIX = "#light"


class MatteType(StrEnum):
    """Track matte types (After Effects 23.0+ ``TrackMatteType``)."""

    ALPHA = "alpha"
    ALPHA_INVERTED = "alpha_inverted"
    LUMA = "luma"
    LUMA_INVERTED = "luma_inverted"


class MoveKind(StrEnum):
    """The camera-move language; see :class:`CameraMove` for each amount's unit."""

    DOLLY = "dolly"
    TRUCK = "truck"
    PEDESTAL = "pedestal"
    PAN = "pan"
    TILT = "tilt"
    ROLL = "roll"
    ZOOM = "zoom"
    ORBIT = "orbit"


class MarkerKind(StrEnum):
    """``keyframe`` marks a conditioning keyframe; ``note`` is anything else."""

    NOTE = "note"
    KEYFRAME = "keyframe"


class ProjectSettings(StrEnum):
    """When the build script may change project-wide settings (bit depth, blending,
    working space): a project holds other comps, and they share them."""

    AUTO = "auto"
    SET = "set"
    KEEP = "keep"
