"""What a source's file name says: the layer id it gives (``aebridge init``'s and
``aebridge convert``'s default ``--name`` alike, :func:`name_id` of
:func:`source_stem`), and the conventions ``init`` reads: mattes, plates, RVM's
outputs.

Names are compared by their words: a stem's letters that fold to ASCII are folded as
ids are (:func:`aebridge.model.layer.fold_ascii`: ``ünï`` -> ``uni``), other letters
kept with the marks written on them (``दिन`` and ``दान``, ``ガラス`` and ``カラス``
are two names), split at every other character than a letter, digit or mark (of any
script: ``前景_matte`` is ``前景`` and ``matte``) and lower-cased, so
``Hero-FGR``, ``hero_fgr`` and ``hero.fgr`` are the same name, and a layer id is
made of the words (``fg ünï's #3`` -> ``fg_uni_s_3``) as a comp's folder is of its
name. A name whose letters an id cannot hold
(``前景``) gives the layer an id of its hash and keeps the name as the layer's name
in After Effects (:func:`layer_name`).

A matte is a clip whose last word is one of :data:`MATTE_WORDS`. Its colour clip is
the clip named by the words before it, alone or followed by one of
:data:`COLOUR_WORDS` (``fg_matte`` pairs with ``fg``, ``fg_rgb``, ``fg_fgr``, ...).
Robust Video Matting (RVM, github.com/PeterL1n/RobustVideoMatting) writes a
foreground, an alpha and a composition; its README names them ``fgr.mp4``,
``pha.mp4`` and ``com.mp4`` and its ``inference.py`` example ``foreground.mp4``,
``alpha.mp4`` and ``composition.mp4``: those bare names pair as :data:`BARE_PAIRS`
say, and the composition (the foreground over green) is recognised by
:func:`is_composition`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .model.layer import fold_ascii, named_id
from .model.names import folder_key
from .sequence import SequencePattern, is_sequence_pattern

__all__ = [
    "BARE_PAIRS",
    "COLOUR_WORDS",
    "FOREGROUND_WORDS",
    "KEYFRAME_WORDS",
    "MATTE_WORDS",
    "PLATE_WORDS",
    "MatteName",
    "clip_base",
    "is_composition",
    "is_foreground_name",
    "is_plate_name",
    "is_rvm_pair",
    "keyframe_position",
    "layer_id",
    "layer_name",
    "matte_name",
    "meaningless",
    "name_id",
    "norm",
    "partner_keys",
    "source_stem",
    "unique_id",
    "words",
]

#: Last words that mark a matte. ``alpha`` also ends names of clips that carry their
#: own alpha (``fg_alpha.mov``, a ProRes 4444); such a clip is no matte (init checks).
MATTE_WORDS: tuple[str, ...] = ("matte", "alpha", "mask", "pha")
#: Last words that mark the colour half of a pair (the samples' ``_rgb``, RVM's
#: ``_fgr``).
COLOUR_WORDS: tuple[str, ...] = ("rgb", "fgr", "color", "colour")
#: RVM's default names: a bare matte name -> the bare colour name it pairs with.
BARE_PAIRS: dict[str, str] = {"pha": "fgr", "alpha": "foreground"}
#: RVM's composition over green: ``com`` (README) and ``composition`` (inference.py).
COMPOSITION_WORDS: tuple[str, ...] = ("com", "composition")
#: Words that say a clip is the background plate.
PLATE_WORDS: frozenset[str] = frozenset(
    {"plate", "bg", "background", "backplate", "bgplate", "bkg", "bkgd"}
)
#: Words that say a clip is a foreground.
FOREGROUND_WORDS: frozenset[str] = frozenset({"fg", "fgr", "foreground"})
#: Words that place an unreferenced still at a clip's first or last frame (the
#: generators' own names: Runway's positions ``first``/``last``, Luma's ``frame0`` /
#: ``frame1``, Kling's ``image``/``image_tail``).
KEYFRAME_WORDS: dict[str, str] = {
    "first": "first",
    "start": "first",
    "frame0": "first",
    "last": "last",
    "end": "last",
    "frame1": "last",
    "tail": "last",
}

_UUID = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I
)
_HEX = re.compile(r"^[0-9a-f]+$")
_DIGIT = re.compile(r"\d")
_GENERIC = frozenset({"output", "video", "download", "result", "gen", "generation"})


def _is_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M")


def _in_word(c: str) -> bool:
    """Whether ``c`` is part of a word: a letter or digit of any script, or a mark
    written on one (Devanagari's and Thai's vowel signs, a virama)."""
    return c.isalnum() or _is_mark(c)


def _folded(stem: str) -> str:
    """``stem`` with each letter that folds to ASCII folded, its marks dropped
    (``ünï``, composed or not -> ``uni``; ``ﬁ`` -> ``fi``), and every other letter
    kept as written with its marks (``が``: folding leaves ``か``, another word)."""
    out: list[str] = []
    folded = True  # whether the letter a mark is written on was folded
    for c in unicodedata.normalize("NFC", stem):
        if _is_mark(c):
            if not folded:
                out.append(c)
            continue
        ascii_form = fold_ascii(c)
        folded = ascii_form.isascii()
        out.append(ascii_form if folded else c)
    return "".join(out)


def words(stem: str) -> tuple[str, ...]:
    """A name's lower-case words, folded to ASCII where they fold: ``"Hero-FGR.v2"``
    -> ``("hero", "fgr", "v2")``, ``"fg ünï's #3"`` -> ``("fg", "uni", "s", "3")``,
    ``"前景_matte"`` -> ``("前景", "matte")``, ``"दिन"`` -> ``("दिन",)``."""
    spaced = "".join(c if _in_word(c) else " " for c in _folded(stem))
    return tuple(w.lower() for w in spaced.split())


def norm(stem: str) -> str:
    """A name's words joined by ``_``: the key names are compared by."""
    return "_".join(words(stem))


