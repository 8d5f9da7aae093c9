"""Who may call the service, where it may listen, and which files a job may touch.

A job reads only under the configured input roots and writes only under its own folder
in the output root. A source path is refused when it contains ``..``, when it is
absolute outside every root, or when it (or its folder, or any frame file of a
sequence pattern) is a symlink that leads outside every root.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import OptionError, Problem, SpecError

__all__ = [
    "PathNotAllowedError",
    "check_bind",
    "is_loopback",
    "resolve_input",
    "token_matches",
]

# Frame-number placeholders of the sequence syntaxes aebridge accepts
# (``fg.####.png``, ``fg.%04d.png``, ``fg.1001-1120#.png``, ``fg.@@@@.png``).
_PATTERN_RE = re.compile(r"(%0?\d*d|[#@]+|\d+-\d+[#@]+)")


class PathNotAllowedError(SpecError):
    """A spec names a file outside the input roots (or tries to climb out of them)."""

    code = "path_not_allowed"


def is_loopback(host: str) -> bool:
    """True when ``host`` is a loopback address or ``localhost``.

    Args:
        host: a host name or IP address.

    Returns:
        Whether only this machine can reach a server bound there.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a bearer token.

    Args:
        host: the address to bind.
        token: the configured token, if any.

    Raises:
        OptionError: ``host`` is not loopback and no token is set.
    """
    if not is_loopback(host) and not token:
        raise OptionError(
            "--host",
            host,
            "127.0.0.1, ::1 or localhost; any other address needs a bearer token "
            "(--token or the AEBRIDGE_TOKEN environment variable)",
        )


def token_matches(header: str | None, token: str) -> bool:
    """Check an ``Authorization`` header against the token in constant time.

    Args:
        header: the request's ``Authorization`` header.
        token: the configured token.

    Returns:
        True when the header is ``Bearer <token>``.
    """
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _symlinked_frames(candidate: Path) -> Iterable[Path]:
    """Every symlink that a folder source or a sequence pattern would read."""
    if candidate.is_dir():
        folder, prefix = candidate, ""
    else:
        match = _PATTERN_RE.search(candidate.name)
        if match is None:
            return ()
        folder, prefix = candidate.parent, candidate.name[: match.start()]
    if not folder.is_dir():
        return ()
    return [
        folder / entry.name
        for entry in os.scandir(folder)
        if entry.name.startswith(prefix) and entry.is_symlink()
    ]


def resolve_input(
    text: str, *, base_dir: Path, roots: Sequence[Path], spec_path: str
) -> Path:
    """Resolve a source path from a spec and check that it stays in the input roots.

    Args:
        text: the path as written in the spec (relative to ``base_dir`` or absolute).
        base_dir: the folder relative paths start from (itself inside a root).
        roots: the absolute, resolved input roots.
        spec_path: where the path sits in the spec (``layers[0].source.path``).

    Returns:
        The absolute path, symlinks in its folders resolved.

    Raises:
        PathNotAllowedError: the path climbs with ``..``, or leads (directly or through
            a symlink) outside every input root.
    """
    allowed = "paths inside the input roots: " + ", ".join(str(r) for r in roots)

    def refuse(why: str) -> PathNotAllowedError:
        return PathNotAllowedError(
            [Problem(path=spec_path, message=f"{text!r} {why}; allowed: {allowed}")]
        )

    parts = set(PurePosixPath(text).parts) | set(PureWindowsPath(text).parts)
    if ".." in parts:
        raise refuse("contains '..'")
    if "\x00" in text:
        raise refuse("contains a NUL character")
    candidate = Path(text) if os.path.isabs(text) else base_dir / text
    real = Path(os.path.realpath(candidate))
    if not _under(real, roots):
        raise refuse("is outside the input roots")
    for link in _symlinked_frames(real):
        if not _under(Path(os.path.realpath(link)), roots):
            raise refuse(f"reads {link.name!r}, a symlink leading outside the roots")
    return real
