"""What the preview renders: a comp reduced to numbers (layers, timing, animation).

The renderer works from this small plan rather than from the comp spec directly, so the
maths can be tested without files and the spec's shape is read in one place
(:func:`aebridge.preview.fromspec.plan_from_spec`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..animation import Track, source_frame_index

__all__ = [
    "DEFAULT_FILM_MM",
    "DEFAULT_FOCAL_MM",
    "CameraPlan",
    "CameraState",
    "CompPlan",
    "LayerPlan",
    "LayerState",
    "SequencePlan",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SequencePlan:
    """An EXR sequence on disk: ``folder/name.<frame>.exr`` for first..last."""

    folder: Path
    name: str
    first: int
    last: int
    padding: int = 4
    width: int = 0
    height: int = 0
    colorspace: str = "lin_rec709"

    @property
    def frame_count(self) -> int:
        return self.last - self.first + 1

    def path(self, index: int) -> Path:
        """The file of 0-based source frame ``index``."""
        return self.folder / f"{self.name}.{self.first + index:0{self.padding}d}.exr"


Vec3 = tuple[float, float, float]

#: The camera After Effects uses for 3D layers when a comp has no camera layer: a
#: 50 mm lens on 36 mm film (unverified in a running After Effects).
DEFAULT_FOCAL_MM, DEFAULT_FILM_MM = 50.0, 36.0

# AE's defaults for a layer's scale, rotation and opacity.
_FULL_SCALE = Track(value=(100.0, 100.0, 100.0))
_NO_ROTATION = Track(value=(0.0,))
_OPAQUE = Track(value=(100.0,))


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerPlan:
    """One layer. Frames are comp frame numbers; source frame 0 lands at ``start``.

    ``in_frame``/``out_frame`` are exact (a stretch can end a layer between frames;
    :func:`aebridge.animation.layer_bounds`). ``matte`` is ``(index into
    CompPlan.layers, matte type)``; ``spec_path`` is the layer's path in the spec
    (``layers[2]``) for error messages. ``alpha_ignored``: the footage is read with
    its alpha ignored, as After Effects interprets a light copy's
    (``AlphaMode.IGNORE``): opaque over its whole frame, colour as stored, light
    under alpha 0 included; otherwise that light is dropped, as AE drops it when it
    unpremultiplies premultiplied footage.
    """

    id: str
    spec_path: str
    source: SequencePlan
    blend: str = "normal"
    visible: bool = True
    three_d: bool = False
    start: int = 0
    in_frame: Fraction | int = 0
    out_frame: Fraction | int = 0
    stretch: Fraction = Fraction(100)
    matte: tuple[int, str] | None = None
    is_matte: bool = False
    alpha_ignored: bool = False
    anchor: Track | None = None
    position: Track | None = None
    scale: Track = _FULL_SCALE
    rotation: Track = _NO_ROTATION
    opacity: Track = _OPAQUE

    def active(self, frame: int) -> bool:
        """Whether the layer shows at a comp frame (in inclusive, out exclusive)."""
        return self.in_frame <= frame < self.out_frame

    def source_index(self, frame: int) -> int | None:
        """The 0-based source frame shown at a comp frame, None when there is none
        (:func:`aebridge.animation.source_frame_index`)."""
        return source_frame_index(
            frame,
            start=self.start,
            stretch=self.stretch,
            frame_count=self.source.frame_count,
        )

    def renders(self, frame: int) -> bool:
        """Whether the layer draws itself at a comp frame: visible, no one's matte,
        between its in and out points, with a source frame to show."""
        return (
            self.visible
            and not self.is_matte
            and self.active(frame)
            and self.source_index(frame) is not None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerState:
    """A layer at one comp frame, as the preview draws it.

    ``anchor``, ``position`` and ``scale`` have three components (a 2D layer's z is
    AE's default: 0 for anchor and position, 100 % for scale); ``rotation`` is the Z
    rotation in degrees; ``opacity`` is 0..100 (clamped).
    """

    renders: bool
    source_frame: int | None
    anchor: Vec3
    position: Vec3
    scale: Vec3
    rotation: float
    opacity: float


#: A camera at one instant: position, point of interest, zoom (pixels), roll (degrees).
CameraState = tuple[Vec3, Vec3, float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraPlan:
    """The comp camera: its state at any (fractional) comp frame."""

    state: Callable[[float], CameraState]

    @staticmethod
    def static(
        position: Vec3, point_of_interest: Vec3, zoom: float, roll: float = 0.0
    ) -> CameraPlan:
        """A camera that does not move."""
        fixed: CameraState = (position, point_of_interest, zoom, roll)
        return CameraPlan(state=lambda _frame: fixed)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompPlan:
    """The comp: size, exact rate, frame range, background and layers bottom to top."""

    name: str
    width: int
    height: int
    rate: Fraction
    start_frame: int
    duration: int
    layers: tuple[LayerPlan, ...]
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    working_space: str = "lin_rec709"
    camera: CameraPlan | None = None

    @property
    def frames(self) -> range:
        return range(self.start_frame, self.start_frame + self.duration)

    def camera_at(self, frame: float) -> CameraState:
        """The camera at a comp frame: the comp's, or AE's default camera."""
        if self.camera is not None:
            return self.camera.state(frame)
        zoom = self.width * DEFAULT_FOCAL_MM / DEFAULT_FILM_MM
        return (
            (self.width / 2, self.height / 2, -zoom),
            (self.width / 2, self.height / 2, 0.0),
            zoom,
            0.0,
        )

    def layer_state(self, index: int, frame: int) -> LayerState:
        """Layer ``index`` at a comp frame: what it shows and its transform.

        Unset anchor and position are AE's defaults: the source's centre and the
        comp's centre.
        """
        layer = self.layers[index]

        def three(values: tuple[float, ...], z: float) -> Vec3:
            padded = (*values, z, z)[:3] if len(values) < 3 else values
            return (float(padded[0]), float(padded[1]), float(padded[2]))

        src = layer.source
        anchor = (
            layer.anchor.at(frame, self.rate)
            if layer.anchor
            else (src.width / 2, src.height / 2)
        )
        position = (
            layer.position.at(frame, self.rate)
            if layer.position
            else (self.width / 2, self.height / 2)
        )
        scale = layer.scale.at(frame, self.rate)
        return LayerState(
            renders=layer.renders(frame),
            source_frame=layer.source_index(frame),
            anchor=three(anchor, 0.0),
            position=three(position, 0.0),
            scale=three(scale, 100.0),
            rotation=layer.rotation.at(frame, self.rate)[0],
            opacity=min(max(layer.opacity.at(frame, self.rate)[0], 0.0), 100.0),
        )
