"""``POST /v1/specs/init``: a comp spec from a folder of downloads inside an input root.

The request names a folder (and optionally where the spec's paths should start) and
the options of ``aebridge init``::

    {
      "folder": "downloads/sh040",
      "base_dir": "downloads/sh040",
      "options": {"plate": "bg.mp4", "pairs": {"fgr.mp4": "pha.mp4"},
                  "track_mattes": {}, "guides": false, "camera": false,
                  "style": "noir-01=Noir", "rate": "24", "start_frame": 1001,
                  "exclude": ["*.txt"], "name": "sh040"}
    }

Relative paths start at the first input root. The folder, ``base_dir`` and every file
init opens must lie inside an input root (the same rule as a job's sources, through
:class:`~aebridge.service.security.InputRoots`): a file that leads outside, for
instance through a symlink, is left out unread, and every read init makes (listing,
probing, first frames, records, keyframe images) runs under the job's read-time
sandbox, so a folder swapped for a link while init reads is refused, not read.
Nothing is written on the server; the answer holds the spec (paths relative to
``base_dir``, ready to submit as a job with that ``base_dir``) and every decision.
Messages show paths relative to their input root, and name an option by its field
(``options.plate picks another``, never the command line's ``--plate``), from init's
one table of option names (:mod:`aebridge.init.spelling`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import OptionError, Problem, SpecError
from .openapi import COMP_SPEC_REF
from .security import InputRoots, PathNotAllowedError
from .submission import InvalidRequestError

__all__ = [
    "INIT_KEYS",
    "LEFT_OUT_SCHEMA",
    "REQUEST_SCHEMA",
    "RESULT_SCHEMA",
    "run_init",
]

INIT_KEYS = ("base_dir", "folder", "options")

#: The request body, for the OpenAPI document.
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["folder"],
    "additionalProperties": False,
    "properties": {
        "folder": {
            "type": "string",
            "description": "the downloads folder, inside an input root (relative "
            "paths start at the first root)",
        },
        "base_dir": {
            "type": "string",
            "description": "where the spec's paths start (default: the folder); "
            "submit the spec as a job with the same base_dir",
        },
        "options": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "plate": {"type": "string"},
                "pairs": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "clip -> matte: the matte becomes the clip's alpha",
                },
                "track_mattes": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "clip -> matte: the matte becomes a track matte",
                },
                "guides": {"type": "boolean", "default": False},
                "camera": {
                    "type": "boolean",
                    "default": False,
                    "description": "turn a generator camera control into a camera "
                    "move (a heuristic: the controls are unitless)",
                },
                "style": {"type": "string", "description": "ID or ID=NAME"},
                "rate": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "start_frame": {"type": "integer", "minimum": 0, "default": 1001},
                "exclude": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}

#: The files init left out, each with why: in its answer and, for a folder where
#: nothing could be used, in its init_refused problem.
LEFT_OUT_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "why": {"type": "string"}},
    },
}

#: The answer, for the OpenAPI document.
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["spec", "base_dir", "layers", "guesses", "warnings", "left_out"],
    "properties": {
        "spec": {"$ref": COMP_SPEC_REF},
        "base_dir": {"type": "string"},
        "layers": {"type": "array", "items": {"type": "object"}},
        "guesses": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "what": {"type": "string"},
                    "override": {"type": "string"},
                },
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "left_out": LEFT_OUT_SCHEMA,
    },
}


def _folder(
    value: Any, key: str, roots: InputRoots, problems: list[Problem]
) -> Path | None:
    try:
        return roots.folder(value, field=key)
    except SpecError as exc:
        problems.extend(exc.problems)
        return None


def _options(data: Any, problems: list[Problem]) -> dict[str, Any]:
    from ..init.spelling import OPTIONS

    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problems.append(Problem(path="options", message="must be a JSON object"))
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"options.{key}"
        kind = OPTIONS[key].kind if key in OPTIONS else None
        if kind is None:
            problems.append(
                Problem(
                    path=path,
                    message="unknown option; allowed: " + ", ".join(sorted(OPTIONS)),
                )
            )
        elif kind == "text" and not isinstance(value, str):
            problems.append(Problem(path=path, message="must be text"))
        elif kind == "switch" and not isinstance(value, bool):
            problems.append(Problem(path=path, message="must be true or false"))
        elif kind == "pairs" and not (
            isinstance(value, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            problems.append(
                Problem(path=path, message='must be an object {"CLIP": "MATTE"}')
            )
        elif kind == "globs" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(Problem(path=path, message="must be a list of globs"))
        elif kind == "frame" and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            problems.append(Problem(path=path, message="must be an integer >= 0"))
        elif kind == "rate" and (
            isinstance(value, bool) or not isinstance(value, (str, int))
        ):
            problems.append(Problem(path=path, message="must be a rate such as 24"))
        else:
            out[key] = value
    return out


@contextlib.contextmanager
def _options_at_fields() -> Iterator[None]:
    """An option init refuses once it has read the folder, as a request problem."""
    from ..init.spelling import REQUEST

    try:
        yield
    except OptionError as exc:
        if REQUEST.key_of(exc.option) is None:
            raise
        raise InvalidRequestError([_at_field(exc)]) from None


def _at_field(error: OptionError) -> Problem:
    """An option's refusal (init names it by its field, ``options.rate``) as a
    problem at that field, in the same words."""
    return Problem(
        path=error.option,
        message=str(error).removeprefix(f"{error.option}: "),
    )


def run_init(body: Mapping[str, Any], input_roots: Sequence[Path]) -> dict[str, Any]:
    """Answer one ``POST /v1/specs/init`` request.

    Args:
        body: the parsed request body.
        input_roots: the service's input roots (absolute, resolved).

    Returns:
        The spec, its ``base_dir`` (as the request gave it) and every decision.

    Raises:
        InvalidRequestError: the body has problems, every one with its path (an
            option at ``options.<field>``), among them a folder or base_dir outside
            the input roots; an option the folder refuses (a plate that is no
            clip in it, a start frame too late at the plate's rate) once the
            request itself is clean.
        InitError: the folder is ambiguous or holds no clip.
        PathOutsideRootsError: a read left the input roots while init ran (a link
            swapped in after the checks).
    """
    from ..init import init_folder, option_errors
    from ..init.spelling import REQUEST

    roots = InputRoots(input_roots)
    problems: list[Problem] = [
        Problem(path=key, message="unknown field; allowed: " + ", ".join(INIT_KEYS))
        for key in sorted(set(body) - set(INIT_KEYS))
    ]
    if "folder" not in body:
        problems.append(Problem(path="folder", message="required"))
    folder = _folder(body.get("folder"), "folder", roots, problems)
    base_text = body.get("base_dir", body.get("folder"))
    base = (
        _folder(base_text, "base_dir", roots, problems)
        if "base_dir" in body
        else folder
    )
    options = _options(body.get("options"), problems)
    # What the options' values may be (a rate, a start frame at it, a comp name) is
    # checked with the others: every problem of the request in one answer.
    problems.extend(
        _at_field(error)
        for error in option_errors(
            name=options.get("name"),
            style=options.get("style"),
            rate=options.get("rate"),
            start_frame=options.get("start_frame", 1001),
            spelling=REQUEST,
        )
    )
    if problems or folder is None or base is None:
        raise InvalidRequestError(problems)

    def admit(path: Path) -> bool:
        # Files that lead outside are left out (listed), not a refusal of the folder;
        # the sandbox below still checks each read when it happens.
        try:
            roots.resolve(str(path), base_dir=folder, spec_path="folder")
        except PathNotAllowedError:
            return False
        return True

    with roots.reading(), _options_at_fields():
        result = init_folder(
            folder,
            base_dir=base,
            name=options.get("name"),
            plate=options.get("plate"),
            pairs=options.get("pairs", {}),
            track_mattes=options.get("track_mattes", {}),
            guides=options.get("guides", False),
            camera=options.get("camera", False),
            style=options.get("style"),
            rate=options.get("rate"),
            start_frame=options.get("start_frame", 1001),
            exclude=options.get("exclude", ()),
            admit=admit,
            spelling=REQUEST,
        )
    answer = result.to_dict()
    answer["base_dir"] = str(base_text)
    return answer
