"""Which files aebridge reads, judged by their names: image and movie extensions.

An image sequence's frames, a still and a keyframe image are read with OpenImageIO
when their extension is one of :data:`IMAGE_EXTENSIONS`; a movie with PyAV when its
extension is one of :data:`MOVIE_EXTENSIONS`. Everything that sorts files by kind (the
probe, a folder's listing, ``init``'s scan, the spec check) and every message
refusing a file by its extension takes it from here. An image name holding a
:data:`FRAME_FIELD` (``####``, ``@``, ``%04d``, ``$F4``) is a sequence pattern
(:mod:`aebridge.sequence` reads it; a source that is one file of that very name is
that image), never a keyframe image.
"""

from __future__ import annotations

import os

__all__ = [
    "FRAME_FIELD",
    "IMAGE_EXTENSIONS",
    "IMAGE_FILE",
    "IMAGE_NAME_PATTERN",
    "MOVIE_EXTENSIONS",
    "READABLE",
    "any_case",
    "unread_extension",
    "unread_file",
]

#: File name extensions (lower case) read as image frames.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".exr"}
)

#: File name extensions (lower case) opened as movies with PyAV.
MOVIE_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mxf"}
)

#: A sequence pattern's frame field as a regex (Python and ECMA-262 alike): ``#``
#: or ``@`` runs, printf's ``%04d``, Houdini's ``$F4`` (:mod:`aebridge.sequence`).
#: Digits are spelled ``[0-9]``: Python's ``\d`` also takes other scripts' digits.
FRAME_FIELD = r"#+|@+|%0?[0-9]*d|\$F[0-9]*"

#: What one image (a keyframe image) may be, as messages refusing one say it.
IMAGE_FILE = (
    f"an image file ({', '.join(sorted(IMAGE_EXTENSIONS))}) whose name holds no "
    "frame field (#, @, %d, $F: that names an image sequence, not one image)"
)

#: What aebridge reads, as messages that refuse a file by its extension list it.
READABLE = (
    f"images ({', '.join(sorted(IMAGE_EXTENSIONS))}) and movies "
    f"({', '.join(sorted(MOVIE_EXTENSIONS))})"
)


def any_case(text: str) -> str:
    """A regex matching ``text`` in any case, its letters spelled as classes
    (``nul`` -> ``[Nn][Uu][Ll]``): ECMA-262, which reads the JSON Schema's patterns,
    has no case-insensitive flag inside a pattern.

    Args:
        text: letters, digits and ``.``.

    Returns:
        The regex (a ``.`` escaped).
    """
    return "".join(
        f"[{c.upper()}{c.lower()}]" if c.isalpha() else "\\." if c == "." else c
        for c in text
    )


#: A name ending in an image extension, in any case, with no frame field in its
#: file name (Python and ECMA-262 alike, matched in full): what one image may be
#: called. Any character is ``[\s\S]``, not ``.``, which stops at a line break in
#: Python and also at CR, U+2028 and U+2029 in ECMA-262.
IMAGE_NAME_PATTERN = (
    rf"^(?![\s\S]*(?:{FRAME_FIELD})[^/]*$)[\s\S]*(?:"
    + "|".join(any_case(e) for e in sorted(IMAGE_EXTENSIONS))
    + ")$"
)


def unread_extension(path: str | os.PathLike[str]) -> str | None:
    """Why aebridge cannot read ``path``, judged by its extension (a pattern's is the
    one after its frame field: ``x.####.tga``), or None when it is one it reads.

    Args:
        path: a file, pattern or folder name as given (not looked at on disk).

    Returns:
        ``"aebridge does not read .tga files; allowed: images (...) and movies
        (...)"``, or for a name without extension that it has none.
    """
    ext = os.path.splitext(os.path.basename(os.fspath(path)))[1]
    if any(c in ext for c in "#@%$"):
        ext = ""  # 'x.####': the frame field, no extension after it
    if ext.lower() in IMAGE_EXTENSIONS or ext.lower() in MOVIE_EXTENSIONS:
        return None
    what = f"aebridge does not read {ext} files" if ext else "the name has no extension"
    return f"{what}; allowed: {READABLE}"


def unread_file(path: str | os.PathLike[str]) -> str | None:
    """Why aebridge will not read ``path`` as one file (a source or matte that is
    neither a folder nor a sequence pattern): :func:`unread_extension`'s reason for a
    name with an extension it does not read, whether or not the file exists, or for a
    name without one that exists (one that does not is simply missing).

    Args:
        path: the file as it will be opened.

    Returns:
        The reason, or None when the file would be read (or is missing and has no
        extension to judge).
    """
    unread = unread_extension(path)
    if unread is None or not (os.path.splitext(path)[1] or os.path.lexists(path)):
        return None
    return unread
