"""The one error hierarchy of aebridge.

Every error a user can cause derives from :class:`AebridgeError`; the CLI and the HTTP
service turn these into a clear message and exit code 1 (or an HTTP 4xx) instead of a
traceback. Anything else that escapes is a bug in aebridge.

::

    AebridgeError
     ├── OptionError          a bad option value (names the option and what is allowed)
     ├── SourceError          an input file or frame is missing, corrupt or inconsistent
     ├── SpecError            a comp spec has problems, each with its spec path
     │    └── ModelError      a spec object built in code with a value its rules refuse
     ├── OutputError          the output cannot be written
     ├── MissingExtraError    an optional extra (service, dask, otio) is not installed
     ├── EngineError          the execution engine (process pool, Dask) failed
     ├── CanceledError        the run was canceled between frames
     └── InitError            ``aebridge init`` cannot decide a folder's comp safely

Messages say what failed, where (file, frame, option or spec path) and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AebridgeError",
    "CanceledError",
    "EngineError",
    "InitError",
    "MissingExtraError",
    "ModelError",
    "OptionError",
    "OutputError",
    "Problem",
    "SourceError",
    "SpecError",
]


class AebridgeError(Exception):
    """Base of every error a user of aebridge can cause.

    ``code`` is a stable machine-readable identifier (used by the service);
    ``retryable`` says whether running the same thing again may succeed.
    """

    code: str = "aebridge_error"
    retryable: bool = False


class OptionError(AebridgeError, ValueError):
    """An option has a value that is not allowed.

    Args:
        option: the option's name as the user typed it (``--compression``, ``alpha``).
        value: the value given.
        allowed: what is allowed, as text or a list of choices.
    """

    code = "invalid_option"

    def __init__(
        self, option: str, value: object, allowed: str | Iterable[str]
    ) -> None:
        if not isinstance(allowed, str):
            allowed = ", ".join(str(a) for a in allowed)
        self.option = option
        self.value = value
        self.allowed = allowed
        super().__init__(f"{option}: {value!r} is not allowed; allowed: {allowed}")


class SourceError(AebridgeError):
    """An input file or frame cannot be used.

    Args:
        message: what is wrong.
        path: the file concerned, if any.
        frame: the frame number concerned, if any.
        field: the source's reading option at fault (``part``, ``view``,
            ``yuv_matrix``: one given for a file it does not apply to), if any, so
            a spec's problem is put at that field, not at the path.
    """

    code = "bad_source"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        frame: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.frame = frame
        self.field = field
        self.message = message
        where = []
        if path is not None:
            where.append(str(path))
        if frame is not None:
            where.append(f"frame {frame}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem found in a comp spec, at a spec path like ``layers[2].blend``."""

    path: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(AebridgeError):
    """A comp spec has problems; ``problems`` lists every one with its spec path."""

    code = "invalid_spec"
    #: What the problems are in, for the message (a subclass may be of a request).
    subject = "the comp spec"

    def __init__(
        self, problems: Iterable[Problem], *, source: str | None = None
    ) -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        count = len(self.problems)
        if count == 1 and not self.problems[0].path:
            # Of the file as a whole (not found, not JSON): one line naming it.
            super().__init__(f"{head}{self.problems[0].message}")
            return
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{head}{count} {noun} in {self.subject}:\n{lines}")


class ModelError(SpecError, ValueError):
    """A spec model object was built with values its field rules or invariants refuse.

    Raised by the constructors of :mod:`aebridge.model`, so an object never exists
    invalid; ``problems`` carry paths relative to the object (``width``,
    ``layers[1].track_matte.layer``) and ``source`` names its class. Also a
    :class:`ValueError`, as any constructor refusing a value is.
    """


class OutputError(AebridgeError):
    """The output cannot be written (folder not writable, disk full, ...)."""

    code = "output_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class MissingExtraError(AebridgeError, ImportError):
    """An optional extra is needed but not installed; says how to install it."""

    code = "missing_extra"

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f"this needs the optional '{extra}' extra ({module} is not installed); "
            f"install it with: pip install 'aebridge[{extra}]'"
        )


class EngineError(AebridgeError):
    """The execution engine failed (a worker died, the cluster is unreachable)."""

    code = "engine_error"
    retryable = True


class CanceledError(AebridgeError):
    """The run was canceled between frames; no partial frame was left behind."""

    code = "canceled"


class InitError(AebridgeError):
    """``aebridge init`` refuses to guess: two candidate plates, a matte without a
    partner, a folder without clips. The message names the files and the option
    that settles it as the caller sets it (``--plate``; over HTTP ``options.plate``).

    Args:
        message: what init cannot decide, on one line.
        left_out: for a folder where nothing could be used, each file left out as
            ``(path, why)`` (the message lists them too).
    """

    code = "init_refused"

    def __init__(
        self, message: str, *, left_out: Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.left_out = tuple(left_out)
