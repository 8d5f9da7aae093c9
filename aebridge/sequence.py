"""Frame-sequence naming and discovery: patterns and folders to ordered frame files.

A sequence is written as a pattern whose frame-number field is one of

- ``name.####.ext`` (one ``#`` per digit; a single ``#`` means four digits, as in
  fileseq and Nuke's range notation),
- ``name.@@@@.ext`` (one ``@`` per digit),
- ``name.%04d.ext`` (printf),
- ``name.1001-1120#.ext`` (an explicit frame range before the padding field),

or is a folder holding exactly one image sequence. Numbers must be padded to the
pattern's width (a wider number is accepted only without leading zeros, e.g. frame
10000 of ``####``), and the frames found must be contiguous: a converted sequence has
no holes, so a gap is an error naming the missing numbers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from fileseq.constants import PAD_STYLE_HASH1
from fileseq.exceptions import FileSeqException, ParseException
from fileseq.filesequence import FileSequence

from . import sandbox
from .errors import SourceError

__all__ = [
    "IMAGE_EXTENSIONS",
    "FrameSequence",
    "find_sequence",
    "format_frame_ranges",
    "is_sequence_pattern",
]

#: File name extensions (lower case) read as image frames.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".exr"}
)

# The frame-number field of a pattern: an optional range, then the padding.
_PAD_FIELD_RE = re.compile(r"(#+|@+|%0?\d*d|\$F\d*)")

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
    """Whether the file name in ``path`` has a frame field (``#``, ``@``, ``%d``).

    Args:
        path: a path as the user typed it.

    Returns:
        True when the base name holds a padding field.
    """
    return _PAD_FIELD_RE.search(os.path.basename(path)) is not None


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


def _padding_width(pad: str) -> int:
    """Digits meant by a fileseq padding field."""
    if pad == "#":
        # fileseq's and Nuke's convention for a lone '#' after a range: four digits.
        return 4
    if set(pad) <= {"#", "@"}:
        return len(pad)
    return int(FileSequence.getPaddingNum(pad, pad_style=PAD_STYLE_HASH1))


def _pad_field(padding: int) -> str:
    """The ``#`` spelling of a padding width; one digit is ``@`` (a lone ``#`` is 4)."""
    return "@" if padding == 1 else "#" * padding


def _number_re(padding: int) -> str:
    # Exactly `padding` digits, or more digits without a leading zero (frame 10000 of
    # a four-digit pattern). A negative frame counts its sign in the padding width as
    # printf, fileseq and Nuke write it ('%04d' % -2 == '-002'); the sign outside the
    # padding ('-0002') is accepted too.
    neg = max(padding - 1, 1)
    return rf"(-\d{{{neg},}}|-?(?:\d{{{padding}}}|[1-9]\d{{{padding},}}))"


def _list_frames(
    directory: str, prefix: str, suffix: str, padding: int, shown: str
) -> dict[int, str]:
    try:
        names = sandbox.listdir(directory or ".")
    except FileNotFoundError:
        raise SourceError(
            f"the folder {directory!r} does not exist", path=shown
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot list the folder: {exc}", path=shown) from exc
    regex = re.compile(
        "^" + re.escape(prefix) + _number_re(padding) + re.escape(suffix) + "$"
    )
    found: dict[int, str] = {}
    for name in names:
        m = regex.match(name)
        if m is None:
            continue
        number = int(m.group(1))
        if number in found:
            raise SourceError(
                f"frame {number} exists twice ({found[number]!r} and {name!r})",
                path=shown,
                frame=number,
            )
        found[number] = name
    return found


def _from_pattern(path: str) -> FrameSequence:
    directory, base = os.path.split(path)
    try:
        parsed = FileSequence(base, pad_style=PAD_STYLE_HASH1)
    except ParseException as exc:
        raise SourceError(
            f"cannot read the frame pattern ({exc}); allowed: {_PATTERN_HELP}",
            path=path,
        ) from exc
    pad = parsed.padding()
    if not pad:
        raise SourceError(
            f"no frame-number field in the name; allowed: {_PATTERN_HELP}", path=path
        )
    padding = _padding_width(pad)
    prefix, suffix = parsed.basename(), parsed.extension()
    wanted = parsed.frameSet()
    found = _list_frames(directory, prefix, suffix, padding, path)
    if wanted is not None:
        numbers = [int(n) for n in wanted]
        missing = [n for n in numbers if n not in found]
        if missing and len(missing) == len(numbers):
            raise SourceError(f"no frame of the range {wanted} exists", path=path)
        if missing:
            raise SourceError(
                f"missing frame(s) {format_frame_ranges(missing)} in the range "
                f"{wanted}; the sequence must be contiguous",
                path=path,
                frame=missing[0],
            )
        if numbers != sorted(numbers):
            raise SourceError(f"the frame range {wanted} is not ascending", path=path)
    else:
        if not found:
            raise SourceError(
                f"no file matches the pattern (looked for {prefix}"
                f"{_pad_field(padding)}{suffix} in {directory or '.'!r})",
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
        pattern=os.path.join(directory, f"{prefix}{_pad_field(padding)}{suffix}"),
        prefix=os.path.join(directory, prefix),
        suffix=suffix,
        padding=padding,
        frame_files=tuple(os.path.join(directory, found[n]) for n in numbers),
        frame_numbers=tuple(numbers),
    )


def _from_folder(folder: str) -> FrameSequence:
    try:
        # Listed through the sandbox (when one is active), like every read: fileseq
        # groups the names only.
        names = [n for n in sandbox.listdir(folder) if not n.startswith(".")]
        candidates = FileSequence.findSequencesInList(
            os.path.join(folder, n)
            for n in names
            if not os.path.isdir(os.path.join(folder, n))
        )
    except (OSError, FileSeqException) as exc:
        raise SourceError(f"cannot list the folder: {exc}", path=folder) from exc
    sequences = [
        s
        for s in candidates
        if s.frameSet() is not None
        and s.extension().lower() in IMAGE_EXTENSIONS
        and not s.basename().startswith(".")
    ]
    if not sequences:
        raise SourceError(
            "the folder holds no numbered image sequence "
            f"(looked for {', '.join(sorted(IMAGE_EXTENSIONS))} files named like "
            "name.1001.ext)",
            path=folder,
        )
    if len(sequences) > 1:
        listing = "; ".join(sorted(str(s) for s in sequences))
        raise SourceError(
            f"the folder holds {len(sequences)} image sequences, give one as a "
            f"pattern instead: {listing}",
            path=folder,
        )
    seq = sequences[0]
    padding = max(seq.zfill(), 1)
    name = f"{seq.basename()}{_pad_field(padding)}{seq.extension()}"
    pattern = os.path.join(folder, name)
    return _from_pattern(pattern)


def find_sequence(path: str | os.PathLike[str]) -> FrameSequence:
    """Resolve a sequence pattern or a folder to its contiguous frames on disk.

    Args:
        path: a pattern (``fg.####.png``, ``fg.%04d.png``, ``fg.1001-1120#.png``,
            ``fg.@@@@.png``) or a folder holding exactly one image sequence.

    Returns:
        The frames in ascending order.

    Raises:
        SourceError: the folder does not exist, nothing matches, the folder holds
            several sequences (all are listed), or frame numbers are missing (the
            missing numbers are listed).
    """
    text = os.fspath(path)
    if os.path.isdir(text):
        return _from_folder(text)
    if not is_sequence_pattern(text):
        raise SourceError(
            f"not a sequence pattern or folder; allowed: {_PATTERN_HELP}", path=text
        )
    return _from_pattern(text)
