"""From what a downloads folder holds to a comp spec, with every decision said.

:func:`assemble` takes a :class:`~aebridge.init.discover.Scan` and decides, in this
order: which stills and records belong together, which clips are mattes and whose,
which clip is the plate (comp size, rate, length), the layers bottom to top with
their roles, alpha and track mattes, then provenance, keyframes, style and (on
request) a camera. Each choice that rests on a convention or a guess is a
:class:`Guess` with the option that changes it; ambiguity that has no safe answer is
an :class:`~aebridge.errors.InitError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from ..errors import InitError, OptionError
from ..ingest import file_sha256
from ..model import (
    AlphaMode,
    Camera,
    CameraMove,
    Comp,
    CompSpec,
    ConditioningKeyframe,
    Layer,
    LayerSource,
    MatteType,
    Provenance,
    Role,
    Style,
    TrackMatte,
    VfrPolicy,
)
from ..timing import format_rate
from . import naming
from .controls import camera_moves
from .discover import Media, Scan, alpha_is_opaque, is_grey
from .records import GENERATORS, KeyImage, Record, merge

__all__ = ["Guess", "InitOptions", "LayerRow", "Plan", "assemble"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InitOptions:
    """What the user told init (every field has the CLI option of the same name).

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
        exclude: glob patterns of files to leave out.
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
class _Clip:
    """A clip on its way to becoming a layer."""

    media: Media
    matte: Media | None = None
    track_matte: Media | None = None
    opaque: bool = False
    layer_id: str = ""
    record: Record | None = None


@dataclass(slots=True)
class _Notes:
    guesses: list[Guess] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def guess(self, what: str, override: str) -> None:
        self.guesses.append(Guess(what=what, override=override))


@dataclass(slots=True)
class _Place:
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


def _find(media: Sequence[Media], text: str, option: str, what: str = "clip") -> Media:
    """The clip an option names (its path in the folder, or its file name)."""
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


def _frames(clip: Media) -> str:
    return f"{clip.frame_count}"


def _rate_text(rate: Fraction | None) -> str:
    return "-" if rate is None else format_rate(rate)


