"""Reading only beneath trusted folders, safe against links swapped in while reading.

A :class:`Sandbox` names the folders (its *roots*) that reads may reach. Every path is
walked one component at a time from an open descriptor of its root, each folder opened
relative to the one before without following links (``O_NOFOLLOW``); a symbolic link
met on the way is read and its target walked the same way, allowed only while it stays
beneath a root, and ``..`` steps back along the walk itself and may not leave the root.
The file is then used through the descriptor the walk opened, so a folder or link
swapped between the check and the read cannot redirect it: there is no check separate
from the read to race.

The library reads through three small hooks that do nothing special without an active
sandbox, so the command line behaves exactly as before:

- :func:`readable` gives a path for libraries that open files by name (OpenImageIO,
  PyAV, OpenEXR): ``/proc/self/fd/N`` of the walked descriptor under a sandbox;
- :func:`open_binary` opens a file for hashing;
- :func:`listdir` lists a folder.

A sandbox is activated for the current thread's context with :func:`active`; it is a
small picklable value, so work sent to other processes (``convert``'s chunks) carries
it and activates it there. The service activates one for every job it builds; the
``path_not_allowed`` code of :class:`PathOutsideRootsError` is what a job fails with
when a read leaves the roots.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import BinaryIO

from .errors import SourceError

__all__ = [
    "FD_DIR",
    "FOLDER_FLAGS",
    "PathOutsideRootsError",
    "Sandbox",
    "active",
    "current",
    "listdir",
    "open_binary",
    "readable",
    "sandbox_for",
]

#: Links followed in one walk before giving up (Linux's own limit).
MAX_LINKS = 40

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
#: How a folder is opened to be used through its descriptor (add ``os.O_NOFOLLOW``
#: to refuse a link in its place).
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC
_DIR_FLAGS = FOLDER_FLAGS | os.O_NOFOLLOW
# O_NONBLOCK: a FIFO planted in a root must not hang the reader (regular files ignore
# it); O_NOCTTY: a terminal device never becomes the controlling terminal.
_FILE_FLAGS = (
    os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | _CLOEXEC
)
# A check opens the last component without reading it: O_PATH where there is one.
_PROBE_FLAGS = (
    os.O_PATH | os.O_NOFOLLOW | _CLOEXEC if hasattr(os, "O_PATH") else _FILE_FLAGS
)
#: Where a process sees its own descriptors as paths (magic links to the open file or
#: folder: ``FD_DIR/N/name`` is ``name`` in the folder descriptor N holds).
FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"


class PathOutsideRootsError(SourceError):
    """A path leads (through ``..`` or a symbolic link) outside the sandbox's roots."""

    code = "path_not_allowed"


