"""The comp spec as data: frozen dataclasses and str enums, no I/O, no numpy.

A :class:`CompSpec` describes one After Effects comp: its settings, its layers (bottom
to top), an optional camera driven by a small camera-move language, comp markers, and
the style and provenance of the generated material. :mod:`aebridge.spec_io` reads and
writes it as versioned JSON (``"schema": "aebridge.comp/1"``) and validates it;
:mod:`aebridge.camera` turns the camera moves into keyframes; :mod:`aebridge.emit`
turns the whole spec into an ExtendScript.

Conventions shared by every field:

- Time is integer comp frames plus the exact comp rate (a :class:`~fractions.Fraction`).
  A comp runs over frames ``start_frame .. start_frame + duration - 1``; ``out_frame``
  values are exclusive, as After Effects' ``outPoint`` is.
- Space is After Effects' comp pixels: x right, y down, z into the screen.
- Angles are degrees; scale and stretch are percent; opacity is 0..100.
- Easing uses After Effects' own vocabulary: a key's ``ease_in`` shapes how the value
  arrives at the key, its ``ease_out`` how it leaves (Easy Ease In / Easy Ease Out).

The constructors do not validate: :func:`aebridge.spec_io.load_spec` does, reporting
every problem with its spec path. Build specs in code through
:func:`aebridge.spec_io.load_spec` on a mapping when the values come from users.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction

# The easing vocabulary is the animation module's; the spec uses it as it is.
from .animation import CustomEase, Ease, EaseHandle, Easing, first_frame_showing

__all__ = [
    "DEFAULT_COLORSPACE",
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
    "Keyframe",
    "Layer",
    "LayerSource",
    "LightUnderAlpha",
    "Marker",
    "MarkerKind",
    "MatteType",
    "MoveKind",
    "ProjectSettings",
    "Provenance",
    "Role",
    "Style",
    "TrackMatte",
    "Transform",
    "Value",
    "VfrPolicy",
    "comp_slug",
    "expand_conditioning",
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
    ignored adding its premultiplied colour, which is premultiplied 'over' with the
    light kept. Only for layers blended ``normal``.
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


class MatteType(StrEnum):
    """Track matte types (After Effects 23.0+ ``TrackMatteType``)."""

    ALPHA = "alpha"
    ALPHA_INVERTED = "alpha_inverted"
    LUMA = "luma"
    LUMA_INVERTED = "luma_inverted"


@dataclass(frozen=True, slots=True, kw_only=True)
class Keyframe:
    """A key at a comp frame; ``easing`` shapes the value around this key."""

    frame: int
    value: Value
    easing: Easing = Ease.LINEAR


@dataclass(frozen=True, slots=True, kw_only=True)
class AnimatableValue:
    """A static ``value`` or (exclusive) a list of ``keyframes`` in frame order.

    In JSON it is either the bare value (``[960, 540]``) or
    ``{"keyframes": [{"frame": 1001, "value": [960, 540], "easing": "ease_out"}]}``.
    """

    value: Value | None = None
    keyframes: tuple[Keyframe, ...] = ()

    @property
    def animated(self) -> bool:
        """True when the property has keyframes."""
        return bool(self.keyframes)

    def first_value(self) -> Value:
        """The static value, or the first key's value when animated.

        Raises:
            ValueError: neither a value nor keyframes are set.
        """
        if self.keyframes:
            return self.keyframes[0].value
        if self.value is None:
            raise ValueError("an animatable value needs a value or keyframes")
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Transform:
    """Layer transform; ``None`` keeps After Effects' default for that property.

    Defaults: anchor at the layer's centre, position at the comp's centre, scale 100 %,
    rotation 0 (Z rotation, degrees clockwise on screen), opacity 100. Vectors have two
    components, or three on a 3D layer.
    """

    anchor: AnimatableValue | None = None
    position: AnimatableValue | None = None
    scale: AnimatableValue | None = None
    rotation: AnimatableValue | None = None
    opacity: AnimatableValue | None = None


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
    """

    path: str
    alpha: AlphaMode = AlphaMode.AUTO
    matte: str | None = None
    colorspace: str | None = None
    rate: Fraction | None = None
    vfr: VfrPolicy = VfrPolicy.REFUSE
    pixel_aspect: Fraction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExrSequence:
    """An already converted EXR sequence: ``folder/name.<frame>.exr``, first..last.

    Frames are premultiplied and scene-linear, as :func:`aebridge.convert` writes them.
    ``folder`` is relative to the spec file (or, in ``build.json``, to the comp folder).
    """

    folder: str
    name: str
    first: int
    last: int
    padding: int = 4
    rate: Fraction
    width: int
    height: int
    pixel_aspect: Fraction = Fraction(1)
    colorspace: str = DEFAULT_COLORSPACE

    @property
    def frame_count(self) -> int:
        """Number of frames in the sequence."""
        return self.last - self.first + 1

    def frame_name(self, frame: int) -> str:
        """The file name of one frame, e.g. ``fg.1001.exr``."""
        return f"{self.name}.{frame:0{self.padding}d}.exr"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackMatte:
    """Use another layer (by id) as this layer's track matte."""

    layer: str
    type: MatteType = MatteType.ALPHA


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditioningKeyframe:
    """A point a generator was conditioned on (a keyframe image and/or a prompt).

    ``frame`` is the 0-based frame of the generated clip; it lands on the comp frame
    that shows it: ``layer.start + frame`` for a layer's provenance at 100 % (scaled
    by the layer's stretch otherwise), ``comp.start_frame + frame`` for the comp's.
    """

    frame: int
    image: str | None = None
    prompt: str | None = None
    strength: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where generated material came from; goes into EXR headers, build.json, comments.

    ``extra`` holds any other generator field as sorted (key, value) text pairs.
    """

    generator: str | None = None
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    keyframes: tuple[ConditioningKeyframe, ...] = ()
    camera_move: str | None = None
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One layer of the comp.

    Attributes:
        id: unique within the spec; letters, digits, ``_ - .``; also the name of the
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

    id: str
    name: str | None = None
    source: LayerSource | ExrSequence
    role: Role = Role.ELEMENT
    blend: BlendMode = BlendMode.NORMAL
    opacity: float = 100.0
    enabled: bool = True
    guide: bool = False
    three_d: bool = False
    start: int | None = None
    in_frame: int | None = None
    out_frame: int | None = None
    stretch: float = 100.0
    track_matte: TrackMatte | None = None
    transform: Transform = field(default_factory=Transform)
    comment: str = ""
    provenance: Provenance | None = None
    light_under_alpha: LightUnderAlpha = LightUnderAlpha.DROP

    @property
    def display_name(self) -> str:
        """The layer name, or its id when no name is given."""
        return self.name if self.name else self.id

    def opacity_value(self) -> AnimatableValue:
        """Opacity as one animatable value (``transform.opacity`` wins)."""
        if self.transform.opacity is not None:
            return self.transform.opacity
        return AnimatableValue(value=self.opacity)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraMove:
    """One camera move from comp frame ``start`` to comp frame ``end``.

    ``amount`` by kind (positive direction first):

    - ``dolly``: pixels forward along the view direction (negative pulls back);
      camera and point of interest move together.
    - ``truck``: pixels to the camera's right; ``pedestal``: pixels up.
    - ``pan``: degrees to the right about the vertical axis (the point of interest
      swings around the camera); ``tilt``: degrees up.
    - ``roll``: degrees of Z rotation, clockwise on screen as After Effects counts it.
    - ``orbit``: degrees the camera travels to its right around the point of interest.
    - ``zoom``: a factor on the camera's zoom (2 doubles the focal length, 0.5 halves
      it); the zoom value is interpolated linearly under the easing, as AE does.
    """

    kind: MoveKind
    start: int
    end: int
    amount: float
    easing: Easing = Ease.LINEAR


@dataclass(frozen=True, slots=True, kw_only=True)
class Camera:
    """A two-node camera (position plus point of interest) and its moves.

    Unset starting values are derived from the comp so that the camera frames the comp
    1:1: zoom = comp width * focal length / film width, position
    ``[W/2, H/2, -zoom]``, point of interest ``[W/2, H/2, 0]``.
    """

    name: str = "Camera"
    focal_length_mm: float = 50.0
    film_width_mm: float = 36.0
    position: tuple[float, float, float] | None = None
    point_of_interest: tuple[float, float, float] | None = None
    moves: tuple[CameraMove, ...] = ()

    def zoom(self, comp: Comp) -> float:
        """The camera's zoom in pixels for ``comp`` (AE's Camera Zoom)."""
        return comp.width * self.focal_length_mm / self.film_width_mm

    def start_position(self, comp: Comp) -> tuple[float, float, float]:
        """The position before any move (given, or framing the comp 1:1)."""
        if self.position is not None:
            return self.position
        return (comp.width / 2, comp.height / 2, -self.zoom(comp))

    def start_point_of_interest(self, comp: Comp) -> tuple[float, float, float]:
        """The point of interest before any move (given, or the comp's centre)."""
        if self.point_of_interest is not None:
            return self.point_of_interest
        return (comp.width / 2, comp.height / 2, 0.0)


class MarkerKind(StrEnum):
    """``keyframe`` marks a conditioning keyframe; ``note`` is anything else."""

    NOTE = "note"
    KEYFRAME = "keyframe"


@dataclass(frozen=True, slots=True, kw_only=True)
class Marker:
    """A comp marker at a comp frame; ``parameters`` are text pairs (setParameters)."""

    frame: int
    name: str = ""
    comment: str = ""
    duration: int = 0
    parameters: tuple[tuple[str, str], ...] = ()
    kind: MarkerKind = MarkerKind.NOTE
    label: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """The look the material was generated in (a generator's style preset)."""

    id: str
    name: str = ""


# Names Windows reserves for devices, whatever the extension.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def comp_slug(name: str) -> str:
    """A safe file and folder name for a comp name of any text.

    Accents are folded to ASCII (NFKD), every run of other characters becomes one
    ``_``, ``_ . -`` are trimmed from the ends, and it is cut to 64 characters; a name
    with nothing left becomes ``comp_`` and 8 hex digits of its hash, a Windows device
    name gets a ``_``. The same name always gives the same slug.

    Args:
        name: the comp name.

    Returns:
        1 to 64 characters from ``A-Z a-z 0-9 _ . -``, starting with a letter or digit.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("_.-")[:64].strip("_.-")
    if not slug:
        return "comp_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    if slug.split(".")[0].lower() in _RESERVED:
        slug += "_"
    return slug


class ProjectSettings(StrEnum):
    """When the build script may change project-wide settings (bit depth, blending,
    working space): a project holds other comps, and they share them."""

    AUTO = "auto"
    SET = "set"
    KEEP = "keep"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comp:
    """Comp and project settings.

    Attributes:
        name: comp name in After Effects: any text, up to 255 characters.
        id: names the output folder and files (letters, digits, ``_ - .``); default
            :func:`comp_slug` of the name. See :attr:`folder_name`.
        width, height: pixels.
        pixel_aspect: pixel aspect ratio.
        rate: exact frame rate.
        duration: frames.
        start_frame: number of the first frame (AE ``displayStartFrame``).
        background: RGB 0..1.
        bpc: project bits per channel (8, 16 or 32).
        linear_blending: blend in linear light (project setting).
        working_space: the project's working colour space as After Effects lists it
            (an ICC profile description), or ``None`` for the one that matches the
            comp's colour space (Rec.709/sRGB primaries for Linear Rec.709, ACEScg for
            ACEScg), linearized; the script matches names at run time.
        project_settings: when the script may change the project-wide settings above:
            ``auto`` in a new or empty project (or one holding only this comp's
            items), ``set`` always, ``keep`` never (it only reports differences).
        keyframe_markers: add a comp marker for every conditioning keyframe.
        keyframe_guides: add every conditioning keyframe image as a guide layer.
    """

    name: str
    id: str | None = None
    width: int
    height: int
    pixel_aspect: Fraction = Fraction(1)
    rate: Fraction
    duration: int
    start_frame: int = 1001
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    bpc: int = 32
    linear_blending: bool = True
    working_space: str | None = None
    project_settings: ProjectSettings = ProjectSettings.AUTO
    keyframe_markers: bool = True
    keyframe_guides: bool = False

    @property
    def folder_name(self) -> str:
        """The name of the comp's output folder and files: its ``id``, else the slug
        of its name (stable: the same name always gives the same slug)."""
        return self.id if self.id is not None else comp_slug(self.name)

    @property
    def end_frame(self) -> int:
        """The comp frame after the last one (exclusive)."""
        return self.start_frame + self.duration

    @property
    def last_frame(self) -> int:
        """The comp's last frame (inclusive)."""
        return self.start_frame + self.duration - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CompSpec:
    """A whole comp: settings, layers bottom to top, camera, markers, metadata."""

    schema: str = SCHEMA
    comp: Comp
    layers: tuple[Layer, ...] = ()
    camera: Camera | None = None
    markers: tuple[Marker, ...] = ()
    style: Style | None = None
    provenance: Provenance | None = None

    def layer(self, layer_id: str) -> Layer:
        """The layer with this id.

        Raises:
            KeyError: no layer has that id.
        """
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise KeyError(layer_id)

    def layer_start(self, layer: Layer) -> int:
        """The comp frame where the layer's source frame 0 lands."""
        return self.comp.start_frame if layer.start is None else layer.start

    @property
    def matte_ids(self) -> frozenset[str]:
        """The ids of the layers other layers use as their track matte."""
        return frozenset(
            layer.track_matte.layer for layer in self.layers if layer.track_matte
        )

    def draws(self, layer: Layer) -> bool:
        """Whether a layer shows itself in a render: enabled, not a guide (AE never
        renders guide layers) and no one's track matte (a matte's video is off)."""
        return (
            layer.enabled
            and not layer.guide
            and layer.role is not Role.GUIDE
            and layer.id not in self.matte_ids
        )

    @property
    def colorspace(self) -> str:
        """The comp's working colour space: the bottom drawn layer's converted colour
        space (the preview blends in it; the script picks the AE working space for
        it), or :data:`DEFAULT_COLORSPACE`."""
        for layer in self.layers:
            if isinstance(layer.source, ExrSequence) and self.draws(layer):
                return layer.source.colorspace
        return DEFAULT_COLORSPACE


