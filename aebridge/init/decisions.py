"""What init decides with, and what it decided.

:class:`InitOptions` is what the user told init; :class:`Clip`, :class:`Notes` and
:class:`Place` are the working state the deciding modules share (a clip on its way
to a layer; the guesses, warnings and files left out, as they are made; where the
spec's paths are written from); :class:`Plan` (with its :class:`LayerRow` and
:class:`Guess` items) is the outcome :func:`~aebridge.init.assemble.assemble`
returns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import OptionError
from ..ingest import file_sha256
from ..model import (
    CompSpec,
    Style,
    YuvMatrix,
)
from ..timing import format_rate
from .discover import Media
from .records import KeyImage, Record
from .spelling import COMMAND_LINE, Spelling

__all__ = [
    "Clip",
    "Guess",
    "InitOptions",
    "LayerRow",
    "Notes",
    "Place",
    "Plan",
    "find_media",
    "rate_text",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InitOptions:
    """What the user told init (every field is an option of
    :data:`~aebridge.init.spelling.OPTIONS`: a flag, a request field).

    Attributes:
        name: the comp name (default: the folder's name).
        plate: the clip to use as the plate (a path relative to the folder).
        pairs: ``(clip, matte)``: the matte becomes the clip's alpha.
        track_mattes: ``(clip, matte)``: the matte becomes a track-matte layer.
        guides: keyframe images become guide layers too.
        camera: a generator camera control becomes a camera move (heuristic).
        style: the project's locked style.
        rate: the comp rate (default: the plate's).
        start_frame: the comp's first frame number.
        exclude: glob patterns of files, or of sequences as init lists them or as
            the sequence grammar names their frames, to leave out.
        spelling: how init's messages name these options: as the command line's
            flags (``--plate``) or the service request's fields (``options.plate``).
    """

    name: str | None = None
    plate: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    track_mattes: tuple[tuple[str, str], ...] = ()
    guides: bool = False
    camera: bool = False
    style: Style | None = None
    rate: Fraction | None = None
    start_frame: int = 1001
    exclude: tuple[str, ...] = ()
    spelling: Spelling = COMMAND_LINE


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerRow:
    """One line of the decision table (all text, as printed)."""

    id: str
    source: str
    role: str
    alpha: str
    matte: str
    frames: str
    rate: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Guess:
    """A choice init made by convention or guess, and how to make it differently."""

    what: str
    override: str

    def __str__(self) -> str:
        return f"{self.what}; {self.override}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What :func:`assemble` decided."""

    spec: CompSpec
    rows: tuple[LayerRow, ...]
    guesses: tuple[Guess, ...]
    warnings: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Clip:
    """A clip on its way to becoming a layer."""

    media: Media
    matte: Media | None = None
    track_matte: Media | None = None
    opaque: bool = False
    layer_id: str = ""
    # The id of the layer its track matte becomes (``<layer_id>_matte``, unique).
    matte_layer_id: str = ""
    record: Record | None = None
    yuv_matrix: YuvMatrix | None = None


@dataclass(slots=True)
class Notes:
    """The guesses, warnings and files left out, as the decisions are made, and how
    they (and init's refusals) name an option: as the caller sets it."""

    spelling: Spelling = COMMAND_LINE
    guesses: list[Guess] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def guess(self, what: str, override: str) -> None:
        self.guesses.append(Guess(what=what, override=override))


@dataclass(slots=True)
class Place:
    """Where the spec's paths are written from, and the folder's stills, which
    become keyframe images when a record or a name points at them."""

    folder: Path
    base_dir: Path
    stills: dict[str, Media]
    used: set[str] = field(default_factory=set)
    _digests: dict[str, str] | None = None

    def rel(self, path: str) -> str:
        """A folder path as the spec writes it: relative to ``base_dir``."""
        return Path(os.path.relpath(self.folder / path, self.base_dir)).as_posix()

    def match(self, key: KeyImage) -> Media | None:
        """The still a record's image is: by the name its URL ends in, or by its
        bytes (an inline image)."""
        if key.name is not None:
            for still in self.stills.values():
                if Path(still.path).name.lower() == key.name.lower():
                    return still
        if key.digest is not None:
            if self._digests is None:
                self._digests = {file_sha256(self.folder / p): p for p in self.stills}
            path = self._digests.get(key.digest)
            if path is not None:
                return self.stills[path]
        return None


def find_media(
    media: Sequence[Media], text: str, option: str, what: str = "clip"
) -> Media:
    """The clip an option names (its path in the folder, or its file name); the
    option as the caller names it (``--plate``, ``options.plate``)."""
    key = text.strip().replace(os.sep, "/").removeprefix("./")
    for item in media:
        if key in (item.path, *item.files) or (
            "/" not in key and key == Path(item.path).name
        ):
            return item
    raise OptionError(
        option,
        text,
        f"a {what} in the folder: " + ", ".join(m.path for m in media)
        if media
        else f"a {what} in the folder (it holds none)",
    )


def rate_text(rate: Fraction | None) -> str:
    """A rate as the decision table prints it (``-`` for none)."""
    return "-" if rate is None else format_rate(rate)
