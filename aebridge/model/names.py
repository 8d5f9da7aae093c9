"""What may name a folder or file aebridge writes: the id grammar, once.

A layer id names ``layers/<id>/<id>.1001.exr``, a comp id the output folder, and
``convert --name`` the same folder and files; the folder is copied to the machine
that runs After Effects, often Windows. So an id is 1 to 128 letters, digits, ``_``,
``-`` and ``.``, starting with a letter or digit and not ending in ``.``, and is not
a name Windows keeps for a device: ``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM1`` to
``COM9`` and ``LPT1`` to ``LPT9``, in any case, alone or before a ``.``.
:data:`ID_PATTERN` is the one spelling of that rule (the spec's ``ID`` rule, the JSON
Schema's pattern and ``convert --name`` use it), :func:`avoid_device_name` how a
name aebridge makes itself steps around a device, and :func:`joined_id` how it keeps
one it joins from parts (a keyframe guide's ``kf_<layer>_<n>``) within the length.

The rules are Microsoft's: "Naming Files, Paths, and Namespaces", Naming Conventions
(learn.microsoft.com/windows/win32/fileio/naming-a-file, as revised in April 2025):

- "Do not use the following reserved names for the name of a file: CON, PRN, AUX,
  NUL, COM1, [...] COM9, COM¹, COM², COM³, LPT1, [...] LPT9, LPT¹, LPT², and LPT³.
  Also avoid these names followed immediately by an extension; for example, NUL.txt
  and NUL.tar.gz are both equivalent to NUL": so ``nul.1001.exr`` is refused too. The
  superscript digits need no rule, as an id is ASCII. ``COM0`` and ``LPT0`` are ids:
  the page listed them from 2022 until that revision, which took them out as listed
  in error (MicrosoftDocs/win32 pull request 2008), and Windows opens them as files.
- "Do not end a file or directory name with a space or a period. Although the
  underlying file system may support such names, the Windows shell and user
  interface does not": a layer ``fg.`` would write a folder Windows shows as ``fg``,
  a layer ``fg``'s. An id holds no space.
- "Do not assume case sensitivity. For example, consider the names OSCAR, Oscar, and
  oscar to be the same": ``FG`` and ``fg`` are one folder on Windows (and macOS), so
  ids that name folders side by side (a spec's layers) must differ in more than
  case; :func:`folder_key` is what two such ids are compared by.

Light on purpose (no spec classes): a conversion checks its ``--name`` with it.
"""

from __future__ import annotations

import hashlib
import re

from ..formats import any_case

__all__ = [
    "ID_ALLOWED",
    "ID_PATTERN",
    "MAX_ID_LENGTH",
    "avoid_device_name",
    "folder_key",
    "is_device_name",
    "is_id",
    "joined_id",
    "text_digest",
]

_DEVICE_WORDS = ("CON", "PRN", "AUX", "NUL")
# COM and LPT are devices followed by a digit 1 to 9 (or a superscript 1 to 3, which
# no id holds); COM0 and LPT0 are not (see the module's docstring).
_DEVICE_PORTS = ("COM", "LPT")


# A name Windows reads as a device: the device, then the end or a '.'.
_DEVICE = (
    "(?:"
    + "|".join(
        [any_case(w) for w in _DEVICE_WORDS]
        + [any_case(p) + "[1-9]" for p in _DEVICE_PORTS]
    )
    + r")(?:\.|$)"
)

#: The most characters an id may have.
MAX_ID_LENGTH = 128

#: The id grammar as a regex (Python and ECMA-262 alike), matched in full.
ID_PATTERN = (
    rf"^(?!{_DEVICE})[A-Za-z0-9]"
    rf"(?:[A-Za-z0-9_.-]{{0,{MAX_ID_LENGTH - 2}}}[A-Za-z0-9_-])?$"
)

#: :data:`ID_PATTERN` in words, as messages refusing an id say what is allowed.
ID_ALLOWED = (
    f"1 to {MAX_ID_LENGTH} letters, digits, '_', '-', '.', starting with a letter or "
    "digit, not ending in '.', and not a name Windows keeps for a device (CON, PRN, "
    "AUX, NUL, COM1 to COM9, LPT1 to LPT9, in any case, alone or before a '.')"
)


def is_device_name(name: str) -> bool:
    """Whether Windows reads ``name`` as a device (``con``, ``Nul.exr``,
    ``lpt3.1001.exr``), so that no file or folder there can have it.

    Args:
        name: a file or folder name.

    Returns:
        True when the name is a device name, alone or before a ``.``.
    """
    return re.match(_DEVICE, name) is not None


def is_id(name: object) -> bool:
    """Whether ``name`` may be an id: it matches :data:`ID_PATTERN`.

    Args:
        name: any value.

    Returns:
        True for a string the id grammar allows.
    """
    return isinstance(name, str) and re.fullmatch(ID_PATTERN, name) is not None


def avoid_device_name(name: str) -> str:
    """``name`` with a ``_`` after a Windows device name it starts with (``nul`` ->
    ``nul_``, ``con.v2`` -> ``con_.v2``), else unchanged: for names aebridge makes
    itself from text (a comp's folder, a layer id from a file name).

    Args:
        name: a name of id characters.

    Returns:
        The name, one character longer when it was a device name.
    """
    if not is_device_name(name):
        return name
    device, dot, rest = name.partition(".")
    return f"{device}_{dot}{rest}"


def text_digest(text: str) -> str:
    """8 hex digits of ``text``'s SHA-256 (of its UTF-8): what stands for text an id
    cannot hold, or hold whole, so two texts get two ids and a text always the same.

    Args:
        text: any text.

    Returns:
        8 characters from ``0-9 a-f``.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def joined_id(head: str, tail: str) -> str:
    """The id ``head + tail``, or, when that is longer than :data:`MAX_ID_LENGTH`,
    ``head`` cut short, ``_``, its :func:`text_digest` and ``tail``
    (``kf_<a layer id of 128 characters>_1`` -> ``kf_<its first 113>_1a2b3c4d_1``):
    always an id, the same for the same parts, and two heads that differ anywhere
    give two ids.

    Args:
        head: an id's start (a letter or digit first, id characters).
        tail: id characters ending in a letter, digit, ``_`` or ``-`` (``_1``), at
            most :data:`MAX_ID_LENGTH` - 10 of them.

    Returns:
        The id.
    """
    whole = head + tail
    if len(whole) <= MAX_ID_LENGTH:
        return whole
    tail = f"_{text_digest(head)}{tail}"
    return head[: MAX_ID_LENGTH - len(tail)] + tail


def folder_key(name: str) -> str:
    """What a case-blind file system (Windows', macOS's) knows ``name`` by: two
    names with the same key are one folder there (``FG``, ``fg``, ``Fg``).

    Args:
        name: an id (ASCII, so lower-casing is the whole folding).

    Returns:
        The name in lower case.
    """
    return name.lower()
