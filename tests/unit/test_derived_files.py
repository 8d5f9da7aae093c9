"""Files derived from the spec models' field rules stay equal to what they derive.

As OpenTimelineIO's ``test_serialized_schema.py`` does for its schema documentation:
each derived file is generated again and compared with the committed copy; a
difference fails with the command that updates the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _comp_schema() -> str:
    from aebridge.spec import schema

    return schema.render()


def _plan_schema() -> str:
    from aebridge.emit import plan_schema

    return plan_schema.render()


def _openapi() -> str:
    pytest.importorskip("fastapi", reason="the service extra is not installed")
    from aebridge.service import openapi

    return openapi.render()


DERIVED: list[tuple[str, Callable[[], str], str]] = [
    (
        "aebridge/schema/comp-1.schema.json",
        _comp_schema,
        "python -m aebridge.spec.schema",
    ),
    (
        "aebridge/schema/plan-2.schema.json",
        _plan_schema,
        "python -m aebridge.emit.plan_schema",
    ),
    (
        "docs/openapi.json",
        _openapi,
        "python -m aebridge.service.openapi docs/openapi.json",
    ),
]


@pytest.mark.parametrize(
    ("path", "derive", "command"), DERIVED, ids=[d[0] for d in DERIVED]
)
def test_a_derived_file_is_what_its_source_derives(
    path: str, derive: Callable[[], str], command: str
) -> None:
    kept = (ROOT / path).read_text(encoding="utf-8")
    derived = derive()
    if kept != derived:
        diff = "".join(
            difflib.unified_diff(
                kept.splitlines(keepends=True),
                derived.splitlines(keepends=True),
                fromfile=f"{path} (committed)",
                tofile=f"{path} (derived)",
                n=1,
            )
        )
        pytest.fail(
            f"{path} is out of date; regenerate it with: {command}\n{diff[:4000]}",
            pytrace=False,
        )
