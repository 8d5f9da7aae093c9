"""OpenTimelineIO export of a built comp (the optional ``otio`` extra).

:func:`to_timeline` turns the ``build.json`` that ``aebridge build`` writes into an
OpenTimelineIO timeline that editorial tools can read: one video track per layer
(bottom to top, as OTIO stacks tracks), each holding one clip whose media is the
layer's EXR sequence as an ``ImageSequenceReference``, placed at the comp frame where
the layer shows, with gaps around it so every track spans the comp. Comp markers become
markers on the timeline's stack. What OTIO has no field for (blend mode, opacity,
track matte, role, 3D, provenance, exact rational rates, build id, spec hash) is kept,
JSON-safe, under ``metadata["aebridge"]``. :func:`write_otio` writes the timeline with
the adapter OTIO picks from the file extension.

Time in the timeline: the stack's time starts at 0 at the comp's first frame and
``global_start_time`` is that frame number at the comp rate, so comp frame ``F`` sits
at ``F - start_frame`` inside the tracks. OTIO rates are floats; the exact rational rate
is in the metadata (``"24000/1001"``).
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .animation import footage_span, layer_bounds, shown_frames, source_frame_index
from .build_io import load_build
from .errors import MissingExtraError, OptionError, OutputError, SourceError
from .fileio import atomic_path
from .model import CompSpec, ExrSequence, Layer, Marker
from .spec import spec_to_dict
from .timing import format_rate

if TYPE_CHECKING:
    import opentimelineio

__all__ = ["MARKER_COLOURS", "to_timeline", "write_otio"]

#: After Effects label (0..16, AE's default label names) -> the nearest OTIO marker
#: colour. OTIO has eleven colours, AE sixteen labels, so some share a colour; the
#: exact label is kept in the marker's metadata. Label 0 ("None") and markers without
#: a label are WHITE.
MARKER_COLOURS: dict[int, str] = {
    0: "WHITE",  # None
    1: "RED",  # Red
    2: "YELLOW",  # Yellow
    3: "CYAN",  # Aqua
    4: "PINK",  # Pink
    5: "PURPLE",  # Lavender
    6: "ORANGE",  # Peach
    7: "GREEN",  # Sea Foam
    8: "BLUE",  # Blue
    9: "GREEN",  # Green
    10: "PURPLE",  # Purple
    11: "ORANGE",  # Orange
    12: "ORANGE",  # Brown
    13: "MAGENTA",  # Fuchsia
    14: "CYAN",  # Cyan
    15: "YELLOW",  # Sandstone
    16: "GREEN",  # Dark Green
}


def _import_otio() -> Any:
    """opentimelineio, or MissingExtraError saying how to install it."""
    try:
        import opentimelineio
    except ImportError as exc:
        raise MissingExtraError("otio", "opentimelineio") from exc
    return opentimelineio


@dataclass(frozen=True, slots=True, kw_only=True)
class _Placement:
    """Where a layer's clip sits in the comp and which media it starts on.

    ``in_frame``/``out_frame`` are comp frames (out exclusive) already clipped to the
    comp and to the frames the source covers; ``first_index`` is the 0-based source
    frame shown at ``in_frame``; ``time_scalar`` is source frames consumed per comp
    frame (negative when reversed).
    """

    in_frame: int
    out_frame: int
    first_index: int
    time_scalar: Fraction

    @property
    def frames(self) -> int:
        """Comp frames the clip covers (0 when the layer never shows in the comp)."""
        return max(0, self.out_frame - self.in_frame)


def _placement(spec: CompSpec, layer: Layer, seq: ExrSequence) -> _Placement:
    """The layer's visible window in the comp, as After Effects times it.

    The in/out defaults follow the preview renderer (and AE): a layer shows from
    ``in_frame`` (default its start) to ``out_frame`` (default the end of its
    stretched source); a reversed layer (negative stretch) ends at its start. Frames
    before the comp's first or after its last are cut, since the timeline is the comp.
    """
    comp = spec.comp
    start = spec.layer_start(layer)
    stretch = Fraction(str(layer.stretch))
    # The whole comp frames the source covers; AE shows nothing of a footage layer
    # beyond them.
    covered = shown_frames(*footage_span(start, seq.frame_count, stretch))
    bounds = shown_frames(
        *layer_bounds(
            start=start,
            frame_count=seq.frame_count,
            stretch=stretch,
            in_frame=layer.in_frame,
            out_frame=layer.out_frame,
        )
    )
    in_frame = max(bounds[0], covered[0], comp.start_frame)
    out_frame = min(bounds[1], covered[1], comp.end_frame)
    # The source frame shown at in_frame, picked as AE and the preview pick it.
    first_index = source_frame_index(
        in_frame, start=start, stretch=stretch, frame_count=seq.frame_count
    )
    return _Placement(
        in_frame=in_frame,
        out_frame=max(out_frame, in_frame),
        first_index=0 if first_index is None else first_index,
        time_scalar=100 / stretch,
    )


def _folder_url(folder: Path, relative_to: Path | None) -> str:
    """The folder as a URL ending in ``/``: ``file://`` absolute or relative."""
    if relative_to is None:
        return folder.resolve().as_uri() + "/"
    rel = os.path.relpath(folder.resolve(), relative_to.resolve())
    return urllib.parse.quote(Path(rel).as_posix()) + "/"


