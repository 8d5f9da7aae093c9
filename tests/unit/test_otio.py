"""OpenTimelineIO export: a built comp as tracks, image sequence clips and markers."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aebridge import synthetic
from aebridge.api import build
from aebridge.cli import main
from aebridge.errors import MissingExtraError, OptionError, SourceError
from aebridge.otio import MARKER_COLOURS, to_timeline, write_otio

otio = pytest.importorskip("opentimelineio")

RATE = float(Fraction(24000, 1001))

#: A 6-frame comp at 23.976 over 4-frame layers: a background, a luma matte (off), a
#: foreground starting a frame late with a track matte, a layer starting before the
#: comp, one at half speed with in/out points, one reversed, one conformed from 24,
#: a guide layer running past the comp's end, one that ends before the comp begins.
SPEC: dict[str, Any] = {
    "schema": "aebridge.comp/1",
    "comp": {
        "name": "tiny",
        "width": 32,
        "height": 18,
        "rate": "24000/1001",
        "duration": 6,
        "start_frame": 1001,
    },
    "layers": [
        {"id": "bg", "source": "media/bg.####.png", "role": "background"},
        {"id": "mt", "source": "media/mt.####.png", "role": "matte", "enabled": False},
        {
            "id": "fg",
            "name": "Foreground",
            "source": {"path": "media/fg.####.png", "alpha": "straight"},
            "start": 1002,
            "blend": "screen",
            "opacity": 50,
            "three_d": True,
            "track_matte": {"layer": "mt", "type": "luma"},
            "provenance": {
                "generator": "gen-x",
                "prompt": "a disc",
                "seed": 7,
                "keyframes": [{"frame": 1, "prompt": "disc enters"}],
            },
        },
        {"id": "early", "source": "media/bg.####.png", "start": 999},
        {
            "id": "slow",
            "source": "media/bg.####.png",
            "stretch": 200,
            "in_frame": 1002,
            "out_frame": 1006,
        },
        {"id": "rev", "source": "media/bg.####.png", "stretch": -100, "start": 1006},
        {"id": "pal", "source": {"path": "media/bg.####.png", "rate": 24}},
        {"id": "late", "source": "media/bg.####.png", "start": 1004, "role": "guide"},
        {"id": "gone", "source": "media/bg.####.png", "start": 995},
    ],
    "markers": [
        {"frame": 1003, "name": "mid", "comment": "half way", "label": 3, "duration": 2}
    ],
}


@pytest.fixture(scope="module")
def build_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("otio")
    for name in ("bg", "mt", "fg"):
        synthetic.write_png_sequence(
            root / "media", name, frames=4, width=32, height=18
        )
    return build(SPEC, root / "out", base_dir=root, jobs=1).build_json


@pytest.fixture(scope="module")
def timeline(build_json: Path) -> Any:
    return to_timeline(build_json)


def _clip(timeline: Any, track_name: str) -> Any:
    (track,) = [t for t in timeline.tracks if t.name == track_name]
    (clip,) = track.find_clips()
    return clip


def _plain(value: Any) -> Any:
    """OTIO metadata (AnyDictionary, AnyVector) as plain dicts and lists to compare."""
    if hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    return [_plain(item) for item in value]


def _url_path(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))


def test_one_video_track_per_layer_bottom_to_top(timeline: Any) -> None:
    assert timeline.name == "tiny"
    assert [t.name for t in timeline.tracks] == [
        "bg",
        "mt",
        "Foreground",
        "early",
        "slow",
        "rev",
        "pal",
        "late",
        "gone",
    ]
    assert {t.kind for t in timeline.tracks} == {otio.schema.TrackKind.Video}
    assert [t.metadata["aebridge"]["id"] for t in timeline.tracks][:3] == [
        "bg",
        "mt",
        "fg",
    ]


def test_timeline_starts_at_the_comp_first_frame_and_every_track_spans_the_comp(
    timeline: Any,
) -> None:
    assert timeline.global_start_time == otio.opentime.RationalTime(1001, RATE)
    assert timeline.global_start_time.rate == RATE  # the float of 24000/1001 exactly
    assert timeline.duration() == otio.opentime.RationalTime(6, RATE)
    for track in timeline.tracks:
        assert track.duration() == otio.opentime.RationalTime(6, RATE), track.name


@pytest.mark.parametrize(
    ("track", "at", "frames", "first_shown"),
    [
        ("bg", 0, 4, 1001),
        ("mt", 0, 4, 1001),
        ("Foreground", 1, 4, 1001),  # starts on comp frame 1002
        ("early", 0, 2, 1003),  # starts at 999: its first two frames are before 1001
        ("slow", 1, 4, 1001),  # 200 %: comp 1002 is half a frame into the source
        ("rev", 1, 4, 1004),  # reversed, ends at 1006: comp 1002 shows the last frame
        ("pal", 0, 4, 1001),
        ("late", 3, 3, 1001),  # 1004-1007, cut at the comp's last frame 1006
    ],
)
def test_clips_sit_at_their_layer_frames_with_gaps_around_them(
    timeline: Any, track: str, at: int, frames: int, first_shown: int
) -> None:
    clip = _clip(timeline, track)
    placed = clip.range_in_parent()
    assert placed.start_time == otio.opentime.RationalTime(at, RATE)
    assert placed.duration == otio.opentime.RationalTime(frames, RATE)
    assert clip.source_range.start_time.value == first_shown
    kinds = [type(item).__name__ for item in clip.parent()]
    expected = ["Gap"] * bool(at) + ["Clip"] + ["Gap"] * bool(6 - at - frames)
    assert kinds == expected


def test_a_layer_that_never_shows_keeps_its_track_as_one_gap(timeline: Any) -> None:
    (track,) = [t for t in timeline.tracks if t.name == "gone"]
    assert [type(item).__name__ for item in track] == ["Gap"]
    assert track.duration() == otio.opentime.RationalTime(6, RATE)
    meta = track.metadata["aebridge"]
    assert (meta["id"], meta["shown"], meta["in_frame"], meta["start"]) == (
        "gone",
        False,
        None,
        995,
    )


def test_stretched_reversed_and_conformed_layers_carry_a_time_warp(
    timeline: Any,
) -> None:
    scalars = {
        name: [e.time_scalar for e in _clip(timeline, name).effects]
        for name in ("bg", "slow", "rev", "pal")
    }
    assert scalars == {
        "bg": [],
        "slow": [0.5],
        "rev": [-1.0],
        # 24 fps frames played one per 23.976 comp frame: 24000/1001 / 24 of speed.
        "pal": [float(Fraction(1000, 1001))],
    }
    warp = _clip(timeline, "pal").effects[0]
    assert warp.metadata["aebridge"]["time_scalar"] == "1000/1001"
    assert _clip(timeline, "pal").media_reference.rate == 24.0


def test_media_is_an_image_sequence_reference_to_the_exr_frames(
    timeline: Any, build_json: Path
) -> None:
    ref = _clip(timeline, "Foreground").media_reference
    assert isinstance(ref, otio.schema.ImageSequenceReference)
    folder = build_json.parent / "layers" / "fg"
    assert ref.target_url_base == folder.resolve().as_uri() + "/"
    assert (ref.name_prefix, ref.name_suffix) == ("fg.", ".exr")
    assert (ref.start_frame, ref.frame_step, ref.frame_zero_padding) == (1001, 1, 4)
    assert ref.rate == RATE
    assert ref.metadata["aebridge"]["rate"] == "24000/1001"
    assert (ref.metadata["aebridge"]["width"], ref.metadata["aebridge"]["height"]) == (
        32,
        18,
    )
    assert ref.available_range == otio.opentime.TimeRange(
        otio.opentime.RationalTime(1001, RATE), otio.opentime.RationalTime(4, RATE)
    )
    assert ref.number_of_images_in_sequence() == 4
    first = _url_path(ref.target_url_for_image_number(0))
    last = _url_path(ref.target_url_for_image_number(3))
    assert first == folder.resolve() / "fg.1001.exr" and first.is_file()
    assert last == folder.resolve() / "fg.1004.exr" and last.is_file()


def test_relative_urls_resolve_from_the_given_folder(build_json: Path) -> None:
    here = build_json.parent.parent
    timeline = to_timeline(build_json, relative_to=here)
    ref = _clip(timeline, "bg").media_reference
    assert ref.target_url_base == "tiny/layers/bg/"
    assert (here / ref.target_url_for_image_number(0)).is_file()


def test_comp_markers_are_stack_markers_with_name_comment_and_colour(
    timeline: Any,
) -> None:
    markers = {m.name: m for m in timeline.tracks.markers}
    assert sorted(markers) == ["fg keyframe 1", "mid"]
    mid = markers["mid"]
    assert (mid.comment, mid.color) == ("half way", "CYAN")  # AE label 3 is Aqua
    assert mid.marked_range == otio.opentime.TimeRange(
        otio.opentime.RationalTime(2, RATE), otio.opentime.RationalTime(2, RATE)
    )
    assert (timeline.global_start_time + mid.marked_range.start_time).value == 1003
    assert dict(mid.metadata["aebridge"]) == {
        "frame": 1003,
        "kind": "note",
        "label": 3,
        "parameters": {},
    }
    key = markers["fg keyframe 1"]
    assert (key.comment, key.color) == ("disc enters", MARKER_COLOURS[0])
    assert key.metadata["aebridge"]["kind"] == "keyframe"
    assert key.metadata["aebridge"]["frame"] == 1003  # layer start 1002 + frame 1


def test_aebridge_metadata_keeps_what_otio_has_no_field_for(
    timeline: Any, build_json: Path
) -> None:
    document = json.loads(build_json.read_text())
    meta = timeline.metadata["aebridge"]
    assert meta["build_id"] == document["build_id"]
    assert meta["spec_hash"] == document["spec_hash"]
    assert meta["comp"]["rate"] == "24000/1001"
    fg = _clip(timeline, "Foreground").metadata["aebridge"]
    assert (fg["id"], fg["role"], fg["blend"], fg["opacity"]) == (
        "fg",
        "element",
        "screen",
        50,
    )
    assert fg["three_d"] is True
    assert (fg["shown"], fg["in_frame"], fg["out_frame"]) == (True, 1002, 1006)
    (track,) = [t for t in timeline.tracks if t.name == "Foreground"]
    # The layer's settings are on its track too.
    assert _plain(track.metadata["aebridge"]) == _plain(fg)
    assert dict(fg["track_matte"]) == {"layer": "mt", "type": "luma"}
    assert fg["provenance"]["prompt"] == "a disc" and fg["provenance"]["seed"] == 7
    matte = _clip(timeline, "mt")
    assert matte.enabled is False and matte.metadata["aebridge"]["enabled"] is False
    assert _clip(timeline, "bg").enabled is True
    guide = _clip(timeline, "late")  # shown in AE, never rendered
    assert guide.enabled is False and guide.metadata["aebridge"]["guide"] is True
    # JSON-safe: the OTIO JSON text holds every value as plain JSON.
    text = otio.adapters.write_to_string(timeline, "otio_json")
    assert json.loads(text)["metadata"]["aebridge"]["build_id"] == document["build_id"]


@pytest.mark.parametrize("suffix", [".otio", ".otioz", ".otiod"])
def test_written_file_reads_back_equivalent(
    build_json: Path, timeline: Any, tmp_path: Path, suffix: str
) -> None:
    out = write_otio(build_json, tmp_path / "edit" / f"tiny{suffix}")
    assert out == tmp_path / "edit" / f"tiny{suffix}"
    again = otio.adapters.read_from_file(str(out))
    assert again.is_equivalent_to(timeline)
    assert [p.name for p in (tmp_path / "edit").iterdir()] == [f"tiny{suffix}"]


def test_relative_file_points_at_the_frames_from_its_own_folder(
    build_json: Path, tmp_path: Path
) -> None:
    out = write_otio(build_json, tmp_path / "tiny.otio", relative=True)
    again = otio.adapters.read_from_file(str(out))
    ref = _clip(again, "Foreground").media_reference
    assert not ref.target_url_base.startswith("file:")
    assert (tmp_path / ref.target_url_for_image_number(3)).resolve().is_file()


def test_a_relative_bundle_points_at_the_frames_from_inside_it(
    build_json: Path, tmp_path: Path
) -> None:
    out = write_otio(build_json, tmp_path / "tiny.otiod", relative=True)
    again = otio.adapters.read_from_file(str(out))
    ref = _clip(again, "bg").media_reference
    assert (out / ref.target_url_for_image_number(0)).resolve().is_file()
    with pytest.raises(OptionError, match="--relative"):
        write_otio(build_json, tmp_path / "tiny.otioz", relative=True)


def test_an_extension_no_adapter_writes_is_refused_with_the_choices(
    build_json: Path, tmp_path: Path
) -> None:
    with pytest.raises(OptionError) as info:
        write_otio(build_json, tmp_path / "tiny.edl")
    assert "-o/--out" in str(info.value) and "tiny.edl" in str(info.value)
    assert "a file ending in .otio" in str(info.value)
    assert not (tmp_path / "tiny.edl").exists()


def test_a_missing_build_json_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "build.json"
    with pytest.raises(SourceError, match=r"build\.json not found") as info:
        to_timeline(missing)
    assert str(missing) in str(info.value)


def test_a_layer_that_is_not_converted_is_refused(build_json: Path) -> None:
    document = json.loads(build_json.read_text())
    media = build_json.parent.parent.parent / "media"
    document["spec"]["layers"][0]["source"] = str(media / "bg.####.png")
    # Beside the real one: the other layers' EXR folders are relative to it.
    unconverted = build_json.parent / "unconverted.json"
    unconverted.write_text(json.dumps(document))
    with pytest.raises(SourceError, match=r"layers\[0\]\.source is not a converted"):
        to_timeline(unconverted)


def test_without_opentimelineio_the_error_says_how_to_install_it(
    build_json: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentimelineio", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'aebridge\[otio\]'"):
        to_timeline(build_json)


def test_cli_writes_beside_the_build_json_by_default(build_json: Path) -> None:
    result = CliRunner().invoke(main, ["otio", str(build_json)])
    assert result.exit_code == 0, result.output
    written = build_json.parent / "tiny.otio"
    assert result.output.strip() == str(written)
    assert len(otio.adapters.read_from_file(str(written)).tracks) == 9


def test_cli_reports_a_bad_extension_without_a_traceback(
    build_json: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, ["otio", str(build_json), "-o", str(tmp_path / "x.txt")]
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: -o/--out")
    assert "Traceback" not in result.output


def test_cli_runs_as_a_real_subprocess(build_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.otio"
    run = subprocess.run(
        [sys.executable, "-m", "aebridge", "otio", str(build_json), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(out)
    assert otio.adapters.read_from_file(str(out)).name == "tiny"
