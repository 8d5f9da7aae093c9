"""Generator records as provenance: a request joined with its result, each
generation given to the clip it made (or to the comp), its conditioning images as
keyframes at the frames they land on, and the stills whose names place them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from .. import naming
from ..model import (
    Comp,
    ConditioningKeyframe,
    Provenance,
)
from ..timing import format_rate
from .decisions import Clip, Notes, Place
from .discover import Media
from .records import GENERATORS, Record, merge

__all__ = [
    "check_record",
    "group_records",
    "link_records",
    "named_keyframes",
    "provenance_of",
    "record_keyframes",
]


def group_records(records: Sequence[Record], notes: Notes) -> list[Record]:
    """Join each generator's lone request with its lone result into one generation."""
    grouped: list[Record] = []
    by_gen: dict[str, list[Record]] = {}
    for record in records:
        by_gen.setdefault(record.generator, []).append(record)
    for generator, items in sorted(by_gen.items()):
        requests = [r for r in items if r.kind == "request"]
        results = [r for r in items if r.kind == "result"]
        others = [r for r in items if r.kind == "generation"]
        if len(requests) == 1 and len(results) == 1:
            joined = merge(requests[0], results[0])
            notes.guess(
                f"{requests[0].files[0]} and {results[0].files[0]}: one "
                f"{GENERATORS[generator]} "
                "generation (its only request and its only result)",
                "if they are two generations, leave one out with "
                + notes.spelling.option("exclude"),
            )
            grouped.append(joined)
        else:
            grouped.extend(requests + results)
        grouped.extend(others)
    return grouped


def link_records(
    records: Sequence[Record], clips: Sequence[Clip], notes: Notes
) -> list[Record]:
    """Give each generation to the clip it made; return those left for the comp."""
    unlinked: list[Record] = []
    for record in records:
        outputs = {n.lower() for n in record.outputs}
        stems = {Path(f).stem.lower() for f in record.files}
        match = [c for c in clips if Path(c.media.path).name.lower() in outputs]
        how = "its output URL names it"
        if not match:
            match = [
                c
                for c in clips
                # Short ids ("c-1") would match by chance.
                if any(
                    len(i) >= 6 and i.lower() in c.media.path.lower()
                    for i in record.ids
                )
            ]
            how = "its name holds the record's id"
        if not match:
            match = [c for c in clips if c.media.stem.lower() in stems]
            how = "it has the record's name"
        if not match:
            # A matting pass's output named after the clip it matted
            # (output.mp4 -> output_fgr.mp4 + output_pha.mp4) keeps its record.
            sources = {naming.norm(Path(n).stem) for n in record.outputs}
            match = [
                c
                for c in clips
                if (c.matte is not None or c.track_matte is not None)
                and naming.clip_base(c.media.stem) in sources
            ]
            how = "it is the matted output of the record's clip, named after it"
        free = [c for c in match if c.record is None]
        if len(free) == 1:
            free[0].record = record
            notes.guess(
                f"{', '.join(record.files)}: the {GENERATORS[record.generator]} "
                f"record of {free[0].media.path} ({how})",
                "rename the clip or the record to link them otherwise",
            )
        else:
            unlinked.append(record)
    return unlinked


def record_keyframes(
    record: Record, frames: int, comp: Comp, place: Place, where: str, notes: Notes
) -> tuple[tuple[ConditioningKeyframe, ...], list[tuple[str, str]]]:
    """A record's conditioning images as keyframes of a clip of ``frames`` frames
    that starts at the comp's first frame, plus their URIs for provenance.extra."""
    keys: list[ConditioningKeyframe] = []
    extra: list[tuple[str, str]] = []
    for n, key in enumerate(record.keyframes):
        frame = 0 if key.position == "first" else max(frames - 1, 0)
        landing = comp.start_frame + frame
        image = place.match(key)
        if key.uri is not None:
            extra.append((f"{record.generator}.keyframe_{n + 1}", key.uri))
        if landing > comp.last_frame:
            notes.warnings.append(
                f"{where}: the {key.position}-frame keyframe of {record.files[0]} "
                f"lands on comp frame {landing}, after the comp's last frame "
                f"{comp.last_frame}; it is kept in provenance.extra only"
            )
            continue
        if image is not None:
            place.used.add(image.path)
        keys.append(
            ConditioningKeyframe(
                frame=frame, image=None if image is None else place.rel(image.path)
            )
        )
        if image is None and key.uri is not None:
            notes.warnings.append(
                f"{where}: the {key.position}-frame keyframe image of "
                f"{record.files[0]} ({key.uri}) is not in the folder; its marker has "
                "no image (save it beside the clip under the name its URL ends in)"
            )
    return tuple(keys), extra


def provenance_of(
    record: Record, keys: tuple[ConditioningKeyframe, ...], extra: list[tuple[str, str]]
) -> Provenance:
    """A generation's provenance: its fields, its keyframes and its record files."""
    pairs = dict(record.extra)
    pairs.update(extra)
    pairs["record"] = ", ".join(record.files)
    return Provenance(
        generator=record.generator,
        model=record.model,
        prompt=record.prompt,
        negative_prompt=record.negative_prompt,
        seed=record.seed,
        keyframes=keys,
        camera_move=record.camera.describe() if record.camera else None,
        extra=tuple(sorted(pairs.items())),
    )


def check_record(record: Record, clip: Media, rate: Fraction, notes: Notes) -> None:
    """Say where a clip differs from what its record asked for (a trim, a proxy)."""
    if record.size is not None and record.size != (clip.width, clip.height):
        w, h = record.size
        notes.warnings.append(
            f"{clip.path}: {record.files[0]} asked for {w}x{h}; the clip is "
            f"{clip.width}x{clip.height} (a proxy or a resize?)"
        )
    if record.duration_s is not None:
        clip_rate = clip.rate or rate
        expected = record.duration_s * clip_rate
        if abs(expected - clip.frame_count) > 1:
            notes.warnings.append(
                f"{clip.path}: {record.files[0]} asked for {record.duration_s:g} s "
                f"({float(expected):g} frames at {format_rate(clip_rate)} fps); the "
                f"clip has {clip.frame_count} (trimmed?)"
            )


def named_keyframes(
    provenance: Provenance | None,
    comp: Comp,
    place: Place,
    notes: Notes,
) -> Provenance | None:
    """Stills no record names but whose names say first or last: comp keyframes."""
    keys = list(provenance.keyframes) if provenance else []
    for path, still in sorted(place.stills.items()):
        if path in place.used:
            continue
        position = naming.keyframe_position(still.stem)
        if position is None:
            continue
        frame = 0 if position == "first" else comp.duration - 1
        keys.append(ConditioningKeyframe(frame=frame, image=place.rel(path)))
        place.used.add(path)
        notes.guess(
            f"{path}: a keyframe image at the comp's {position} frame "
            f"({comp.start_frame + frame}), by its name",
            f"{notes.spelling.setting('exclude', path)} leaves it out",
        )
    if not keys:
        return provenance
    keys.sort(key=lambda k: k.frame)
    if provenance is None:
        return Provenance(keyframes=tuple(keys))
    return replace(provenance, keyframes=tuple(keys))
