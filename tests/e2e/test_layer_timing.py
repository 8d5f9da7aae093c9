"""A layer's timing (start, stretch, in and out frames) and keyframes: validation,
the build plan, the preview and the script in the After Effects DOM model agree, and
refuse the same specs with the same errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

from aebridge import synthetic
from aebridge.api import build
from aebridge.emit import build_plan, write_script
from aebridge.errors import SpecError
from aebridge.model import expand_conditioning
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


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # Past the end of a 3-frame source shown from 1001: the script set inPoint
        # after the footage's outPoint and aborted.
        (
            {"in_frame": 1004, "stretch": 100},
            "layers[1].in_frame: 1004 is outside the source (3 frames from frame "
            "1001); allowed: 1001 to 1003",
        ),
        # At 50 % the same source covers 1001..1002 (the last frame half a frame).
        (
            {"in_frame": 1003, "stretch": 50},
            "layers[1].in_frame: 1003 is outside the source (3 frames from frame "
            "1001); allowed: 1001 to 1002",
        ),
        # A reversed layer ends at its start: an in frame at the start shows nothing.
        (
            {"in_frame": 1004, "stretch": -100, "start": 1004},
            "layers[1].in_frame: 1004 is outside the source (3 frames played "
            "backwards, ending at frame 1004); allowed: 1001 to 1003",
        ),
    ],
)
def test_validation_refuses_an_in_frame_outside_the_footage(
    changes: dict[str, Any], message: str
) -> None:
    data = reversed_spec()
    data["layers"][1].update(changes)
    with pytest.raises(SpecError) as err:
        aejsx.load(data)
    assert [str(p) for p in err.value.problems] == [message]


def test_every_in_frame_validation_accepts_builds_a_clean_script(
    tmp_path: Path,
) -> None:
    """Sweep in frames, out frames and stretches on one layer: whatever passes
    validation runs in the DOM model without an alert."""
    scripts: list[Path] = []
    for stretch in (100, 50, 200, -100, -50):
        for in_frame in (None, 1000, 1001, 1003, 1005, 1007):
            for out_frame in (None, 1002, 1004, 1006, 1008):
                data = reversed_spec()
                fg = data["layers"][1]
                fg.update(stretch=stretch, start=1004)
                if in_frame is not None:
                    fg["in_frame"] = in_frame
                if out_frame is not None:
                    fg["out_frame"] = out_frame
                try:
                    spec = aejsx.load(data)
                except SpecError:
                    continue
                folder = tmp_path / f"{stretch}_{in_frame}_{out_frame}"
                script = folder / "rev.jsx"
                write_script(spec, {}, script)
                aejsx.touch_sequences(spec, folder)
                scripts.append(script)
    assert len(scripts) > 20
    for script in scripts:
        (snap,) = aejsx.run_in_model(script)
        assert (snap["uncaught"], snap["alerts"]) == (None, []), script.parent.name


def test_build_refuses_an_in_frame_past_a_converted_sources_end(tmp_path: Path) -> None:
    """A source still to convert has no known length when the spec is read: the
    build's preflight checks the trim once it has probed the media, before any
    conversion, instead of writing a script that aborts in After Effects."""
    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=32, height=18
    )
    data = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "tiny", "width": 32, "height": 18, "rate": 24, "duration": 8},
        "layers": [{"id": "fg", "source": "media/fg.####.png", "in_frame": 1006}],
    }
    with pytest.raises(SpecError) as err:
        build(data, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert [str(p) for p in err.value.problems] == [
        "layers[0].in_frame: 1006 is outside the source (4 frames from frame 1001); "
        "allowed: 1001 to 1004"
    ]
    assert not (tmp_path / "out" / "tiny.jsx").exists()


@pytest.mark.parametrize("stretch", [100, 200, 250, -100, -200])
def test_a_conditioning_keyframe_marker_lands_on_the_frame_showing_it(
    tmp_path: Path, stretch: int
) -> None:
    """The marker of a layer's conditioning keyframe sits on the comp frame that
    shows that generated frame, in the preview and in the script, whatever the
    layer's stretch (it sat at start + frame, off by the stretch)."""
    data = reversed_spec()
    data["comp"]["duration"] = 40
    data["layers"] = [
        {
            "id": "fg",
            "source": aejsx._seq("fg", RATE, 1001, 1008),
            "stretch": stretch,
            "start": 1030 if stretch < 0 else 1002,
            "provenance": {"keyframes": [{"frame": k} for k in (0, 3, 7)]},
        }
    ]
    spec = expand_conditioning(aejsx.load(data))
    markers = {int(dict(m.parameters)["source_frame"]): m.frame for m in spec.markers}
    assert sorted(markers) == [0, 3, 7]
    preview = plan_from_spec(spec, tmp_path).layers[0]
    for source_frame, comp_frame in markers.items():
        assert preview.source_index(comp_frame) == source_frame, comp_frame
    if stretch == 200:
        assert markers == {0: 1002, 3: 1008, 7: 1016}
    if stretch == -100:
        assert markers == {0: 1029, 3: 1026, 7: 1022}

    script = tmp_path / "rev.jsx"
    write_script(spec, {}, script)
    aejsx.touch_sequences(spec, tmp_path)
    (snap,) = aejsx.run_in_model(script)
    assert (snap["uncaught"], snap["alerts"]) == (None, [])
    (comp,) = [i for i in snap["items"] if i["type"] == "Composition"]
    times = sorted(round(k["time"] * RATE) for k in comp["markers"]["keys"])
    assert times == sorted(f - 1001 for f in markers.values())


def test_huge_keyframe_values_build_or_fail_naming_the_key(tmp_path: Path) -> None:
    """Finite values validate; their speed must not overflow to a nameless error."""
    data = reversed_spec()
    keys = [{"frame": 1001, "value": [3, 100]}, {"frame": 1011, "value": [2, -1e300]}]
    data["layers"][1]["transform"] = {"anchor": {"keyframes": keys}}
    plan = build_plan(aejsx.load(data), {}, script_dir=tmp_path, build_id="b")
    (speed,) = {
        k["ease_out"]["speed"]
        for k in plan["layers"][1]["transform"]["anchor"]["keys"][:1]
    }
    assert speed == pytest.approx(1e300 / (10 / RATE))

    keys[1]["frame"] = 1002
    keys[1]["value"] = [2, -1.7e308]
    with pytest.raises(SpecError) as err:
        build_plan(aejsx.load(data), {}, script_dir=tmp_path, build_id="b")
    assert [p.path for p in err.value.problems] == [
        "layers[1].transform.anchor.keyframes[0].value"
    ]
    assert "too large to express" in str(err.value)
