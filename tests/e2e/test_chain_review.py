"""Review of the comp spec -> build plan -> ExtendScript -> preview chain: the same
layer timing and the same errors wherever a spec is read.

Each test here was written against a bug found in review and failed before its fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

from aebridge.emit import build_plan, write_script
from aebridge.errors import SpecError
from aebridge.preview.render import plan_from_spec

RATE = 24


def reversed_spec() -> dict[str, Any]:
    """A 4-frame layer played backwards from frame 1010, and one at 50 %."""
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "rev",
            "width": 64,
            "height": 36,
            "rate": RATE,
            "duration": 20,
        },
        "layers": [
            {
                "id": "bg",
                "source": aejsx._seq("bg", RATE, 1001, 1004),
                "stretch": -100,
                "start": 1010,
            },
            {
                "id": "fg",
                "source": aejsx._seq("fg", RATE, 1001, 1003),
                "stretch": 50,
            },
        ],
    }


def test_a_reversed_layer_ends_at_its_start_in_plan_preview_and_script(
    tmp_path: Path,
) -> None:
    spec = aejsx.load(reversed_spec())
    plan = build_plan(spec, {}, script_dir=tmp_path, build_id="b")
    bg = plan["layers"][0]
    # AE puts a -100 % layer's in point one footage length before its start time.
    assert (bg["start"], bg["in_frame"], bg["out_frame"]) == (1010, 1006, 1010)
    preview = plan_from_spec(spec, tmp_path).layers[0]
    assert (preview.in_frame, preview.out_frame) == (1006, 1010)

    script = tmp_path / "rev.jsx"
    write_script(spec, {}, script)
    aejsx.touch_sequences(spec, tmp_path)
    (snap,) = aejsx.run_in_model(script)
    assert snap["uncaught"] is None and snap["alerts"] == []
    (comp,) = [i for i in snap["items"] if i["type"] == "Composition"]
    lay = {x["name"]: x for x in comp["layers"]}["bg"]
    assert lay["stretch"] == -100
    assert lay["start_time"] * RATE == pytest.approx(9)
    assert lay["in_point"] * RATE == pytest.approx(5)
    assert lay["out_point"] * RATE == pytest.approx(9)


def test_validation_measures_a_reversed_layer_from_its_real_in_point() -> None:
    data = reversed_spec()
    bg = data["layers"][0]
    # Shown 1006..1009: an out frame of 1008 trims its last comp frame.
    bg["out_frame"] = 1008
    # Spans 1018..1022: partly inside the 20-frame comp (last frame 1020).
    data["layers"][1].update(start=1022, stretch=-100)
    spec = aejsx.load(data)
    assert spec.layers[0].out_frame == 1008


def test_validation_refuses_a_reversed_layer_out_past_its_start() -> None:
    data = reversed_spec()
    data["layers"][0]["out_frame"] = 1012
    with pytest.raises(SpecError) as err:
        aejsx.load(data)
    assert [p.path for p in err.value.problems] == ["layers[0].out_frame"]
    assert "allowed: up to 1010" in str(err.value)