def _pairs(
    clips: Sequence[Media], options: InitOptions, notes: _Notes
) -> tuple[dict[str, _Clip], set[str]]:
    """Decide every matte: the user's pairs first, then the naming conventions.

    Returns:
        (the colour clips by path, the paths of clips used as mattes).
    """
    by_path = {c.path: _Clip(media=c) for c in clips}
    mattes: set[str] = set()

    def claim(clip: Media, matte: Media, option: str, track: bool) -> None:
        if clip.path == matte.path:
            raise OptionError(
                option, f"{clip.path}={matte.path}", "two different clips"
            )
        for used in (clip.path, matte.path):
            if used in mattes or (
                by_path[used].matte is not None or by_path[used].track_matte is not None
            ):
                raise OptionError(
                    option,
                    f"{clip.path}={matte.path}",
                    f"clips not paired already ({used} is)",
                )
        target = by_path[clip.path]
        if track:
            target.track_matte = matte
        else:
            target.matte = matte
        mattes.add(matte.path)

    for clip_text, matte_text in options.pairs:
        clip = _find(clips, clip_text, "--pair")
        matte = _find(clips, matte_text, "--pair")
        claim(clip, matte, "--pair", track=False)
    for clip_text, matte_text in options.track_mattes:
        clip = _find(clips, clip_text, "--track-matte")
        matte = _find(clips, matte_text, "--track-matte")
        claim(clip, matte, "--track-matte", track=True)

    # Candidates by name: a clip whose last word marks a matte, unless it is in
    # colour or (for "_alpha") carries an alpha channel of its own.
    candidates: list[tuple[Media, naming.MatteName]] = []
    for clip in clips:
        name = naming.matte_name(clip.stem)
        taken = clip.path in mattes or by_path[clip.path].matte is not None
        if name is None or taken or by_path[clip.path].track_matte is not None:
            continue
        if name.word == "alpha" and clip.has_alpha:
            notes.guess(
                f"{clip.path}: its name ends in 'alpha' but it carries an alpha "
                "channel of its own, so it is a layer, not a matte",
                f"--pair CLIP={clip.path} uses it as a matte",
            )
            continue
        if not is_grey(clip):
            notes.guess(
                f"{clip.path}: its name ends in '{name.word}' but its first frame is "
                "in colour, so it is a layer, not a matte",
                f"--pair CLIP={clip.path} uses it as a matte",
            )
            continue
        candidates.append((clip, name))
    candidate_paths = {c.path for c, _ in candidates}
    for matte, name in candidates:
        keys = naming.partner_keys(name)
        found = [
            c
            for c in clips
            if naming.norm(c.stem) in keys
            and c.path not in candidate_paths
            and c.path not in mattes
        ]
        if not found:
            wanted = ", ".join(keys) if keys else "(none: a bare matte name)"
            raise InitError(
                f"{matte.path} is a matte (its name ends in '{name.word}' and it is "
                f"grey) but no clip is its partner (looked for names {wanted}); pair "
                f"it with --pair CLIP={matte.path}, or leave it out with --exclude "
                f"{matte.path}"
            )
        if len(found) > 1:
            listing = " and ".join(c.path for c in found)
            raise InitError(
                f"{matte.path} could be the matte of {listing}; choose with --pair "
                f"{found[0].path}={matte.path}"
            )
        partner = by_path[found[0].path]
        if partner.matte is not None or partner.track_matte is not None:
            other = partner.matte or partner.track_matte
            assert other is not None
            raise InitError(
                f"{partner.media.path} has two mattes, {other.path} and {matte.path}; "
                f"choose with --pair {partner.media.path}=MATTE (and --exclude the "
                "other)"
            )
        how = (
            "RVM's default names"
            if not name.base
            else f"the convention CLIP + CLIP_{name.word}"
        )
        if partner.media.has_alpha:
            partner.track_matte = matte
            notes.guess(
                f"{matte.path}: the track matte of {partner.media.path} (paired by "
                f"{how}; the clip has its own alpha, so the matte cuts it as a luma "
                "track matte instead of replacing its alpha)",
                f"--pair {partner.media.path}={matte.path} makes it the alpha instead",
            )
        else:
            partner.matte = matte
            notes.guess(
                f"{matte.path}: the alpha of {partner.media.path} (paired by {how})",
                f"--pair CLIP=MATTE pairs differently, --track-matte "
                f"{partner.media.path}={matte.path} makes it a track-matte layer",
            )
        mattes.add(matte.path)

    for item in by_path.values():
        if item.matte is None:
            continue
        matte, clip = item.matte, item.media
        if (matte.width, matte.height) != (clip.width, clip.height) or (
            matte.frame_count < clip.frame_count
        ):
            raise InitError(
                f"{clip.path} ({clip.width}x{clip.height}, {clip.frame_count} frames) "
                f"and its matte {matte.path} ({matte.width}x{matte.height}, "
                f"{matte.frame_count} frames) differ; a matte that becomes the alpha "
                "must match its clip's size and last as long; use --track-matte "
                f"{clip.path}={matte.path} to cut the clip with it as a layer instead"
            )
    return {p: c for p, c in by_path.items() if p not in mattes}, mattes


