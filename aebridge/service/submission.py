"""Submitting a job: the request envelope, validation, path rules and idempotency.

A request body is either a comp spec itself (what ``curl -d @comp.json`` sends) or an
envelope::

    {
      "spec": { ...comp spec... },
      "webhook": {"url": "https://...", "events": ["job.succeeded"],
                  "secret": "whsec_..."},
      "options": {"preview": false},
      "base_dir": "shots/sh010"
    }

``base_dir`` (default: the first input root) is where the spec's relative paths start;
it must lie inside an input root. The hot folder and the HTTP API share this code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import sandbox
from ..errors import AebridgeError, OptionError, Problem, SourceError, SpecError
from ..formats import unread_file
from ..model import ExrSequence
from ..sequence import SequencePattern, is_sequence_pattern, takes_frame
from .config import ServiceConfig
from .job import DEFAULT_EVENTS, EVENTS, Job, WebhookTarget
from .security import RELATIVE_PATHS_START, InputRoots, PathNotAllowedError
from .store import Store
from .webhooks import check_url, decode_secret, new_secret
from .worker import SpecLoader

__all__ = [
    "ENVELOPE_KEYS",
    "InvalidRequestError",
    "MalformedBodyError",
    "Submission",
    "Submitter",
    "parse_body",
    "with_base_dir",
]

ENVELOPE_KEYS = ("base_dir", "options", "spec", "webhook")
OPTION_KEYS = ("preview",)
WEBHOOK_KEYS = ("events", "secret", "url")


class MalformedBodyError(AebridgeError):
    """The request body is not a JSON object."""

    code = "malformed_body"


class InvalidRequestError(SpecError):
    """The request envelope (webhook, options, base_dir) has problems."""

    code = "invalid_request"
    subject = "the request"


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    """The outcome of a submission.

    Attributes:
        job: the job (new, or the one an identical earlier request made).
        created: True when the job was created by this request.
        secret: the webhook secret, returned only when it was generated now.
        warnings: the spec's warnings (conformed rates and the like).
    """

    job: Job
    created: bool
    secret: str | None
    warnings: tuple[Problem, ...]


#: Deepest nesting of arrays and objects a request may have (a comp spec needs < 10).
MAX_DEPTH = 64


def parse_body(raw: bytes) -> dict[str, Any]:
    """Parse a request body as a JSON object that the service can store and hash.

    Refused, each with a message saying what is wrong: text that is not UTF-8 or not
    JSON, ``NaN``/``Infinity`` and numbers too large to be finite, integers longer
    than Python converts (4300 digits), nesting deeper than :data:`MAX_DEPTH`, and
    strings holding lone surrogates (``"\\ud800"``: valid JSON escapes, but not
    text any file or database can hold).

    Raises:
        MalformedBodyError: any of the above, or the body is not an object.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBodyError(
            f"the request body is not UTF-8 text (byte {exc.start}); send JSON"
        ) from exc
    try:
        data = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError:
        raise MalformedBodyError(
            f"the request body is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except json.JSONDecodeError as exc:
        raise MalformedBodyError(f"the request body is not valid JSON: {exc}") from exc
    except ValueError as exc:  # an integer too long to convert, or not finite
        message = str(exc)
        if "digits" in message:
            message = (
                "a number in the request body has more than "
                f"{sys.get_int_max_str_digits()} digits"
            )
        raise MalformedBodyError(message) from exc
    if not isinstance(data, dict):
        raise MalformedBodyError(
            "the request body must be a JSON object: a comp spec, or "
            '{"spec": {...}, "webhook": {...}, "options": {...}}'
        )
    _check_shape(data)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; numbers must be finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large to be finite")
    return value


def _check_shape(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings with lone surrogates."""
    todo: list[tuple[Any, int]] = [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise MalformedBodyError(
                    f"the request body is nested deeper than {MAX_DEPTH} levels"
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                todo.append((item, depth + 1))
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedBodyError(
            f"the request body holds a lone surrogate (\\u{ord(text[exc.start]):04x})"
            ", which is not text; send each character as itself or as a surrogate "
            "pair"
        ) from None


def with_base_dir(body: dict[str, Any], base_dir: str | None) -> dict[str, Any]:
    """The body with ``base_dir`` given beside it (``POST /v1/jobs?base_dir=``).

    A bare spec becomes an envelope, so the same request sent either way is the same
    body (and the same idempotent job).

    Raises:
        InvalidRequestError: the envelope names another base_dir itself.
    """
    if base_dir is None:
        return body
    if "spec" not in body:
        return {"spec": body, "base_dir": base_dir}
    if body.get("base_dir", base_dir) != base_dir:
        raise InvalidRequestError(
            [
                Problem(
                    path="base_dir",
                    message="given twice (in the body and as ?base_dir=) with "
                    "different values; give it once",
                )
            ]
        )
    return {**body, "base_dir": base_dir}


def canonical(data: Any) -> str:
    """JSON with sorted keys and no spaces: equal bodies give equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Submitter:
    """Validates requests and queues jobs.

    Args:
        store: the job store.
        config: the resolved service configuration.
        load_spec: ``aebridge.spec.load_spec`` (or a stand-in in tests).
        on_queued: called after a job is queued (wakes a worker).
    """

    def __init__(
        self,
        store: Store,
        config: ServiceConfig,
        *,
        load_spec: SpecLoader,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._config = config
        self._roots = InputRoots(config.input_roots)
        self._load_spec = load_spec
        self._on_queued = on_queued

    def submit(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        base_dir: Path | None = None,
    ) -> Submission:
        """Validate a request and queue its job.

        Args:
            body: the parsed request body (a spec or an envelope).
            idempotency_key: the client's key: the same key and body give the same job.
            base_dir: where relative paths start when the body does not say
                (the hot folder passes the spec file's folder).

        Returns:
            The submission.

        Raises:
            InvalidRequestError: the envelope has problems (each with its path).
            SpecError: the spec has problems (same paths as ``aebridge validate``).
            PathNotAllowedError: a path leaves the input roots.
            IdempotencyConflictError: the key was used with another body.
        """
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise OptionError("Idempotency-Key", idempotency_key, "1 to 255 characters")
        body_hash = hashlib.sha256(canonical(body).encode()).hexdigest()
        if idempotency_key is not None:
            # A replay answers with the first request's job before validating again:
            # the answer must not change because a source was moved since.
            earlier = self._store.find_idempotent(idempotency_key, body_hash)
            if earlier is not None:
                return Submission(
                    job=earlier,
                    created=False,
                    secret=self._generated_secret(earlier, body),
                    warnings=(),
                )
        envelope = "spec" in body
        spec_data: Any = body["spec"] if envelope else body
        problems: list[Problem] = []
        if envelope:
            problems.extend(
                Problem(
                    path=key,
                    message=f"unknown field; allowed: {', '.join(ENVELOPE_KEYS)}",
                )
                for key in sorted(set(body) - set(ENVELOPE_KEYS))
            )
        webhook = self._webhook(body.get("webhook") if envelope else None, problems)
        options = self._options(body.get("options", {}) if envelope else {}, problems)
        base = self._base_dir(
            body.get("base_dir") if envelope else None, base_dir, problems
        )
        if not isinstance(spec_data, dict):
            problems.append(Problem(path="spec", message="must be a JSON object"))
        if problems:
            raise InvalidRequestError(problems)
        assert base is not None
        layers = spec_data.get("layers")
        if isinstance(layers, list) and len(layers) > self._config.max_layers:
            raise InvalidRequestError(
                [
                    Problem(
                        path="layers",
                        message=f"{len(layers)} layers; at most "
                        f"{self._config.max_layers} are accepted by this service",
                    )
                ]
            )
        # Structure first, without touching files: a spec naming a file outside the
        # roots must be refused for that, not answered "file missing" (which would
        # tell a caller what exists on the server).
        warnings: list[Problem] = []
        spec = None
        try:
            spec = self._load_spec(spec_data, base_dir=base, check_files=False)
            self._check_paths(spec, base)
            with self._roots.reading():
                self._load_spec(
                    spec_data, base_dir=base, check_files=True, warn=warnings.append
                )
        except SpecError as exc:
            raise self._presented(exc, base, spec) from None
        warnings = [self._shown(w) for w in warnings]
        secret_given = webhook is not None and webhook.secret != ""
        if webhook is not None and not secret_given:
            webhook = WebhookTarget(
                url=webhook.url,
                events=webhook.events,
                secret=self._config.webhook_secret or new_secret(),
            )
        request = {"spec": spec_data, "options": options}
        job, created = self._store.create(
            request=canonical(request),
            body_hash=body_hash,
            idempotency_key=idempotency_key,
            base_dir=base,
            output_root=self._config.outputs,
            webhook=webhook,
        )
        if created:
            self._on_queued()
        return Submission(
            job=job,
            created=created,
            secret=self._generated_secret(job, body),
            warnings=tuple(warnings),
        )

    def _generated_secret(self, job: Job, body: Mapping[str, Any]) -> str | None:
        """The job's webhook secret when this service generated it for the request.

        Returned to the request that made the job and to every replay of it with the
        same Idempotency-Key and body: an answer lost on the way is not a secret
        lost. A secret the client sent, or the service-wide one, is never returned.
        """
        webhook = body.get("webhook") if "spec" in body else None
        given = isinstance(webhook, dict) and webhook.get("secret", "") != ""
        if job.webhook is None or given or self._config.webhook_secret is not None:
            return None
        return job.webhook.secret

    # -- envelope parts ------------------------------------------------------------

    def _webhook(self, data: Any, problems: list[Problem]) -> WebhookTarget | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            problems.append(
                Problem(path="webhook", message='must be {"url": ..., "events": [...]}')
            )
            return None
        for key in sorted(set(data) - set(WEBHOOK_KEYS)):
            problems.append(
                Problem(
                    path=f"webhook.{key}",
                    message=f"unknown field; allowed: {', '.join(WEBHOOK_KEYS)}",
                )
            )
        url = data.get("url")
        try:
            if not isinstance(url, str):
                raise OptionError(
                    "webhook.url", url, "an absolute http:// or https:// URL"
                )
            check_url(url, allow=self._config.webhook_networks)
        except OptionError as exc:
            problems.append(Problem(path="webhook.url", message=str(exc)))
        events = data.get("events", list(DEFAULT_EVENTS))
        if not isinstance(events, list) or not events:
            problems.append(
                Problem(
                    path="webhook.events",
                    message=f"must be a non-empty list of: {', '.join(EVENTS)}",
                )
            )
            events = []
        for i, event in enumerate(events):
            if event not in EVENTS:
                problems.append(
                    Problem(
                        path=f"webhook.events[{i}]",
                        message=f"{event!r} is not an event; events are: "
                        + ", ".join(EVENTS),
                    )
                )
        secret = data.get("secret", "")
        if secret != "":
            try:
                if not isinstance(secret, str):
                    raise OptionError("webhook.secret", "<hidden>", "a whsec_ string")
                decode_secret(secret)
            except OptionError as exc:
                problems.append(Problem(path="webhook.secret", message=str(exc)))
        if problems:
            return None
        return WebhookTarget(
            url=str(url), events=tuple(dict.fromkeys(events)), secret=str(secret)
        )

    @staticmethod
    def _options(data: Any, problems: list[Problem]) -> dict[str, Any]:
        if not isinstance(data, dict):
            problems.append(Problem(path="options", message="must be a JSON object"))
            return {}
        for key in sorted(set(data) - set(OPTION_KEYS)):
            problems.append(
                Problem(
                    path=f"options.{key}",
                    message=f"unknown option; allowed: {', '.join(OPTION_KEYS)}",
                )
            )
        preview = data.get("preview", False)
        if not isinstance(preview, bool):
            problems.append(
                Problem(path="options.preview", message="must be true or false")
            )
        return {"preview": preview is True}

    # -- answers -------------------------------------------------------------------

    def _shown(self, problem: Problem) -> Problem:
        """A problem whose message shows paths relative to the input roots."""
        return Problem(
            path=problem.path,
            message=self._roots.show(problem.message),
            severity=problem.severity,
        )

    def _presented(self, exc: SpecError, base: Path, spec: Any) -> SpecError:
        """The same refusal with relative paths, and where a relative path found
        nothing, where relative paths start and how to change that.

        Args:
            exc: the refusal.
            base: where the spec's relative paths started.
            spec: the spec as its structure loaded (None: it did not), whose file
                problems say which path was written at each problem's field.
        """
        shown = self._roots.show(str(base))
        hint = (
            f"; {RELATIVE_PATHS_START} {shown!r}: send the spec's folder inside an "
            'input root as "base_dir" in the request body (or ?base_dir= with a bare '
            "spec)"
        )
        problems = []
        for problem in exc.problems:
            problem = self._shown(problem)
            given = None if spec is None else _written_at(spec, problem.path)
            if (
                type(exc) is SpecError
                and problem.severity == "error"
                and problem.path.endswith(_FILE_FIELDS)
                and isinstance(given, str)
                and self._finds_nothing(given, base)
                # A source or matte of a kind aebridge does not read (src.txt) is
                # refused by its name, as the spec check refuses it: from any
                # base_dir.
                and not (
                    problem.path.endswith(_SOURCE_FIELDS)
                    and unread_file(base / given) is not None
                )
            ):
                problem = Problem(
                    path=problem.path,
                    message=problem.message + hint,
                    severity=problem.severity,
                )
            problems.append(problem)
        return type(exc)(problems)

    def _finds_nothing(self, text: str, base: Path) -> bool:
        """Whether a relative path leads to nothing from ``base``: the one case where
        where relative paths start may be the mistake. An absolute path, or one that
        leads to something (a folder holding two sequences, a sequence with a gap, a
        file that cannot be read), is about that thing, not about base_dir."""
        if os.path.isabs(text):
            return False
        full = base / text
        try:
            if not is_sequence_pattern(text):
                os.lstat(full)
                return False
            pattern = SequencePattern.parse(full)
            with self._roots.reading():
                names = sandbox.listdir(pattern.directory)
        except (FileNotFoundError, NotADirectoryError):
            return True
        except SourceError as exc:
            # Listed through the sandbox: a folder that is not there is the one case.
            return isinstance(exc.__cause__, FileNotFoundError | NotADirectoryError)
        except OSError:  # there, but not to be looked at (no permission, too long)
            return False
        fields = (pattern.frame_text(name) for name in names)
        return not any(
            f is not None and takes_frame(f, pattern.padding) for f in fields
        )

    # -- envelope parts (continued) ------------------------------------------------

    def _base_dir(
        self, text: Any, default: Path | None, problems: list[Problem]
    ) -> Path | None:
        if text is None:
            return default if default is not None else self._config.input_roots[0]
        try:
            return self._roots.folder(text, field="base_dir")
        except SpecError as exc:
            problems.extend(exc.problems)
            return None

    def _check_paths(self, spec: Any, base: Path) -> None:
        """Every file a spec reads must lie inside the input roots."""
        problems: list[Problem] = []

        def check(text: str | None, spec_path: str) -> bool:
            if text is None:
                return True
            try:
                self._roots.resolve(text, base_dir=base, spec_path=spec_path)
            except PathNotAllowedError as exc:
                problems.extend(exc.problems)
                return False
            return True

        for i, layer in enumerate(spec.layers):
            source = layer.source
            if isinstance(source, ExrSequence):
                self._check_exr_sequence(source, f"layers[{i}].source", check, problems)
            else:
                check(source.path, f"layers[{i}].source.path")
                check(source.matte, f"layers[{i}].source.matte")
            if layer.provenance is not None:
                for k, key in enumerate(layer.provenance.keyframes):
                    check(key.image, f"layers[{i}].provenance.keyframes[{k}].image")
        if spec.provenance is not None:
            for k, key in enumerate(spec.provenance.keyframes):
                check(key.image, f"provenance.keyframes[{k}].image")
        if problems:
            raise PathNotAllowedError(problems)

    @staticmethod
    def _check_exr_sequence(
        seq: ExrSequence,
        where: str,
        check: Callable[[str, str], bool],
        problems: list[Problem],
    ) -> None:
        """An EXR sequence reads ``folder/name.<frame>.exr``: the name is a file name
        prefix, never a path, and every frame is checked like any other file."""
        if not check(seq.folder, f"{where}.folder"):
            return
        name = seq.name
        if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            problems.append(
                Problem(
                    path=f"{where}.name",
                    message=f"{name!r} is not a file name prefix; allowed: a name "
                    "without folders, e.g. 'fg' for fg.1001.exr in the folder",
                )
            )
            return
        for frame in range(seq.first, seq.last + 1):
            if not check(f"{seq.folder}/{seq.frame_name(frame)}", f"{where}.folder"):
                return


#: Spec fields that name a file or folder: where a relative one finds nothing, the
#: refusal says where relative paths start.
_FILE_FIELDS = (".path", ".matte", ".folder", ".image")
#: Of those, a layer source's and matte's, which the spec check refuses by kind.
_SOURCE_FIELDS = (".path", ".matte")


def _written_at(spec: Any, path: str) -> Any:
    """The value at a spec path (``layers[0].source.path``) of a loaded spec, or None
    when there is none."""
    value = spec
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else getattr(value, name)
        except (AttributeError, IndexError, TypeError):
            return None
    return value
