"""The build plan's JSON Schema (aebridge/schema/plan-2.schema.json) describes every
plan the emitter writes, and refuses what the library would refuse."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

from aebridge.emit import PLAN_SCHEMA, build_plan
from aebridge.emit.plan_schema import PLAN_SCHEMA_FILE, plan_schema

jsonschema = pytest.importorskip("jsonschema")


def _plan(data: dict[str, Any]) -> dict[str, Any]:
    return build_plan(
        aejsx.load(data),
        {},
        script_dir=Path("."),
        build_id="ab0123456789ab",
        spec_hash="h",
        generator="aebridge test",
    )


def _every_feature() -> dict[str, Any]:
    """sh010 with a pan (per-frame camera keys), a track matte, light kept under
    alpha 0 and a scale animated with explicit handles."""
    data = copy.deepcopy(aejsx.sample_data()["sh010"])
    data["camera"]["moves"].append(
        {"kind": "pan", "start": 1002, "end": 1006, "amount": 20, "easing": "ease_out"}
    )
    data["layers"][1]["light_under_alpha"] = "add"
    data["layers"][1]["track_matte"] = {"layer": "bg", "type": "luma"}
    data["layers"][1]["transform"] = {
        "scale": {
            "keyframes": [
                {
                    "frame": 1002,
                    "value": [100, 100, 100],
                    "easing": {"out": {"speed": 5}},
                },
                {"frame": 1006, "value": [120, 120, 100], "easing": "ease_in"},
            ]
        }
    }
    return data


def _validator() -> Any:
    schema = json.loads(PLAN_SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == plan_schema()
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", sorted(aejsx.sample_data()))
def test_every_sample_plan_follows_the_schema(name: str) -> None:
    validator = _validator()
    data = aejsx.sample_data()[name]
    for plan in (_plan(data), _plan(aejsx.hostile_data(data))):
        assert plan["schema"] == PLAN_SCHEMA
        assert [e.message for e in validator.iter_errors(plan)] == []


def test_a_plan_with_every_feature_follows_the_schema() -> None:
    plan = _plan(_every_feature())
    ids = [layer["id"] for layer in plan["layers"]]
    assert any(i.endswith("#light") for i in ids)
    props = [p for p in plan["camera"].values() if isinstance(p, dict)]
    assert any(len(p.get("keys", ())) > 2 for p in props)
    assert [e.message for e in _validator().iter_errors(plan)] == []


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("layers", 0, "blend"), "mutliply"),
        (("comp", "width"), 2),
        (("comp", "rate_den"), 0),
        (("markers", 0, "label"), 17),
        (("footage", 0, "alpha"), "straight"),
        (("layers", 0, "transform", "opacity"), {"value": 150}),
        (("schema",), "aebridge.plan/1"),
        (("camera", "auto_orient"), False),
    ],
)
def test_a_plan_the_library_would_refuse_fails_the_schema(
    where: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(aejsx.sample_data()["sh020"])
    data["camera"] = aejsx.sample_data()["sh010"]["camera"]
    data["camera"]["moves"][0].update(start=1001, end=1008)
    plan = _plan(data)
    assert _validator().is_valid(plan)
    target: Any = plan
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert not _validator().is_valid(plan)


def test_an_unknown_or_missing_plan_key_fails_the_schema() -> None:
    plan = _plan(aejsx.sample_data()["sh010"])
    plan["layers"][0]["blnd"] = "add"
    assert not _validator().is_valid(plan)
    plan = _plan(aejsx.sample_data()["sh010"])
    del plan["comp"]["start_frame"]
    assert not _validator().is_valid(plan)


def test_the_golden_scripts_carry_plans_that_follow_the_schema() -> None:
    golden = Path(__file__).resolve().parents[1] / "golden"
    validator = _validator()
    for script in sorted(golden.glob("*.jsx")):
        literal = script.read_text().split("\nvar plan = ", 1)[1]
        plan = json.loads(literal.split(";\n\naebridge_build(plan);", 1)[0])
        assert [e.message for e in validator.iter_errors(plan)] == [], script.name