def _marker(otio: Any, spec: CompSpec, marker: Marker, rate: float) -> Any:
    comp = spec.comp
    label = marker.label
    return otio.schema.Marker(
        name=marker.name,
        comment=marker.comment,
        color=MARKER_COLOURS[0 if label is None else label],
        marked_range=otio.opentime.TimeRange(
            start_time=otio.opentime.RationalTime(
                marker.frame - comp.start_frame, rate
            ),
            duration=otio.opentime.RationalTime(marker.duration, rate),
        ),
        metadata={
            "aebridge": {
                "frame": marker.frame,
                "kind": marker.kind.value,
                "label": label,
                "parameters": dict(marker.parameters),
            }
        },
    )


def _layer_track(
    otio: Any,
    spec: CompSpec,
    index: int,
    layer: Layer,
    layer_dict: dict[str, Any],
    comp_dir: Path,
    relative_to: Path | None,
) -> Any:
    seq = layer.source
    if not isinstance(seq, ExrSequence):
        raise SourceError(
            f"layers[{index}].source is not a converted EXR sequence; export the "
            "build.json that `aebridge build` writes in the comp's output folder",
            path=str(comp_dir / "build.json"),
        )
    comp = spec.comp
    comp_rate = float(comp.rate)
    seq_rate = float(seq.rate)
    place = _placement(spec, layer, seq)

    def comp_frames(count: int) -> Any:
        return otio.opentime.RationalTime(count, comp_rate)

    reference = otio.schema.ImageSequenceReference(
        target_url_base=_folder_url(comp_dir / seq.folder, relative_to),
        name_prefix=f"{seq.name}.",
        name_suffix=".exr",
        start_frame=seq.first,
        frame_step=1,
        rate=seq_rate,
        frame_zero_padding=seq.padding,
        available_range=otio.opentime.TimeRange(
            start_time=otio.opentime.RationalTime(seq.first, seq_rate),
            duration=otio.opentime.RationalTime(seq.frame_count, seq_rate),
        ),
        metadata={
            "aebridge": {
                "folder": seq.folder,
                "rate": format_rate(seq.rate),
                "width": seq.width,
                "height": seq.height,
                "pixel_aspect": format_rate(seq.pixel_aspect),
                "colorspace": seq.colorspace,
            }
        },
    )
    # A sequence whose rate differs from the comp's is conformed frame for frame, so
    # one source frame is one comp frame: the clip's duration is counted in comp
    # frames while its start is a frame number of the sequence.
    source_range = otio.opentime.TimeRange(
        start_time=otio.opentime.RationalTime(seq.first + place.first_index, seq_rate),
        duration=comp_frames(place.frames),
    )
    shown = place.frames > 0
    # The layer's settings go on its track (always there, even for a layer that never
    # shows in the comp) and on its clip (what editorial tools look at).
    layer_meta: dict[str, Any] = {
        "id": layer.id,
        "role": layer.role.value,
        "blend": layer.blend.value,
        "opacity": layer_dict.get("transform", {}).get(
            "opacity", layer_dict.get("opacity", 100)
        ),
        "enabled": layer.enabled,
        "guide": layer.guide,
        "three_d": layer.three_d,
        "start": spec.layer_start(layer),
        "shown": shown,
        "in_frame": place.in_frame if shown else None,
        "out_frame": place.out_frame if shown else None,
        "stretch": layer_dict.get("stretch", 100),
        "track_matte": layer_dict.get("track_matte"),
        "transform": layer_dict.get("transform", {}),
        "comment": layer.comment,
        "provenance": layer_dict.get("provenance"),
    }
    clip = otio.schema.Clip(
        name=layer.display_name,
        media_reference=reference,
        source_range=source_range,
        metadata={"aebridge": layer_meta},
    )
    # Matte and guide layers are in the comp but never rendered themselves.
    clip.enabled = layer.enabled and not layer.guide
    # OTIO's time scalar is media seconds per timeline second: the stretch, times
    # comp rate / sequence rate for a conformed sequence (a frame for every frame).
    scalar = place.time_scalar * comp.rate / seq.rate
    if scalar != 1:
        clip.effects.append(
            otio.schema.LinearTimeWarp(
                name="aebridge time",
                time_scalar=float(scalar),
                metadata={"aebridge": {"time_scalar": format_rate(scalar)}},
            )
        )
    track = otio.schema.Track(
        name=layer.display_name,
        kind=otio.schema.TrackKind.Video,
        metadata={"aebridge": layer_meta},
    )
    before = place.in_frame - comp.start_frame if shown else comp.duration
    if before:
        track.append(otio.schema.Gap(duration=comp_frames(before)))
    if shown:
        track.append(clip)
        after = comp.end_frame - place.out_frame
        if after:
            track.append(otio.schema.Gap(duration=comp_frames(after)))
    return track


