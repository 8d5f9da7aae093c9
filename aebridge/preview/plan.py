"""What the preview renders: a comp reduced to numbers (layers, timing, animation).

The renderer works from this small plan rather than from the comp spec directly, so the
maths can be tested without files and the spec's shape is read in one place
(:func:`aebridge.preview.render.plan_from_spec`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .keyframes import Key, evaluate

__all__ = [
    "Animated",
    "CameraPlan",
    "CameraState",
    "CompPlan",
    "LayerPlan",
    "SequencePlan",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Animated:
    """A property: a static value, or keys evaluated the way AE does."""

    value: tuple[float, ...] = ()
    keys: tuple[Key, ...] = ()
    spatial: bool = False

    def at(self, frame: float, rate: float) -> tuple[float, ...]:
        """The value at a comp frame (``rate`` in frames per second)."""
        if self.keys:
            return evaluate(self.keys, frame, rate, spatial=self.spatial)
        return self.value

    @staticmethod
    def const(*value: float) -> Animated:
        return Animated(value=tuple(float(v) for v in value))


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


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerPlan:
    """One layer. Frames are comp frame numbers; source frame 0 lands at ``start``.

    ``matte`` is ``(index into CompPlan.layers, matte type)``; ``spec_path`` is the
    layer's path in the spec (``layers[2]``) for error messages.
    """

    id: str
    spec_path: str
    source: SequencePlan
    blend: str = "normal"
    visible: bool = True
    three_d: bool = False
    start: int = 0
    in_frame: int = 0
    out_frame: int = 0
    stretch: Fraction = Fraction(100)
    matte: tuple[int, str] | None = None
    is_matte: bool = False
    anchor: Animated | None = None
    position: Animated | None = None
    scale: Animated = Animated(value=(100.0, 100.0, 100.0))
    rotation: Animated = Animated(value=(0.0,))
    opacity: Animated = Animated(value=(100.0,))

    def active(self, frame: int) -> bool:
        """Whether the layer shows at a comp frame (in inclusive, out exclusive)."""
        return self.in_frame <= frame < self.out_frame

    def source_index(self, frame: int) -> int | None:
        """The 0-based source frame shown at a comp frame, None when there is none.

        ``(frame - start) * 100 / stretch`` frames into the source, rounded down: AE
        shows the source frame whose duration covers that time (no frame blending).
        Exact rational arithmetic, so 24000/1001 or 33.3 % stretch never drifts. A
        negative stretch plays the source backwards and ends at ``start``: the comp
        frame just before ``start`` shows source frame 0, the one before it frame 1 (the
        source frame covering the reversed interval, hence ceil - 1), as AE's reversed
        layers do.
        """
        if self.stretch == 0:
            return None
        offset = Fraction(frame - self.start) * 100 / self.stretch
        index = math.floor(offset) if self.stretch > 0 else math.ceil(offset) - 1
        if 0 <= index < self.source.frame_count:
            return index
        return None


Vec3 = tuple[float, float, float]
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
