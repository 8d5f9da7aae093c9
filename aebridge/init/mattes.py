"""Which clips are mattes and whose: the user's pairs first, then the naming
conventions (CLIP + CLIP_matte, RVM's fgr/pha), and RVM's composition left out when
its foreground and alpha are in the folder (``docs/init.md`` lists the rules)."""

from __future__ import annotations

from collections.abc import Sequence

from .. import naming
from ..errors import InitError, OptionError
from ..model import YuvMatrix
from .decisions import Clip, InitOptions, Notes, find_media
from .discover import Media, is_grey

__all__ = ["drop_compositions", "pair_mattes", "rvm_matrix"]


def rvm_matrix(clip: Clip, notes: Notes) -> None:
    """Read an untagged YUV movie paired by RVM's names as BT.601.

    Robust Video Matting's ``inference_utils.VideoWriter`` encodes with PyAV from
    ``rgb24`` frames into ``yuv420p``, so swscale's default matrix (BT.601) makes
    the YUV, and it tags nothing: read by the HD convention (BT.709 at 720 lines or
    more) its foreground shifts hue. A tagged movie keeps its tag.
    """
    info = clip.media.info
    if (
        clip.media.kind != "movie"
        or info is None
        or not info.yuv
        or info.colour_tags.get("matrix") != "unspecified"
    ):
        return
    clip.yuv_matrix = YuvMatrix.BT601
    notes.guess(
        f"{clip.media.path}: read as BT.601 YUV (source.yuv_matrix: bt601), as "
        "RVM's writer encodes its untagged MP4s",
        "set yuv_matrix to bt709 (or remove it) if another tool wrote it",
    )


def pair_mattes(
    clips: Sequence[Media], options: InitOptions, notes: Notes
) -> tuple[dict[str, Clip], set[str]]:
    """Decide every matte: the user's pairs first, then the naming conventions.

    Returns:
        (the colour clips by path, the paths of clips used as mattes).
    """
    by_path = {c.path: Clip(media=c) for c in clips}
    mattes: set[str] = set()
    say = notes.spelling

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

    for key, given in (
        ("pairs", options.pairs),
        ("track_mattes", options.track_mattes),
    ):
        option = say.option(key)
        for clip_text, matte_text in given:
            clip = find_media(clips, clip_text, option)
            matte = find_media(clips, matte_text, option)
            claim(clip, matte, option, track=key == "track_mattes")

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
                f"{say.setting('pairs', 'CLIP', clip.path)} uses it as a matte",
            )
            continue
        if not is_grey(clip):
            notes.guess(
                f"{clip.path}: its name ends in '{name.word}' but its first frame is "
                "in colour, so it is a layer, not a matte",
                f"{say.setting('pairs', 'CLIP', clip.path)} uses it as a matte",
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
                f"it with {say.setting('pairs', 'CLIP', matte.path)}, or leave it out "
                f"with {say.setting('exclude', matte.path)}"
            )
        if len(found) > 1:
            listing = " and ".join(c.path for c in found)
            raise InitError(
                f"{matte.path} could be the matte of {listing}; choose with "
                + say.setting("pairs", found[0].path, matte.path)
            )
        partner = by_path[found[0].path]
        if partner.matte is not None or partner.track_matte is not None:
            other = partner.matte or partner.track_matte
            assert other is not None
            raise InitError(
                f"{partner.media.path} has two mattes, {other.path} and {matte.path}; "
                f"choose with {say.setting('pairs', partner.media.path, 'MATTE')} "
                f"(and leave the other out with {say.option('exclude')})"
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
                say.setting("pairs", partner.media.path, matte.path)
                + " makes it the alpha instead",
            )
        else:
            partner.matte = matte
            notes.guess(
                f"{matte.path}: the alpha of {partner.media.path} (paired by {how})",
                f"{say.setting('pairs', 'CLIP', 'MATTE')} pairs differently, "
                f"{say.setting('track_mattes', partner.media.path, matte.path)} "
                "makes it a track-matte layer",
            )
        mattes.add(matte.path)
        if naming.is_rvm_pair(partner.media.stem, name):
            rvm_matrix(partner, notes)

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
                "must match its clip's size and last as long; use "
                f"{say.setting('track_mattes', clip.path, matte.path)} to cut the "
                "clip with it as a layer instead"
            )
    return {p: c for p, c in by_path.items() if p not in mattes}, mattes


def drop_compositions(
    colour: dict[str, Clip], notes: Notes, keep: str | None
) -> dict[str, Clip]:
    """Leave out RVM's composition when its foreground and alpha are here (unless
    it is the clip ``keep``, the plate the user chose)."""
    rvm_bases: set[str] = set()
    for clip in colour.values():
        parts = naming.words(clip.media.stem)
        paired = clip.matte is not None or clip.track_matte is not None
        if paired and parts[-1:] in (("fgr",), ("foreground",)):
            rvm_bases.add("_".join(parts[:-1]))
    kept: dict[str, Clip] = {}
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
                f"{notes.spelling.setting('plate', path)} uses it as the plate",
            )
            continue
        kept[path] = clip
    return kept
