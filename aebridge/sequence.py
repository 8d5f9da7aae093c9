"""Frame-sequence naming and discovery: patterns and folders to ordered frame files.

A sequence is written as a pattern whose frame-number field is one of

- ``name.####.ext`` (one ``#`` per digit; a single ``#`` means four digits, as in
  fileseq and Nuke's range notation),
- ``name.@@@@.ext`` (one ``@`` per digit),
- ``name.%04d.ext`` (printf),
- ``name.1001-1120#.ext`` (an explicit frame range before the padding field: one
  ascending run, as fileseq's lists and steps, ``name.1,3#.ext`` or
  ``name.1-9x2#.ext``, would be read as consecutive frames),
- ``name.$F4.ext`` (Houdini),

or is a folder holding exactly one image sequence. The frame field is the last one in
the name, which ends in an image extension: ``#``, ``@`` or ``%`` before it are part
of the name (``it's #2.####.png``), and a movie is never a pattern. fileseq reads the
pattern, and its disk pattern, save one rule, splits a folder's names;
:class:`SequencePattern` is the one translation of this grammar to fileseq's (its
default ``#`` is four digits), and :func:`group_numbered` the one grouping of file
names into patterns (a folder's and ``init``'s): the last number before the extension
is the frame (``fg_v2.f1.png`` is frame 1 of ``fg_v2.f@.png``, where fileseq takes
``.f1`` for part of the extension, unless fileseq's reading makes fewer sequences
of them: ``shot.1001.beauty2.exr``.. are ``shot.####.beauty2.exr``), and a ``-`` after
a letter or digit separates the name from the number (``fg-0001.png`` is frame 1 of
``fg-####.png``, ``fg_v2-1001.png`` frame 1001 of ``fg_v2-####.png``), in a pattern
as in a file name (``fg-1001-1120#.png`` is frames 1001 to 1120 of ``fg-``), after
``.``, ``_`` or nothing it is a minus sign (``fg.-001.png``). So a range begins
after a separator or at the start: digits joined to the name's letters before a
``-`` are the name's (``fg_v2-1001#.png`` is frame 1001 of ``fg_v2-``, as the file
``fg_v2-1001.png`` is, not frames 2 to 1001 of ``fg_v``). Numbers must be
padded to the pattern's width as fileseq's strict padding says (a wider number is
accepted only without leading zeros, e.g. frame 10000 of ``####``; a negative number
counts its sign in the width, ``-002``, or has it outside, ``-0002``), and the frames
found must be contiguous: a converted sequence has no holes, so a gap is an error
naming the missing numbers, and so is a range that skips or reorders frames (it
names the spellings allowed). A name with a frame field that is one existing file
(``logo@2x.png``, ``take#3.png``) is that image, unless its pattern's frames exist
too, when it is refused as naming both. Folders are listed through
:mod:`aebridge.sandbox` (a service job's listing is checked like its reads), which is
why fileseq's own ``findSequenceOnDisk``, which globs the disk itself, is not called.

:func:`find_sequence` is the one way to list a sequence. :class:`FoundSequences` is one
build's record of the sequences it has listed, so the spec check, the probe and the
matte's probe of one build share one listing per source; it is made by the build and
dropped with it, never shared between builds or jobs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import sandbox
from .errors import SourceError
from .formats import FRAME_FIELD, IMAGE_EXTENSIONS

if TYPE_CHECKING:
    from fileseq.filesequence import FileSequence
    from fileseq.frameset import FrameSet

# fileseq (its ANTLR parser: some 50 ms to import) is imported where a pattern is
# parsed or a folder grouped, so what never reads a sequence (a movie's conversion,
# the JSX emitter) does not load it.

__all__ = [
    "FoundSequences",
    "FrameSequence",
    "NumberedNames",
    "SequencePattern",
    "find_sequence",
    "format_frame_ranges",
    "group_numbered",
    "is_sequence_pattern",
    "names_all",
    "one_image",
    "takes_frame",
    "unnamed_sequence",
]

# The frame-number field of a pattern: an optional range, then the padding.
_PAD_FIELD_RE = re.compile(f"({FRAME_FIELD})")
# The characters fileseq reads as the start of a padding field.
_FIELD_CHARS_RE = re.compile(r"[#@%$]")

_PATTERN_HELP = (
    "name.####.ext, name.%04d.ext, name.1001-1120#.ext, name.@@@@.ext "
    "or a folder holding one image sequence"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameSequence:
    """An ordered, contiguous image sequence found on disk.

    ``pattern`` is the normalised ``dir/name.####.ext`` spelling (``#`` per digit);
    ``frame_files[i]`` holds frame number ``frame_numbers[i]``.
    """

    pattern: str
    prefix: str
    suffix: str
    padding: int
    frame_files: tuple[str, ...]
    frame_numbers: tuple[int, ...]

    @property
    def first(self) -> int:
        """The first frame number."""
        return self.frame_numbers[0]

    @property
    def last(self) -> int:
        """The last frame number."""
        return self.frame_numbers[-1]


def is_sequence_pattern(path: str) -> bool:
    """Whether the file name in ``path`` is a pattern: it has a frame field (``#``,
    ``@``, ``%d``, ``$F``) and an image extension (a movie named ``Tom's take
    #2.mp4`` is a movie).

    Args:
        path: a path as the user typed it.

    Returns:
        True when the base name holds a padding field and ends in an image extension.
    """
    base = os.path.basename(path)
    return (
        os.path.splitext(base)[1].lower() in IMAGE_EXTENSIONS
        and _PAD_FIELD_RE.search(base) is not None
    )


def _frame_field(base: str) -> re.Match[str] | None:
    """The frame field of a file name: its last padding field (``#``, ``@``, ``%``
    or ``$F`` before it belong to the name, ``shot #2.####.png``)."""
    fields = list(_PAD_FIELD_RE.finditer(base))
    return fields[-1] if fields else None


def format_frame_ranges(numbers: list[int] | tuple[int, ...]) -> str:
    """Spell frame numbers compactly: ``[3, 4, 5, 9]`` -> ``"3-5, 9"``.

    Args:
        numbers: frame numbers in any order.

    Returns:
        Comma-separated numbers and inclusive ranges.
    """
    ordered = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


# --------------------------------------------------------------------- the grammar
#
# aebridge's pattern grammar differs from fileseq's default in one place: there a
# ``#`` is four digits (``PAD_STYLE_HASH4``), here one digit per ``#`` (fileseq's
# ``PAD_STYLE_HASH1``), except that a lone ``#`` is four digits as in fileseq and
# Nuke's range notation (``fg.1001-1120#.exr``). :class:`SequencePattern` is the one
# translation: everything that reads a pattern (the build, ``init``, the spec check
# and the service's path checks, through :func:`find_sequence`) goes through it.


def _padding_width(pad: str) -> int:
    """Digits meant by a padding field as fileseq parses it with ``PAD_STYLE_HASH1``."""
    if pad == "#":
        # fileseq's and Nuke's convention for a lone '#' after a range: four digits.
        return 4
    if set(pad) <= {"#", "@"}:
        return len(pad)
    from fileseq.constants import PAD_STYLE_HASH1
    from fileseq.filesequence import FileSequence

    return int(FileSequence.getPaddingNum(pad, pad_style=PAD_STYLE_HASH1))


def _pad_field(padding: int, prefix: str = "") -> str:
    """The ``#`` spelling of a padding width; one digit is ``@`` (a lone ``#`` is 4);
    the printf one where the prefix ends in the same character, which would join
    the field (``take#`` and 4 digits: ``take#%04d``, not ``take#####``)."""
    field = "@" if padding == 1 else "#" * padding
    return f"%0{padding}d" if prefix.endswith(field[0]) else field


# A frame number in a file name: digits, with a sign for a negative frame.
_FRAME_TEXT_RE = re.compile(r"-?\d+")

# What a '-' before a frame number (or range) follows when it is the number's sign:
# nothing, or a separator ('fg.-001.png'); after anything else (a letter, a digit) it
# separates the name from the number ('fg-0001.png', ffmpeg's 'frame-%04d.png';
# 'fg_v2-1001.png'), in a folder's names as in a pattern ('fg-####.png').
_SIGN_AFTER = frozenset("._- ")

# What follows a name ending in a letter or digit when a '-' ends the name there: the
# '-' at once ('fg-1001-1120#.png'), or after digits joined to the name ('v2-' in
# 'fg_v2-1001#.png', which fileseq reads as frames 2 to 1001 of 'fg_v'): a frame
# range with a '-' in it begins after a separator, never inside a word.
_NAME_BEFORE_HYPHEN_RE = re.compile(r"\d*-")


def takes_frame(text: str, padding: int) -> bool:
    """Whether the frame field ``text`` of a file name fits a ``padding``-digit pattern.

    fileseq's strict padding (``findSequenceOnDisk(..., strictPadding=True)``): a
    padded number (a leading ``0``, or ``-0``) has exactly the pattern's width, the
    sign counted in it as printf writes it (``'%04d' % -2 == '-002'``); an unpadded
    one may be wider (frame 10000 of ``####``). A negative frame is also taken with
    its sign outside the padding (``-0002``): any negative number with at least
    ``padding - 1`` digits (one at least).

    Args:
        text: what stands between the pattern's prefix and suffix.
        padding: the pattern's digits.

    Returns:
        True when ``text`` is a frame number of the pattern.
    """
    if _FRAME_TEXT_RE.fullmatch(text) is None:
        return False
    digits = text.removeprefix("-")
    if len(digits) < len(text):
        return len(digits) >= max(padding - 1, 1)
    return len(text) == padding or (len(text) > padding and text[0] in "123456789")


def _read_fields(base: str, field: re.Match[str], shown: str) -> FileSequence:
    """fileseq's reading of a pattern's name, range and padding, the name ending
    where the grammar says: a ``-`` after a letter or digit separates, never signs
    (``fg-1001-1120#.png`` is frames 1001 to 1120 of ``fg-``, where fileseq reads
    -1001 to 1120 of ``fg``), and digits joined to a name's letters before a ``-``
    are the name's, whether or not fileseq reads a range there (``fg_v2-####.png``
    and ``fg_v2-1001-1120#.png``, where it reads no pattern; ``fg_v2-1001#.png`` is
    frame 1001 of ``fg_v2-``, where it reads frames 2 to 1001 of ``fg_v``).

    Raises:
        SourceError: no reading (fileseq's error for the pattern as written).
    """
    from fileseq.constants import PAD_STYLE_HASH1
    from fileseq.exceptions import ParseException
    from fileseq.filesequence import FileSequence

    # fileseq takes '#', '@', '%d' and '$F' for the frame field wherever they stand,
    # so in the name before the field they are masked ('_' keeps the length and is
    # no range character) and the prefix is cut from the name; a name that ends at
    # a '-' is masked whole, so fileseq reads only what follows it as the range.
    head, field_text = base[: field.start()], base[field.start() :]
    masked = _FIELD_CHARS_RE.sub("_", head)
    ends = [0] + [
        i + 1
        for i in range(1, len(head))
        if head[i] == "-" and head[i - 1] not in _SIGN_AFTER
    ]
    first: ParseException | None = None
    for end in ends:
        try:
            parsed = FileSequence(
                "_" * end + masked[end:] + field_text, pad_style=PAD_STYLE_HASH1
            )
        except ParseException as exc:
            first = first or exc
            continue
        name = len(parsed.basename())
        if not (
            _NAME_BEFORE_HYPHEN_RE.match(head, name)
            and name
            and head[name - 1] not in _SIGN_AFTER
        ):
            return parsed
        # A '-' after the name's letter or digits separates: a later end (the one
        # just after it) reads the range.
    raise SourceError(
        f"cannot read the frame pattern ({first}); allowed: {_PATTERN_HELP}",
        path=shown,
    ) from first


@dataclass(frozen=True, slots=True, kw_only=True)
class SequencePattern:
    """A sequence pattern read by aebridge's grammar (see :func:`find_sequence`).

    ``directory`` and ``prefix`` locate the frames (``directory/prefix<frame>suffix``),
    ``padding`` is the digits of the frame field, ``frames`` the explicit range the
    pattern names (``fg.1001-1120#.exr``), if any.
    """

    path: str
    directory: str
    prefix: str
    suffix: str
    padding: int
    frames: FrameSet | None = None

    def __post_init__(self) -> None:
        if self.padding < 1:
            raise ValueError(f"padding must be at least 1, not {self.padding}")

    @classmethod
    def parse(cls, path: str | os.PathLike[str]) -> SequencePattern:
        """Read a pattern (``fg.####.png``, ``fg.%04d.png``, ``fg.1001-1120#.png``,
        ``fg.@@@@.png``, ``fg.$F4.png``).

        Raises:
            SourceError: fileseq cannot read it, or it has no frame-number field.
        """
        text = os.fspath(path)
        directory, base = os.path.split(text)
        field = _frame_field(base)
        if field is None:
            raise SourceError(
                f"no frame-number field in the name; allowed: {_PATTERN_HELP}",
                path=text,
            )
        parsed = _read_fields(base, field, text)
        pad = parsed.padding()
        if pad != field.group():
            raise SourceError(
                f"cannot read the frame field {field.group()!r}; allowed: "
                f"{_PATTERN_HELP}",
                path=text,
            )
        return cls(
            path=text,
            directory=directory,
            prefix=base[: len(parsed.basename())],
            suffix=parsed.extension(),
            padding=_padding_width(pad),
            frames=parsed.frameSet(),
        )

    @classmethod
    def of(
        cls, directory: str, prefix: str, suffix: str, padding: int
    ) -> SequencePattern:
        """The pattern of frames ``directory/prefix<frame>suffix``, spelled as
        :attr:`name` says (no explicit range)."""
        name = f"{prefix}{_pad_field(padding, prefix)}{suffix}"
        return cls(
            path=os.path.join(directory, name),
            directory=directory,
            prefix=prefix,
            suffix=suffix,
            padding=padding,
        )

    @property
    def name(self) -> str:
        """The normalised file-name spelling: ``prefix####suffix`` (``@`` for 1), or
        ``prefix%04dsuffix`` when the prefix ends in the field's character
        (``take#%04d.png``: ``take#####.png`` would be five digits after ``take``)."""
        return f"{self.prefix}{_pad_field(self.padding, self.prefix)}{self.suffix}"

    def reads_back(self) -> bool:
        """Whether :meth:`parse` reads this pattern's :attr:`name` as this pattern
        (no range, the same prefix, suffix and padding). ``fg_v2-####.png`` does
        (``2-`` is no frame range); a folder's names whose pattern fileseq cannot
        read do not, and :func:`unnamed_sequence` says so."""
        try:
            parsed = SequencePattern.parse(self.name)
        except SourceError:
            return False
        return (parsed.prefix, parsed.suffix, parsed.padding, parsed.frames) == (
            self.prefix,
            self.suffix,
            self.padding,
            None,
        )

    def frame_file(self, frame: int) -> str:
        """The path of frame ``frame``: its number padded to the pattern's width, a
        negative one with its sign counted in it (``-002``), as printf writes it."""
        name = f"{self.prefix}{frame:0{self.padding}d}{self.suffix}"
        return os.path.join(self.directory, name)

    def frame_text(self, name: str) -> str | None:
        """What stands in a file name's frame field, None when the name is not
        ``prefix...suffix``."""
        head, tail = len(self.prefix), len(self.suffix)
        if (
            len(name) <= head + tail
            or not name.startswith(self.prefix)
            or not name.endswith(self.suffix)
        ):
            return None
        return name[head : len(name) - tail]


def names_all(pattern: str, paths: Iterable[str]) -> bool:
    """Whether ``pattern``, read by the grammar, names every one of ``paths``: each
    is in its folder, a frame of it (:func:`takes_frame`) and, when it has a range,
    one of the range's. So ``bg.####.png``, ``bg.%04d.png``, ``bg.@@@@.png``,
    ``bg.$F4.png`` and ``bg.1001-1003#.png`` all name ``bg.1001.png``..
    ``bg.1003.png``, whatever the extension (an exclude may name a run of files no
    reader takes, ``x.####.tga``).

    Args:
        pattern: a path as the user typed it (``/``-separated, relative or not).
        paths: the files, in the same terms as ``pattern`` (relative to the same
            folder).

    Returns:
        False when ``pattern`` is no pattern the grammar reads, or a path is not one
        of its frames (True for no paths).
    """
    if _frame_field(os.path.basename(pattern)) is None:
        return False
    try:
        parsed = SequencePattern.parse(pattern)
    except SourceError:
        return False
    folder = os.path.normpath(parsed.directory)
    wanted = None if parsed.frames is None else {int(n) for n in parsed.frames}
    for path in paths:
        directory, name = os.path.split(path)
        text = parsed.frame_text(name)
        if (
            os.path.normpath(directory) != folder
            or text is None
            or not takes_frame(text, parsed.padding)
            or (wanted is not None and int(text) not in wanted)
        ):
            return False
    return True


def _list_frames(pattern: SequencePattern) -> dict[int, str]:
    """The frames of a pattern in its folder: number -> file name."""
    shown = pattern.path
    try:
        names = sandbox.listdir(pattern.directory or ".")
    except FileNotFoundError:
        raise SourceError(
            f"the folder {pattern.directory!r} does not exist", path=shown
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot list the folder: {exc}", path=shown) from exc
    found: dict[int, str] = {}
    for name in names:
        text = pattern.frame_text(name)
        if text is None or not takes_frame(text, pattern.padding):
            continue
        number = int(text)
        if number in found:
            raise SourceError(
                f"frame {number} exists twice ({found[number]!r} and {name!r})",
                path=shown,
                frame=number,
            )
        found[number] = name
    return found


def _one_run(pattern: SequencePattern, wanted: FrameSet) -> list[int]:
    """The frames of a pattern's range, which must be one ascending run, as a
    sequence's frames on disk must be: a list or step (``fg.1,3#.png``,
    ``fg.1-9x2#.png``) would be read as consecutive frames, its time compressed.

    Raises:
        SourceError: the range skips a frame or is out of order, naming it and the
            spellings allowed.
    """
    numbers = [int(n) for n in wanted]
    first, last = min(numbers), max(numbers)
    if numbers == list(range(first, last + 1)):
        return numbers
    skipped = sorted(set(range(first, last + 1)) - set(numbers))
    problem = (
        f"skips frame(s) {format_frame_ranges(skipped)}; a sequence has no holes"
        if skipped
        else "is not in ascending order"
    )
    field = _frame_field(os.path.basename(pattern.path))
    run = f"{first}-{last}" if last > first else str(first)
    allowed = f"{pattern.prefix}{run}{field.group() if field else '#'}{pattern.suffix}"
    raise SourceError(
        f"the frame range {wanted} {problem}; allowed: one ascending run first-last "
        f"({allowed}) or every frame ({pattern.name})",
        path=pattern.path,
    )


def _from_pattern(pattern: SequencePattern) -> FrameSequence:
    path, directory, wanted = pattern.path, pattern.directory, pattern.frames
    numbers = [] if wanted is None else _one_run(pattern, wanted)
    found = _list_frames(pattern)
    if wanted is not None:
        missing = [n for n in numbers if n not in found]
        if missing and len(missing) == len(numbers):
            raise SourceError(
                f"no frame of the range {wanted} exists (looked for {pattern.name} "
                f"in {directory or '.'!r})",
                path=path,
            )
        if missing:
            raise SourceError(
                f"missing frame(s) {format_frame_ranges(missing)} in the range "
                f"{wanted}; the sequence must be contiguous",
                path=path,
                frame=missing[0],
            )
    else:
        if not found:
            raise SourceError(
                f"no file matches the pattern (looked for {pattern.name} in "
                f"{directory or '.'!r})",
                path=path,
            )
        numbers = sorted(found)
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        if missing:
            raise SourceError(
                f"missing frame(s) {format_frame_ranges(missing)} between "
                f"{numbers[0]} and {numbers[-1]}; the sequence must be contiguous",
                path=path,
                frame=missing[0],
            )
    return FrameSequence(
        pattern=os.path.join(directory, pattern.name),
        prefix=os.path.join(directory, pattern.prefix),
        suffix=pattern.suffix,
        padding=pattern.padding,
        frame_files=tuple(os.path.join(directory, found[n]) for n in numbers),
        frame_numbers=tuple(numbers),
    )


# ------------------------------------------------------------ grouping a folder
#
# A name splits into name, frame number and extension as fileseq's disk pattern
# (``DISK_RE``, what its ``findSequencesInList`` uses) splits it, save one rule; the
# grammar then says which numbers one pattern takes (:func:`takes_frame`) and how it
# is spelled (:attr:`SequencePattern.name`), so a folder's sequences are what their
# patterns list.

# DISK_RE with an extension part before the last ('.tar' in 'fg.1001.tar.png') ending
# in no digit, where DISK_RE lets it end in one: there 'fg_v2.f1.png' was frame 2
# of 'fg_v' (extension '.f1.png') beside 'fg_v2.f10.png', frame 10 of 'fg_v2.f', and
# 'fg.a1.png' held no number; the last number before the extension is the frame.
_NUMBERED_RE = re.compile(
    r"""
    \A
    ((?:.*[/\\])?)                # folder
    (.*?)                         # name (as short as the rest allows)
    (-?\d+)?                      # frame number
    ((?:\.\w*[a-zA-Z][a-zA-Z_]?)*  # extension parts before the last, no end digit
    (?:\.[^.]+)?)                 # the extension
    \Z
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberedNames:
    """File names of one folder that one pattern takes.

    Attributes:
        pattern: the pattern (no range), spelled by :attr:`SequencePattern.name`.
        names: the file names, by frame number.
        numbers: their frame numbers (a number twice when two names hold it).
    """

    pattern: SequencePattern
    names: tuple[str, ...]
    numbers: tuple[int, ...]


def _split_numbered(
    name: str, disk: re.Pattern[str] = _NUMBERED_RE
) -> tuple[str, str, str] | None:
    """A file name's (name, frame number text, extension), None without a number;
    with ``disk=DISK_RE`` as fileseq splits it (``shot.1001.beauty2.exr``: frame
    1001, extension ``.beauty2.exr``)."""
    match = disk.match(name)
    if match is None or not match.group(3):
        return None
    directory, prefix, frame, suffix = match.groups()
    prefix = (directory or "") + (prefix or "")
    if frame.startswith("-") and prefix and prefix[-1] not in _SIGN_AFTER:
        prefix, frame = prefix + "-", frame[1:]
    return prefix, frame, suffix or ""


def _widest_take(texts: list[str]) -> int:
    """The padding that takes the most of ``texts`` (the wider one of a tie)."""
    widths = {len(t) for t in texts} | {len(t) - 1 for t in texts if t[0] == "-"}
    return max(
        (w for w in widths if w >= 1),
        key=lambda w: (sum(takes_frame(t, w) for t in texts), w),
    )


_Split = tuple[str, str, str]


def _fileseq_reads(splits: dict[str, tuple[_Split | None, _Split | None]]) -> set[str]:
    """The names split as fileseq splits them: those of each set of names joined by
    a shared name and extension in either split (``shot.1001.beauty2.exr`` and
    ``shot.1002.beauty2.exr`` by fileseq's ``shot.``, ``.beauty2.exr``) whose
    fileseq splits make fewer sequences than this one's. A set is read one way, so
    no pattern reads a name another group holds (``fg.1001.v2.png``,
    ``fg.1002.v2.png``, ``fg.1001.v3.png`` stay ``fg.1001.v@.png`` and
    ``fg.1002.v@.png``, not ``fg.####.v2.png`` of one name beside
    ``fg.1001.v@.png`` of two)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    keys = {
        name: tuple(split[::2] for split in pair if split is not None)
        for name, pair in splits.items()
    }
    for pair in keys.values():
        for key in pair[1:]:
            parent[root(key)] = root(pair[0])
    ours: dict[tuple[str, str], set[tuple[str, str]]] = {}
    theirs: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for split, disk in splits.values():
        if split is not None and disk is not None:
            ours.setdefault(root(split[::2]), set()).add(split[::2])
            theirs.setdefault(root(disk[::2]), set()).add(disk[::2])
    return {
        name
        for name, (split, disk) in splits.items()
        if split is not None
        and disk is not None
        and len(theirs[root(disk[::2])]) < len(ours[root(split[::2])])
    }


def group_numbered(directory: str, names: Iterable[str]) -> tuple[NumberedNames, ...]:
    """The sequences a folder's file names hold, as the grammar reads them.

    Names are split as fileseq's disk pattern splits them (the last number before
    the extension is the frame; an extension part before the last ends in no digit,
    ``fg.1001.tar.png``, so ``fg_v2.f1.png`` is frame 1 of ``fg_v2.f@.png``, where
    fileseq reads frame 2 of ``fg_v``; but where fileseq's split makes fewer
    sequences of names that share a name and extension, fileseq's split for all of
    them: ``shot.1001.beauty2.exr``, ``shot.1002.beauty2.exr`` are frames of
    ``shot.####.beauty2.exr``), a ``-``
    after a letter or digit separates the name from the number (``fg-0001.png`` is
    frame 1 of ``fg-####.png``), and the names
    of one name and extension go to the padding that takes the most of them, the
    rest to the next (``fg.-0002.png``..``fg.0001.png`` are one ``####`` sequence,
    ``fg.001.png``, ``fg.0002.png`` two). Every group's pattern lists exactly its
    names; it may not :meth:`~SequencePattern.reads_back`.

    Args:
        directory: the folder the names are in (joined to each pattern's path).
        names: file names (no folders); names without a number are in no group.

    Returns:
        The groups, by pattern name.
    """
    from fileseq.constants import DISK_RE

    splits = {n: (_split_numbered(n), _split_numbered(n, DISK_RE)) for n in names}
    fileseqs = _fileseq_reads(splits)
    by_name: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name, (split, disk) in splits.items():
        if disk is not None and (split is None or name in fileseqs):
            split = disk
        if split is not None:
            prefix, text, suffix = split
            by_name.setdefault((prefix, suffix), []).append((text, name))
    groups: list[NumberedNames] = []
    for (prefix, suffix), items in by_name.items():
        while items:
            padding = _widest_take([text for text, _ in items])
            taken = sorted(
                (int(text), name) for text, name in items if takes_frame(text, padding)
            )
            items = [(t, n) for t, n in items if not takes_frame(t, padding)]
            groups.append(
                NumberedNames(
                    pattern=SequencePattern.of(directory, prefix, suffix, padding),
                    names=tuple(name for _, name in taken),
                    numbers=tuple(number for number, _ in taken),
                )
            )
    return tuple(sorted(groups, key=lambda g: (g.pattern.name, g.numbers)))


def _is_image_name(name: str) -> bool:
    """Whether a file name ends in an image extension (``fg.1001.tar.png`` does)."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _spelled(group: NumberedNames) -> str:
    return f"{group.pattern.name} ({format_frame_ranges(group.numbers)})"


def _from_folder(folder: str) -> FrameSequence:
    try:
        # Listed through the sandbox (when one is active), like every read.
        names = [
            n
            for n in sandbox.listdir(folder)
            if not n.startswith(".") and not os.path.isdir(os.path.join(folder, n))
        ]
    except OSError as exc:
        raise SourceError(f"cannot list the folder: {exc}", path=folder) from exc
    sequences = [g for g in group_numbered(folder, names) if _is_image_name(g.names[0])]
    if not sequences:
        raise SourceError(
            "the folder holds no numbered image sequence "
            f"(looked for {', '.join(sorted(IMAGE_EXTENSIONS))} files named like "
            "name.1001.ext)",
            path=folder,
        )
    if len(sequences) > 1:
        listing = "; ".join(_spelled(g) for g in sequences)
        raise SourceError(
            f"the folder holds {len(sequences)} image sequences, give one as a "
            f"pattern instead: {listing}",
            path=folder,
        )
    (group,) = sequences
    if not group.pattern.reads_back():
        raise SourceError(unnamed_sequence(group), path=folder)
    return _from_pattern(SequencePattern.parse(group.pattern.path))


def unnamed_sequence(group: NumberedNames) -> str:
    """What to say of numbered names no pattern can name (see
    :meth:`SequencePattern.reads_back`)."""
    more = len(group.names) - 1
    names = f"{group.names[0]!r}" + (f" and {more} more" if more else "")
    return (
        f"no frame pattern can name the numbered files {names}: the pattern "
        f"{group.pattern.name!r} would read other names"
    )


def one_image(path: str) -> FrameSequence:
    """One image file as a one-frame sequence, numbered by the digits after the last
    ``.`` of its name (``fg.1001.png`` is frame 1001), else 0.

    Args:
        path: the file (not looked at).

    Returns:
        The sequence of that one file.
    """
    stem, ext = os.path.splitext(path)
    digits = os.path.basename(stem).rsplit(".", 1)[-1]
    return FrameSequence(
        pattern=path,
        prefix=stem,
        suffix=ext.lower(),
        padding=len(digits) if digits.isdigit() else 0,
        frame_files=(path,),
        frame_numbers=(int(digits) if digits.isdigit() else 0,),
    )


def _from_named_file(path: str) -> FrameSequence:
    """An existing file whose name holds a frame field (``logo@2x.png``,
    ``take#3.png``): that one image, unless the name is also a pattern whose frames
    exist, which is refused as naming both."""
    try:
        pattern = SequencePattern.parse(path)
    except SourceError:
        return one_image(path)  # no frame field fileseq reads: the name is the file's
    found = _list_frames(pattern)
    if not found:
        return one_image(path)
    # Another spelling of the pattern, which names no file, reads the frames.
    base = os.path.basename(path)
    head, width, tail = pattern.prefix, pattern.padding, pattern.suffix
    other = next(
        name
        for name in (pattern.name, f"{head}%0{width}d{tail}", f"{head}$F{width}{tail}")
        if name != base
    )
    raise SourceError(
        f"names an image file and also frames {format_frame_ranges(list(found))} of "
        f"{pattern.name}: rename the file, or write the pattern {other} to read the "
        "frames",
        path=path,
    )


def find_sequence(path: str | os.PathLike[str]) -> FrameSequence:
    """Resolve a sequence pattern or a folder to its contiguous frames on disk.

    A name holding a frame field that is one existing file (``logo@2x.png``,
    ``take#3.png``) is that image, a one-frame sequence (:func:`one_image`): the
    file is there as named. When the name is also a pattern of existing frames it
    is refused, as naming both.

    Args:
        path: a pattern (``fg.####.png``, ``fg.%04d.png``, ``fg.1001-1120#.png``,
            ``fg.@@@@.png``) or a folder holding exactly one image sequence.

    Returns:
        The frames in ascending order.

    Raises:
        SourceError: the folder does not exist, nothing matches, the folder holds
            several sequences (all are listed), frame numbers are missing (the
            missing numbers are listed), a range is not one ascending run (a list
            or step: the skipped numbers are listed), or an existing file is named
            like a pattern of existing frames.
    """
    text = os.fspath(path)
    if os.path.isdir(text):
        return _from_folder(text)
    if not is_sequence_pattern(text):
        raise SourceError(
            f"not a sequence pattern or folder; allowed: {_PATTERN_HELP}", path=text
        )
    if os.path.isfile(text):
        return _from_named_file(text)
    try:
        pattern = SequencePattern.parse(text)
    except SourceError as exc:
        raise SourceError(f"no such file, and {exc.message}", path=text) from exc
    return _from_pattern(pattern)


class FoundSequences:
    """The sequences one build has listed: each source listed once per build.

    A build makes one, hands it to its spec check, its probes and its conversions,
    and drops it when it ends: a later build, or another service job, lists again
    (frames may have changed, and a job lists under its own sandbox, from its own
    thread, which is why this is not a process-wide cache keyed by path). A source
    is known by its absolute, normalised path (``os.path.normpath``, as
    :func:`aebridge.spec.resolve_paths` spells the paths a build reads), and that is
    the path listed. A listing that fails is not kept. Frames that vanish after the
    listing are found when they are opened: the probe opens every frame's header
    and the reader every frame, each naming the file and frame.
    """

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[str, FrameSequence] = {}

    def find(self, path: str | os.PathLike[str]) -> FrameSequence:
        """The sequence at ``path``, listed by :func:`find_sequence` the first time.

        Args:
            path: a pattern or a folder, as :func:`find_sequence` takes it.

        Returns:
            The frames in ascending order, as listed the first time this build asked.

        Raises:
            SourceError: as :func:`find_sequence`.
        """
        key = os.path.normpath(os.path.abspath(os.fspath(path)))
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = find_sequence(key)
        return found