def _parts(path: str) -> list[str]:
    """Path components without empty and ``.`` ones (``..`` is kept: the walk handles
    it, because resolving it by text would be wrong after a link)."""
    return [part for part in path.split("/") if part not in ("", ".")]


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Folders that reads may reach; everything else is refused.

    Args:
        roots: absolute folders (resolved: no symbolic links in them). The service
            passes its input roots and the job's own output folder.

    Raises:
        ValueError: a root is not absolute.
    """

    roots: tuple[str, ...]

    def __post_init__(self) -> None:
        for root in self.roots:
            if not os.path.isabs(root):
                raise ValueError(f"sandbox roots must be absolute, not {root!r}")

    # -- public -------------------------------------------------------------------

    def open(self, path: str | os.PathLike[str], *, directory: bool = False) -> int:
        """Open a regular file (or a folder) beneath a root for reading.

        Args:
            path: an absolute path (a relative one starts at the current folder).
            directory: open a folder instead of a file.

        Returns:
            A file descriptor; the caller closes it.

        Raises:
            PathOutsideRootsError: the path, or a link on its way, leads outside the
                roots, or it climbs out of one with ``..``.
            SourceError: it does not exist, is not a regular file (a folder when
                ``directory``), or cannot be opened.
        """
        text = os.fspath(path)
        try:
            fd = self._walk(text, directory=directory)
        except PathOutsideRootsError:
            raise
        except OSError as exc:
            raise SourceError(
                f"cannot open: {exc.strerror or exc}", path=self.show(text)
            ) from exc
        kind = os.fstat(fd).st_mode
        wanted = stat.S_ISDIR(kind) if directory else stat.S_ISREG(kind)
        if not wanted:
            os.close(fd)
            what = "a folder" if directory else "a regular file"
            raise SourceError(f"is not {what}", path=self.show(text))
        return fd

    def check(self, path: str | os.PathLike[str]) -> str:
        """Walk a path as a read would and say where it really is.

        Args:
            path: a file or folder path.

        Returns:
            The real path (links resolved) of an existing file or folder.

        Raises:
            PathOutsideRootsError: the path leads outside the roots.
            SourceError: it does not exist or cannot be reached.
        """
        text = os.fspath(path)
        try:
            fd = self._walk(text, directory=None)
        except PathOutsideRootsError:
            raise
        except OSError as exc:
            raise SourceError(
                f"cannot open: {exc.strerror or exc}", path=self.show(text)
            ) from exc
        try:
            return os.readlink(f"{FD_DIR}/{fd}")
        finally:
            os.close(fd)

    def listdir(self, path: str | os.PathLike[str]) -> list[str]:
        """The names in a folder beneath a root (as :func:`os.listdir`)."""
        fd = self.open(path, directory=True)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def root_of(self, path: str) -> str | None:
        """The root a path lies in by its text, if any (the longest one)."""
        parts = _parts(path)
        best: str | None = None
        for root in self.roots:
            rparts = _parts(root)
            if parts[: len(rparts)] == rparts and (
                best is None or len(rparts) > len(_parts(best))
            ):
                best = root
        return best

    def show(self, path: str) -> str:
        """A path for messages: relative to its root, never the server's layout."""
        root = self.root_of(path) if os.path.isabs(path) else None
        if root is None:
            return os.path.basename(path) if os.path.isabs(path) else path
        rest = _parts(path)[len(_parts(root)) :]
        return "/".join(rest) or "."

    # -- the walk -----------------------------------------------------------------

    def _outside(self, path: str, why: str) -> PathOutsideRootsError:
        message = f"{why}; reads are allowed only inside the input roots"
        return PathOutsideRootsError(message, path=self.show(path))

    def _walk(self, path: str, *, directory: bool | None) -> int:
        """Open ``path`` through descriptors only (``directory`` None: either kind)."""
        if not os.path.isabs(path):
            path = os.path.join(os.getcwd(), path)
        root = self.root_of(path)
        if root is None:
            raise self._outside(path, "is outside the input roots")
        todo = _parts(path)[len(_parts(root)) :]
        stack = [os.open(root, _DIR_FLAGS)]
        links = 0
        via: str | None = None  # the last link followed, for the message
        try:
            while todo:
                name = todo.pop(0)
                if name == "..":
                    if len(stack) == 1:
                        why = (
                            "climbs out of its root with '..'"
                            if via is None
                            else f"leads through the link {via!r} outside"
                        )
                        raise self._outside(path, why)
                    os.close(stack.pop())
                    continue
                last = not todo
                if last and directory is None:
                    flags = _PROBE_FLAGS
                elif last and not directory:
                    flags = _FILE_FLAGS
                else:
                    flags = _DIR_FLAGS
                try:
                    fd = os.open(name, flags, dir_fd=stack[-1])
                except OSError as exc:
                    if exc.errno not in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):
                        raise
                    target = self._link_target(name, stack[-1])
                    if target is None:
                        raise
                    fd = -1
                else:
                    target = None
                    if flags & getattr(os, "O_PATH", 0) and stat.S_ISLNK(
                        os.fstat(fd).st_mode
                    ):
                        os.close(fd)
                        target = self._link_target(name, stack[-1])
                        if target is None:  # replaced meanwhile: look again
                            todo.insert(0, name)
                            continue
                if target is not None:
                    via = name
                    links += 1
                    if links > MAX_LINKS:
                        raise OSError(errno.ELOOP, "too many levels of symbolic links")
                    if os.path.isabs(target):
                        new_root = self.root_of(target)
                        if new_root is None:
                            raise self._outside(
                                path, f"leads through the link {name!r} outside"
                            )
                        for held in stack:
                            os.close(held)
                        stack = [os.open(new_root, _DIR_FLAGS)]
                        todo = _parts(target)[len(_parts(new_root)) :] + todo
                    else:
                        todo = _parts(target) + todo
                    continue
                stack.append(fd)
            result = stack.pop()
        finally:
            for held in stack:
                os.close(held)
        return result

    @staticmethod
    def _link_target(name: str, dir_fd: int) -> str | None:
        try:
            return os.readlink(name, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # not a link (any more)
                return None
            raise


_ACTIVE: ContextVar[Sandbox | None] = ContextVar("aebridge_sandbox", default=None)


def current() -> Sandbox | None:
    """The sandbox active in this context, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def active(sandbox: Sandbox | None) -> Iterator[Sandbox | None]:
    """Make ``sandbox`` the one reads go through while the block runs.

    ``None`` leaves the current one in place (work that carries "no sandbox" does not
    lift one its caller set).
    """
    if sandbox is None:
        yield current()
        return
    token = _ACTIVE.set(sandbox)
    try:
        yield sandbox
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def readable(path: str | os.PathLike[str]) -> Iterator[str]:
    """A path a library may open by name, checked at the moment it is opened.

    Without an active sandbox this is ``path`` itself. Under one it is
    ``/proc/self/fd/N`` of the descriptor the walk opened: the library's ``open`` of
    that name reaches exactly that file whatever happens to the folders meanwhile.
    The library must open it inside the block (it keeps its own descriptor after).

    Raises:
        PathOutsideRootsError: under a sandbox, the path leads outside its roots.
        SourceError: under a sandbox, it is missing or not a regular file.
    """
    sandbox = current()
    if sandbox is None:
        yield os.fspath(path)
        return
    fd = sandbox.open(path)
    try:
        yield f"{FD_DIR}/{fd}"
    finally:
        os.close(fd)


def open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a file for reading bytes (through the active sandbox, if any)."""
    sandbox = current()
    if sandbox is None:
        return open(path, "rb")
    return os.fdopen(sandbox.open(path), "rb")


def listdir(path: str | os.PathLike[str]) -> list[str]:
    """The names in a folder (through the active sandbox, if any)."""
    sandbox = current()
    if sandbox is None:
        return os.listdir(path)
    return sandbox.listdir(path)


def sandbox_for(roots: Sequence[str | os.PathLike[str]]) -> Sandbox:
    """A sandbox over folders given in any form (made absolute, links resolved)."""
    return Sandbox(tuple(os.path.realpath(os.fspath(root)) for root in roots))