@dataclass(frozen=True, slots=True, kw_only=True)
class MatteName:
    """A name that ends in a matte word: ``base`` before it (``""`` when bare)."""

    base: str
    word: str


def matte_name(stem: str) -> MatteName | None:
    """Split a matte's name, or None when its last word is no matte word.

    Args:
        stem: a clip's name without extension or frame field.

    Returns:
        ``fg_matte`` -> ``MatteName(base="fg", word="matte")``; ``pha`` ->
        ``MatteName(base="", word="pha")``.
    """
    parts = words(stem)
    if not parts or parts[-1] not in MATTE_WORDS:
        return None
    return MatteName(base="_".join(parts[:-1]), word=parts[-1])


def partner_keys(name: MatteName) -> tuple[str, ...]:
    """The normalised names a matte's colour clip may have, in order of preference.

    Args:
        name: a matte name from :func:`matte_name`.

    Returns:
        ``fg`` -> ``("fg", "fg_rgb", "fg_fgr", "fg_color", "fg_colour")``; a bare
        RVM name -> its partner (``pha`` -> ``("fgr",)``); other bare names none.
    """
    if not name.base:
        partner = BARE_PAIRS.get(name.word)
        return (partner,) if partner else ()
    return (name.base, *(f"{name.base}_{w}" for w in COLOUR_WORDS))


def is_rvm_pair(colour_stem: str, name: MatteName) -> bool:
    """Whether a colour clip and its matte are paired by RVM's names: a ``pha``
    matte (``pha``, ``x_pha``), an ``x_fgr`` colour clip, or inference.py's bare
    ``foreground``/``alpha``.

    Args:
        colour_stem: the colour clip's name.
        name: its matte's name from :func:`matte_name`.
    """
    if name.word == "pha" or words(colour_stem)[-1:] == ("fgr",):
        return True
    return not name.base and name.word in BARE_PAIRS


def clip_base(stem: str) -> str:
    """A colour clip's name without its colour word (``fg_rgb`` -> ``fg``).

    A bare colour word stays (``fgr`` -> ``fgr``).
    """
    parts = words(stem)
    if len(parts) > 1 and parts[-1] in COLOUR_WORDS:
        return "_".join(parts[:-1])
    return "_".join(parts)


def is_composition(stem: str) -> bool:
    """Whether a name is RVM's composition (``com``, ``composition``, ``x_com``)."""
    parts = words(stem)
    return bool(parts) and parts[-1] in COMPOSITION_WORDS


def is_plate_name(stem: str) -> bool:
    """Whether a name says plate, bg or background (as one of its words)."""
    return bool(PLATE_WORDS.intersection(words(stem)))


def is_foreground_name(stem: str) -> bool:
    """Whether a name says fg, fgr or foreground (as one of its words)."""
    return bool(FOREGROUND_WORDS.intersection(words(stem)))


def keyframe_position(stem: str) -> str | None:
    """``"first"``/``"last"`` when a still's name places it, else None."""
    for word in words(stem):
        if word in KEYFRAME_WORDS:
            return KEYFRAME_WORDS[word]
    return None


def meaningless(stem: str) -> bool:
    """Whether a name says nothing a layer id could keep: every word is a number, an
    id (a UUID, hex of 6 or more characters with a digit) or a word generators put in
    file names (``output``, ``video``; Kling's ``output.mp4``, Luma's
    ``video_0_<id>.mp4``)."""
    parts = words(stem)
    if _UUID.match("".join(parts)):
        return True
    return all(
        w.isdigit()
        or w in _GENERIC
        or (len(w) >= 6 and _HEX.match(w) and _DIGIT.search(w))
        for w in parts
    )


