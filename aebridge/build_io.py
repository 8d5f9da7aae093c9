"""``build.json``: written and read in one place, its schema label checked.

``aebridge build`` writes ``out/<comp>/build.json`` (docs/comp-spec.md): the label
``aebridge.build/1``, the build id, the hashes, the spec as built (every source an
EXR sequence relative to the comp folder), a report per layer and the warnings. The
preview, the OpenTimelineIO export and the build itself (which refuses to build one
comp into another's folder) read it back here; a file that is not JSON, not an
object, carries another label or no spec is a one-line :class:`SourceError` naming
the file and what was expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SourceError
from .fileio import write_text
from .model import CompSpec
from .model.rules import quote
from .spec import load_spec

__all__ = ["BUILD_SCHEMA", "Build", "load_build", "read_document", "write_build"]

#: Label of the ``build.json`` document.
BUILD_SCHEMA = "aebridge.build/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """A ``build.json`` read back.

    Attributes:
        path: the file.
        document: its top level as written (``build_id``, ``spec_hash``, ``layers``,
            ``warnings``, ...).
        spec: the spec as built, validated; its sequence folders are relative to
            :attr:`comp_dir`.
    """

    path: Path
    document: dict[str, Any]
    spec: CompSpec

    @property
    def comp_dir(self) -> Path:
        """The comp's output folder, which the spec's paths are relative to."""
        return self.path.parent


def write_build(path: str | os.PathLike[str], fields: Mapping[str, Any]) -> Path:
    """Write ``build.json``: the label, then ``fields``, deterministically, atomically.

    Keys are sorted, no NaN, the text ends with a newline; it goes to a temporary
    name in the same folder and then takes the final name in one step.

    Args:
        path: the file to write.
        fields: everything but the label (``build_id``, ``spec``, ...).

    Returns:
        The path written.

    Raises:
        OutputError: the file cannot be written.
    """
    target = Path(path)
    document = {**fields, "schema": BUILD_SCHEMA}
    text = json.dumps(
        document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return write_text(target, text + "\n", what=target.name)


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The top level of a ``build.json``, its label and spec object checked.

    Args:
        path: ``out/<comp>/build.json``.

    Returns:
        The document as written.

    Raises:
        SourceError: the file is missing or not JSON, or it is not a build.json of
            this version of aebridge (another label, or no spec).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError("build.json not found", path=str(p)) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"cannot read build.json: {exc}", path=str(p)) from exc
    if not isinstance(data, dict):
        raise SourceError("build.json must hold a JSON object", path=str(p))
    label = data.get("schema")
    has_spec = isinstance(data.get("spec"), dict)
    if label == BUILD_SCHEMA and has_spec:
        return data
    found = [] if has_spec else ["it has no 'spec' object"]
    if label != BUILD_SCHEMA:
        shown = "no schema label" if label is None else f"schema {quote(label)}"
        found.append(f"{shown}, expected '{BUILD_SCHEMA}'")
    advice = (
        "build the comp again with this version of aebridge"
        if has_spec
        else "give the build.json that `aebridge build` writes in the comp's output "
        "folder"
    )
    raise SourceError(
        f"not a build.json written by `aebridge build` ({'; '.join(found)}); {advice}",
        path=str(p),
    )


def load_build(path: str | os.PathLike[str]) -> Build:
    """Read a ``build.json``: its document and its spec, validated.

    Args:
        path: ``out/<comp>/build.json`` as written by ``aebridge build``.

    Returns:
        The build; its spec's sequence folders are relative to ``build.comp_dir``.

    Raises:
        SourceError: see :func:`read_document`.
        SpecError: the spec inside is invalid.
    """
    p = Path(path)
    document = read_document(p)
    # Sequence folders in build.json are relative to the comp folder it sits in.
    spec = load_spec(document["spec"], base_dir=p.parent)
    return Build(path=p, document=document, spec=spec)
