"""The build plan and the script text: exact values, error messages, and contracts
that keep jsx/aebridge.jsx in step with the Python enums."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from aebridge.animation import Interpolation
from aebridge.emit import (
    PLAN_SCHEMA,
    build_plan,
    default_build_id,
    library_path,
    render_script,
    write_script,
)
from aebridge.emit import script as script_module
from aebridge.errors import OptionError, OutputError, SourceError, SpecError
from aebridge.model import BlendMode, CompSpec, ExrSequence, MatteType
from aebridge.spec_io import load_spec

LIBRARY = library_path().read_text()
EASY = round(100 / 3, 6)
LINEAR = round(100 / 6, 6)


def seq(name: str, first: int = 1001, last: int = 1010) -> dict[str, Any]:
    return {
        "folder": f"layers/{name}",
        "name": name,
        "first": first,
        "last": last,
        "rate": "24000/1001",
        "width": 64,
        "height": 36,
    }


def spec_of(**changes: Any) -> CompSpec:
    data: dict[str, Any] = {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "sh010",
            "width": 64,
            "height": 36,
            "rate": "24000/1001",
            "duration": 10,
        },
        "layers": [
            {"id": "bg", "source": seq("bg")},
            {
                "id": "fg",
                "name": "Hero",
                "source": seq("fg", 1001, 1004),
                "blend": "screen",
                "start": 1003,
                "track_matte": {"layer": "bg", "type": "alpha_inverted"},
                "transform": {
                    "position": {
                        "keyframes": [
                            {"frame": 1003, "value": [0, 0], "easing": "ease_out"},
                            {"frame": 1006, "value": [30, 40], "easing": "hold"},
                            {"frame": 1007, "value": [30, 40]},
                        ]
                    },
                    "scale": {
                        "keyframes": [
                            {"frame": 1003, "value": [100, 100]},
                            {"frame": 1005, "value": [120, 90], "easing": "ease_in"},
                        ]
                    },
                    "rotation": {
                        "keyframes": [
                            {
                                "frame": 1003,
                                "value": 0,
                                "easing": {"out": {"speed": 5, "influence": 60}},
                            },
                            {"frame": 1005, "value": -10},
                        ]
                    },
                },
            },
        ],
        "markers": [{"frame": 1004, "name": "hit", "parameters": {"take": "3"}}],
    }
    data.update(changes)
    return load_spec(data, check_files=False)


def plan_of(spec: CompSpec | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("script_dir", Path("/shots/out/sh010"))
    kwargs.setdefault("build_id", "b1")
    return build_plan(spec or spec_of(), {}, **kwargs)


# ---------------------------------------------------------------------------------
# The plan


def test_plan_top_level_and_comp() -> None:
    plan = plan_of(spec_hash="abc", generator="aebridge 9")
    assert plan["schema"] == PLAN_SCHEMA == "aebridge.plan/2"
    assert (plan["build_id"], plan["spec_hash"], plan["generator"]) == (
        "b1",
        "abc",
        "aebridge 9",
    )
    assert plan["project"] == {
        "settings": "auto",
        "bpc": 32,
        "linear_blending": True,
        "colorspace": "Linear Rec.709 (sRGB)",
        "primaries": "rec709",
        "working_space": None,
    }
    assert plan["folder"] == "sh010"
    assert plan["comp"] == {
        "name": "sh010",
        "width": 64,
        "height": 36,
        "pixel_aspect": 1,
        "rate_num": 24000,
        "rate_den": 1001,
        "duration": 10,
        "start_frame": 1001,
        "bg": [0, 0, 0],
        "renderer": "classic_3d",
        "comment": "built by aebridge 9\nspec sha256: abc",
    }
    assert plan["camera"] is None and plan["aep"] is None


def test_the_working_space_follows_the_bottom_drawn_layer() -> None:
    aces = {**seq("bg"), "colorspace": "ACEScg"}
    spec = spec_of(
        layers=[
            {"id": "ref", "source": seq("ref"), "role": "guide"},
            {"id": "bg", "source": aces},
            {"id": "fg", "source": seq("fg")},
        ]
    )
    project = plan_of(spec)["project"]
    assert (project["colorspace"], project["primaries"]) == ("ACEScg", "ap1")
    other = {**seq("bg"), "colorspace": "Linear P3-D65"}
    project = plan_of(spec_of(layers=[{"id": "bg", "source": other}]))["project"]
    assert (project["colorspace"], project["primaries"]) == ("Linear P3-D65", None)


def test_footage_entries_use_relative_first_frames_and_the_comp_rate() -> None:
    plan = plan_of()
    assert [f["path"] for f in plan["footage"]] == [
        "layers/bg/bg.1001.exr",
        "layers/fg/fg.1001.exr",
    ]
    fg = plan["footage"][1]
    keys = ("id", "name", "first", "last", "padding", "rate_num", "rate_den")
    assert {k: fg[k] for k in keys} == {
        "id": "fg",
        "name": "fg",
        "first": 1001,
        "last": 1004,
        "padding": 4,
        "rate_num": 24000,
        "rate_den": 1001,
    }
    assert fg["comment"].splitlines()[0] == "layer: fg"


def test_converted_sequences_with_absolute_folders_become_relative() -> None:
    spec = spec_of()
    converted = {
        "bg": ExrSequence(
            folder="/shots/out/sh010/layers/bg v2",
            name="bg",
            first=1001,
            last=1010,
            rate=Fraction(24000, 1001),
            width=64,
            height=36,
        )
    }
    plan = build_plan(
        spec,
        converted,
        script_dir="/shots/out/sh010",
        build_id="b1",
        aep="/shots/out/sh010.aep",
    )
    assert plan["footage"][0]["path"] == "layers/bg v2/bg.1001.exr"
    assert plan["aep"] == "../sh010.aep"


def test_layer_entry_timing_blend_and_matte() -> None:
    bg, fg = plan_of()["layers"]
    assert bg["start"] == 1001 and bg["in_frame"] == 1001 and bg["out_frame"] == 1011
    assert bg["matte"] is None and bg["blend"] == "normal"
    assert bg["transform"] == {"opacity": {"value": 100}}
    assert fg["name"] == "Hero" and fg["footage"] == "fg"
    assert (fg["start"], fg["in_frame"], fg["out_frame"]) == (1003, 1003, 1007)
    assert fg["blend"] == "screen"
    assert fg["matte"] == {"layer": "bg", "type": "alpha_inverted"}
    assert fg["comment"] == "role: element"


def test_stretch_lengthens_the_default_out_frame() -> None:
    data_layers = [{"id": "bg", "source": seq("bg", 1001, 1003), "stretch": 250}]
    spec = spec_of(layers=data_layers)
    (layer,) = plan_of(spec)["layers"]
    assert layer["out_frame"] == 1001 + 3 * 2.5
    assert layer["stretch"] == 250


def test_position_keys_ease_out_hold_and_chord_speed() -> None:
    keys = plan_of()["layers"][1]["transform"]["position"]["keys"]
    seconds = 3 * 1001 / 24000
    chord = round(50 / seconds, 6)  # |(30, 40)| = 50 pixels along the path
    assert keys[0] == {
        "frame": 1003,
        "value": [0, 0],
        "in_type": "linear",
        "out_type": "bezier",
        "ease_in": {"speed": 0, "influence": LINEAR},
        "ease_out": {"speed": 0, "influence": EASY},
    }
    assert keys[1] == {
        "frame": 1006,
        "value": [30, 40],
        "in_type": "linear",
        "out_type": "hold",
        "ease_in": {"speed": chord, "influence": LINEAR},
        "ease_out": {"speed": 0, "influence": LINEAR},
    }
    assert keys[2]["in_type"] == "hold"


def test_scale_speeds_are_per_dimension_and_rotation_signed() -> None:
    transform = plan_of()["layers"][1]["transform"]
    first, second = transform["scale"]["keys"]
    seconds = 2 * 1001 / 24000
    per_dim = [round(20 / seconds, 6), round(-10 / seconds, 6)]
    assert first["ease_out"] == {"speed": per_dim, "influence": LINEAR}
    assert second["ease_in"] == {"speed": 0, "influence": EASY}
    assert (second["in_type"], second["out_type"]) == ("bezier", "linear")
    rot0, rot1 = transform["rotation"]["keys"]
    assert rot0["ease_out"] == {"speed": 5, "influence": 60}
    assert rot0["out_type"] == "bezier"
    assert rot1["ease_in"] == {"speed": round(-10 / seconds, 6), "influence": LINEAR}


def test_markers_keep_their_parameters_and_kind() -> None:
    assert plan_of()["markers"] == [
        {
            "frame": 1004,
            "name": "hit",
            "comment": "",
            "duration": 0,
            "label": None,
            "params": [["take", "3"], ["aebridge_kind", "note"]],
        }
    ]


def test_markers_on_one_frame_become_one_plan_marker() -> None:
    from aebridge.emit.markers import plan_markers
    from aebridge.model import Marker, MarkerKind

    merged = plan_markers(
        (
            Marker(frame=1010, name="later"),
            Marker(
                frame=1004,
                name="keyframe 2",
                comment="halfway",
                parameters=(("source_frame", "3"),),
                kind=MarkerKind.KEYFRAME,
            ),
            Marker(
                frame=1004,
                name="fg keyframe 1",
                comment="close",
                duration=2,
                parameters=(("layer", "fg"), ("source_frame", "0")),
                kind=MarkerKind.KEYFRAME,
            ),
            Marker(frame=1004, name="hit", label=3, parameters=(("take", "3"),)),
        )
    )
    assert merged == [
        {
            "frame": 1004,
            "name": "keyframe 2 + fg keyframe 1 + hit",
            "comment": "keyframe 2: halfway\nfg keyframe 1: close",
            "duration": 2,
            "label": 3,
            "params": [
                ["source_frame", "3"],
                ["layer", "fg"],
                ["source_frame (2)", "0"],
                ["take", "3"],
                ["aebridge_kind", "keyframe,note"],
            ],
        },
        {
            "frame": 1010,
            "name": "later",
            "comment": "",
            "duration": 0,
            "label": None,
            "params": [["aebridge_kind", "note"]],
        },
    ]


def test_camera_comes_from_camera_keys() -> None:
    spec = spec_of(
        camera={
            "moves": [
                {
                    "kind": "dolly",
                    "start": 1001,
                    "end": 1005,
                    "amount": 10,
                    "easing": "ease_in_out",
                }
            ]
        },
        layers=[{"id": "bg", "source": seq("bg"), "three_d": True}],
    )
    camera = plan_of(spec)["camera"]
    assert camera["name"] == "Camera" and camera["auto_orient"] is True
    assert camera["zoom"] == {"value": round(64 * 50 / 36, 6)}
    assert camera["roll"] == {"value": 0}
    first, last = camera["position"]["keys"]
    assert first["value"] == [32, 18, round(-64 * 50 / 36, 6)]
    assert last["value"][2] == round(-64 * 50 / 36 + 10, 6)
    assert first["ease_out"] == {"speed": 0, "influence": EASY}
    assert (first["out_type"], last["in_type"]) == ("bezier", "bezier")


def test_an_unconverted_layer_is_a_spec_error_with_its_path() -> None:
    spec = spec_of(layers=[{"id": "bg", "source": "media/bg.####.png"}])
    with pytest.raises(SpecError) as info:
        plan_of(spec)
    assert str(info.value.problems[0]) == (
        "layers[0].source: layer 'bg' has not been converted: pass its EXR sequence "
        "(converted layers given: none)"
    )


def test_a_bad_build_id_is_refused() -> None:
    with pytest.raises(OptionError, match=r"build_id: 'a b' is not allowed; allowed: "):
        plan_of(build_id="a b")


def test_a_build_id_is_stable_per_comp_name() -> None:
    a = default_build_id(spec_of())
    assert re.fullmatch(r"ab[0-9a-f]{12}", a)
    # Content changes keep the id (a rebuild updates the same comp in AE) ...
    assert default_build_id(spec_of(markers=[])) == a
    # ... another comp gets another id.
    from dataclasses import replace

    spec = spec_of()
    assert default_build_id(replace(spec, comp=replace(spec.comp, name="sh020"))) != a


# ---------------------------------------------------------------------------------
# The script text

HOSTILE = 'it\'s "q" \\ */ \u2028 \u2029 caf\u00e9 </script> \U0001f3ac'


def _literal(text: str) -> tuple[str, Any]:
    head, rest = text.split("\nvar plan = ", 1)
    literal, tail = rest.split(";\n\naebridge_build(plan);", 1)
    return head + "\n@@\n" + tail, json.loads(literal)


def test_script_header_library_literal_and_one_call() -> None:
    plan = plan_of()
    text = render_script(plan, spec_hash="abc123", version="1.2.3")
    lines = text.splitlines()
    assert lines[:7] == [
        "//@target aftereffects",
        "// Generated by aebridge 1.2.3. Do not edit: regenerate it instead.",
        "// spec sha256: abc123",
        "// build id: b1",
        "// Run in After Effects 23.0 or later: File > Scripts > Run Script File.",
        "// Footage paths are relative to this file's folder.",
        "(function () {",
    ]
    assert LIBRARY.rstrip("\n") in text
    assert text.endswith("\naebridge_build(plan);\n}());\n")
    assert text.count("aebridge_build(plan);") == 1
    _, literal = _literal(text)
    assert literal == plan


def test_script_is_deterministic_ascii_and_values_never_reach_code() -> None:
    plain = plan_of()
    hostile = plan_of()
    hostile["comp"]["name"] = HOSTILE
    hostile["layers"][0]["name"] = HOSTILE * 100
    hostile["footage"][0]["path"] = "layers/" + HOSTILE + "/x.exr"
    a = render_script(plain, spec_hash="h", version="v")
    b = render_script(hostile, spec_hash="h", version="v")
    assert a == render_script(plan_of(), spec_hash="h", version="v")
    b.encode("ascii")  # no raw U+2028/U+2029 or any other non-ASCII
    assert "\\u2028" in b and "\\u2029" in b
    code_a, _ = _literal(a)
    code_b, literal_b = _literal(b)
    assert code_a == code_b
    assert literal_b["comp"]["name"] == HOSTILE


def test_header_values_are_checked() -> None:
    with pytest.raises(OptionError, match=r"^version: '1\\n2' is not allowed"):
        render_script(plan_of(), spec_hash="h", version="1\n2")
    with pytest.raises(OptionError, match=r"^spec_hash: "):
        render_script(plan_of(), spec_hash="*/", version="1")


def test_a_missing_library_is_reported_by_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gone = tmp_path / "jsx" / "aebridge.jsx"
    monkeypatch.setattr(script_module, "library_path", lambda: gone)
    with pytest.raises(
        SourceError, match=rf"^{re.escape(str(gone))}: the ExtendScript"
    ):
        render_script(plan_of(), spec_hash="h", version="1")


def test_write_script_writes_atomically(tmp_path: Path) -> None:
    out = write_script(spec_of(), {}, tmp_path / "sh010" / "sh010.jsx", build_id="b1")
    assert out == tmp_path / "sh010" / "sh010.jsx"
    text = out.read_text(encoding="ascii")
    assert "// build id: b1" in text
    from aebridge import __version__

    assert f"// Generated by aebridge {__version__}. Do not edit" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["sh010.jsx"]


def test_written_script_is_readable_by_others_under_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        out = write_script(spec_of(), {}, tmp_path / "s.jsx", build_id="b1")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_writing_a_script_never_touches_the_process_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service writes scripts on worker threads while other threads create files:
    # reading the umask by setting it (os.umask(0), then back) would let those files
    # be made world-writable in between.
    import os

    def refuse(_mask: int) -> int:
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", refuse)
    out = write_script(spec_of(), {}, tmp_path / "s.jsx", build_id="b1")
    assert out.exists()


def test_write_script_into_a_file_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot write the script"):
        write_script(spec_of(), {}, blocker / "sh010.jsx")


def test_the_emitter_imports_no_pixel_libraries() -> None:
    code = (
        "import sys, aebridge.emit as e\n"
        "from aebridge.spec_io import load_spec\n"
        "bad = {'numpy', 'OpenImageIO', 'av', 'aebridge.exr', 'aebridge.ingest'}\n"
        "print(sorted(bad & set(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------
# Contracts between jsx/aebridge.jsx and the Python enums


def _table(function: str) -> dict[str, str]:
    body = LIBRARY.split(f"function {function}() {{", 1)[1].split("}", 1)[0]
    return dict(re.findall(r'"([a-z_]+)": ([A-Za-z]+\.[A-Z_]+)', body))


def test_the_blend_table_covers_every_blend_mode_by_name() -> None:
    table = _table("aeb_blendTable")
    assert set(table) == {m.value for m in BlendMode}
    for name, constant in table.items():
        expected = name.upper().replace("SILHOUETTE_ALPHA", "SILHOUETE_ALPHA")
        assert constant == f"BlendingMode.{expected}"


def test_the_matte_and_interpolation_tables_cover_their_enums() -> None:
    assert _table("aeb_matteTable") == {
        m.value: f"TrackMatteType.{m.name}" for m in MatteType
    }
    assert _table("aeb_interpolationTable") == {
        i.value: f"KeyframeInterpolationType.{i.name}" for i in Interpolation
    }
