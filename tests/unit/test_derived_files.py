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


def test_a_range_added_to_one_model_field_reaches_everything_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The spec has one source: a range given only to the model's field rule changes
    validation, the constructors, the JSON Schema, the OpenAPI schemas and the plan
    schema alike."""
    import dataclasses
    from fractions import Fraction

    from aebridge.emit.plan_schema import plan_schema
    from aebridge.errors import ModelError
    from aebridge.model import Comp
    from aebridge.model.table import spec_fields
    from aebridge.spec import validate
    from aebridge.spec.schema import comp_spec_schema, openapi_schemas

    def described() -> list[object]:
        return [
            comp_spec_schema()["$defs"]["comp"]["properties"]["start_frame"],
            openapi_schemas()["Comp"]["properties"]["start_frame"],
            plan_schema()["properties"]["comp"]["properties"]["start_frame"],
        ]

    data = {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "c",
            "width": 8,
            "height": 8,
            "rate": 24,
            "duration": 4,
            "start_frame": 200000,
        },
        "markers": [{"frame": 200001}],
    }
    assert validate(data) == ()
    assert [s["maximum"] for s in described()] == [86339 * 99] * 3

    table = spec_fields(Comp)
    field = table["start_frame"]
    ranged = dataclasses.replace(field.rule, hi=100000)
    monkeypatch.setitem(table, "start_frame", dataclasses.replace(field, rule=ranged))

    assert [(p.path, p.message) for p in validate(data)] == [
        ("comp.start_frame", "200000 is out of range; allowed: 0 to 100000")
    ]
    with pytest.raises(ModelError, match="start_frame: 200000 is out of range"):
        Comp(
            name="c",
            width=8,
            height=8,
            rate=Fraction(24),
            duration=4,
            start_frame=200000,
        )
    assert [s["maximum"] for s in described()] == [100000] * 3
    pytest.importorskip("fastapi", reason="the service extra is not installed")
    from aebridge.service.openapi import document

    served = document()["components"]["schemas"]["Comp"]["properties"]
    assert served["start_frame"]["maximum"] == 100000
