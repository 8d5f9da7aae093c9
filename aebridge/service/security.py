"""Who may call the service, where it may listen, and which files a job may touch.

A job reads only under the configured input roots and writes only under its own folder
in the output root. :class:`InputRoots` is the one place that decides it:

- a folder a request names (a job's ``base_dir``, init's ``folder``) is checked by
  :meth:`InputRoots.folder`;
- at submission, :meth:`InputRoots.resolve` refuses a spec path that contains ``..``,
  is absolute outside every root, or reaches (itself, through a folder, or through any
  frame file a pattern or folder source lists) a link leading outside: the frames are
  listed with :mod:`aebridge.sequence`, the grammar the build uses, and each listed
  file is walked as a read would walk it;
- while a job runs, :meth:`InputRoots.reading` activates a
  :class:`~aebridge.sandbox.Sandbox` over the roots (plus the job's output folder), so
  every read of the build, in this process or its worker processes, is checked at the
  moment it happens: a folder swapped for a link after the submission is refused then;
- :meth:`InputRoots.show` turns server paths in messages into paths relative to their
  root, so answers never reveal the server's layout.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from .. import sandbox
from ..errors import OptionError, Problem, SourceError, SpecError
from ..model.rules import quote
from ..sandbox import PathOutsideRootsError, Sandbox
from ..sequence import find_sequence, is_sequence_pattern

__all__ = [
    "FOLDER_ALLOWED",
    "LOOPBACK_NAMES",
    "RELATIVE_PATHS_START",
    "SPEC_PATHS_ALLOWED",
    "InputRoots",
    "PathNotAllowedError",
    "allowed_host_names",
    "check_bind",
    "check_origin",
    "host_name",
    "is_loopback",
    "resolve_input",
    "token_matches",
]


class PathNotAllowedError(SpecError):
    """A spec names a file outside the input roots (or tries to climb out of them)."""

    code = "path_not_allowed"


#: What a refused spec path is told is allowed; a relative one is also told where
#: relative paths start (an absolute one has nothing to do with base_dir).
SPEC_PATHS_ALLOWED = "paths inside the input roots"
RELATIVE_PATHS_START = "relative paths start at base_dir"
#: What a refused request folder (base_dir, init's folder) is told is allowed.
FOLDER_ALLOWED = (
    "a folder inside an input root, relative to the first input root or absolute "
    "as this server sees it"
)


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


#: Host names that always mean this machine (a browser page cannot rebind them).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(header: str) -> str | None:
    """The host part of a ``Host`` header, lower case, without port or brackets.

    Returns:
        ``None`` when the header is not a host name or address (``a b``, ``[::1``).
    """
    text = header.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not text[end + 1 :].startswith(":")):
            return None
        name = text[1:end]
    else:
        name = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    name = name.rstrip(".")
    if not name or not re.fullmatch(r"[a-z0-9._:-]+", name):
        return None
    return name


def allowed_host_names(bind: str, extra: Sequence[str]) -> frozenset[str]:
    """The ``Host`` names a server bound to ``bind`` answers to.

    The loopback names, the bound address itself unless it is a wildcard
    (``0.0.0.0``, ``::``), and the names the operator added (``--allowed-host``).
    Any other name is refused: a page whose own name was rebound to this machine's
    address (DNS rebinding) sends its own name, never these.
    """
    names = set(LOOPBACK_NAMES)
    bound = host_name(bind)
    if bound and bound not in ("0.0.0.0", "::"):
        names.add(bound)
    names.update(n for n in (host_name(e) for e in extra) if n)
    return frozenset(names)


def check_origin(origin: str) -> str:
    """Check a ``--cors-origin`` value: ``scheme://host[:port]``, nothing more.

    Raises:
        OptionError: another form (a path, a wildcard, ``null``).
    """
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin.rstrip("/")):
        raise OptionError(
            "--cors-origin", origin, "an origin like https://tool.example:8443"
        )
    return origin


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


class InputRoots:
    """The folders jobs may read: submission checks, the read-time sandbox, and how
    paths are shown.

    Args:
        roots: the input roots (absolute and resolved, as
            :meth:`~aebridge.service.config.ServiceConfig.resolved` makes them).
    """

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(Path(root) for root in roots)
        self.sandbox = Sandbox(tuple(str(root) for root in self.roots))

    def resolve(
        self,
        text: str,
        *,
        base_dir: Path,
        spec_path: str,
        allowed: str | None = None,
    ) -> Path:
        """Check a path from a request the way the build will read it.

        Args:
            text: the path as written (relative to ``base_dir``, or absolute).
            base_dir: where relative paths start (inside a root).
            spec_path: where the path sits in the request (``layers[0].source.path``).
            allowed: what a refusal says is allowed (default: a spec path's rule).

        Returns:
            The real path when it exists, else the path as it would be read.

        Raises:
            PathNotAllowedError: the path climbs with ``..``, is outside every root,
                or it (or a frame a pattern or folder lists) leads outside through a
                link. Existence is never looked at first: a refusal says nothing
                about what exists outside.
        """
        return resolve_input(
            text,
            base_dir=base_dir,
            roots=self.roots,
            spec_path=spec_path,
            allowed=allowed,
        )

    def folder(self, value: object, *, field: str) -> Path:
        """The folder a request names (a job's ``base_dir``, init's ``folder`` and
        ``base_dir``): inside an input root, relative to the first one or absolute.

        Args:
            value: the field's value as the request gave it.
            field: the field (``base_dir``), for the problem's path.

        Returns:
            The folder's real path.

        Raises:
            PathNotAllowedError: it climbs with ``..`` or leads outside the roots.
            SpecError: it is not text, or not a folder (a name too long for the
                file system included).
        """
        if not isinstance(value, str) or not value:
            raise SpecError(
                [Problem(path=field, message="must be a folder path (text)")]
            )
        path = self.resolve(
            value, base_dir=self.roots[0], spec_path=field, allowed=FOLDER_ALLOWED
        )
        if not os.path.isdir(path):  # False, not OSError, for a name too long
            raise SpecError(
                [
                    Problem(
                        path=field,
                        message=f"{quote(value)} is not a folder; allowed: "
                        + FOLDER_ALLOWED,
                    )
                ]
            )
        return path

    @contextlib.contextmanager
    def reading(self, *more: Path) -> Iterator[Sandbox]:
        """Check every read made in the block (and in work it sends to other
        processes) against the roots, plus ``more`` folders (a job's output).

        Yields:
            The active sandbox.
        """
        box = Sandbox(self.sandbox.roots + tuple(str(m) for m in more))
        with sandbox.active(box):
            yield box

    def show(self, text: str, *more: Path) -> str:
        """``text`` with every path under a root (or under ``more``, e.g. the job's
        output folder) written relative to it."""
        return relative_text(text, (*self.roots, *more))


def relative_text(text: str, folders: Sequence[Path]) -> str:
    """Rewrite absolute paths under ``folders`` in ``text`` relative to them.

    ``/srv/in/sh010/fg.####.png`` becomes ``sh010/fg.####.png`` and the folder itself
    becomes ``.``; the longest folder wins when they nest.
    """
    for folder in sorted({str(f) for f in folders}, key=len, reverse=True):
        if folder in ("", "/"):
            continue
        text = text.replace(folder + "/", "")
        text = re.sub(re.escape(folder) + r"(?![\w.-])", ".", text)
    return text


def resolve_input(
    text: str,
    *,
    base_dir: Path,
    roots: Sequence[Path],
    spec_path: str,
    allowed: str | None = None,
) -> Path:
    """Resolve a source path from a spec and check that it stays in the input roots.

    A sequence pattern (every form :mod:`aebridge.sequence` reads, ``$F4`` included)
    or a folder is listed as the build would list it, and every frame file found is
    checked; a file is walked from its root as a read would walk it.

    Args:
        text: the path as written in the spec (relative to ``base_dir`` or absolute).
        base_dir: the folder relative paths start from (itself inside a root).
        roots: the absolute, resolved input roots.
        spec_path: where the path sits in the spec (``layers[0].source.path``).
        allowed: what a refusal says is allowed (default :data:`SPEC_PATHS_ALLOWED`,
            and for a relative path where relative paths start).

    Returns:
        The real path when it exists (links inside the roots resolved), else the path.

    Raises:
        PathNotAllowedError: the path climbs with ``..``, or leads (directly or through
            a link, or through one of the frames it lists) outside every input root.
    """

    if allowed is None:
        relative = not os.path.isabs(text)
        allowed = SPEC_PATHS_ALLOWED + (
            f" ({RELATIVE_PATHS_START})" if relative else ""
        )

    def refuse(why: str) -> PathNotAllowedError:
        return PathNotAllowedError(
            [
                Problem(
                    path=spec_path, message=f"{quote(text)} {why}; allowed: {allowed}"
                )
            ]
        )

    parts = set(PurePosixPath(text).parts) | set(PureWindowsPath(text).parts)
    if ".." in parts:
        raise refuse("contains '..'")
    if "\x00" in text:
        raise refuse("contains a NUL character")
    candidate = str(Path(text) if os.path.isabs(text) else base_dir / text)
    box = Sandbox(tuple(str(root) for root in roots))
    if box.root_of(candidate) is None:
        raise refuse("is outside the input roots")
    with sandbox.active(box):
        try:
            if is_sequence_pattern(candidate) or os.path.isdir(candidate):
                files: Sequence[str] = find_sequence(candidate).frame_files
            else:
                files = (candidate,)
            for file in files:
                box.check(file)
            real = box.check(candidate) if os.path.lexists(candidate) else candidate
        except PathOutsideRootsError as exc:
            leak = exc
        except SourceError:
            # Missing or unreadable inside the roots: the spec check says what is
            # wrong with it (it may tell what exists there: that is allowed).
            return Path(candidate)
        else:
            return Path(real)
    raise refuse(f"reads {leak.path or text!r}, which leads outside the input roots")