def _compositions(
    colour: dict[str, _Clip], notes: _Notes, keep: str | None
) -> dict[str, _Clip]:
    """Leave out RVM's composition when its foreground and alpha are here (unless
    it is the clip ``keep``, the plate the user chose)."""
    rvm_bases: set[str] = set()
    for clip in colour.values():
        parts = naming.words(clip.media.stem)
        paired = clip.matte is not None or clip.track_matte is not None
        if paired and parts[-1:] in (("fgr",), ("foreground",)):
            rvm_bases.add("_".join(parts[:-1]))
    kept: dict[str, _Clip] = {}
    for path, clip in colour.items():
        parts = naming.words(clip.media.stem)
        base = "_".join(parts[:-1])
        if (
            naming.is_composition(clip.media.stem)
            and base in rvm_bases
            and path != keep
        ):
            notes.left_out.append(
                (
                    path,
                    "RVM's composition (its foreground and alpha are here and make "
                    "the layer)",
                )
            )
            notes.guess(
                f"{path}: left out as RVM's composition of a foreground and alpha "
                "that are in the folder",
                f"--plate {path} uses it as the plate",
            )
            continue
        kept[path] = clip
    return kept


def _opaque(clip: _Clip, notes: _Notes) -> bool:
    media = clip.media
    if clip.matte is not None:
        return False
    if not media.has_alpha:
        return True
    if alpha_is_opaque(media):
        notes.guess(
            f"{media.path}: its alpha is 1 everywhere in the first frame, so it counts "
            "as opaque",
            f"--exclude {media.path} leaves it out",
        )
        return True
    return False


def _plate(
    clips: dict[str, _Clip],
    options: InitOptions,
    everything: Sequence[Media],
    notes: _Notes,
) -> _Clip:
    if options.plate is not None:
        chosen = _find(everything, options.plate, "--plate")
        if chosen.path not in clips:
            raise OptionError(
                "--plate",
                options.plate,
                "a clip that is not a matte: " + ", ".join(sorted(clips)),
            )
        return clips[chosen.path]
    opaque = [c for c in clips.values() if c.opaque]
    named = [c for c in opaque if naming.is_plate_name(c.media.stem)]
    pool = named or opaque
    if not pool:
        pool = list(clips.values())
        biggest = max(pool, key=lambda c: (c.media.area, c.media.frame_count))
        notes.guess(
            f"plate: none (no clip is opaque); the comp takes its size, rate and "
            f"length from {biggest.media.path}, the largest clip",
            "--plate FILE picks another",
        )
        return biggest

    def rank(clip: _Clip) -> tuple[int, int]:
        return (clip.media.area, clip.media.frame_count)

    top = max(rank(c) for c in pool)
    best = [c for c in pool if rank(c) == top]
    if len(best) > 1:
        listing = " and ".join(c.media.path for c in best)
        why = "named plate, bg or background" if named else "the largest opaque clips"
        w, h = best[0].media.width, best[0].media.height
        raise InitError(
            f"two candidate plates, {listing} (opaque, {w}x{h}, {top[1]} frames, "
            f"{why}); choose one with --plate {best[0].media.path}"
        )
    plate = best[0]
    passed = [c.media.path for c in pool if c is not plate]
    over = f"; chosen over {', '.join(passed)} (smaller or shorter)" if passed else ""
    if named:
        notes.guess(
            f"plate: {plate.media.path} (opaque, full-frame, the longest clip whose "
            f"name says plate, bg or background{over}); the comp takes its size, rate "
            "and length",
            "--plate FILE picks another",
        )
    else:
        notes.guess(
            f"plate: {plate.media.path}, the largest opaque clip (no name says plate, "
            f"bg or background{over}); the comp takes its size, rate and length",
            "--plate FILE picks another",
        )
    return plate


def _group_records(records: Sequence[Record], notes: _Notes) -> list[Record]:
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
                "if they are two generations, --exclude one of them",
            )
            grouped.append(joined)
        else:
            grouped.extend(requests + results)
        grouped.extend(others)
    return grouped