def to_timeline(
    build_json_path: str | os.PathLike[str],
    *,
    relative_to: str | os.PathLike[str] | None = None,
) -> opentimelineio.schema.Timeline:
    """An OpenTimelineIO timeline of a built comp.

    Args:
        build_json_path: ``out/<comp>/build.json`` as written by ``aebridge build``.
        relative_to: write each sequence's ``target_url_base`` relative to this folder
            (e.g. the folder the .otio file goes to); default an absolute ``file://``
            URL.

    Returns:
        A timeline named after the comp: ``global_start_time`` is the comp's first
        frame at the comp rate; one video track per layer, bottom to top, each with
        its clip between gaps so every track lasts the comp's duration (a layer that
        never shows in the comp gives a track holding one gap); comp markers on
        ``timeline.tracks.markers``. A layer whose source plays at another speed
        (stretch, reverse, a rate conformed to the comp's) carries a
        ``LinearTimeWarp``.

    Raises:
        MissingExtraError: opentimelineio is not installed.
        SourceError: the build.json is missing, unreadable, or a layer's source is
            not a converted EXR sequence.
        SpecError: the spec inside the build.json is invalid.
    """
    otio = _import_otio()
    built = load_build(build_json_path)
    document, spec, comp_dir = built.document, built.spec, built.comp_dir
    comp = spec.comp
    rate = float(comp.rate)
    spec_dict = spec_to_dict(spec)
    base = None if relative_to is None else Path(relative_to)

    timeline = otio.schema.Timeline(
        name=comp.name,
        global_start_time=otio.opentime.RationalTime(comp.start_frame, rate),
        metadata={
            "aebridge": {
                "schema": document.get("schema"),
                "build_id": document.get("build_id"),
                "spec_hash": document.get("spec_hash"),
                "source_spec_hash": document.get("source_spec_hash"),
                "aebridge_version": document.get("aebridge_version"),
                "script": document.get("script"),
                "comp": spec_dict["comp"],
                "camera": spec_dict.get("camera"),
                "style": spec_dict.get("style"),
                "provenance": spec_dict.get("provenance"),
            }
        },
    )
    for index, (layer, layer_dict) in enumerate(
        zip(spec.layers, spec_dict.get("layers", []), strict=True)
    ):
        timeline.tracks.append(
            _layer_track(otio, spec, index, layer, layer_dict, comp_dir, base)
        )
    for marker in spec.markers:
        timeline.tracks.markers.append(_marker(otio, spec, marker, rate))
    return timeline


def write_otio(
    build_json_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    relative: bool = False,
) -> Path:
    """Write a built comp as an OpenTimelineIO file.

    OTIO picks the adapter from the extension: ``.otio`` (JSON, the usual choice),
    ``.otioz``/``.otiod`` (OTIO's bundles; they copy only single-file media, so the
    EXR sequences stay where they are, referenced by URL), or the extension of any
    installed adapter plugin that writes. The file is written under a temporary name
    and then renamed, so a failed write leaves no half file.

    Args:
        build_json_path: ``out/<comp>/build.json`` as written by ``aebridge build``.
        out_path: the file to write, e.g. ``sh010.otio``; its folder is created.
        relative: write the sequences' URLs relative to the folder holding the
            timeline (the file's folder; an .otiod bundle itself) instead of absolute
            ``file://`` URLs, so the file moves with the output folder. Not with
            ``.otioz``.

    Returns:
        The path written.

    Raises:
        MissingExtraError: opentimelineio is not installed.
        OptionError: no installed OTIO adapter writes that extension, or
            ``relative`` with an ``.otioz`` file.
        SourceError: the build.json cannot be read (see :func:`to_timeline`).
        SpecError: the spec inside the build.json is invalid.
        OutputError: the file cannot be written.
    """
    otio = _import_otio()
    out = Path(out_path)
    suffix = out.suffix.lower().lstrip(".")
    writable = sorted(otio.adapters.suffixes_with_defined_adapters(write=True))
    if suffix not in writable:
        raise OptionError(
            "-o/--out (out_path)",
            str(out),
            (f"a file ending in .{s}" for s in writable),
        )
    base: Path | None = None
    if relative:
        if suffix == "otioz":
            # A zip has no folder of its own to be relative to until it is unpacked.
            raise OptionError(
                "--relative", str(out), "a file ending in .otio or .otiod"
            )
        # Relative URLs are read from the folder holding the timeline JSON, which
        # for an .otiod bundle is the bundle itself (content.otio sits inside).
        base = out.resolve() if suffix == "otiod" else out.parent.resolve()
    timeline = to_timeline(build_json_path, relative_to=base)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder: {exc}", path=str(out)) from exc
    # The temporary name keeps the extension: it is what selects the adapter. An
    # .otiod bundle is a folder, which replaces the folder there.
    try:
        with atomic_path(out, what="the timeline") as temporary:
            otio.adapters.write_to_file(timeline, str(temporary))
    except otio.exceptions.OTIOError as exc:
        raise OutputError(f"cannot write the timeline: {exc}", path=str(out)) from exc
    return out
