"""The hot folder: every comp spec dropped into a folder becomes a job.

Writers put a spec in place by writing it under another name and renaming it, so a
``*.json`` file that appears is complete; names that are temporary or partial
(``.tmp``, ``.part``, ``.partial``, ``.crdownload``, ``.swp``, or starting with ``.``
or ``~``) are ignored. On a network share (``poll=True``) renames are not always
atomic for readers, so a file is taken only after its size and modification time have
stayed the same for ``settle`` seconds.

For ``comp.json`` the outcome is written beside it, atomically (temporary name, then
rename): ``comp.result.json`` when the job succeeded, ``comp.error.json`` when the spec
was refused or the job failed or was canceled. A spec with either file is done. A file
that is not a request at all (not JSON, nested too deep, a lone surrogate, ...) is
moved into ``rejected/`` with its ``.error.json`` beside it, so it stops no other file
and is not read again; so is a file that links outside the input roots (it is read
through the read sandbox) or is larger than the API's body limit. The job is submitted
with an idempotency key made from the file's path, modification time and content, so
a restart finds the same job again instead of building it twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import sandbox
from ..errors import AebridgeError, SpecError
from ..fileio import write_text
from ..sandbox import PathOutsideRootsError
from .job import JobNotFoundError, JobStatus
from .loop import LoopThread
from .security import InputRoots
from .store import Store
from .submission import MalformedBodyError, Submitter, parse_body

__all__ = ["REJECTED", "HotFolder", "outcome_paths"]

#: Where files that are not requests at all are moved, with their ``.error.json``.
REJECTED = "rejected"
#: The largest spec file read (the HTTP API's body limit).
MAX_SPEC_BYTES = 1 << 20

_log = logging.getLogger("aebridge.service.watch")

_IGNORED_SUFFIXES = (
    ".tmp",
    ".part",
    ".partial",
    ".crdownload",
    ".swp",
    ".result.json",
    ".error.json",
)


def outcome_paths(spec: Path) -> tuple[Path, Path]:
    """``(comp.result.json, comp.error.json)`` beside ``comp.json``."""
    stem = spec.name[: -len(".json")] if spec.name.endswith(".json") else spec.name
    return spec.with_name(f"{stem}.result.json"), spec.with_name(f"{stem}.error.json")


def _write_atomic(path: Path, data: Any) -> None:
    # The temporary name starts with "." so this watcher (and most others) skip it.
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n", what=path.name)


def _refusal(name: str, code: str, message: str, retryable: bool) -> dict[str, Any]:
    return {
        "spec": name,
        "status": "refused",
        "failure": {"code": code, "message": message, "retryable": retryable},
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Seen:
    size: int
    mtime_ns: int
    since: float


class HotFolder:
    """Scans one folder and turns the specs dropped into it into jobs.

    Args:
        folder: the hot folder (also an input root; relative paths in a spec start
            here).
        submitter: queues the jobs.
        store: reads their outcome.
        poll: network-share mode: wait for a stable size before taking a file.
        interval: seconds between scans.
        settle: seconds a file's size must stay the same in ``poll`` mode.
        roots: the input roots spec files are read through (default: the folder).
    """

    def __init__(
        self,
        folder: Path,
        *,
        submitter: Submitter,
        store: Store,
        poll: bool = False,
        interval: float = 0.5,
        settle: float = 2.0,
        roots: InputRoots | None = None,
    ) -> None:
        self.folder = folder
        self._roots = roots or InputRoots((folder,))
        self._submitter = submitter
        self._store = store
        self._poll = poll
        self._interval = interval
        self._settle = settle
        self._seen: dict[str, _Seen] = {}
        self._pending: dict[str, str] = {}  # spec file name -> job id
        self._skipped: dict[str, int] = {}  # file name -> mtime it failed at
        # A vanished share must not end the watcher: a failed scan is logged and
        # the next one comes after the interval.
        self._loop = LoopThread(
            self.scan_once,
            name=f"aebridge-watch-{folder.name}",
            interval=interval,
            log=_log,
            failure=f"scanning {folder} failed",
        )

    def start(self) -> None:
        """Start scanning in a thread."""
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop scanning."""
        self._loop.stop(timeout)

    def _candidates(self) -> list[os.DirEntry[str]]:
        found = []
        for entry in os.scandir(self.folder):
            name = entry.name
            if (
                not name.endswith(".json")
                or name.startswith((".", "~"))
                or name.endswith(_IGNORED_SUFFIXES)
                or not entry.is_file()
            ):
                continue
            found.append(entry)
        return sorted(found, key=lambda e: e.name)

    def _settled(self, entry: os.DirEntry[str]) -> bool:
        stat = entry.stat()
        now = time.monotonic()
        seen = self._seen.get(entry.name)
        if seen is None or (seen.size, seen.mtime_ns) != (
            stat.st_size,
            stat.st_mtime_ns,
        ):
            self._seen[entry.name] = _Seen(
                size=stat.st_size, mtime_ns=stat.st_mtime_ns, since=now
            )
            return False
        return now - seen.since >= self._settle

    def scan_once(self) -> None:
        """Look at the folder once: submit new specs, write finished outcomes.

        Each file is handled on its own: one that cannot be read as a request (or
        that trips a bug) is moved aside into ``rejected/`` with its ``.error.json``
        beside it, logged once, and the scan goes on with the others.
        """
        present = set()
        for entry in self._candidates():
            present.add(entry.name)
            spec = Path(entry.path)
            try:
                self._handle(entry, spec)
            except FileNotFoundError:
                continue  # taken away meanwhile
            except Exception:
                reference = uuid.uuid4().hex[:12]
                _log.exception(
                    "hot folder: %s failed (reference %s)", spec.name, reference
                )
                try:
                    self._reject(
                        spec,
                        code="internal_error",
                        message="an internal error stopped this file; the server "
                        f"log has the details under reference {reference}",
                        retryable=True,
                    )
                except OSError:
                    # Cannot move it (a read-only share): leave it, but never
                    # read this version of it again.
                    self._skipped[entry.name] = entry.stat().st_mtime_ns
        for name in list(self._seen):
            if name not in present:
                del self._seen[name]

    def _handle(self, entry: os.DirEntry[str], spec: Path) -> None:
        if self._skipped.get(entry.name) == entry.stat().st_mtime_ns:
            return
        result_path, error_path = outcome_paths(spec)
        if result_path.exists() or error_path.exists():
            self._pending.pop(entry.name, None)
            return
        job_id = self._pending.get(entry.name)
        if job_id is None:
            if self._poll and not self._settled(entry):
                return
            job_id = self._submit(spec, error_path)
            if job_id is None:
                return
            self._pending[entry.name] = job_id
        self._write_outcome(job_id, spec, result_path, error_path)

    def _submit(self, spec: Path, error_path: Path) -> str | None:
        try:
            # Through the sandbox: a dropped name may be a link to any file.
            with self._roots.reading(), sandbox.open_binary(spec) as handle:
                raw = handle.read(MAX_SPEC_BYTES + 1)
        except PathOutsideRootsError as exc:
            self._reject(spec, code=exc.code, message=str(exc), retryable=False)
            return None
        if len(raw) > MAX_SPEC_BYTES:
            self._reject(
                spec,
                code="body_too_large",
                message=f"the file has more than {MAX_SPEC_BYTES} bytes",
                retryable=False,
            )
            return None
        stat = spec.stat()
        digest = hashlib.sha256(
            f"{spec}\0{stat.st_mtime_ns}\0".encode() + raw
        ).hexdigest()
        try:
            body = parse_body(raw)
        except MalformedBodyError as exc:
            # Not a request at all: out of the way, so it is not read again.
            self._reject(spec, code=exc.code, message=str(exc), retryable=False)
            return None
        try:
            submission = self._submitter.submit(
                body, idempotency_key=f"hotfolder:{digest}", base_dir=self.folder
            )
        except AebridgeError as exc:
            refusal = _refusal(spec.name, exc.code, str(exc), exc.retryable)
            if isinstance(exc, SpecError):
                refusal["problems"] = [
                    {"path": p.path, "message": p.message, "severity": p.severity}
                    for p in exc.problems
                ]
            _write_atomic(error_path, refusal)
            _log.info("hot folder: %s refused: %s", spec.name, exc)
            return None
        _log.info("hot folder: %s is job %s", spec.name, submission.job.id)
        return submission.job.id

    def _reject(self, spec: Path, *, code: str, message: str, retryable: bool) -> None:
        """Move ``spec`` into ``rejected/`` and write its ``.error.json`` beside it.

        ``rejected/`` is opened without following a link and used through that
        descriptor: whoever can write the hot folder could have made it a link to any
        folder the service may write. When it is not a folder of its own, the file
        stays where it is with its ``.error.json`` beside it (so it is not read
        again).
        """
        self._pending.pop(spec.name, None)
        try:
            folder_fd = self._rejected_folder()
        except OSError:
            note = f" (not moved: {REJECTED}/ is not a folder of its own, e.g. a link)"
            refusal = _refusal(spec.name, code, message + note, retryable)
            _write_atomic(outcome_paths(spec)[1], refusal)
            _log.warning("hot folder: %s refused%s: %s", spec.name, note, message)
            return
        try:
            # The descriptor's own path: the folder opened, whatever the name
            # leads to by now.
            folder = Path(sandbox.FD_DIR, str(folder_fd))
            os.replace(spec, folder / spec.name)
            _write_atomic(
                outcome_paths(folder / spec.name)[1],
                _refusal(spec.name, code, message, retryable),
            )
        finally:
            os.close(folder_fd)
        _log.warning("hot folder: %s moved to %s/: %s", spec.name, REJECTED, message)

    def _rejected_folder(self) -> int:
        """A descriptor of ``rejected/`` in the hot folder, made if missing.

        Raises:
            OSError: it is a link (``ELOOP``) or not a folder (``ENOTDIR``).
        """
        hot = os.open(self.folder, sandbox.FOLDER_FLAGS)
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(REJECTED, dir_fd=hot)
            return os.open(REJECTED, sandbox.FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=hot)
        finally:
            os.close(hot)

    def _write_outcome(
        self, job_id: str, spec: Path, result_path: Path, error_path: Path
    ) -> None:
        try:
            job = self._store.get(job_id)
        except JobNotFoundError:
            _write_atomic(
                error_path,
                _refusal(
                    spec.name,
                    "job_not_found",
                    f"its job {job_id} was deleted before it ended",
                    False,
                ),
            )
            self._pending.pop(spec.name, None)
            return
        if not job.status.terminal:
            return
        outcome = job.public()
        outcome["spec"] = spec.name
        outcome["output_dir"] = job.out_dir
        _write_atomic(
            result_path if job.status is JobStatus.SUCCEEDED else error_path, outcome
        )
        self._pending.pop(spec.name, None)