def _link(
    records: Sequence[Record], clips: Sequence[_Clip], notes: _Notes
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


def _keyframes(
    record: Record, frames: int, comp: Comp, place: _Place, where: str, notes: _Notes
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


def _provenance(
    record: Record, keys: tuple[ConditioningKeyframe, ...], extra: list[tuple[str, str]]
) -> Provenance:
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


def _check_record(record: Record, clip: Media, rate: Fraction, notes: _Notes) -> None:
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
        OptionError: an option names a file that is not a clip in the folder.
    """
    notes = _Notes(left_out=list(found.left_out))
    if not found.clips:
        raise InitError(
            f"{folder.as_posix()}: no movie or image sequence found (movies: .mp4, "
            ".mov, .webm, ...; sequences: at least 3 numbered images)"
        )
    colour, _mattes = _pairs(found.clips, options, notes)
    wanted = (
        None if options.plate is None else _find(found.clips, options.plate, "--plate")
    )
    colour = _compositions(colour, notes, None if wanted is None else wanted.path)
    for clip in colour.values():
        clip.opaque = _opaque(clip, notes)
    plate = _plate(colour, options, found.clips, notes)

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
            "--rate RATE sets it",
        )
    name = options.name or _comp_name(folder)
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

    ordered = _order(colour, plate)
    taken: set[str] = set()
    for clip in ordered:
        fallback = (
            "plate" if clip is plate else "fg" if _is_foreground(clip) else "element"
        )
        clip.layer_id = naming.layer_id(
            naming.clip_base(clip.media.stem), fallback, taken
        )

    # Records: a generation goes to the clip it made, else to the comp.
    generations = _group_records(found.records, notes)
    unlinked = _link(generations, ordered, notes)
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

    place = _Place(
        folder=folder, base_dir=base_dir, stills={s.path: s for s in found.stills}
    )
    layers: list[Layer] = []
    rows: list[LayerRow] = []
    styles: set[str] = set()
    for clip in ordered:
        layer, matte_layer = _layer(clip, plate, comp, place, notes)
        if clip.record is not None and clip.record.style:
            styles.add(clip.record.style)
        layers.append(layer)
        rows.append(_row(layer, clip, comp))
        if matte_layer is not None:
            layers.append(matte_layer)
            assert clip.track_matte is not None
            rows.append(_row(matte_layer, _Clip(media=clip.track_matte), comp))

    provenance: Provenance | None = None
    if comp_record is not None:
        if comp_record.style:
            styles.add(comp_record.style)
        keys, extra = _keyframes(comp_record, comp.duration, comp, place, "comp", notes)
        provenance = _provenance(comp_record, keys, extra)
        _check_record(comp_record, plate.media, comp.rate, notes)

    provenance = _named_keyframes(provenance, comp, place, notes)
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
                f"the comp's style is {chosen} (--style ID sets it)"
            )

    spec = CompSpec(
        comp=comp,
        layers=tuple(layers),
        style=style,
        provenance=provenance,
    )
    spec = _camera(spec, ordered, plate, comp_record, options, notes)
    return Plan(
        spec=spec,
        rows=tuple(rows),
        guesses=tuple(notes.guesses),
        warnings=tuple(notes.warnings),
        left_out=tuple(sorted(notes.left_out)),
    )


def _comp_name(folder: Path) -> str:
    import re

    name = re.sub(r"[^A-Za-z0-9 _.-]+", "_", folder.resolve().name).strip(" _.-")
    return name[:128] or "comp"


def _is_foreground(clip: _Clip) -> bool:
    """A matting pass's output, or a clip with alpha whose name says foreground."""
    return clip.matte is not None or (
        not clip.opaque and naming.is_foreground_name(clip.media.stem)
    )


def _order(colour: dict[str, _Clip], plate: _Clip) -> list[_Clip]:
    """Bottom to top: the plate, opaque clips, elements, then foregrounds."""

    def rank(clip: _Clip) -> tuple[int, str]:
        if clip is plate:
            return (0, "")
        if clip.opaque:
            return (1, clip.media.path)
        return (3 if _is_foreground(clip) else 2, clip.media.path)

    return sorted(colour.values(), key=rank)


def _layer(
    clip: _Clip, plate: _Clip, comp: Comp, place: _Place, notes: _Notes
) -> tuple[Layer, Layer | None]:
    media = clip.media
    where = clip.layer_id
    if clip is plate:
        role = Role.BACKGROUND
    elif _is_foreground(clip):
        role = Role.FOREGROUND
    else:
        role = Role.ELEMENT
    if clip.matte is not None:
        alpha = AlphaMode.STRAIGHT
    elif media.has_alpha and not (clip.opaque and clip is plate):
        alpha = AlphaMode.AUTO
    else:
        alpha = AlphaMode.NONE
    source = LayerSource(
        path=place.rel(media.path),
        alpha=alpha,
        matte=None if clip.matte is None else place.rel(clip.matte.path),
        vfr=VfrPolicy.RESAMPLE if media.variable_rate else VfrPolicy.REFUSE,
    )
    enabled = True
    if (
        clip is not plate
        and clip.opaque
        and media.size
        == (
            comp.width,
            comp.height,
        )
    ):
        enabled = False
        notes.warnings.append(
            f"{where}: {media.path} is opaque and full-frame, so it would hide the "
            "plate; its layer is switched off (--exclude it to leave it out, or "
            "--plate it to make it the plate)"
        )
    _timing_notes(clip, comp, notes)
    provenance = None
    if clip.record is not None:
        keys, extra = _keyframes(
            clip.record, media.frame_count, comp, place, where, notes
        )
        provenance = _provenance(clip.record, keys, extra)
        _check_record(clip.record, media, comp.rate, notes)
    matte_layer = None
    track = None
    if clip.track_matte is not None:
        matte = clip.track_matte
        matte_id = f"{clip.layer_id}_matte"
        track = TrackMatte(
            layer=matte_id,
            type=MatteType.ALPHA if matte.has_alpha else MatteType.LUMA,
        )
        matte_layer = Layer(
            id=matte_id,
            source=LayerSource(
                path=place.rel(matte.path),
                alpha=AlphaMode.AUTO if matte.has_alpha else AlphaMode.NONE,
                vfr=VfrPolicy.RESAMPLE if matte.variable_rate else VfrPolicy.REFUSE,
            ),
            role=Role.MATTE,
            enabled=False,
        )
    layer = Layer(
        id=clip.layer_id,
        source=source,
        role=role,
        enabled=enabled,
        track_matte=track,
        provenance=provenance,
    )
    return layer, matte_layer


def _timing_notes(clip: _Clip, comp: Comp, notes: _Notes) -> None:
    media = clip.media
    where = clip.layer_id
    if media.rate is None:
        notes.guess(
            f"{where}: {media.path} is an image sequence, which carries no rate; it "
            f"plays at the comp's {format_rate(comp.rate)} fps",
            "set source.rate in the spec if it was made at another",
        )
    elif media.rate != comp.rate:
        notes.warnings.append(
            f"{where}: {media.path} runs at {format_rate(media.rate)} fps, the comp "
            f"at {format_rate(comp.rate)} fps; it is conformed frame for frame (the "
            "build's rate policy; --rate-policy refuse makes it an error)"
        )
    if media.variable_rate:
        notes.warnings.append(
            f"{where}: {media.path} has a variable frame rate; it is resampled to "
            f"{_rate_text(media.rate)} fps (source.vfr resample)"
        )
    if media.frame_count < comp.duration:
        notes.warnings.append(
            f"{where}: {media.path} has {media.frame_count} frames, the comp "
            f"{comp.duration} (the plate's length); the layer ends early, after "
            f"frame {comp.start_frame + media.frame_count - 1}"
        )
    elif media.frame_count > comp.duration:
        notes.warnings.append(
            f"{where}: {media.path} has {media.frame_count} frames, the comp "
            f"{comp.duration} (the plate's length); its frames after "
            f"{comp.last_frame} are not seen"
        )
    if media.size != (comp.width, comp.height):
        w, h = media.size
        notes.warnings.append(
            f"{where}: {media.path} is {w}x{h}, the comp {comp.width}x{comp.height}; "
            "the layer is centred"
        )


def _row(layer: Layer, clip: _Clip, comp: Comp) -> LayerRow:
    assert isinstance(layer.source, LayerSource)
    media = clip.media
    shown = min(media.frame_count, comp.duration)
    rate = _rate_text(media.rate)
    if media.rate is not None and media.rate != comp.rate:
        rate = f"{rate} -> {format_rate(comp.rate)}"
    elif media.rate is None:
        rate = f"({format_rate(comp.rate)})"
    return LayerRow(
        id=layer.id,
        source=media.path,
        role=layer.role.value + ("" if layer.enabled else " (off)"),
        alpha=layer.source.alpha.value,
        matte=(clip.matte.path if clip.matte is not None else "")
        or (f"track: {layer.track_matte.layer}" if layer.track_matte else "-"),
        frames=(
            f"{comp.start_frame}-{comp.start_frame + shown - 1} ({media.frame_count})"
        ),
        rate=rate,
    )


def _named_keyframes(
    provenance: Provenance | None,
    comp: Comp,
    place: _Place,
    notes: _Notes,
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
            f"--exclude {path} leaves it out",
        )
    if not keys:
        return provenance
    keys.sort(key=lambda k: k.frame)
    if provenance is None:
        return Provenance(keyframes=tuple(keys))
    return replace(provenance, keyframes=tuple(keys))


def _camera(
    spec: CompSpec,
    ordered: Sequence[_Clip],
    plate: _Clip,
    comp_record: Record | None,
    options: InitOptions,
    notes: _Notes,
) -> CompSpec:
    owners: list[tuple[Record, _Clip]] = [
        (c.record, c) for c in ordered if c.record is not None and c.record.camera
    ]
    if comp_record is not None and comp_record.camera is not None:
        owners.append((comp_record, plate))
    if not owners:
        if options.camera:
            notes.warnings.append(
                "--camera: no record in the folder carries a camera control; no "
                "camera is added"
            )
        return spec
    record, owner = owners[0]
    assert record.camera is not None
    if not options.camera:
        notes.guess(
            f"camera: {record.files[0]} has a camera control ("
            f"{record.camera.describe()}); it is recorded in provenance.camera_move, "
            "no camera is added",
            "--camera adds a heuristic camera move for it",
        )
        return spec
    comp = spec.comp
    end = min(comp.start_frame + owner.media.frame_count - 1, comp.last_frame)
    moves, said = camera_moves(
        record.camera, start=comp.start_frame, end=end, width=comp.width
    )
    if not moves:
        notes.warnings.append(
            f"--camera: {record.camera.describe()} cannot be turned into a camera "
            "move (an unknown type, or a clip of one frame); no camera is added"
        )
        return spec
    if len(owners) > 1:
        notes.warnings.append(
            f"--camera: {len(owners)} records carry camera controls; the camera "
            f"follows {record.files[0]}"
        )
    followers = [layer.id for layer in spec.layers if layer.id != owner.layer_id]
    layers = tuple(
        replace(layer, three_d=True) if layer.id in followers else layer
        for layer in spec.layers
    )
    notes.guess(
        f"camera: a HEURISTIC for {record.camera.describe()}: {said}; linear over "
        f"frames {comp.start_frame}-{end}. Generator camera controls are unitless, "
        "so these amounts are aebridge's choice, not the generator's (docs/init.md)",
        "edit camera.moves in the spec",
    )
    notes.guess(
        f"3D: {', '.join(followers) or 'no layer'} follow the camera; "
        f"{owner.layer_id} stays 2D (the move is already in its pixels)",
        "set three_d in the spec",
    )
    moves_list: tuple[CameraMove, ...] = moves
    return replace(spec, layers=layers, camera=Camera(moves=moves_list))
