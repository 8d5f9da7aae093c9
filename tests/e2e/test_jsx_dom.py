"""Generated scripts run against the After Effects DOM model (tests/js/ae_dom.js).

The model runs under node in a sandbox without ES5+ built-ins and rejects writes to
attributes AE does not have; these tests assert the project the scripts build.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

from aebridge.camera import camera_keys
from aebridge.emit import build_plan, render_script, write_script
from aebridge.model import CompSpec

Snapshot = dict[str, Any]


def build(spec: CompSpec, folder: Path, name: str = "", **kwargs: Any) -> Path:
    script = folder / f"{name or spec.comp.name}.jsx"
    write_script(spec, {}, script, **kwargs)
    aejsx.touch_sequences(spec, folder)
    return script


def items(snap: Snapshot, kind: str) -> list[dict[str, Any]]:
    return [i for i in snap["items"] if i["type"] == kind]


def the_comp(snap: Snapshot) -> dict[str, Any]:
    comps = items(snap, "Composition")
    assert len(comps) == 1
    return comps[0]


def layer(snap: Snapshot, name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        lay for lay in the_comp(snap)["layers"] if lay["name"] == name
    ]
    assert len(found) == 1, name
    return found[0]


def clean(snap: Snapshot) -> None:
    assert snap["uncaught"] is None
    assert snap["alerts"] == []
    assert snap["undo"]["open"] == 0 and snap["undo"]["errors"] == []
    assert snap["undo"]["begun"] == snap["undo"]["ended"]
    assert snap["writes_outside_undo"] == []
    assert snap["guess_alpha_calls"] == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Snapshot]]:
    """Each sample built once and run twice in one project."""
    out: dict[str, list[Snapshot]] = {}
    for name, data in aejsx.sample_data().items():
        folder = tmp_path_factory.mktemp(name)
        out[name] = aejsx.run_in_model(build(aejsx.load(data), folder), runs=2)
    return out


# ---------------------------------------------------------------------------------
# Language checks


def test_every_jsx_in_the_library_folder_is_es3() -> None:
    files = sorted((aejsx.REPO / "jsx").glob("*.jsx"))
    assert files
    assert aejsx.es3_problems(*files) == []


def test_every_generated_sample_script_is_es3(tmp_path: Path) -> None:
    scripts = []
    for name, data in aejsx.sample_data().items():
        scripts.append(build(aejsx.load(data), tmp_path / name))
        scripts.append(build(aejsx.hostile_spec(data), tmp_path / (name + "h")))
    assert aejsx.es3_problems(*scripts) == []


def test_the_es3_check_refuses_es5_syntax_and_members(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsx"
    bad.write_text("var a = [1, 2];\na.forEach(function (x) { return x; });\n")
    syntax = tmp_path / "syntax.jsx"
    syntax.write_text("let b = 1;\n")
    trailing = tmp_path / "trailing.jsx"
    trailing.write_text("var c = {d: 1,};\n")
    reserved = tmp_path / "reserved.jsx"
    reserved.write_text("var e = {}; e.default = 1;\n")
    problems = aejsx.es3_problems(bad, syntax, trailing, reserved)
    assert any("bad.jsx:2:2: forbidden '.forEach'" in p for p in problems)
    assert any(
        p.startswith(f"{syntax}:1:") and "not ECMAScript 3" in p for p in problems
    )
    assert any(p.startswith(f"{trailing}:1:") for p in problems)
    assert any(p.startswith(f"{reserved}:1:") for p in problems)


def test_the_sandbox_has_no_es5_built_ins(tmp_path: Path) -> None:
    probes = {
        "json": "JSON.stringify({});",
        "foreach": "[1].forEach(function () {});",
        "keys": "Object.keys({});",
        "trim": "' a '.trim();",
        "bind": "(function () {}).bind(null);",
        "now": "Date.now();",
    }
    for name, code in probes.items():
        script = tmp_path / f"{name}.jsx"
        script.write_text(code)
        (snap,) = aejsx.run_in_model(script)
        assert snap["uncaught"] is not None, name


def test_the_model_rejects_unknown_and_read_only_attributes(tmp_path: Path) -> None:
    typo = tmp_path / "typo.jsx"
    typo.write_text("app.project.bitsPerChanel = 32;")
    read_only = tmp_path / "ro.jsx"
    read_only.write_text(
        "app.project.items.addComp('c', 64, 36, 1, 1, 24).frameDuration = 1;"
    )
    enum = tmp_path / "enum.jsx"
    enum.write_text("var x = BlendingMode.SILHOUETTE_ALPHA;")
    first, second, third = aejsx.run_in_model(typo, read_only, enum)
    assert "bitsPerChanel is read-only or does not exist" in first["uncaught"]
    assert "frameDuration is read-only or does not exist" in second["uncaught"]
    assert "BlendingMode.SILHOUETTE_ALPHA does not exist" in third["uncaught"]


def test_the_model_refuses_what_add_comp_refuses(tmp_path: Path) -> None:
    calls = {
        "narrow": "2, 36, 1, 1, 24",
        "fractional": "100.5, 36, 1, 1, 24",
        "long": "64, 36, 1, 10801, 24",
        "fast": "64, 36, 1, 1, 120",
    }
    scripts = [
        _script(tmp_path, f"{name}.jsx", f"app.project.items.addComp('c', {args});")
        for name, args in calls.items()
    ]
    narrow, fractional, long, fast = aejsx.run_in_model(*scripts)
    assert "addComp width: 2 is outside 4..30000" in narrow["uncaught"]
    assert "addComp width: 100.5 is not an integer" in fractional["uncaught"]
    assert "addComp duration: 10801 is outside 0..10800" in long["uncaught"]
    assert "addComp frameRate: 120 is outside 1..99" in fast["uncaught"]


def test_the_model_sets_a_stretch_under_one_percent_as_the_guide_says(
    tmp_path: Path,
) -> None:
    # Layer.stretch: "Values between 0 and 1 are set to 1, and values between -1 and
    # 0 (not including 0) are set to -1"; 0 itself is not a stretch.
    script = _script(
        tmp_path,
        "stretch.jsx",
        "var c = app.project.items.addComp('c', 64, 36, 1, 10, 24);"
        " var l = c.layers.add(app.project.items.addComp('d', 64, 36, 1, 2, 24));"
        " l.stretch = 0.5; $.writeln(l.stretch); l.stretch = -0.25;"
        " $.writeln(l.stretch); l.stretch = 1.5; $.writeln(l.stretch); l.stretch = 0;",
    )
    (snap,) = aejsx.run_in_model(script)
    assert snap["written"] == ["1", "-1", "1.5"]
    assert "layer.stretch: 0 is not allowed" in snap["uncaught"]


# ---------------------------------------------------------------------------------
# What the scripts build


def test_project_is_32_bpc_with_linear_blending(
    runs: dict[str, list[Snapshot]],
) -> None:
    for snaps in runs.values():
        clean(snaps[0])
        assert snaps[0]["project"]["bits_per_channel"] == 32
        assert snaps[0]["project"]["linear_blending"] is True


def test_footage_is_a_premultiplied_sequence_conformed_to_the_comp_rate(
    runs: dict[str, list[Snapshot]],
) -> None:
    snap = runs["sh020"][0]
    footage = items(snap, "Footage")
    assert [f["name"] for f in footage] == ["plate", "fx", "fg"]
    for item in footage:
        assert item["sequence"] is True and item["force_alphabetical"] is False
        assert item["parent"] == "sh020"
        assert item["main_source"] == {
            "alpha_mode": "AlphaMode.PREMULTIPLIED",
            "premul_color": [0, 0, 0],
            "conform_frame_rate": pytest.approx(24000 / 1001, abs=0),
            "field_separation": "FieldSeparationType.OFF",
            "remove_pulldown": "PulldownPhase.OFF",
            "invert_alpha": False,
            "loop": 1,
        }
        assert item["pixel_aspect"] == 1
        assert item["comment"].startswith("[aebridge ab")
    assert [f["frames"] for f in footage] == [8, 4, 8]
    assert footage[0]["file"].endswith("/layers/plate/plate.1001.exr")
    assert "colour space: Linear Rec.709 (sRGB)" in footage[0]["comment"]


def test_comp_settings_are_exact(runs: dict[str, list[Snapshot]]) -> None:
    comp = the_comp(runs["sh020"][0])
    assert comp["name"] == "sh020" and comp["parent"] == "sh020"
    assert (comp["width"], comp["height"], comp["pixel_aspect"]) == (64, 36, 1)
    assert comp["frame_rate"] == 24000 / 1001
    assert comp["duration"] == 8 * 1001 / 24000
    assert comp["display_start_frame"] == 1001
    assert comp["bg_color"] == [0.1, 0.2, 0.3]
    assert the_comp(runs["sh030"][0])["display_start_frame"] == 1


def test_layers_stack_bottom_to_top_with_the_camera_on_top(
    runs: dict[str, list[Snapshot]],
) -> None:
    comp = the_comp(runs["sh030"][0])
    assert [(lay["index"], lay["name"]) for lay in comp["layers"]] == [
        (1, "Camera"),
        (2, "ref"),
        (3, "fg"),
        (4, "matte"),
        (5, "bg"),
    ]
    assert [lay["name"] for lay in the_comp(runs["sh020"][0])["layers"]] == [
        "fg",
        "fx",
        "plate",
    ]


def test_blend_modes_switches_and_track_mattes(runs: dict[str, list[Snapshot]]) -> None:
    snap = runs["sh020"][0]
    assert layer(snap, "fx")["blend"] == "BlendingMode.SCREEN"
    # AE's own spelling, one T.
    assert layer(snap, "fg")["blend"] == "BlendingMode.SILHOUETE_ALPHA"
    snap = runs["sh030"][0]
    fg = layer(snap, "fg")
    assert fg["blend"] == "BlendingMode.MULTIPLY" and fg["three_d"] is True
    assert fg["track_matte"] == {
        "layer": "matte",
        "type": "TrackMatteType.LUMA_INVERTED",
    }
    assert layer(snap, "matte")["enabled"] is False
    assert layer(snap, "ref")["guide"] is True
    assert layer(snap, "bg")["track_matte"] is None


def test_layer_timing_in_comp_seconds(runs: dict[str, list[Snapshot]]) -> None:
    snap = runs["sh020"][0]
    frame = 1001 / 24000
    fx = layer(snap, "fx")
    assert fx["start_time"] == pytest.approx(2 * frame, abs=1e-12)
    assert fx["in_point"] == pytest.approx(2 * frame, abs=1e-12)
    assert fx["out_point"] == pytest.approx(6 * frame, abs=1e-12)
    fg = layer(snap, "fg")
    assert fg["stretch"] == 200
    assert (fg["start_time"], fg["in_point"]) == (0, 0)
    assert fg["out_point"] == pytest.approx(8 * frame, abs=1e-12)


def test_static_transforms_and_opacity(runs: dict[str, list[Snapshot]]) -> None:
    props = layer(runs["sh020"][0], "fx")["properties"]
    assert props["ADBE Scale"] == {"value": [50, 50]}
    assert props["ADBE Rotate Z"] == {"value": 15}
    assert props["ADBE Opacity"] == {"value": 80}
    # Untouched properties keep AE's defaults.
    assert props["ADBE Anchor Point"] == {"value": [32, 18, 0]}


def test_position_keys_with_ease_out_and_hold(runs: dict[str, list[Snapshot]]) -> None:
    keys = layer(runs["sh020"][0], "fx")["properties"]["ADBE Position"]["keys"]
    frame = 1001 / 24000
    assert [k["time"] for k in keys] == pytest.approx([2 * frame, 5 * frame, 6 * frame])
    assert [k["value"] for k in keys] == [[32, 18], [40, 12], [44, 12]]
    first, second, third = keys
    assert (first["in_type"], first["out_type"]) == (
        "KeyframeInterpolationType.LINEAR",
        "KeyframeInterpolationType.BEZIER",
    )
    # Spatial: one KeyframeEase per side, Easy Ease is speed 0, influence 33.33 %.
    assert first["out_ease"] == [
        {"speed": 0, "influence": pytest.approx(100 / 3, abs=1e-6)}
    ]
    # A key with no bezier side keeps AE's own ease: no setTemporalEaseAtKey.
    assert (second["in_type"], second["out_type"]) == (
        "KeyframeInterpolationType.LINEAR",
        "KeyframeInterpolationType.HOLD",
    )
    assert third["in_type"] == "KeyframeInterpolationType.HOLD"
    # Straight spatial segments: zero tangents, no auto-bezier.
    assert first["in_tangent"] == [0, 0, 0] and first["spatial_auto_bezier"] is False


def test_scale_eases_have_three_dimensions(runs: dict[str, list[Snapshot]]) -> None:
    keys = layer(runs["sh030"][0], "fg")["properties"]["ADBE Scale"]["keys"]
    assert [k["value"] for k in keys] == [[100, 100, 100], [120, 110, 100]]
    assert keys[0]["out_ease"] == [{"speed": 10, "influence": 50}] * 3
    assert (
        keys[1]["in_ease"]
        == [{"speed": 0, "influence": pytest.approx(100 / 3, abs=1e-6)}] * 3
    )
    assert keys[1]["in_type"] == "KeyframeInterpolationType.BEZIER"
    opacity = layer(runs["sh030"][0], "fg")["properties"]["ADBE Opacity"]["keys"]
    assert [(k["time"], k["value"]) for k in opacity] == [(0, 0), (0.16, 100)]
    assert opacity[0]["out_ease"] == [
        {"speed": 0, "influence": pytest.approx(100 / 3, abs=1e-6)}
    ]


def test_camera_matches_camera_keys(runs: dict[str, list[Snapshot]]) -> None:
    for name in ("sh010", "sh030"):
        spec = aejsx.load(aejsx.sample_data()[name])
        expected = camera_keys(spec)
        cam = layer(runs[name][0], "Camera")
        assert cam["type"] == "CameraLayer"
        assert cam["auto_orient"] == "AutoOrientType.CAMERA_OR_POINT_OF_INTEREST"
        props = cam["properties"]
        rate = spec.comp.rate
        for prop, match in (
            (expected.position, "ADBE Position"),
            (expected.point_of_interest, "ADBE Anchor Point"),
            (expected.zoom, "ADBE Camera Zoom"),
            (expected.roll, "ADBE Rotate Z"),
        ):
            got = props[match]
            if not prop.keys:
                value = prop.value[0] if len(prop.value) == 1 else list(prop.value)
                assert got == {"value": pytest.approx(value, abs=1e-6)}, match
                continue
            assert len(got["keys"]) == len(prop.keys), match
            for want, have in zip(prop.keys, got["keys"], strict=True):
                seconds = float(Fraction(want.frame - spec.comp.start_frame) / rate)
                assert have["time"] == pytest.approx(seconds, abs=1e-12)
                value = want.value[0] if len(want.value) == 1 else list(want.value)
                assert have["value"] == pytest.approx(value, abs=1e-6)
                assert have["in_type"].endswith(want.in_type.value.upper())
                assert have["out_type"].endswith(want.out_type.value.upper())
                if "BEZIER" in have["in_type"] + have["out_type"]:
                    assert have["in_ease"] == [
                        {
                            "speed": pytest.approx(want.ease_in[0].speed, abs=1e-6),
                            "influence": pytest.approx(
                                want.ease_in[0].influence, abs=1e-6
                            ),
                        }
                    ]
    zoom = layer(runs["sh030"][0], "Camera")["properties"]["ADBE Camera Zoom"]
    assert zoom == {"value": pytest.approx(64 * 35 / 36, abs=1e-6)}


def test_comp_markers_with_parameters(runs: dict[str, list[Snapshot]]) -> None:
    keys = the_comp(runs["sh030"][0])["markers"]["keys"]
    assert [k["time"] for k in keys] == [0.08, 0.2]
    first, second = (k["value"] for k in keys)
    assert first["comment"] == "keyframe 1\nstart"
    assert first["params"]["aebridge_kind"] == "keyframe"
    assert second["duration"] == pytest.approx(0.08) and second["label"] == 3
    hit = the_comp(runs["sh020"][0])["markers"]["keys"][0]["value"]
    assert hit["params"]["take"] == "3"


def test_comments_carry_the_build_id_and_provenance(
    runs: dict[str, list[Snapshot]],
) -> None:
    snap = runs["sh010"][0]
    hero = layer(snap, "hero")
    assert hero["comment"].startswith("[aebridge ab")
    assert "layer fg]" in hero["comment"].split("\n")[0]
    assert "prompt: a hero walks" in hero["comment"]
    assert "seed: 7" in hero["comment"]
    assert "prompt: a street at night" in the_comp(snap)["comment"]


# ---------------------------------------------------------------------------------
# Idempotence and updates


def _without_undo(snap: Snapshot) -> Snapshot:
    return {k: v for k, v in snap.items() if k not in ("undo",)}


def test_a_second_run_changes_nothing(runs: dict[str, list[Snapshot]]) -> None:
    for name, (first, second) in runs.items():
        clean(second)
        assert second["imports"] == first["imports"], name
        assert second["undo"]["begun"] == 2
        first_items = first["items"]
        second_items = [
            {**i, "replaced": 0} if i["type"] == "Footage" else i
            for i in second["items"]
        ]
        assert second_items == first_items, name
        # The second run swapped the frames in with replaceWithSequence.
        assert all(i["replaced"] == 1 for i in items(second, "Footage"))


def test_a_changed_spec_updates_the_comp_in_place(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh020"]
    first = build(aejsx.load(data), tmp_path, "v1")
    data["layers"] = [data["layers"][0], data["layers"][2]]
    data["layers"][1]["blend"] = "add"
    data["markers"] = []
    second = build(aejsx.load(data), tmp_path, "v2")
    before, after = aejsx.run_in_model(first, second)
    clean(after)
    assert [lay["name"] for lay in the_comp(after)["layers"]] == ["fg", "plate"]
    assert layer(after, "fg")["blend"] == "BlendingMode.ADD"
    assert the_comp(after)["markers"] == {"value": None}
    assert len(items(after, "Composition")) == 1
    assert after["imports"] == before["imports"] == 3


def test_a_layer_trimmed_later_than_before_updates(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh010"]
    data["layers"][1].update({"in_frame": 1002, "out_frame": 1004})
    first = build(aejsx.load(data), tmp_path, "v1")
    data["layers"][1].update({"in_frame": 1006, "out_frame": 1008})
    second = build(aejsx.load(data), tmp_path, "v2")
    data["layers"][1].update({"in_frame": 1002, "out_frame": 1004})
    third = build(aejsx.load(data), tmp_path, "v3")
    _, later, earlier = aejsx.run_in_model(first, second, third)
    clean(later)
    clean(earlier)
    hero = layer(later, "hero")
    assert (hero["in_point"], hero["out_point"]) == (5 / 24, 7 / 24)
    hero = layer(earlier, "hero")
    assert (hero["in_point"], hero["out_point"]) == (1 / 24, 3 / 24)


def test_a_camera_dropped_from_the_spec_is_removed(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh010"]
    first = build(aejsx.load(data), tmp_path, "v1")
    del data["camera"]
    second = build(aejsx.load(data), tmp_path, "v2")
    _, after = aejsx.run_in_model(first, second)
    clean(after)
    assert [lay["name"] for lay in the_comp(after)["layers"]] == ["hero", "bg"]


def _sh030_pair(tmp_path: Path) -> tuple[Path, Path]:
    """sh030 as built, and as rebuilt after its 'fg' layer left the spec."""
    first = aejsx.sample_data()["sh030"]
    second = aejsx.sample_data()["sh030"]
    second["layers"] = [lay for lay in second["layers"] if lay["id"] != "fg"]
    scripts = []
    for name, data in (("a", first), ("b", second)):
        spec = aejsx.load(data)
        script = tmp_path / name / "sh030.jsx"
        write_script(spec, {}, script)
        aejsx.touch_sequences(spec, script.parent)
        scripts.append(script)
    return scripts[0], scripts[1]


def _footage(snap: dict[str, Any]) -> list[str]:
    return sorted(i["name"] for i in snap["items"] if i["type"] == "Footage")


def test_a_layer_dropped_from_the_spec_takes_its_footage_item_along(
    tmp_path: Path,
) -> None:
    before, after = _sh030_pair(tmp_path)
    *_, rerun = aejsx.run_in_model(before, after)
    (fresh,) = aejsx.run_in_model(after)
    assert (rerun["uncaught"], rerun["alerts"]) == (None, [])
    assert _footage(rerun) == _footage(fresh) == ["bg", "matte", "ref"]


def test_a_dropped_layers_footage_used_in_another_comp_stays(tmp_path: Path) -> None:
    before, after = _sh030_pair(tmp_path)
    # Someone used the footage in a comp of their own between the two runs.
    hand = tmp_path / "hand.jsx"
    hand.write_text(
        "(function () {\n"
        "    var i, item, comp;\n"
        '    comp = app.project.items.addComp("mine", 64, 36, 1, 1, 25);\n'
        "    for (i = 1; i <= app.project.numItems; i++) {\n"
        "        item = app.project.item(i);\n"
        '        if (item instanceof FootageItem && item.name === "fg") {\n'
        "            comp.layers.add(item);\n"
        "        }\n"
        "    }\n"
        "}());\n"
    )
    *_, rerun = aejsx.run_in_model(before, hand, after)
    assert (rerun["uncaught"], rerun["alerts"]) == (None, [])
    assert _footage(rerun) == ["bg", "fg", "matte", "ref"]


def test_a_layer_added_by_hand_stays_below_ours(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    user = tmp_path / "user.jsx"
    user.write_text(
        "(function () { var i; for (i = 1; i <= app.project.numItems; i++) {"
        " if (app.project.item(i) instanceof CompItem) {"
        " app.beginUndoGroup('u');"
        " app.project.item(i).layers.add(app.project.item(2)).name = 'mine';"
        " app.endUndoGroup(); } } }());"
    )
    _, _, again = aejsx.run_in_model(script, user, script)
    clean(again)
    assert [lay["name"] for lay in the_comp(again)["layers"]] == [
        "Camera",
        "hero",
        "bg",
        "mine",
    ]


# ---------------------------------------------------------------------------------
# Hostile text, failures, saving


def _strip_text(snap: Snapshot) -> Any:
    """The tree without free text (names, comments, files) and comp markers.

    The hostile variant replaces the markers with one hostile marker, checked apart.
    """
    text_keys = {"name", "comment", "file", "source", "parent", "markers", "layer"}

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items() if k not in text_keys}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(snap["items"])


def test_hostile_text_builds_the_same_tree(tmp_path: Path) -> None:
    for name, data in aejsx.sample_data().items():
        plain = build(aejsx.load(data), tmp_path / name)
        spec = aejsx.hostile_spec(data)
        hostile = build(spec, tmp_path / f'{name} it\'s "q" %41 caf\u00e9', name="x")
        (a,) = aejsx.run_in_model(plain)
        (b,) = aejsx.run_in_model(hostile, runs=1)
        clean(b)
        assert _strip_text(b) == _strip_text(a), name
        comp = the_comp(b)
        assert comp["name"] == spec.comp.name
        assert [lay["name"] for lay in comp["layers"] if lay["type"] == "AVLayer"] == [
            lay.display_name for lay in reversed(spec.layers)
        ]
        assert comp["markers"]["keys"][0]["value"]["params"][aejsx.HOSTILE] == (
            aejsx.HOSTILE + "x" * 2000
        )
        assert all(" it's \"" in f["file"] for f in items(b, "Footage"))
        (again,) = aejsx.run_in_model(hostile, runs=2)[1:]
        assert len(again["items"]) == len(b["items"])
        assert the_comp(again)["layers"] == the_comp(b)["layers"], name


def test_missing_footage_is_reported_by_path_and_changes_nothing(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    missing = tmp_path / "layers" / "fg" / "fg.1001.exr"
    missing.unlink()
    (snap,) = aejsx.run_in_model(script)
    assert snap["uncaught"] is None
    assert snap["alerts"] == [
        "aebridge could not build comp 'sh010': missing footage file(s): "
        f"{missing} (paths are relative to the script's folder {tmp_path})"
    ]
    assert snap["exit_code"] == 1
    assert snap["undo"] == {"begun": 1, "ended": 1, "open": 0, "errors": []}
    assert snap["items"] == []


def test_missing_frames_inside_a_sequence_are_counted(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    gone = [tmp_path / "layers" / "bg" / f"bg.{f}.exr" for f in range(1002, 1009)]
    for path in gone:
        path.unlink()
    (snap,) = aejsx.run_in_model(script)
    assert snap["alerts"] == [
        "aebridge could not build comp 'sh010': missing footage file(s): "
        + ", ".join(str(p) for p in gone[:5])
        + f" and 2 more (paths are relative to the script's folder {tmp_path})"
    ]
    assert snap["items"] == []


def test_no_alert_when_asked_from_the_command_line(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    (tmp_path / "layers" / "bg" / "bg.1001.exr").unlink()
    (snap,) = aejsx.run_in_model(script, env={"AEBRIDGE_NO_ALERT": "1"})
    assert snap["alerts"] == []
    assert snap["exit_code"] == 1
    assert len(snap["written"]) == 1 and "bg.1001.exr" in snap["written"][0]


def test_a_failure_mid_build_still_closes_the_undo_group(tmp_path: Path) -> None:
    spec = aejsx.load(aejsx.sample_data()["sh010"])
    plan = build_plan(spec, {}, script_dir=tmp_path, build_id="b1")
    plan["layers"][1]["blend"] = "sparkle"
    script = tmp_path / "bad.jsx"
    script.write_text(render_script(plan, spec_hash="h", version="t"))
    aejsx.touch_sequences(spec, tmp_path)
    (snap,) = aejsx.run_in_model(script)
    assert snap["undo"] == {"begun": 1, "ended": 1, "open": 0, "errors": []}
    assert len(snap["alerts"]) == 1
    assert (
        "layers[1].blend: unknown value 'sparkle'; allowed: normal, dissolve"
        in (snap["alerts"][0])
    )


def test_the_project_is_saved_when_asked(tmp_path: Path) -> None:
    spec = aejsx.load(aejsx.sample_data()["sh010"])
    script = build(spec, tmp_path, aep=tmp_path / "aep" / "sh010.aep")
    (snap,) = aejsx.run_in_model(script)
    clean(snap)
    assert snap["saved"] == [str(tmp_path / "aep" / "sh010.aep")]


# ---------------------------------------------------------------------------------
# A real build


def test_a_built_sample_folder_runs_anywhere(tmp_path: Path) -> None:
    """``aebridge build`` of samples/sh010, its comp folder moved, then the script."""
    import importlib.util
    import json
    import shutil

    sample = aejsx.REPO / "samples" / "sh010" / "comp.json"
    maker = importlib.util.spec_from_file_location(
        "make_samples", aejsx.REPO / "samples" / "make_samples.py"
    )
    assert maker is not None and maker.loader is not None
    module = importlib.util.module_from_spec(maker)
    maker.loader.exec_module(module)
    module.SHOTS["sh010"](False)  # the sample's media (a no-op when present)
    from aebridge.api import build as api_build

    result = api_build(sample, tmp_path / "out")
    moved = tmp_path / "elsewhere" / "copy of sh010"
    shutil.copytree(result.comp_dir, moved)
    shutil.rmtree(result.comp_dir)
    document = json.loads((moved / "build.json").read_text())
    first, second = aejsx.run_in_model(moved / result.script.name, runs=2)
    clean(first)
    clean(second)
    footage = items(first, "Footage")
    assert len(footage) == len(document["spec"]["layers"])
    for item, built in zip(footage, document["spec"]["layers"], strict=True):
        seq = built["source"]
        assert item["file"] == str(
            moved / seq["folder"] / f"{seq['name']}.{seq['first']:04d}.exr"
        )
        assert item["frames"] == seq["last"] - seq["first"] + 1
    assert the_comp(first)["comment"].startswith(f"[aebridge {document['build_id']} ")
    assert second["items"] == [
        {**i, "replaced": 1} if i["type"] == "Footage" else i for i in first["items"]
    ]


# ---------------------------------------------------------------------------------
# Footage as After Effects imports it (stills, whole folders)


def _script(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(code)
    return path


def test_the_model_imports_a_lone_numbered_file_as_a_still(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "k.1003.exr").write_bytes(b"")
    code = (
        "var o = new ImportOptions(new File('%s')); o.sequence = true;"
        " var item = app.project.importFile(o);"
        " $.writeln(item.mainSource.isStill + ' ' + item.duration);"
        " item.mainSource.conformFrameRate = 24;"
    ) % (tmp_path / "k" / "k.1003.exr")
    (snap,) = aejsx.run_in_model(_script(tmp_path, "still.jsx", code))
    assert snap["written"] == ["true 0"]
    assert "a still has no frame rate" in snap["uncaught"]


def test_the_model_imports_every_matching_file_gaps_included(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    for frame in (1001, 1002, 1003, 1007, 1012):
        (folder / f"s.{frame}.exr").write_bytes(b"")
    (folder / "other.1004.exr").write_bytes(b"")
    code = (
        "var o = new ImportOptions(new File('%s')); o.sequence = true;"
        " var item = app.project.importFile(o);"
        " item.mainSource.conformFrameRate = 24;"
        " $.writeln(Math.round(item.duration * item.frameRate));"
    ) % (folder / "s.1001.exr")
    (snap,) = aejsx.run_in_model(_script(tmp_path, "seq.jsx", code))
    assert snap["uncaught"] is None
    assert snap["written"] == ["12"]


def _with_one_frame_layer(data: dict[str, Any]) -> dict[str, Any]:
    data["layers"].append(
        {
            "id": "kf",
            "source": aejsx._seq("kf", 25, 3, 3),
            "role": "guide",
            "start": 3,
            "in_frame": 3,
            "out_frame": 4,
        }
    )
    return data


def test_a_one_frame_layer_is_imported_as_a_still(tmp_path: Path) -> None:
    data = _with_one_frame_layer(aejsx.sample_data()["sh030"])
    script = build(aejsx.load(data), tmp_path)
    first, second = aejsx.run_in_model(script, runs=2)
    clean(first)
    clean(second)
    (kf,) = [i for i in items(first, "Footage") if i["name"] == "kf"]
    assert kf["still"] is True and kf["sequence"] is False
    # Nothing a still refuses was set: AE's import-preference rate stays.
    assert kf["main_source"]["conform_frame_rate"] == 0
    assert kf["main_source"]["alpha_mode"] == "AlphaMode.PREMULTIPLIED"
    guide = layer(first, "kf")
    assert (guide["in_point"], guide["out_point"]) == (0.08, 0.12)
    (again,) = [i for i in items(second, "Footage") if i["name"] == "kf"]
    assert again["still"] is True and again["replaced"] == 1


def test_a_folder_holding_other_frames_fails_the_import_by_name(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    stray = tmp_path / "layers" / "fg" / "fg.1020.exr"
    stray.write_bytes(b"")
    (snap,) = aejsx.run_in_model(script)
    assert snap["uncaught"] is None
    assert len(snap["alerts"]) == 1
    message = snap["alerts"][0]
    assert "footage 'fg'" in message
    assert f"{tmp_path / 'layers' / 'fg'}" in message
    assert "20 frames" in message and "expected 8" in message
    assert snap["undo"]["open"] == 0
    # The wrongly imported item does not stay in the project.
    assert all(i["name"] != "fg" for i in items(snap, "Footage"))


# ---------------------------------------------------------------------------------
# Re-runs in a project the user has worked in


def test_comments_read_back_with_carriage_returns_still_find_our_items(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh030"]), tmp_path)
    probe = _script(
        tmp_path,
        "probe.jsx",
        "var c = app.project.item(1).comment;"
        " $.writeln(c.split('\\r').length + ' ' + c.split('\\n').length);",
    )
    first, second, probed = aejsx.run_in_model(script, script, probe)
    clean(second)
    assert probed["written"][-1] == "2 1"
    assert len(second["items"]) == len(first["items"])
    assert second["imports"] == first["imports"]
    assert len(the_comp(second)["layers"]) == len(the_comp(first)["layers"])


LOCK = (
    "(function () { var c, i; for (i = 1; i <= app.project.numItems; i++) {"
    " if (app.project.item(i) instanceof CompItem) { c = app.project.item(i); } }"
    " app.beginUndoGroup('lock');"
    " for (i = 1; i <= c.numLayers; i++) {"
    " if (c.layer(i).name === 'hero' || c.layer(i).name === 'Camera') {"
    " c.layer(i).locked = true; } }"
    " app.endUndoGroup(); }());"
)


def test_the_model_refuses_changes_to_a_locked_layer(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    poke = _script(
        tmp_path,
        "poke.jsx",
        "var c = app.project.item(4); var l = c.layer(2); $.writeln(l.name);"
        " l.property('ADBE Transform Group').property('ADBE Opacity').setValue(5);",
    )
    _, _, poked = aejsx.run_in_model(script, _script(tmp_path, "lock.jsx", LOCK), poke)
    assert poked["written"][-1] == "hero"
    assert "layer 'hero' is locked" in poked["uncaught"]


def test_a_layer_the_user_locked_is_updated_and_locked_again(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh010"]
    first = build(aejsx.load(data), tmp_path, "v1")
    data["layers"][1]["blend"] = "screen"
    data["layers"][1]["in_frame"] = 1003
    data["camera"]["moves"][0]["amount"] = 20
    second = build(aejsx.load(data), tmp_path, "v2")
    lock = _script(tmp_path, "lock.jsx", LOCK)
    _, locked, after = aejsx.run_in_model(first, lock, second)
    assert layer(locked, "hero")["locked"] is True
    clean(after)
    hero = layer(after, "hero")
    assert hero["blend"] == "BlendingMode.SCREEN" and hero["locked"] is True
    assert hero["in_point"] == pytest.approx(2 / 24)
    assert layer(after, "Camera")["locked"] is True
    assert [lay["name"] for lay in the_comp(after)["layers"]] == [
        "Camera",
        "hero",
        "bg",
    ]


# What a user may have changed in Interpret Footage: pulldown removal (which must be
# off before field separation can be turned off), inverted alpha and loops.
REINTERPRET = (
    "(function () { var i, s; app.beginUndoGroup('interpret');"
    " for (i = 1; i <= app.project.numItems; i++) {"
    " if (app.project.item(i) instanceof FootageItem) {"
    " s = app.project.item(i).mainSource;"
    " s.fieldSeparationType = FieldSeparationType.UPPER_FIELD_FIRST;"
    " s.removePulldown = PulldownPhase.WSSWW; s.invertAlpha = true; s.loop = 3; } }"
    " app.endUndoGroup(); }());"
)


def test_a_rerun_undoes_pulldown_inverted_alpha_and_loops_the_user_set(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh020"]), tmp_path)
    fiddle = _script(tmp_path, "interpret.jsx", REINTERPRET)
    first, fiddled, again = aejsx.run_in_model(script, fiddle, script)
    assert {f["main_source"]["remove_pulldown"] for f in items(fiddled, "Footage")} == {
        "PulldownPhase.WSSWW"
    }
    clean(again)
    for before, after in zip(
        items(first, "Footage"), items(again, "Footage"), strict=True
    ):
        assert after["main_source"] == before["main_source"]
        assert after["main_source"]["remove_pulldown"] == "PulldownPhase.OFF"
        assert after["main_source"]["invert_alpha"] is False
        assert after["main_source"]["loop"] == 1
        assert after["frame_rate"] == pytest.approx(24000 / 1001)
        assert after["duration"] == before["duration"]


def test_the_model_refuses_field_separation_off_while_pulldown_is_removed(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh020"]), tmp_path)
    poke = _script(
        tmp_path,
        "poke.jsx",
        REINTERPRET + " var s = app.project.item(2).mainSource;"
        " s.fieldSeparationType = FieldSeparationType.OFF;",
    )
    _, poked = aejsx.run_in_model(script, poke)
    assert "removePulldown is not PulldownPhase.OFF" in poked["uncaught"]


# ---------------------------------------------------------------------------------
# Markers: After Effects keeps one marker per time


def test_markers_on_one_frame_are_merged_keeping_every_comment_and_parameter(
    tmp_path: Path,
) -> None:
    data = aejsx.sample_data()["sh020"]
    data["markers"] = [
        {"frame": 1004, "name": "hit", "comment": "first", "parameters": {"take": "3"}},
        {
            "frame": 1004,
            "name": "sync",
            "comment": "second",
            "parameters": {"take": "5"},
        },
        {"frame": 1006, "name": "alone"},
    ]
    (snap,) = aejsx.run_in_model(build(aejsx.load(data), tmp_path))
    clean(snap)
    keys = the_comp(snap)["markers"]["keys"]
    assert len(keys) == 2
    merged = keys[0]["value"]
    for text in ("hit", "first", "sync", "second"):
        assert text in merged["comment"]
    assert merged["params"]["take"] == "3"
    assert "5" in [v for k, v in merged["params"].items() if k.startswith("take")]


USER_MARKER = (
    "(function () { var c, i, m; for (i = 1; i <= app.project.numItems; i++) {"
    " if (app.project.item(i) instanceof CompItem) { c = app.project.item(i); } }"
    " app.beginUndoGroup('mine'); m = new MarkerValue('my note'); m.chapter = 'ch 2';"
    " m.duration = 0.5; m.setParameters({mine: 'yes'});"
    " c.markerProperty.setValueAtTime(%s, m); app.endUndoGroup(); }());"
)


def test_a_marker_the_user_added_is_kept_and_restored(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh020"]
    with_marker = build(aejsx.load(data), tmp_path, "v1")
    data["markers"] = []
    without = build(aejsx.load(data), tmp_path, "v2")
    # Comp frame 1004 (the spec marker's frame) is 3 frames into the comp.
    user = _script(tmp_path, "user.jsx", USER_MARKER % f"{3 * 1001 / 24000!r}")
    _, mine, merged, again, restored = aejsx.run_in_model(
        without, user, with_marker, with_marker, without
    )
    (key,) = the_comp(mine)["markers"]["keys"]
    users = key["value"]
    assert users["comment"] == "my note"
    for snap in (merged, again):
        clean(snap)
        (key,) = the_comp(snap)["markers"]["keys"]
        value = key["value"]
        assert "my note" in value["comment"] and "hit" in value["comment"]
        assert value["chapter"] == "ch 2" and value["duration"] == 0.5
        assert value["params"]["mine"] == "yes" and value["params"]["take"] == "3"
    assert the_comp(again)["markers"] == the_comp(merged)["markers"]
    clean(restored)
    (key,) = the_comp(restored)["markers"]["keys"]
    assert key["value"] == users


# ---------------------------------------------------------------------------------
# The comp After Effects renders (the model's frame evaluation)


def _frame(evaluation: list[dict[str, Any]], frame: int) -> dict[str, Any]:
    (comp,) = evaluation
    (found,) = [f for f in comp["frames"] if f["frame"] == frame]
    return found


def test_a_pan_turns_the_camera(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh010"]
    data["camera"]["moves"] = [
        {"kind": "pan", "start": 1001, "end": 1005, "amount": 30},
        {"kind": "tilt", "start": 1005, "end": 1007, "amount": 10},
    ]
    runs, evaluation = aejsx.evaluate_in_model(build(aejsx.load(data), tmp_path))
    clean(runs[0])
    assert layer(runs[0], "Camera")["auto_orient"] == (
        "AutoOrientType.CAMERA_OR_POINT_OF_INTEREST"
    )
    cam = _frame(evaluation, 1003)["camera"]
    # Half way through a linear 30 degree pan to the right: 15 degrees about +y.
    s, c = math.sin(math.radians(15)), math.cos(math.radians(15))
    assert cam["direction"] == pytest.approx([s, 0, c], abs=1e-6)
    cam = _frame(evaluation, 1007)["camera"]
    s, c = math.sin(math.radians(30)), math.cos(math.radians(30))
    t_s, t_c = math.sin(math.radians(10)), math.cos(math.radians(10))
    assert cam["direction"] == pytest.approx([s * t_c, -t_s, c * t_c], abs=1e-6)


def test_the_camera_spans_the_comp_on_every_run(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh010"]
    short = build(aejsx.load(data), tmp_path, "short")
    data["comp"]["duration"] = 16
    longer = build(aejsx.load(data), tmp_path, "long")
    _, after = aejsx.run_in_model(short, longer)
    clean(after)
    cam = layer(after, "Camera")
    assert (cam["start_time"], cam["in_point"]) == (0, 0)
    assert cam["out_point"] == pytest.approx(16 / 24)


def test_a_track_matte_layer_never_renders_itself(tmp_path: Path) -> None:
    data = aejsx.sample_data()["sh030"]
    data["layers"][1]["enabled"] = True  # the spec asks for it; AE must not show it
    runs, evaluation = aejsx.evaluate_in_model(build(aejsx.load(data), tmp_path))
    clean(runs[0])
    assert layer(runs[0], "matte")["enabled"] is False
    (comp,) = evaluation
    for frame in comp["frames"]:
        (matte,) = [lay for lay in frame["layers"] if lay["name"] == "matte"]
        (fg,) = [lay for lay in frame["layers"] if lay["name"] == "fg"]
        assert matte["renders"] is False and fg["renders"] is True
        assert fg["track_matte"] == matte["tag"]


# ---------------------------------------------------------------------------------
# Colour management, the 3D renderer, unattended runs


def _note(snap: Snapshot) -> str:
    """The summary the script showed (an alert, as the run was attended)."""
    assert len(snap["alerts"]) == 1, snap["alerts"]
    text: str = snap["alerts"][0]
    return text


def test_a_new_project_is_a_colour_managed_linear_32_bpc_project(
    tmp_path: Path,
) -> None:
    (snap,) = aejsx.run_in_model(
        build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    )
    clean(snap)
    assert snap["project"] == {
        "bits_per_channel": 32,
        "linear_blending": True,
        "working_space": "sRGB IEC61966-2.1",
        "linearize": True,
    }
    assert snap["exit_code"] == 0
    assert any("aebridge built comp 'sh010'" in line for line in snap["written"])


def _acescg(data: dict[str, Any]) -> dict[str, Any]:
    for item in data["layers"]:
        item["source"]["colorspace"] = "ACEScg"
    return data


def test_an_acescg_comp_gets_the_acescg_working_space(tmp_path: Path) -> None:
    data = _acescg(aejsx.sample_data()["sh010"])
    (snap,) = aejsx.run_in_model(build(aejsx.load(data), tmp_path))
    clean(snap)
    assert snap["project"]["working_space"] == (
        "ACEScg ACES Working Space AMPAS S-2014-004"
    )
    assert snap["project"]["linearize"] is True


def test_a_missing_working_space_is_reported_and_the_build_goes_on(
    tmp_path: Path,
) -> None:
    data = _acescg(aejsx.sample_data()["sh010"])
    script = build(aejsx.load(data), tmp_path / "aces")
    data = aejsx.sample_data()["sh010"]
    data["comp"]["working_space"] = "No Such Profile"
    named = build(aejsx.load(data), tmp_path / "named")
    (aces,) = aejsx.run_in_model(script, profiles=["sRGB IEC61966-2.1"])
    assert aces["exit_code"] == 0 and len(items(aces, "Composition")) == 1
    assert aces["project"]["working_space"] == ""
    assert "no ACEScg working space" in _note(aces)
    (other,) = aejsx.run_in_model(named)
    assert other["exit_code"] == 0 and len(items(other, "Composition")) == 1
    assert "'No Such Profile' is not a colour profile" in _note(other)


def test_profile_names_are_matched_at_run_time(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    (snap,) = aejsx.run_in_model(
        script, profiles=["Rec.709 Gamma 2.4", "SRGB IEC61966 2.1"]
    )
    clean(snap)
    assert snap["project"]["working_space"] == "SRGB IEC61966 2.1"


OTHER_COMP = (
    "app.beginUndoGroup('mine'); app.project.items.addComp('mine', 100, 100, 1, 1, 25);"
    " app.project.bitsPerChannel = 8; app.endUndoGroup();"
)


def test_a_project_with_other_comps_keeps_its_settings_unless_asked(
    tmp_path: Path,
) -> None:
    data = aejsx.sample_data()["sh010"]
    auto = build(aejsx.load(data), tmp_path, "auto")
    data["comp"]["project_settings"] = "set"
    forced = build(aejsx.load(data), tmp_path, "set")
    data["comp"]["project_settings"] = "keep"
    kept = build(aejsx.load(data), tmp_path, "keep")
    theirs = _script(tmp_path, "theirs.jsx", OTHER_COMP)
    _, left = aejsx.run_in_model(theirs, auto)
    assert left["project"]["bits_per_channel"] == 8
    assert left["project"]["working_space"] == ""
    note = _note(left)
    assert "bits per channel is 8" in note and "32" in note
    assert "project_settings" in note
    _, changed = aejsx.run_in_model(theirs, forced)
    clean(changed)
    assert changed["project"]["bits_per_channel"] == 32
    assert changed["project"]["working_space"] == "sRGB IEC61966-2.1"
    (untouched,) = aejsx.run_in_model(kept)
    assert untouched["project"]["bits_per_channel"] == 8
    assert "bits per channel is 8" in _note(untouched)


def test_a_rerun_in_a_project_of_its_own_sets_the_settings_again(
    tmp_path: Path,
) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh010"]), tmp_path)
    eight = _script(
        tmp_path,
        "eight.jsx",
        "app.beginUndoGroup('u'); app.project.bitsPerChannel = 8; app.endUndoGroup();",
    )
    _, _, again = aejsx.run_in_model(script, eight, script)
    clean(again)
    assert again["project"]["bits_per_channel"] == 32


def test_the_comp_renders_with_classic_3d(tmp_path: Path) -> None:
    (snap,) = aejsx.run_in_model(
        build(aejsx.load(aejsx.sample_data()["sh030"]), tmp_path)
    )
    clean(snap)
    assert the_comp(snap)["renderer"] == "ADBE Advanced 3d"


def test_an_unattended_run_suppresses_dialogs(tmp_path: Path) -> None:
    script = build(aejsx.load(aejsx.sample_data()["sh030"]), tmp_path)
    (snap,) = aejsx.run_in_model(script, env={"AEBRIDGE_NO_ALERT": "1"})
    clean(snap)
    assert snap["dialogs"] == {
        "suppressed": 1,
        "resumed": 1,
        "unattended_writes_shown": [],
    }
    (attended,) = aejsx.run_in_model(script)
    assert attended["dialogs"]["suppressed"] == 0


def test_a_layer_keeping_its_light_becomes_a_cutout_and_an_additive_copy(
    tmp_path: Path,
) -> None:
    data = aejsx.sample_data()["sh030"]
    data["layers"][0]["light_under_alpha"] = "add"  # bg, blended normal
    data["layers"][0]["track_matte"] = {"layer": "matte", "type": "alpha"}
    first, second = aejsx.run_in_model(build(aejsx.load(data), tmp_path), runs=2)
    clean(first)
    assert second["items"] == [
        {**i, "replaced": 1} if i["type"] == "Footage" else i for i in first["items"]
    ]
    names = [lay["name"] for lay in the_comp(first)["layers"]]
    assert names.index("bg (light)") == names.index("bg") - 1  # just above
    bg, light = layer(first, "bg"), layer(first, "bg (light)")
    assert (bg["blend"], light["blend"]) == (
        "BlendingMode.SILHOUETE_ALPHA",
        "BlendingMode.ADD",
    )
    assert (
        bg["track_matte"]
        == light["track_matte"]
        == {
            "layer": "matte",
            "type": "TrackMatteType.ALPHA",
        }
    )
    assert light["three_d"] is True and light["properties"] == bg["properties"]
    footage = {f["name"]: f for f in items(first, "Footage")}
    assert footage["bg"]["main_source"]["alpha_mode"] == "AlphaMode.PREMULTIPLIED"
    assert footage["bg (light)"]["main_source"]["alpha_mode"] == "AlphaMode.IGNORE"
    assert footage["bg (light)"]["file"] == footage["bg"]["file"]


def test_rotations_the_user_gave_the_camera_are_put_back(tmp_path: Path) -> None:
    # The preview's camera turns only through its point of interest and roll; a
    # re-run puts back Orientation and X/Y Rotation someone changed in AE.
    data = aejsx.sample_data()["sh010"]
    script = build(aejsx.load(data), tmp_path)
    turn = _script(
        tmp_path,
        "turn.jsx",
        "(function () { var c, i, t; for (i = 1; i <= app.project.numItems; i++) {"
        " if (app.project.item(i) instanceof CompItem) { c = app.project.item(i); } }"
        " app.beginUndoGroup('turn'); t = c.layer(1).property('ADBE Transform Group');"
        " t.property('ADBE Rotate Y').setValue(30);"
        " t.property('ADBE Orientation').setValue([10, 0, 0]);"
        " app.endUndoGroup(); }());",
    )
    runs, evaluation = aejsx.evaluate_in_model(script, turn, script)
    clean(runs[2])
    props = layer(runs[2], "Camera")["properties"]
    assert props["ADBE Rotate Y"] == {"value": 0}
    assert props["ADBE Orientation"] == {"value": [0, 0, 0]}
    cam = _frame(evaluation, 1001)["camera"]
    assert cam["direction"] == pytest.approx([0, 0, 1], abs=1e-9)