def source_stem(path: str, *, file: bool = False) -> str:
    """The name a source is known by, which its layer id is made of (:func:`name_id`):
    a folder's name (``pha/``), a sequence pattern's name before its frame field
    (``fg.v2.####.png`` -> ``fg.v2``; ``pha/####.png`` -> ``pha``), or a file's name
    without its extension (``fg.v2.mp4`` -> ``fg.v2``; an existing image named like
    a pattern, ``logo@2x.png``, is read as that image, so named as a file). ``init``
    reads its clips' names, and ``convert`` its default ``--name``, here.

    Args:
        path: a file, pattern or folder path, ``/``-separated (a trailing ``/`` says
            a folder).
        file: ``path`` is an existing file, whatever its name.
    """
    directory, _, base = path.rstrip("/").rpartition("/")
    if path.endswith("/") or not base:
        return base
    if is_sequence_pattern(base) and not file:
        prefix = SequencePattern.parse(base).prefix.rstrip("._- ")
        return prefix or directory.rpartition("/")[2]
    stem, dot, _ = base.rpartition(".")
    return stem if dot and stem else base


def name_id(stem: str) -> str:
    """The id of a clip's name (a :func:`source_stem`), the one rule ``init``'s layer
    ids and ``convert``'s default ``--name`` share: the name's words joined by ``_``
    (:func:`norm`: ``Hero-FGR`` -> ``hero_fgr``, ``fg ünï's #3`` -> ``fg_uni_s_3``,
    ``fg.v2`` -> ``fg_v2``) as a comp's folder is made
    (:func:`aebridge.model.layer.named_id`); a name of no ASCII letter or digit
    (``前景``) is ``layer_`` and the hash of the name as written without the
    characters in no word at its ends (``_Фон_`` and ``Фон`` are one name, ``Фон``
    and ``ФОН`` two).

    Args:
        stem: a clip's name.

    Returns:
        An id (``layer`` for a name with no word).
    """
    key = norm(stem)
    if not key:
        return "layer"
    start, end = 0, len(stem)
    while not _in_word(stem[start]):
        start += 1
    while not _in_word(stem[end - 1]):
        end -= 1
    return named_id(key, kind="layer", written=stem[start:end])


def layer_id(stem: str, fallback: str, taken: set[str]) -> str:
    """A unique layer id from a clip's name (``fallback`` when it is meaningless).

    Args:
        stem: the clip's name (:func:`source_stem`).
        fallback: the id to use when the name says nothing (its role).
        taken: ids in use; the new id is added.

    Returns:
        :func:`name_id` of the name without a colour word (``fg_rgb`` -> ``fg``, as
        its pair's layer; ``前景_rgb`` -> ``前景``'s hashed id), so the id ``convert``
        names the file by but for that word, else ``fallback``; unique regardless
        of case (``_2``, ``_3`` appended when needed).
    """
    if meaningless(clip_base(stem)):
        return unique_id(fallback, taken)
    return unique_id(name_id(_written_base(stem)), taken)


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, else ``base_2``, ``base_3``, ...: the first that no id in ``taken``
    is in any case (:func:`aebridge.model.names.folder_key`: ``FG`` and ``fg`` are one
    folder on Windows and macOS).

    Args:
        base: an id.
        taken: ids in use; the new id is added.

    Returns:
        The unique id.
    """
    keys = {folder_key(t) for t in taken}
    candidate, n = base, 1
    while folder_key(candidate) in keys:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def layer_name(stem: str) -> str | None:
    """The name After Effects shows for a clip's layer, when its id cannot: the
    clip's name as written, without a colour word (``前景_rgb`` -> ``前景``), when
    it holds a letter or digit with no ASCII form (``前景``, ``Tokyo東京night``);
    None otherwise (the id shows it, ``fg ünï's #3`` as ``fg_uni_s_3``).

    Args:
        stem: the clip's name.
    """
    if all(c.isascii() or not c.isalnum() for c in fold_ascii(stem)):
        return None
    return _written_base(stem)


def _written_base(stem: str) -> str:
    """A clip's name as written without its colour word (``前景_rgb`` -> ``前景``,
    ``Фон`` -> ``Фон``)."""
    parts = words(stem)
    if len(parts) > 1 and parts[-1] in COLOUR_WORDS:
        # The colour word is ASCII, so it is the stem's last word too: it goes, with
        # the characters around it that are in no word.
        end = len(stem)
        for in_word in (False, True, False):
            while end and _in_word(stem[end - 1]) is in_word:
                end -= 1
        return stem[:end] or stem
    return stem
