"""aebridge build end to end: samples, rebuilds, rates, progress, cancel, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aebridge import synthetic
from aebridge.api import STAGES, BuildProgress, BuildResult, build, check_sources
from aebridge.cli import main
from aebridge.errors import CanceledError, SpecError
from aebridge.model import ExrSequence, MarkerKind, Role
from aebridge.spec_io import load_spec, spec_hash

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def _exr_count(folder: Path) -> int:
    return len(list(folder.glob("*.exr")))


@pytest.mark.parametrize(
    ("shot", "layers", "rate"),
    [
        ("sh010", ["bg_plate", "fg"], Fraction(24)),
        ("sh020", ["bg_plate", "fg_alpha", "fx_alpha"], Fraction(24000, 1001)),
        (
            "sh030",
            ["bg", "fg", "glow", "glow_matte", "kf_comp_1", "kf_comp_3"],
            Fraction(24),
        ),
    ],
)
def test_every_sample_builds_its_layers_script_and_build_json(
    built: dict[str, BuildResult], shot: str, layers: list[str], rate: Fraction
) -> None:
    result = built[shot]
    assert result.comp_dir.name == shot
    assert result.script == result.comp_dir / f"{shot}.jsx"
    assert result.build_json == result.comp_dir / "build.json"
    assert [layer.id for layer in result.layers] == layers
    for layer in result.layers:
        folder = result.comp_dir / "layers" / layer.id
        expected = 1 if layer.id.startswith("kf_") else 48
        assert _exr_count(folder) == expected, layer.id
        assert layer.sequence.rate == rate
        assert (layer.sequence.width, layer.sequence.height) == (320, 180)
        assert layer.source_sha256 is not None and len(layer.source_sha256) == 64
    document = json.loads(result.build_json.read_text())
    assert document["schema"] == "aebridge.build/1"
    assert document["script"] == f"{shot}.jsx"
    assert sorted(document["layers"]) == sorted(layers)
    script = result.script.read_text()
    assert document["spec_hash"] in script
    assert document["build_id"] in script


def test_build_json_holds_the_spec_as_built_relative_to_the_comp_folder(
    built: dict[str, BuildResult],
) -> None:
    result = built["sh010"]
    document = json.loads(result.build_json.read_text())
    spec = load_spec(document["spec"], base_dir=result.comp_dir)
    assert spec_hash(spec) == document["spec_hash"]
    for layer in spec.layers:
        assert isinstance(layer.source, ExrSequence)
        assert layer.source.folder == f"layers/{layer.id}"
        assert (layer.source.first, layer.source.last) == (1001, 1048)
    original = load_spec(SAMPLES / "sh010" / "comp.json")
    assert document["source_spec_hash"] == spec_hash(original)
    assert document["layers"]["fg"]["source"] == "media/fg.####.png"


def test_conditioning_keyframes_become_markers_and_guide_layers(
    built: dict[str, BuildResult],
) -> None:
    document = json.loads(built["sh030"].build_json.read_text())
    spec = load_spec(document["spec"], base_dir=built["sh030"].comp_dir)
    keyframe_markers = [m for m in spec.markers if m.kind is MarkerKind.KEYFRAME]
    assert [(m.frame, m.name, m.comment) for m in keyframe_markers] == [
        (1001, "keyframe 1", "wide"),
        (1025, "keyframe 2", "halfway"),
        (1048, "keyframe 3", "close"),
    ]
    # Keyframe images in markers and provenance are relative to the comp folder.
    image = dict(keyframe_markers[0].parameters)["image"]
    assert (built["sh030"].comp_dir / image).resolve() == (
        SAMPLES / "sh030" / "media" / "bg.1001.png"
    )
    assert spec.provenance is not None
    assert spec.provenance.keyframes[0].image == image
    guides = [layer for layer in spec.layers if layer.role is Role.GUIDE]
    assert [(g.id, g.in_frame, g.out_frame, g.guide) for g in guides] == [
        ("kf_comp_1", 1001, 1002, True),
        ("kf_comp_3", 1048, 1049, True),
    ]


def test_rebuilding_skips_every_frame_and_rewrites_the_same_bytes(
    built: dict[str, BuildResult],
) -> None:
    first = built["sh010"]
    before = (first.build_json.read_bytes(), first.script.read_bytes())
    again = build(SAMPLES / "sh010" / "comp.json", first.comp_dir.parent, jobs=2)
    assert (again.build_json.read_bytes(), again.script.read_bytes()) == before
    assert sum(layer.frames_written for layer in again.layers) == 0
    assert sum(layer.frames_skipped for layer in again.layers) == 96


# -- small specs of our own ---------------------------------------------------------


def _tiny_spec(folder: Path, **layer: Any) -> dict[str, Any]:
    synthetic.write_png_sequence(folder / "media", "fg", frames=4, width=64, height=36)
    return {
        "schema": "aebridge.comp/1",
        "comp": {"name": "tiny", "width": 64, "height": 36, "rate": 24, "duration": 4},
        "layers": [{"id": "fg", "source": "media/fg.####.png", **layer}],
    }


def test_a_free_text_comp_name_builds_into_a_stable_slug(tmp_path: Path) -> None:
    data = _tiny_spec(tmp_path)
    data["comp"]["name"] = "SH010 comp v2 (final) \u65e5\u672c"
    spec_file = tmp_path / "a.json"
    spec_file.write_text(json.dumps(data))
    first = build(spec_file, tmp_path / "out", jobs=1)
    assert first.comp_dir == (tmp_path / "out" / "SH010_comp_v2_final").resolve()
    assert first.script.name == "SH010_comp_v2_final.jsx"
    document = json.loads(first.build_json.read_text())
    assert document["spec"]["comp"]["name"] == "SH010 comp v2 (final) \u65e5\u672c"
    assert document["source_spec"] == spec_file.resolve().as_posix()
    # The name reaches After Effects as it is (escaped in the ASCII script).
    assert "SH010 comp v2 (final) \\u65e5\\u672c" in first.script.read_text()
    again = build(spec_file, tmp_path / "out", jobs=1)
    assert again.comp_dir == first.comp_dir
    # Another name with the same slug is refused, naming both comps and specs.
    data["comp"]["name"] = "SH010 comp v2 [final] \u65e5\u672c"
    other = tmp_path / "b.json"
    other.write_text(json.dumps(data))
    with pytest.raises(SpecError) as info:
        build(other, tmp_path / "out", jobs=1)
    (problem,) = info.value.problems
    assert problem.path == "comp.name"
    assert "'SH010 comp v2 [final] \u65e5\u672c'" in problem.message
    assert "'SH010 comp v2 (final) \u65e5\u672c'" in problem.message
    assert spec_file.resolve().as_posix() in problem.message
    assert "comp.id" in problem.message
    # With an id of its own it builds beside the first.
    data["comp"]["id"] = "sh010_final_b"
    other.write_text(json.dumps(data))
    third = build(other, tmp_path / "out", jobs=1)
    assert third.comp_dir.name == "sh010_final_b"
    assert third.script.name == "sh010_final_b.jsx"


def test_progress_reports_every_stage_in_order(tmp_path: Path) -> None:
    events: list[BuildProgress] = []
    build(
        _tiny_spec(tmp_path),
        tmp_path / "out",
        base_dir=tmp_path,
        jobs=1,
        progress=events.append,
    )
    stages = list(dict.fromkeys(e.stage for e in events))
    assert stages == ["validate", "convert", "script", "build_json", "done"]
    assert set(stages) <= set(STAGES)
    converting = [e for e in events if e.stage == "convert"]
    assert all(e.layer == "fg" for e in converting)
    assert (converting[-1].frames_done, converting[-1].frames_total) == (4, 4)
    # The build's frames: known once the sources are probed (a validate report
    # before any frame), then done rises to the total.
    assert [(e.stage, e.build_frames_total) for e in events[:2]] == [
        ("validate", 0),
        ("validate", 4),
    ]
    assert {e.build_frames_total for e in events[1:]} == {4}
    dones = [e.build_frames_done for e in events]
    assert dones == sorted(dones) and events[-1].build_frames_done == 4


def test_a_set_cancel_event_stops_before_converting(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CanceledError, match="layer 'fg'"):
        build(_tiny_spec(tmp_path), tmp_path / "out", base_dir=tmp_path, cancel=cancel)
    assert not (tmp_path / "out" / "tiny" / "build.json").exists()


def _movie_spec(folder: Path, comp_rate: object) -> dict[str, Any]:
    synthetic.write_movie(
        folder / "clip.mp4",
        codec="h264",
        frames=4,
        width=64,
        height=36,
        rate=Fraction(30000, 1001),
    )
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "rates",
            "width": 32,
            "height": 18,
            "rate": comp_rate,
            "duration": 4,
        },
        "layers": [{"id": "clip", "source": "clip.mp4"}],
    }


def test_a_movie_rate_that_differs_is_conformed_with_a_warning(tmp_path: Path) -> None:
    result = build(
        _movie_spec(tmp_path, 24), tmp_path / "out", base_dir=tmp_path, jobs=1
    )
    assert result.warnings == (
        "layers[0].source: the source runs at 30000/1001 fps, the comp at 24 fps; "
        "After Effects conforms it to 24 fps (frame for frame)",
        "layers[0].source: 64x36 differs from the comp's 32x18; the layer is placed "
        "by its transform (centred by default)",
    )
    document = json.loads(result.build_json.read_text())
    assert document["warnings"] == list(result.warnings)


def test_rate_policy_refuse_fails_the_build_with_the_layer_path(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        build(
            _movie_spec(tmp_path, 24),
            tmp_path / "out",
            base_dir=tmp_path,
            jobs=1,
            rate_policy="refuse",
        )
    assert [(p.path, p.severity) for p in info.value.problems] == [
        ("layers[0].source", "error"),
        ("layers[0].source", "warning"),
    ]
    assert "runs at 30000/1001 fps, the comp at 24 fps" in str(info.value)
    # Sources are checked before anything is converted.
    assert not list((tmp_path / "out").rglob("*.exr"))


def test_check_sources_reports_what_only_the_media_can_tell(tmp_path: Path) -> None:
    spec = _movie_spec(tmp_path, 24)
    spec["layers"][0]["out_frame"] = 1010
    spec["comp"]["duration"] = 12
    problems = check_sources(spec, base_dir=tmp_path, rate_policy="refuse")
    assert [(p.severity, str(p)) for p in problems] == [
        (
            "error",
            "layers[0].source: the source runs at 30000/1001 fps, the comp at 24 fps; "
            "allowed with rate_policy 'conform' or a source rate equal to the comp's",
        ),
        (
            "warning",
            "layers[0].source: 64x36 differs from the comp's 32x18; the layer is "
            "placed by its transform (centred by default)",
        ),
        (
            "error",
            "layers[0].out_frame: 1010 is past the end of the source (4 frames from "
            "frame 1001); allowed: up to 1005",
        ),
    ]


def test_validate_sources_flag_opens_the_media(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(_movie_spec(tmp_path, 24)))
    plain = CliRunner().invoke(main, ["validate", str(path), "--rate-policy", "refuse"])
    assert plain.exit_code == 0, plain.output
    probed = CliRunner().invoke(
        main, ["validate", str(path), "--rate-policy", "refuse", "--sources"]
    )
    assert probed.exit_code == 1
    assert "error: layers[0].source: the source runs at 30000/1001 fps" in probed.output


def test_an_out_frame_past_the_source_end_is_reported(tmp_path: Path) -> None:
    spec = _tiny_spec(tmp_path, out_frame=1006)
    spec["comp"]["duration"] = 10
    with pytest.raises(SpecError) as info:
        build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert [str(p) for p in info.value.problems] == [
        "layers[0].out_frame: 1006 is past the end of the source (4 frames from "
        "frame 1001); allowed: up to 1005"
    ]


def test_preview_renders_beside_the_script(tmp_path: Path) -> None:
    result = build(
        _tiny_spec(tmp_path), tmp_path / "out", base_dir=tmp_path, jobs=1, preview=True
    )
    assert result.preview == result.comp_dir / "preview.mp4"
    assert result.preview.stat().st_size > 0


# -- the command line ------------------------------------------------------------------


def test_validate_reports_a_valid_sample(sample_media: Callable[[str], None]) -> None:
    sample_media("sh010")
    outcome = CliRunner().invoke(
        main, ["validate", str(SAMPLES / "sh010" / "comp.json")]
    )
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.strip().endswith("comp.json: valid")


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    spec = _tiny_spec(tmp_path, blend="mutliply", track_matte={"layer": "nope"})
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(spec))
    outcome = CliRunner().invoke(main, ["validate", str(path)])
    assert outcome.exit_code == 1
    assert (
        "error: layers[0].blend: 'mutliply' is not allowed; did you mean"
        in outcome.output
    )
    assert (
        "error: layers[0].track_matte.layer: no layer with id 'nope'; ids are: fg"
        in (outcome.output)
    )
    assert "comp.json: 2 errors" in outcome.output
    as_json = CliRunner().invoke(main, ["validate", str(path), "--json"])
    document = json.loads(as_json.stdout)
    assert document["valid"] is False
    assert [p["path"] for p in document["problems"]] == [
        "layers[0].blend",
        "layers[0].track_matte.layer",
    ]


def test_validate_runs_as_a_real_command(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text('{"schema": "aebridge.comp/1", "comp": {"name": "x"}}')
    proc = subprocess.run(
        [sys.executable, "-m", "aebridge", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "error: comp.width: missing; this field is required" in proc.stderr


def test_build_command_prints_what_it_wrote(tmp_path: Path) -> None:
    spec = _tiny_spec(tmp_path)
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "out"
    outcome = CliRunner().invoke(
        main, ["build", str(path), "-o", str(out), "--jobs", "1"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (
        f"script:     {(out / 'tiny' / 'tiny.jsx').resolve().as_posix()}"
        in outcome.output
    )
    assert "1 layers, 4 frames written, 0 up to date" in outcome.output
    broken = CliRunner().invoke(
        main, ["build", str(tmp_path / "none.json"), "-o", str(out)]
    )
    assert broken.exit_code == 1
    # One line naming the file (it was "1 problem in the comp spec:", then the
    # problem on a line of its own, and validate's did not name the file).
    missing = (tmp_path / "none.json").as_posix()
    assert f"error: {missing}: spec file not found\n" in broken.output
    assert "in the comp spec" not in broken.output
    checked = CliRunner().invoke(main, ["validate", missing])
    assert checked.exit_code == 1
    assert f"error: {missing}: spec file not found\n" in checked.output


def test_every_command_has_help_with_examples() -> None:
    for command in ("validate", "build"):
        text = CliRunner().invoke(main, [command, "-h"]).output
        assert "Examples:" in text and f"aebridge {command} " in text


def test_aep_path_reaches_the_script_relative_to_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(
        _tiny_spec(tmp_path), out, base_dir=tmp_path, jobs=1, aep=out / "shot.aep"
    )
    assert '"aep": "../shot.aep"' in result.script.read_text()


def test_an_unknown_colour_space_is_reported_before_converting(tmp_path: Path) -> None:
    spec = _tiny_spec(tmp_path)
    spec["layers"][0]["source"] = {"path": "media/fg.####.png", "colorspace": "bogus"}
    with pytest.raises(SpecError) as info:
        build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    (problem,) = info.value.problems
    assert problem.path == "layers[0].source.colorspace"
    assert problem.message.startswith("'bogus' is not allowed; allowed: ")
    assert "Linear Rec.709 (sRGB)" in problem.message
    spec["layers"][0]["source"]["colorspace"] = "srgb"
    assert check_sources(spec, base_dir=tmp_path) == ()


def _glow_source(folder: Path) -> None:
    """A premultiplied linear EXR source: frame 1002 holds 6 pixels of light under
    alpha 0."""
    import numpy as np
    import OpenImageIO as oiio

    folder.mkdir(parents=True, exist_ok=True)
    for frame in (1001, 1002, 1003):
        pixels = np.zeros((36, 64, 4), np.float32)
        pixels[:, :32] = (0.2, 0.1, 0.05, 0.5)
        if frame == 1002:
            pixels[0, 40:46, :3] = (0.0, 2.0, 1.0)
        spec = oiio.ImageSpec(64, 36, 4, "half")
        spec.channelnames = ("R", "G", "B", "A")
        spec.alpha_channel = 3
        out = oiio.ImageOutput.create(str(folder / f"glow.{frame}.exr"))
        assert out is not None
        out.open(str(folder / f"glow.{frame}.exr"), spec)
        out.write_image(pixels)
        out.close()


def test_light_under_alpha_zero_is_reported_and_can_be_kept(tmp_path: Path) -> None:
    _glow_source(tmp_path / "media")
    data = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "glow", "width": 64, "height": 36, "rate": 24, "duration": 3},
        "layers": [{"id": "fx", "source": "media/glow.####.exr"}],
    }
    spec_file = tmp_path / "comp.json"
    spec_file.write_text(json.dumps(data))
    outcome = CliRunner().invoke(
        main, ["build", str(spec_file), "-o", str(tmp_path / "out")]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (
        "warning: layers[0].source: 6 pixel(s) in 1 frame(s) (1002) hold light under "
        "alpha 0" in outcome.output
    )
    document = json.loads((tmp_path / "out" / "glow" / "build.json").read_text())
    assert document["layers"]["fx"]["light_under_alpha0"] == {
        "pixels": 6,
        "frames": "1002",
        "kept": False,
    }
    assert "glow#light" not in (tmp_path / "out" / "glow" / "glow.jsx").read_text()
    data["layers"][0]["light_under_alpha"] = "add"
    spec_file.write_text(json.dumps(data))
    kept = build(spec_file, tmp_path / "out", jobs=1)
    assert not any("light under alpha 0" in w for w in kept.warnings)
    document = json.loads(kept.build_json.read_text())
    assert document["layers"]["fx"]["light_under_alpha0"]["kept"] is True
    assert '"fx#light"' in kept.script.read_text()
