"""What a conversion produced: :class:`ConvertResult`, and its light-under-alpha-0
report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import ExrSequence

__all__ = ["ConvertResult", "light_report", "light_warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertResult:
    """The EXR sequence a conversion produced (what a comp spec calls an EXR sequence).

    ``folder`` holds ``<name>.<frame>.exr`` for every frame from ``first`` to ``last``.
    """

    folder: Path
    name: str
    first: int
    last: int
    padding: int
    rate: Fraction
    width: int
    height: int
    pixel_aspect: Fraction
    colorspace: str
    role: str
    alpha_mode: str
    source: str
    frames_written: int
    frames_skipped: int
    sidecar: Path
    decisions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    light_pixels: int = 0
    light_frames: tuple[int, ...] = ()
    source_sha256: str | None = None
    """The source's SHA-256 as the frames' headers record it: a movie's, of its file;
    an image sequence's, of its frames' SHA-256 digests in order, one per line (for
    the frames this run converted)."""

    @property
    def sequence(self) -> ExrSequence:
        """The sequence written, as a comp spec (and the build plan) describe it; its
        folder is this result's, absolute or as given, with ``/`` separators."""
        from ..model import ExrSequence

        return ExrSequence(
            folder=self.folder.as_posix(),
            name=self.name,
            first=self.first,
            last=self.last,
            padding=self.padding,
            rate=self.rate,
            width=self.width,
            height=self.height,
            pixel_aspect=self.pixel_aspect,
            colorspace=self.colorspace,
        )

    @property
    def frame_count(self) -> int:
        return self.last - self.first + 1

    @property
    def pattern(self) -> str:
        """The sequence as ``name.####.exr``."""
        return f"{self.name}.{'#' * self.padding}.exr"

    def frame_path(self, frame: int) -> Path:
        return self.folder / f"{self.name}.{frame:0{self.padding}d}.exr"


def light_report(result: ConvertResult) -> dict[str, Any]:
    """Light under alpha 0 in a converted sequence, for sidecars and build.json:
    ``{"pixels": N, "frames": "1001-1010,1020"}`` (frames as ranges, "" for none)."""
    from ..sequence import format_frame_ranges

    return {
        "pixels": result.light_pixels,
        "frames": format_frame_ranges(result.light_frames),
    }


def light_warning(pixels: int, frames: Sequence[int]) -> str:
    """The warning for light kept under alpha 0 (frames in increasing order)."""
    from ..sequence import format_frame_ranges

    ranges = format_frame_ranges(list(frames))
    return (
        f"{pixels} pixel(s) in {len(frames)} frame(s) ({ranges}) hold light under "
        "alpha 0 (glows, fire in premultiplied input): After "
        "Effects drops it when it unpremultiplies the footage; in a comp spec, "
        "light_under_alpha 'add' on the layer keeps it as an additive copy, which "
        "makes the layer's whole frame opaque (for a layer above an opaque plate)"
    )
