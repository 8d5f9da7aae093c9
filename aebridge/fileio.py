"""Writing files whole: a temporary name beside the target, then one rename.

Every file aebridge writes (EXR frames, the script, ``build.json``, sidecars, specs,
previews, timelines, the service's hot-folder records) goes through :func:`atomic_path`,
so a reader never sees half a file and an interrupted write leaves at most a
temporary, never a truncated file under the final name. Temporary names follow one
pattern, ``.<stem>.<pid>-<token>.tmp<suffix>``:

- hidden (a leading ``.``), so hot folders, sequence listing and most tools skip them;
- the target's suffix kept last, because some writers pick their format by it
  (OpenImageIO, PyAV, OpenTimelineIO);
- the process id, so :func:`stale_temporaries` can tell a dead writer's leftovers from
  a live one's, and a token, so two threads of one process never share a name. A
  process id means something only on the host that wrote it: folders shared by farm
  hosts or containers hold other hosts' live writers, so a temporary is stale only
  when its writer is not running here and it has not been written to for
  :data:`STALE_AFTER` seconds.

Files are created with the usual permissions (``0o666`` less the umask, applied by the
kernel): nothing here reads or changes the process-wide umask, which other threads
would race.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError

__all__ = [
    "STALE_AFTER",
    "TEMPORARY_RE",
    "atomic_path",
    "is_temporary",
    "stale_temporaries",
    "temporary_path",
    "write_bytes",
    "write_text",
]

#: A temporary name this module makes: ``.<stem>.<pid>-<token>.tmp<suffix>``.
TEMPORARY_RE = re.compile(
    r"^\.(?P<stem>.+)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.tmp(?P<suffix>\.[^.]*)?$"
)


def temporary_path(target: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside ``target`` (nothing is created).

    Args:
        target: the file (or folder) to be written.

    Returns:
        ``.<stem>.<pid>-<token>.tmp<suffix>`` in the target's folder.
    """
    path = Path(target)
    token = secrets.token_hex(4)
    return path.with_name(f".{path.stem}.{os.getpid()}-{token}.tmp{path.suffix}")


def is_temporary(name: str, target_name: str | None = None) -> bool:
    """Whether ``name`` is a temporary this module makes (for ``target_name``)."""
    match = TEMPORARY_RE.match(name)
    if match is None:
        return False
    if target_name is None:
        return True
    target = Path(target_name)
    return match["stem"] == target.stem and (match["suffix"] or "") == target.suffix


#: Seconds without a write after which a temporary whose writer is not running on
#: this host is stale: far longer than any one file takes to write, so a live writer
#: on another farm host or in another container (its pid meaningless here) keeps its
#: temporary.
STALE_AFTER = 3600.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(
    folder: str | os.PathLike[str], *, older_than: float = STALE_AFTER
) -> list[Path]:
    """Temporaries in ``folder`` left by writers that are no longer running.

    A temporary of a live process of this host (another run writing into the same
    folder right now) is not stale; one of this process is never stale; one written
    to in the last ``older_than`` seconds is not stale either, since its writer may
    be running on another host sharing the folder.

    Args:
        folder: the folder to look in.
        older_than: seconds since the temporary's last write.

    Returns:
        Their paths, sorted.
    """
    found = []
    now = time.time()
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(folder):
            match = TEMPORARY_RE.match(entry.name)
            if match is None or _alive(int(match["pid"])):
                continue
            with contextlib.suppress(FileNotFoundError):
                if now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                    found.append(Path(entry.path))
    return sorted(found)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str], *, exclusive: bool = False, what: str = "the file"
) -> Iterator[Path]:
    """Write to a temporary path and give it ``target``'s name when the block ends.

    The block writes the temporary path it is given (a file, or a folder such as an
    ``.otiod`` bundle); on a normal exit it takes the target's name in one step,
    replacing a file or folder there (or, with ``exclusive``, failing if the name is
    taken, even by a writer racing this one). On any exception the temporary is
    removed and the target is left as it was.

    Args:
        target: the final path; its folder must exist.
        exclusive: never replace an existing target.
        what: how messages name the file (``"the script"``).

    Yields:
        The temporary path to write.

    Raises:
        OutputError: the temporary cannot take the name (with ``exclusive``: the
            target exists).
    """
    final = Path(target)
    tmp = temporary_path(final)
    try:
        yield tmp
        if exclusive:
            # A hard link fails when the name is taken, unlike a rename.
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise OutputError(f"{what} exists already", path=str(final)) from None
            _remove(tmp)
        else:
            if tmp.is_dir() and final.is_dir() and not final.is_symlink():
                # A folder cannot be renamed over a folder that has entries.
                shutil.rmtree(final)
            os.replace(tmp, final)
    except OutputError:
        _remove(tmp)
        raise
    except OSError as exc:
        _remove(tmp)
        raise OutputError(
            f"cannot write {what}: {exc.strerror or exc}", path=str(final)
        ) from exc
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(
    target: str | os.PathLike[str],
    data: bytes,
    *,
    exclusive: bool = False,
    what: str = "the file",
) -> Path:
    """Write ``data`` to ``target`` whole (see :func:`atomic_path`).

    Returns:
        The target path.

    Raises:
        OutputError: it cannot be written.
    """
    final = Path(target)
    with (
        atomic_path(final, exclusive=exclusive, what=what) as tmp,
        open(tmp, "xb") as handle,
    ):
        handle.write(data)
    return final


def write_text(
    target: str | os.PathLike[str],
    text: str,
    *,
    exclusive: bool = False,
    what: str = "the file",
    encoding: str = "utf-8",
) -> Path:
    """Write ``text`` to ``target`` whole, ``\\n`` line ends on every platform.

    Returns:
        The target path.

    Raises:
        OutputError: it cannot be written (or encoded in ``encoding``).
    """
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise OutputError(
            f"cannot write {what}: not {encoding} text ({exc.reason})",
            path=str(target),
        ) from exc
    return write_bytes(target, data, exclusive=exclusive, what=what)
