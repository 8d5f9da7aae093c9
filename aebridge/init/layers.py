"""The plate and the layers: which clip is opaque, which is the plate (the comp's
size, rate and length), the stacking order, and each clip's layer with its role,
alpha, track matte, timing notes and decision-table row."""

from __future__ import annotations

from collections.abc import Sequence

from .. import naming
from ..errors import InitError, OptionError
from ..model import (
    AlphaMode,
    Comp,
    Layer,
    LayerSource,
    MatteType,
    Role,
    TrackMatte,
    VfrPolicy,
)
from ..timing import format_rate
from .decisions import Clip, InitOptions, LayerRow, Notes, Place, find_media, rate_text
from .discover import Media, alpha_is_opaque
from .provenance import check_record, provenance_of, record_keyframes

__all__ = [
    "choose_plate",
    "clip_layer",
    "is_foreground",
    "is_opaque",
    "stack_order",
    "table_row",
]


def is_opaque(clip: Clip, notes: Notes) -> bool:
    """Whether a clip hides what is below it: no matte and no alpha, or an alpha
    that is 1 everywhere in its first frame (a guess, noted)."""
    media = clip.media
    if clip.matte is not None:
        return False
    if not media.has_alpha:
        return True
    if alpha_is_opaque(media):
        notes.guess(
            f"{media.path}: its alpha is 1 everywhere in the first frame, so it counts "
            "as opaque",
            f"{notes.spelling.setting('exclude', media.path)} leaves it out",
        )
        return True
    return False


def choose_plate(
    clips: dict[str, Clip],
    options: InitOptions,
    everything: Sequence[Media],
    notes: Notes,
) -> Clip:
    """The plate: the user's ``--plate``, else the largest opaque clip (named plate,
    bg or background first); two equal candidates are an :class:`InitError`."""
    say = notes.spelling
    if options.plate is not None:
        chosen = find_media(everything, options.plate, say.option("plate"))
        if chosen.path not in clips:
            raise OptionError(
                say.option("plate"),
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
            f"{say.option('plate', 'FILE')} picks another",
        )
        return biggest

    def rank(clip: Clip) -> tuple[int, int]:
        return (clip.media.area, clip.media.frame_count)

    top = max(rank(c) for c in pool)
    best = [c for c in pool if rank(c) == top]
    if len(best) > 1:
        paths = [c.media.path for c in best]
        listing = f"{', '.join(paths[:-1])} and {paths[-1]}"
        words = ("two", "three", "four", "five", "six", "seven", "eight", "nine")
        count = words[len(best) - 2] if len(best) < 10 else str(len(best))
        why = "named plate, bg or background" if named else "the largest opaque clips"
        w, h = best[0].media.width, best[0].media.height
        raise InitError(
            f"{count} candidate plates, {listing} (opaque, {w}x{h}, {top[1]} frames, "
            f"{why}); choose one with {say.setting('plate', best[0].media.path)}"
        )
    plate = best[0]
    passed = [c.media.path for c in pool if c is not plate]
    over = f"; chosen over {', '.join(passed)} (smaller or shorter)" if passed else ""
    if named:
        notes.guess(
            f"plate: {plate.media.path} (opaque, full-frame, the longest clip whose "
            f"name says plate, bg or background{over}); the comp takes its size, rate "
            "and length",
            f"{say.option('plate', 'FILE')} picks another",
        )
    else:
        notes.guess(
            f"plate: {plate.media.path}, the largest opaque clip (no name says plate, "
            f"bg or background{over}); the comp takes its size, rate and length",
            f"{say.option('plate', 'FILE')} picks another",
        )
    return plate


def is_foreground(clip: Clip) -> bool:
    """A matting pass's output, or a clip with alpha whose name says foreground."""
    return clip.matte is not None or (
        not clip.opaque and naming.is_foreground_name(clip.media.stem)
    )


def stack_order(colour: dict[str, Clip], plate: Clip) -> list[Clip]:
    """Bottom to top: the plate, opaque clips, elements, then foregrounds."""

    def rank(clip: Clip) -> tuple[int, str]:
        if clip is plate:
            return (0, "")
        if clip.opaque:
            return (1, clip.media.path)
        return (3 if is_foreground(clip) else 2, clip.media.path)

    return sorted(colour.values(), key=rank)


def clip_layer(
    clip: Clip, plate: Clip, comp: Comp, place: Place, notes: Notes
) -> tuple[Layer, Layer | None]:
    """The layer a clip becomes, and its track-matte layer when it has one."""
    media = clip.media
    where = clip.layer_id
    if clip is plate:
        role = Role.BACKGROUND
    elif is_foreground(clip):
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
        yuv_matrix=clip.yuv_matrix,
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
        say = notes.spelling
        notes.warnings.append(
            f"{where}: {media.path} is opaque and full-frame, so it would hide the "
            f"plate; its layer is switched off ({say.setting('exclude', media.path)} "
            f"leaves it out, {say.setting('plate', media.path)} makes it the plate)"
        )
    _timing_notes(clip, comp, notes)
    provenance = None
    if clip.record is not None:
        keys, extra = record_keyframes(
            clip.record, media.frame_count, comp, place, where, notes
        )
        provenance = provenance_of(clip.record, keys, extra)
        check_record(clip.record, media, comp.rate, notes)
    matte_layer = None
    track = None
    if clip.track_matte is not None:
        matte = clip.track_matte
        matte_id = clip.matte_layer_id
        track = TrackMatte(
            layer=matte_id,
            type=MatteType.ALPHA if matte.has_alpha else MatteType.LUMA,
        )
        matte_layer = Layer(
            id=matte_id,
            name=naming.layer_name(matte.stem),
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
        # After Effects shows a name of any script; the id is ASCII for folders.
        name=naming.layer_name(media.stem),
        source=source,
        role=role,
        enabled=enabled,
        track_matte=track,
        provenance=provenance,
    )
    return layer, matte_layer


def _timing_notes(clip: Clip, comp: Comp, notes: Notes) -> None:
    media = clip.media
    where = clip.layer_id
    if media.rate is None:
        notes.guess(
            f"{where}: {media.path} is an image sequence, which carries no rate; it "
            f"plays at the comp's {format_rate(comp.rate)} fps",
            "set source.rate in the spec if it was made at another",
        )
    elif media.rate != comp.rate:
        # The build's option; a service's jobs build with the default policy.
        refuse = (
            "" if notes.spelling.request else "; --rate-policy refuse makes it an error"
        )
        notes.warnings.append(
            f"{where}: {media.path} runs at {format_rate(media.rate)} fps, the comp "
            f"at {format_rate(comp.rate)} fps; it is conformed frame for frame (the "
            f"build's rate policy{refuse})"
        )
    if media.variable_rate:
        notes.warnings.append(
            f"{where}: {media.path} has a variable frame rate; it is resampled to "
            f"{rate_text(media.rate)} fps (source.vfr resample)"
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


def table_row(layer: Layer, clip: Clip, comp: Comp) -> LayerRow:
    """The decision-table row of a layer."""
    assert isinstance(layer.source, LayerSource)
    media = clip.media
    shown = min(media.frame_count, comp.duration)
    rate = rate_text(media.rate)
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
