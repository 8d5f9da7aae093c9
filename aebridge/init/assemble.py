"""From what a downloads folder holds to a comp spec, with every decision said.

:func:`assemble` takes a :class:`~aebridge.init.discover.Scan` and decides, in this
order: which clips are mattes and whose (:mod:`.mattes`), which clip is the plate
(comp size, rate, length) and the layers bottom to top with their roles, alpha and
track mattes (:mod:`.layers`), which records and stills belong to which clip, then
provenance and keyframes (:mod:`.provenance`), style and (on request) a camera
(:mod:`.controls`). Each choice that rests on a convention or a guess is a
:class:`~aebridge.init.decisions.Guess` with the option that changes it; ambiguity
that has no safe answer is an :class:`~aebridge.errors.InitError`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from .. import naming
from ..errors import InitError, ModelError, OptionError
from ..model import Comp, CompSpec, Layer, Provenance, Style
from ..model.comp import CONTROL_CHARACTERS, MAX_START_SECONDS, latest_start_frame
from ..timing import format_rate
from .controls import add_camera
from .decisions import Clip, InitOptions, LayerRow, Notes, Place, Plan, find_media
from .discover import Scan
from .layers import (
    choose_plate,
    clip_layer,
    is_foreground,
    is_opaque,
    stack_order,
    table_row,
)
from .mattes import drop_compositions, pair_mattes
from .provenance import (
    check_record,
    group_records,
    link_records,
    named_keyframes,
    provenance_of,
    record_keyframes,
)
from .records import Record
from .spelling import COMMAND_LINE, Spelling

__all__ = ["assemble", "start_frame_error"]


def start_frame_error(
    start_frame: int, rate: Fraction, spelling: Spelling = COMMAND_LINE
) -> OptionError | None:
    """--start-frame's refusal at ``rate`` (After Effects' latest comp start, the comp
    model's :func:`~aebridge.model.comp.latest_start_frame`), or None; the option
    named as ``spelling`` says."""
    latest = latest_start_frame(rate)
    if 0 <= start_frame <= latest:
        return None
    return OptionError(
        spelling.option("start_frame"),
        start_frame,
        f"0 to {latest} (at {format_rate(rate)} fps, {MAX_START_SECONDS} s: "
        "23:59:00, the latest start After Effects gives a comp)",
    )


def assemble(
    found: Scan,
    folder: Path,
    base_dir: Path,
    options: InitOptions,
) -> Plan:
    """Decide the comp for what :func:`~aebridge.init.discover.scan` found.

    Args:
        found: the folder's clips, stills and records.
        folder: the folder (paths in ``found`` are relative to it).
        base_dir: the folder the spec's paths are written relative to.
        options: the user's choices.

    Returns:
        The spec and the decisions.

    Raises:
        InitError: the folder has no clip, two candidate plates, a matte without a
            partner, or a matte that cannot be its clip's alpha.
        OptionError: an option names a file that is not a clip in the folder, or
            --name is no comp name.
    """
    say = options.spelling
    notes = Notes(spelling=say, left_out=list(found.left_out))
    if not found.clips:
        # What was there and why none of it is a clip, else the user is left to
        # guess (a .tga sequence, a movie FFmpeg cannot open, two numbered frames).
        left_out = sorted(notes.left_out)
        listing = ", ".join(f"{path} ({why})" for path, why in left_out)
        raise InitError(
            f"{folder.as_posix()}: no movie or image sequence found (movies: .mp4, "
            ".mov, .webm, ...; sequences: at least 3 numbered images)"
            + (f"; left out: {listing}" if listing else ""),
            left_out=left_out,
        )
    colour, _mattes = pair_mattes(found.clips, options, notes)
    wanted = (
        None
        if options.plate is None
        else find_media(found.clips, options.plate, say.option("plate"))
    )
    colour = drop_compositions(colour, notes, None if wanted is None else wanted.path)
    for clip in colour.values():
        clip.opaque = is_opaque(clip, notes)
    plate = choose_plate(colour, options, found.clips, notes)

    size = plate.media.size
    rate = options.rate or plate.media.rate
    if rate is None:
        movie_rates = sorted(
            {c.media.rate for c in colour.values() if c.media.rate is not None}
        )
        rate = movie_rates[0] if len(movie_rates) == 1 else Fraction(24)
        notes.guess(
            f"rate: {format_rate(rate)} fps ("
            + (
                "the only movie rate in the folder"
                if len(movie_rates) == 1
                else "image sequences carry none"
            )
            + ")",
            f"{say.option('rate', 'RATE')} sets it",
        )
    name = _comp_name(folder) if options.name is None else options.name
    try:
        comp = Comp(
            name=name,
            width=size[0],
            height=size[1],
            pixel_aspect=plate.media.pixel_aspect,
            rate=rate,
            duration=plate.media.frame_count,
            start_frame=options.start_frame,
            keyframe_guides=options.guides,
        )
    except ModelError as exc:
        # --name, --rate and a start frame at a given rate were refused before the
        # folder was read (init_folder). A start frame too late at the plate's rate
        # is --start-frame's fault when nothing else is wrong; with the plate's own
        # problems it is said among them, not in their place.
        late = start_frame_error(options.start_frame, rate, say)
        if late is not None and all(p.path == "start_frame" for p in exc.problems):
            raise late from exc
        # The plate sets the comp: say which file, what is out of After Effects'
        # limits (the comp's own rules) and how to choose otherwise, on one line.
        refused = "; ".join(f"comp.{p.path}: {p.message}" for p in exc.problems)
        raise InitError(
            f"{folder.as_posix()}: the plate {plate.media.path} cannot set the comp: "
            f"{refused}; {say.option('plate')} picks another clip "
            f"({say.option('rate')} and {say.option('name')} set those)"
        ) from exc

    ordered = stack_order(colour, plate)
    taken: set[str] = set()
    for clip in ordered:
        fallback = (
            "plate" if clip is plate else "fg" if is_foreground(clip) else "element"
        )
        clip.layer_id = naming.layer_id(clip.media.stem, fallback, taken)
    # A track matte's layer is named after its clip's, among the same ids: a clip
    # named like it ('fg_matte.mov' in colour, a layer) keeps its own name.
    for clip in ordered:
        if clip.track_matte is not None:
            clip.matte_layer_id = naming.unique_id(f"{clip.layer_id}_matte", taken)

    # Records: a generation goes to the clip it made, else to the comp.
    generations = group_records(found.records, notes)
    unlinked = link_records(generations, ordered, notes)
    comp_record: Record | None = None
    if unlinked:
        comp_record = unlinked[0]
        notes.guess(
            f"{', '.join(comp_record.files)}: no clip in the folder is its output, so "
            "its provenance goes to the comp",
            "name the clip after the record to link them",
        )
        for record in unlinked[1:]:
            notes.warnings.append(
                f"{', '.join(record.files)}: no clip in the folder is its output and "
                f"the comp's provenance comes from {comp_record.files[0]}; it is not "
                "used (name its clip after it to link them)"
            )

    place = Place(
        folder=folder, base_dir=base_dir, stills={s.path: s for s in found.stills}
    )
    layers: list[Layer] = []
    rows: list[LayerRow] = []
    styles: set[str] = set()
    for clip in ordered:
        layer, matte_layer = clip_layer(clip, plate, comp, place, notes)
        if clip.record is not None and clip.record.style:
            styles.add(clip.record.style)
        layers.append(layer)
        rows.append(table_row(layer, clip, comp))
        if matte_layer is not None:
            layers.append(matte_layer)
            assert clip.track_matte is not None
            rows.append(table_row(matte_layer, Clip(media=clip.track_matte), comp))

    provenance: Provenance | None = None
    if comp_record is not None:
        if comp_record.style:
            styles.add(comp_record.style)
        keys, extra = record_keyframes(
            comp_record, comp.duration, comp, place, "comp", notes
        )
        provenance = provenance_of(comp_record, keys, extra)
        check_record(comp_record, plate.media, comp.rate, notes)

    provenance = named_keyframes(provenance, comp, place, notes)
    for path in sorted(set(place.stills) - place.used):
        notes.left_out.append(
            (
                path,
                "a still that no record names and whose name places it at no frame "
                "(first, last, start, end, frame0, frame1, tail)",
            )
        )

    style = options.style
    if style is None and styles:
        chosen = sorted(styles)[0]
        style = Style(id=chosen, name=chosen)
        if len(styles) > 1:
            notes.warnings.append(
                f"the records name {len(styles)} styles ({', '.join(sorted(styles))}); "
                f"the comp's style is {chosen} ({say.option('style', 'ID')} sets it)"
            )

    spec = CompSpec(
        comp=comp,
        layers=tuple(layers),
        style=style,
        provenance=provenance,
    )
    spec = add_camera(spec, ordered, plate, comp_record, options, notes)
    return Plan(
        spec=spec,
        rows=tuple(rows),
        guesses=tuple(notes.guesses),
        warnings=tuple(notes.warnings),
        left_out=tuple(sorted(notes.left_out)),
    )


def _comp_name(folder: Path) -> str:
    """The folder's name as it is: a comp name is free text (its output folder is a
    slug of it), without control characters, which it may not hold."""
    name = re.sub(rf"[{CONTROL_CHARACTERS}]+", " ", folder.resolve().name)
    return name.strip()[:255].strip() or "comp"