def _conditioning_sources(
    spec: CompSpec,
) -> list[tuple[int, str, ConditioningKeyframe, Provenance]]:
    """(comp frame, owner id, keyframe, provenance) for every conditioning keyframe."""
    found: list[tuple[int, str, ConditioningKeyframe, Provenance]] = []
    if spec.provenance is not None:
        for key in spec.provenance.keyframes:
            found.append((spec.comp.start_frame + key.frame, "", key, spec.provenance))
    for layer in spec.layers:
        if layer.provenance is not None:
            for key in layer.provenance.keyframes:
                frame = first_frame_showing(
                    key.frame, start=spec.layer_start(layer), stretch=layer.stretch
                )
                found.append((frame, layer.id, key, layer.provenance))
    return found


def expand_conditioning(spec: CompSpec) -> CompSpec:
    """Turn conditioning keyframes into comp markers and, on request, guide layers.

    With ``comp.keyframe_markers`` every keyframe of the comp's or a layer's provenance
    becomes a ``keyframe`` marker (name ``keyframe <n>``, the prompt as comment, image,
    strength and layer as parameters). With ``comp.keyframe_guides`` every keyframe
    image also becomes a one-frame guide layer on top (id ``kf_<owner>_<n>``) at the
    frame it conditions. Markers and layers already present are kept; running this
    twice adds nothing new.

    Args:
        spec: a validated spec.

    Returns:
        The spec with the markers (sorted by frame) and guide layers added.
    """
    markers = list(spec.markers)
    layers = list(spec.layers)
    existing_markers = {(m.frame, m.name, m.kind) for m in markers}
    existing_ids = {layer.id for layer in layers}
    counters: dict[str, int] = {}
    for frame, owner, key, _prov in sorted(
        _conditioning_sources(spec), key=lambda item: (item[0], item[1])
    ):
        counters[owner] = counters.get(owner, 0) + 1
        number = counters[owner]
        label = f"keyframe {number}" if not owner else f"{owner} keyframe {number}"
        if spec.comp.keyframe_markers and (
            (frame, label, MarkerKind.KEYFRAME) not in existing_markers
        ):
            params: list[tuple[str, str]] = [("source_frame", str(key.frame))]
            if owner:
                params.append(("layer", owner))
            if key.image:
                params.append(("image", key.image))
            if key.strength is not None:
                params.append(("strength", repr(float(key.strength))))
            markers.append(
                Marker(
                    frame=frame,
                    name=label,
                    comment=key.prompt or "",
                    parameters=tuple(sorted(params)),
                    kind=MarkerKind.KEYFRAME,
                )
            )
        guide_id = f"kf_{owner or 'comp'}_{number}"
        if spec.comp.keyframe_guides and key.image and guide_id not in existing_ids:
            existing_ids.add(guide_id)
            layers.append(
                Layer(
                    id=guide_id,
                    name=label,
                    source=LayerSource(path=key.image, alpha=AlphaMode.AUTO),
                    role=Role.GUIDE,
                    guide=True,
                    start=frame,
                    in_frame=frame,
                    out_frame=frame + 1,
                    comment=key.prompt or "",
                )
            )
    markers.sort(key=lambda m: m.frame)
    return replace(spec, markers=tuple(markers), layers=tuple(layers))
