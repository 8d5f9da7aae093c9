"""aebridge init end to end: folders laid out like real downloads, built and previewed.

Each folder holds what the cited tools write: Runway's task output named by the UUID
its URL ends in, RVM's fgr/pha/com (or its png_sequence folders of 0000.png), the
request and task JSON with the generators' documented fields. Media is procedural
and small, except the Runway-style plate, which is 1280x720 as Runway's is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from click.testing import CliRunner

import aebridge
from aebridge import synthetic
from aebridge.api import BuildResult, build
from aebridge.cli import main
from aebridge.cli.convert import _default_name
from aebridge.errors import InitError, OptionError
from aebridge.exr import read_pixels
from aebridge.init import init_folder, option_errors
from aebridge.model import AlphaMode, CompSpec, MatteType, MoveKind, Role, YuvMatrix
from aebridge.preview.render import render_frame
from aebridge.spec_io import load_spec, save_spec, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

RUNWAY_UUID = "2d4f3c1e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"
RUNWAY_TASK_ID = "17f20503-6c24-4c16-946b-35dbbce2af2f"


def _json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _still_from(pixels: np.ndarray, path: Path) -> None:
    """A keyframe image (the generator's prompt image) as an 8-bit PNG."""
    synthetic.write_image(path, pixels)


def _runway(folder: Path, *, frames: int, width: int, height: int) -> None:
    """A Runway image_to_video download: the task's output, request and task JSON."""
    synthetic.write_movie(
        folder / f"{RUNWAY_UUID}.mp4",
        frames=frames,
        width=width,
        height=height,
        rate=Fraction(24),
        pattern="gradient",
    )
    first = synthetic.frame_pixels(0, width, height, pattern="gradient", alpha=None)
    _still_from(first, folder / "first_frame.png")
    _json(
        folder / "request.json",
        {
            "model": "gen4_turbo",
            "promptImage": [
                {
                    "uri": "https://assets.example.com/sh040/first_frame.png",
                    "position": "first",
                }
            ],
            "promptText": "slow push in on a rain-soaked street at dusk",
            "ratio": f"{width}:{height}",
            "duration": 5,
            "seed": 4040,
        },
    )
    _json(
        folder / "task.json",
        {
            "id": RUNWAY_TASK_ID,
            "status": "SUCCEEDED",
            "createdAt": "2025-06-17T10:04:12.000Z",
            "output": [
                f"https://dnznrvs05pmza.cloudfront.net/{RUNWAY_UUID}.mp4"
                "?_jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig"
            ],
        },
    )


def runway_rvm(folder: Path) -> Path:
    """Runway 1280x720 24 fps H.264 plate + RVM fgr/pha/com + request and task."""
    folder.mkdir(parents=True)
    _runway(folder, frames=6, width=1280, height=720)
    synthetic.write_rvm_outputs(folder, frames=6, width=1280, height=720)
    return folder


def png_keyframe(folder: Path) -> Path:
    """A Luma generation (its JSON, its video, its frame0 image) and RVM's
    png_sequence composition (straight-alpha RGBA PNGs in com/)."""
    folder.mkdir(parents=True)
    gen = "d1968551-6113-4b46-b567-09210c2e79b0"
    synthetic.write_movie(
        folder / "video_0_d1968551.mp4",
        frames=8,
        width=128,
        height=72,
        rate=Fraction(24),
        pattern="gradient",
    )
    first = synthetic.frame_pixels(0, 128, 72, pattern="gradient", alpha=None)
    _still_from(first, folder / "start.png")
    synthetic.write_rvm_outputs(
        folder,
        frames=8,
        width=128,
        height=72,
        output_type="png_sequence",
        names=("fgr", "pha", "com"),
    )
    # Only the composition was asked for: remove the foreground and alpha folders.
    shutil.rmtree(folder / "fgr")
    shutil.rmtree(folder / "pha")
    _json(
        folder / f"{gen}.json",
        {
            "id": gen,
            "generation_type": "video",
            "state": "completed",
            "failure_reason": None,
            "created_at": "2025-03-04T18:12:33.000Z",
            "assets": {
                "video": "https://storage.cdn-luma.com/dream_machine/d1968551/"
                "video_0_d1968551.mp4"
            },
            "model": "ray-2",
            "request": {
                "generation_type": "video",
                "prompt": "a lighthouse in a storm",
                "model": "ray-2",
                "aspect_ratio": "16:9",
                "resolution": "720p",
                "duration": "5s",
                "keyframes": {
                    "frame0": {"type": "image", "url": "https://example.com/start.png"}
                },
            },
        },
    )
    return folder


def prores_vp9(folder: Path) -> Path:
    """An opaque H.264 plate, a ProRes 4444 and a VP9 element with alpha."""
    folder.mkdir(parents=True)
    common: dict[str, Any] = {"frames": 6, "width": 64, "height": 36}
    rate = Fraction(24000, 1001)
    synthetic.write_movie(
        folder / "bg_plate.mp4", codec="h264", rate=rate, pattern="gradient", **common
    )
    synthetic.write_movie(
        folder / "fg_alpha.mov",
        codec="prores4444",
        rate=rate,
        alpha=True,
        pattern="disc",
        **common,
    )
    synthetic.write_movie(
        folder / "fx_alpha.webm",
        codec="vp9",
        rate=rate,
        alpha=True,
        pattern="disc",
        **common,
    )
    return folder


def kling_over_runway(folder: Path) -> Path:
    """A Runway plate at 24 fps under a Kling clip (30 fps, as Kling renders) that
    RVM matted into output_fgr/output_pha, with Kling's request and answer."""
    folder.mkdir(parents=True)
    _runway(folder, frames=6, width=64, height=36)
    synthetic.write_rvm_outputs(
        folder,
        frames=8,
        width=64,
        height=36,
        rate=Fraction(30),
        names=("output_fgr", "output_pha", None),
    )
    _json(
        folder / "kling_request.json",
        {
            "model_name": "kling-v1",
            "mode": "std",
            "duration": "5",
            "image": "https://assets.example.com/hero_start.png",
            "prompt": "a courier in a yellow raincoat turns to camera",
            "camera_control": {
                "type": "simple",
                "config": {
                    "horizontal": 0,
                    "vertical": 0,
                    "pan": 0,
                    "tilt": 0,
                    "roll": 0,
                    "zoom": 5,
                },
            },
        },
    )
    _json(
        folder / "kling_task.json",
        {
            "code": 0,
            "message": "SUCCEED",
            "request_id": "CjikY2dnFUcAAAAAAByvxw",
            "data": {
                "task_id": "CjikY2dnFUcAAAAAAByvxw",
                "task_status": "succeed",
                "task_result": {
                    "videos": [
                        {
                            "id": "a1b7f3b2",
                            "url": "https://p1.a.kwimgs.com/bs2/upload-ylab-stunt/"
                            "special-effect/output/-2878350957757294165/output.mp4",
                            "duration": "5.1",
                        }
                    ]
                },
                "created_at": 1722769557708,
                "updated_at": 1722769618345,
            },
        },
    )
    return folder


def _tiny(folder: Path, name: str, *, frames: int = 6, **options: Any) -> None:
    synthetic.write_movie(
        folder / name, frames=frames, width=64, height=36, rate=Fraction(24), **options
    )


def _grey_matte(path: Path, frames: int = 6) -> None:
    synthetic.write_rvm_outputs(
        path.parent,
        frames=frames,
        width=64,
        height=36,
        names=("._colour_unused", path.stem, None),
    )
    (path.parent / "._colour_unused.mp4").unlink()


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("downloads")
    return {
        "runway_rvm": runway_rvm(root / "sh040"),
        "png_keyframe": png_keyframe(root / "sh050"),
        "prores_vp9": prores_vp9(root / "sh060"),
        "kling_over_runway": kling_over_runway(root / "sh070"),
    }


@pytest.fixture(scope="module")
def built(
    folders: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[CompSpec, BuildResult]]:
    """Each folder through init (spec written beside a shot folder), then build."""
    out = tmp_path_factory.mktemp("out")
    shots = tmp_path_factory.mktemp("shots")
    results = {}
    for key in ("runway_rvm", "png_keyframe", "prores_vp9", "kling_over_runway"):
        spec_path = shots / key / "comp.json"
        result = init_folder(
            folders[key], base_dir=spec_path.parent, camera=key == "kling_over_runway"
        )
        save_spec(result.spec, spec_path)
        results[key] = (result.spec, build(spec_path, out, jobs=2, preview=True))
    return results


def _preview_frame(result: BuildResult, index: int = 0) -> np.ndarray:
    assert result.preview is not None
    with av.open(str(result.preview)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24").astype(np.float64)
    raise AssertionError("preview too short")


def _srgb8(linear: np.ndarray) -> np.ndarray:
    v = np.clip(linear, 0.0, 1.0)
    return 255.0 * np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def _check_over(
    result: BuildResult,
    layers: list[str],
    inside: tuple[int, int],
    outside: tuple[int, int],
) -> None:
    """The comp shows the layers (bottom to top; the last is the foreground) over
    the plate: premultiplied over, pixel by pixel, from the converted EXRs; and the
    preview movie shows the same at a point inside the foreground and one outside."""
    comp = render_frame(result.build_json, 1001)
    pixels = [
        read_pixels(result.comp_dir / "layers" / name / f"{name}.1001.exr")
        for name in layers
    ]
    expected = pixels[0]
    for layer in pixels[1:]:
        expected = layer + (1.0 - layer[..., 3:4]) * expected
    np.testing.assert_allclose(comp, expected, atol=2e-3)
    fg_px, bg_px = pixels[-1], pixels[0]
    (yi, xi), (yo, xo) = inside, outside
    assert fg_px[yi, xi, 3] > 0.99 and fg_px[yo, xo, 3] < 0.01
    preview = _preview_frame(result)
    for y, x, want in ((yi, xi, fg_px), (yo, xo, bg_px)):
        # 10 codes: the preview is H.264 4:2:0, lossy in chroma on the gradient.
        np.testing.assert_allclose(preview[y, x], _srgb8(want[y, x, :3]), atol=10)
    # The foreground is not the plate there: the check can tell them apart.
    assert np.abs(_srgb8(fg_px[yi, xi, :3]) - _srgb8(bg_px[yi, xi, :3])).max() > 40


# -- the Runway + RVM folder -------------------------------------------------------


def test_runway_plate_and_rvm_pair_make_plate_and_foreground(
    built: dict[str, tuple[CompSpec, BuildResult]],
) -> None:
    spec, result = built["runway_rvm"]
    assert (spec.comp.width, spec.comp.height, spec.comp.rate) == (
        1280,
        720,
        Fraction(24),
    )
    assert spec.comp.duration == 6
    assert [(layer.id, layer.role) for layer in spec.layers] == [
        ("plate", Role.BACKGROUND),
        ("fgr", Role.FOREGROUND),
    ]
    plate, fg = spec.layers
    assert plate.source.path.endswith(f"sh040/{RUNWAY_UUID}.mp4")  # type: ignore[union-attr]
    assert plate.source.alpha is AlphaMode.NONE  # type: ignore[union-attr]
    assert fg.source.alpha is AlphaMode.STRAIGHT  # type: ignore[union-attr]
    assert fg.source.matte.endswith("sh040/pha.mp4")  # type: ignore[union-attr]
    # RVM's fgr is BT.601 and untagged (1280x720 would be read as BT.709); the
    # Runway plate is tagged and keeps its tag.
    assert fg.source.yuv_matrix is YuvMatrix.BT601  # type: ignore[union-attr]
    assert plate.source.yuv_matrix is None  # type: ignore[union-attr]
    fg_exr = read_pixels(result.comp_dir / "layers" / "fgr" / "fgr.1001.exr")
    # Inside the disc (alpha 1): the disc's colour, by BT.1886 (untagged transfer).
    codes = 255 * np.clip(fg_exr[360, 384, :3], 0, None) ** (1 / 2.4)
    assert np.abs(codes - np.array(synthetic.SOLID_RGB)).max() <= 3
    prov = plate.provenance
    assert prov is not None
    assert (prov.generator, prov.model, prov.seed) == ("runway", "gen4_turbo", 4040)
    assert prov.prompt == "slow push in on a rain-soaked street at dusk"
    assert [(k.frame, Path(str(k.image)).name) for k in prov.keyframes] == [
        (0, "first_frame.png")
    ]
    extra = dict(prov.extra)
    assert extra["runway.task_id"] == RUNWAY_TASK_ID
    assert not any("_jwt" in v for v in extra.values())
    # The keyframe became a marker in the build.
    data = json.loads(result.build_json.read_text(encoding="utf-8"))
    markers = data["spec"]["markers"]
    assert [(m["frame"], m["name"], m["kind"]) for m in markers] == [
        (1001, "plate keyframe 1", "keyframe")
    ]
    # The disc of frame 0 sits at x = 0.3 W, mid height.
    _check_over(result, ["plate", "fgr"], inside=(360, 384), outside=(360, 1100))


def test_rvm_composition_is_left_out_and_every_guess_is_said(
    folders: dict[str, Path],
) -> None:
    result = init_folder(folders["runway_rvm"])
    assert (
        "com.mp4",
        "RVM's composition (its foreground and alpha are here and make the layer)",
    ) in result.left_out
    said = "\n".join(str(g) for g in result.guesses)
    assert "pha.mp4: the alpha of fgr.mp4 (paired by RVM's default names)" in said
    assert "--track-matte fgr.mp4=pha.mp4" in said
    assert (
        "fgr.mp4: read as BT.601 YUV (source.yuv_matrix: bt601), as RVM's writer "
        "encodes its untagged MP4s; set yuv_matrix to bt709 (or remove it) if "
        "another tool wrote it" in said
    )
    assert f"plate: {RUNWAY_UUID}.mp4, the largest opaque clip" in said
    assert "--plate FILE picks another" in said
    assert "request.json and task.json: one Runway generation" in said
    assert "(its output URL names it)" in said
    assert any(
        "request.json asked for 5 s (120 frames at 24 fps); the clip has 6" in w
        for w in result.warnings
    )
    table = result.table().splitlines()
    assert table[0].split() == [
        "layer",
        "source",
        "role",
        "alpha",
        "matte",
        "frames",
        "rate",
    ]
    assert table[2].split() == [
        "fgr",
        "fgr.mp4",
        "foreground",
        "straight",
        "pha.mp4",
        "1001-1006",
        "(6)",
        "24",
    ]


def test_rvm_inference_example_names_pair_and_plate_can_take_the_composition(
    tmp_path: Path,
) -> None:
    # RVM's inference.py example: --output-foreground foreground.mp4
    # --output-alpha alpha.mp4 --output-composition composition.mp4
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    synthetic.write_rvm_outputs(
        tmp_path,
        frames=6,
        width=64,
        height=36,
        names=("foreground", "alpha", "composition"),
    )
    result = init_folder(tmp_path)
    fg = result.spec.layer("foreground")
    assert fg.source.matte == "alpha.mp4"  # type: ignore[union-attr]
    assert fg.source.yuv_matrix is YuvMatrix.BT601  # type: ignore[union-attr]
    assert [layer.id for layer in result.spec.layers] == ["bg", "foreground"]
    assert "composition.mp4" in dict(result.left_out)
    # Asked for as the plate, the composition is kept.
    chosen = init_folder(tmp_path, plate="composition.mp4")
    assert chosen.spec.layers[0].source.path == "composition.mp4"  # type: ignore[union-attr]
    assert [layer.id for layer in chosen.spec.layers] == [
        "composition",
        "bg",
        "foreground",
    ]


# -- PNG sequence with a keyframe image ----------------------------------------------


def test_straight_alpha_png_sequence_with_a_keyframe_image(
    built: dict[str, tuple[CompSpec, BuildResult]],
) -> None:
    spec, result = built["png_keyframe"]
    assert [(layer.id, layer.role) for layer in spec.layers] == [
        ("plate", Role.BACKGROUND),
        ("com", Role.ELEMENT),
    ]
    com = spec.layers[1]
    assert com.source.path.endswith("sh050/com/####.png")  # type: ignore[union-attr]
    assert com.source.alpha is AlphaMode.AUTO  # type: ignore[union-attr]
    prov = spec.layers[0].provenance
    assert prov is not None and prov.generator == "luma" and prov.model == "ray-2"
    assert [(k.frame, Path(str(k.image)).name) for k in prov.keyframes] == [
        (0, "start.png")
    ]
    layer = next(item for item in result.layers if item.id == "com")
    assert layer.sequence.frame_count == 8
    _check_over(result, ["plate", "com"], inside=(36, 38), outside=(36, 120))


def test_guides_make_the_keyframe_image_a_guide_layer(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    result = init_folder(folders["png_keyframe"], guides=True)
    assert result.spec.comp.keyframe_guides is True
    built_ = build(
        _save(result.spec, tmp_path / "shot" / "comp.json", folders["png_keyframe"]),
        tmp_path / "out",
        jobs=1,
    )
    assert [layer.id for layer in built_.layers] == ["plate", "com", "kf_plate_1"]


def _save(spec: CompSpec, path: Path, folder: Path) -> Path:
    again = init_folder(folder, base_dir=path.parent, guides=spec.comp.keyframe_guides)
    save_spec(again.spec, path)
    return path


# -- ProRes 4444 and VP9 alpha -------------------------------------------------------


def test_prores_4444_and_vp9_alpha_are_layers_with_their_own_alpha(
    built: dict[str, tuple[CompSpec, BuildResult]], folders: dict[str, Path]
) -> None:
    spec, result = built["prores_vp9"]
    assert spec.comp.rate == Fraction(24000, 1001)
    assert [(layer.id, layer.role, layer.source.alpha) for layer in spec.layers] == [  # type: ignore[union-attr]
        ("bg_plate", Role.BACKGROUND, AlphaMode.NONE),
        ("fx_alpha", Role.ELEMENT, AlphaMode.AUTO),
        # Its name says fg: a foreground, stacked above the elements.
        ("fg_alpha", Role.FOREGROUND, AlphaMode.AUTO),
    ]
    said = "\n".join(str(g) for g in init_folder(folders["prores_vp9"]).guesses)
    assert (
        "fg_alpha.mov: its name ends in 'alpha' but it carries an alpha channel of "
        "its own, so it is a layer, not a matte" in said
    )
    assert (
        "plate: bg_plate.mp4 (opaque, full-frame, the longest clip whose name" in said
    )
    _check_over(
        result, ["bg_plate", "fx_alpha", "fg_alpha"], inside=(18, 19), outside=(18, 60)
    )


# -- ambiguity: fixed answers --------------------------------------------------------


def test_two_candidate_plates_are_refused_naming_both(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg_plate_v1.mp4", pattern="gradient")
    _tiny(tmp_path, "bg_plate_v2.mp4", pattern="solid")
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    message = str(caught.value)
    assert "two candidate plates, bg_plate_v1.mp4 and bg_plate_v2.mp4" in message
    assert "--plate bg_plate_v1.mp4" in message
    # --plate settles it; the other opaque full-frame clip would hide it: off.
    result = init_folder(tmp_path, plate="bg_plate_v2.mp4")
    assert [(layer.id, layer.enabled) for layer in result.spec.layers] == [
        ("bg_plate_v2", True),
        ("bg_plate_v1", False),
    ]
    assert any("would hide the plate" in w for w in result.warnings)


def test_three_candidate_plates_are_counted_and_listed(tmp_path: Path) -> None:
    for name in ("bg_a.mp4", "bg_b.mp4", "bg_c.mp4"):
        _tiny(tmp_path, name, frames=2)
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    assert str(caught.value).startswith(
        "three candidate plates, bg_a.mp4, bg_b.mp4 and bg_c.mp4 "
        "(opaque, 64x36, 2 frames"
    )


def test_of_two_named_plates_the_full_frame_then_longest_one_is_taken(
    tmp_path: Path,
) -> None:
    _tiny(tmp_path, "bg_plate_v1.mp4", frames=4)
    _tiny(tmp_path, "bg_plate_v2.mp4", frames=6)
    synthetic.write_movie(tmp_path / "bg_plate_big.mp4", frames=2, width=128, height=72)
    result = init_folder(tmp_path)
    assert result.spec.layers[0].id == "bg_plate_big"
    assert (result.spec.comp.width, result.spec.comp.duration) == (128, 2)
    (tmp_path / "bg_plate_big.mp4").unlink()
    result = init_folder(tmp_path)
    assert result.spec.layers[0].id == "bg_plate_v2"
    assert any(
        "plate: bg_plate_v2.mp4 (opaque, full-frame, the longest clip whose name says "
        "plate, bg or background; chosen over bg_plate_v1.mp4" in str(g)
        for g in result.guesses
    )


def test_two_unnamed_opaque_clips_of_one_size_are_two_candidates(
    tmp_path: Path,
) -> None:
    _tiny(tmp_path, "a.mp4")
    _tiny(tmp_path, "b.mp4")
    with pytest.raises(InitError, match="the largest opaque clips"):
        init_folder(tmp_path)


def test_a_matte_without_partner_is_refused_naming_it_and_pair(
    tmp_path: Path,
) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "fg_rgb.mp4", frames=4, pattern="disc")
    _grey_matte(tmp_path / "roto_matte.mp4", frames=4)
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    message = str(caught.value)
    assert "roto_matte.mp4 is a matte" in message
    assert "--pair CLIP=roto_matte.mp4" in message
    assert "\n" not in message
    result = init_folder(tmp_path, pairs={"fg_rgb.mp4": "roto_matte.mp4"})
    fg = result.spec.layer("fg")
    assert fg.source.matte == "roto_matte.mp4"  # type: ignore[union-attr]
    assert fg.role is Role.FOREGROUND
    # The shorter layer ends early, with a warning.
    assert any(
        "fg_rgb.mp4 has 4 frames, the comp 6 (the plate's length); the layer ends "
        "early, after frame 1004" in w
        for w in result.warnings
    )


def test_a_matte_can_be_a_track_matte_layer(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "fg_rgb.mp4", pattern="disc")
    _grey_matte(tmp_path / "fg_matte.mp4")
    paired = init_folder(tmp_path)
    assert paired.spec.layer("fg").source.matte == "fg_matte.mp4"  # type: ignore[union-attr]
    tracked = init_folder(tmp_path, track_mattes={"fg_rgb.mp4": "fg_matte.mp4"})
    ids = [layer.id for layer in tracked.spec.layers]
    assert ids == ["bg", "fg", "fg_matte"]
    fg, matte = tracked.spec.layer("fg"), tracked.spec.layer("fg_matte")
    assert fg.track_matte is not None and fg.track_matte.layer == "fg_matte"
    assert fg.track_matte.type is MatteType.LUMA
    assert matte.role is Role.MATTE and matte.enabled is False
    assert fg.source.matte is None  # type: ignore[union-attr]


def test_a_track_matte_layer_id_steps_around_a_clip_of_that_name(
    tmp_path: Path,
) -> None:
    # fg's track matte layer was 'fg_matte' whatever else was in the folder, so a
    # colour clip 'FG_Matte.mp4' (the layer fg_matte) made two layers of one id and
    # init failed with the spec model's error instead of writing a spec.
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "fg_rgb.mp4", pattern="disc")
    _grey_matte(tmp_path / "roto.mp4")
    _tiny(tmp_path, "FG_Matte.mp4", pattern="disc")
    result = init_folder(tmp_path, track_mattes={"fg_rgb.mp4": "roto.mp4"})
    by_source = {
        layer.source.path: layer.id  # type: ignore[union-attr]
        for layer in result.spec.layers
    }
    assert by_source == {
        "bg.mp4": "bg",
        "FG_Matte.mp4": "fg_matte",
        "fg_rgb.mp4": "fg",
        "roto.mp4": "fg_matte_2",
    }
    fg = result.spec.layer("fg")
    assert fg.track_matte is not None and fg.track_matte.layer == "fg_matte_2"


def test_an_rvm_pair_whose_movie_is_tagged_keeps_its_tag(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "hero_fgr.mp4", pattern="disc", matrix="bt709")
    _grey_matte(tmp_path / "hero_pha.mp4")
    _tiny(tmp_path, "logo.mp4", pattern="disc", matrix=None)
    _grey_matte(tmp_path / "logo_matte.mp4")
    result = init_folder(tmp_path)
    hero, logo = result.spec.layer("hero"), result.spec.layer("logo")
    assert hero.source.matte == "hero_pha.mp4"  # type: ignore[union-attr]
    assert hero.source.yuv_matrix is None  # type: ignore[union-attr]
    # Paired by the CLIP + CLIP_matte convention, not RVM's: no guess about its writer.
    assert logo.source.matte == "logo_matte.mp4"  # type: ignore[union-attr]
    assert logo.source.yuv_matrix is None  # type: ignore[union-attr]
    assert not any("yuv_matrix" in str(g) for g in result.guesses)


def test_a_colour_clip_named_like_a_matte_is_a_layer(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "logo_mask.mp4", pattern="disc")
    result = init_folder(tmp_path)
    assert "logo_mask" in [layer.id for layer in result.spec.layers]
    assert any(
        "logo_mask.mp4: its name ends in 'mask' but its first frame is in colour"
        in str(g)
        for g in result.guesses
    )


def test_a_phone_movie_plate_sets_the_comp_to_its_shown_size(
    tmp_path: Path, ffmpeg: Callable[..., Path]
) -> None:
    # Phones store landscape pixels and a display matrix that turns them upright:
    # the comp must be the portrait picture a player shows, not the stored one.
    stored = tmp_path / "src"
    stored.mkdir()
    _tiny(stored, "raw.mp4", pattern="gradient")
    folder = tmp_path / "phone"
    folder.mkdir()
    ffmpeg(
        "-i",
        stored / "raw.mp4",
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        output=folder / "bg_plate.mp4",
    )
    spec = init_folder(folder).spec
    assert (spec.comp.width, spec.comp.height) == (36, 64)


def test_mismatched_rates_are_conformed_with_a_warning_and_camera_recorded(
    folders: dict[str, Path],
) -> None:
    result = init_folder(folders["kling_over_runway"])
    spec = result.spec
    assert spec.comp.rate == Fraction(24)
    fg = spec.layer("fg")
    assert fg.source.matte.endswith("output_pha.mp4")  # type: ignore[union-attr]
    warnings = "\n".join(result.warnings)
    assert (
        "output_fgr.mp4 runs at 30 fps, the comp at 24 fps; it is conformed" in warnings
    )
    assert "its frames after 1006 are not seen" in warnings
    # Kling's record belongs to the clip RVM matted (named after Kling's output).
    assert fg.provenance is not None and fg.provenance.generator == "kling"
    assert fg.provenance.camera_move == (
        "kling camera_control simple: zoom 5 (unitless, -10..10)"
    )
    assert spec.camera is None
    assert any(
        "--camera adds a heuristic camera move" in str(g) for g in result.guesses
    )
    # The Kling prompt image is not in the folder: said, and the marker has none.
    assert "hero_start.png) is not in the folder" in warnings
    assert fg.provenance.keyframes[0].image is None


def test_camera_adds_a_heuristic_move_and_says_so(folders: dict[str, Path]) -> None:
    result = init_folder(folders["kling_over_runway"], camera=True)
    spec = result.spec
    assert spec.camera is not None
    (move,) = spec.camera.moves
    assert move.kind is MoveKind.ZOOM and move.amount == pytest.approx(2**-0.5)
    assert (move.start, move.end) == (1001, 1006)
    said = "\n".join(str(g) for g in result.guesses)
    assert "camera: a HEURISTIC for kling camera_control simple: zoom 5" in said
    assert "unitless" in said
    # The Kling clip carries the move in its pixels; the rest follows the camera.
    assert {layer.id: layer.three_d for layer in spec.layers} == {
        "plate": True,
        "fg": False,
    }


def test_the_conformed_kling_clip_builds_over_the_3d_plate(
    built: dict[str, tuple[CompSpec, BuildResult]],
) -> None:
    spec, result = built["kling_over_runway"]
    assert spec.camera is not None
    fg = next(layer for layer in result.layers if layer.id == "fg")
    # 8 frames at 30 fps: every frame kept, the EXRs say 30 fps, the build warns
    # that the comp conforms them to its 24 (frame for frame).
    assert fg.sequence.frame_count == 8 and fg.sequence.rate == Fraction(30)
    assert any("30 fps" in w and "24 fps" in w for w in result.warnings)
    # At the first frame the camera frames the comp 1:1, so the 3D plate lies as a
    # 2D one would, and the foreground sits over it.
    _check_over(result, ["plate", "fg"], inside=(18, 19), outside=(18, 60))


def test_a_folder_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    run = CliRunner().invoke(
        main, ["init", str(tmp_path / "nope"), "-o", str(tmp_path / "c.json")]
    )
    assert run.exit_code == 1
    assert "nope: not a folder (init reads a folder of downloads)" in run.output
    assert "Traceback" not in run.output


def test_records_link_by_id_in_the_name_and_by_the_records_name(
    tmp_path: Path,
) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "kling_CjikY2dnFUcAAAAAAByvxw.mp4", pattern="disc")
    task = {
        "code": 0,
        "data": {
            "task_id": "CjikY2dnFUcAAAAAAByvxw",
            "task_status": "succeed",
            "task_result": {"videos": [{"id": "v1", "url": "https://k/x/output.mp4"}]},
        },
    }
    _json(tmp_path / "kling_task.json", task)
    _json(
        tmp_path / "bg.json",
        {"model": "gen4_turbo", "promptText": "a street", "ratio": "64:36", "seed": 7},
    )
    result = init_folder(tmp_path, plate="bg.mp4")
    spec = result.spec
    assert spec.layer("bg").provenance is not None
    assert spec.layer("bg").provenance.seed == 7  # type: ignore[union-attr]
    kling = spec.layers[1]
    assert kling.provenance is not None and kling.provenance.generator == "kling"
    said = "\n".join(str(g) for g in result.guesses)
    assert "(its name holds the record's id)" in said
    assert "bg.json: the Runway record of bg.mp4 (it has the record's name)" in said


def test_inline_images_and_named_stills_become_keyframes(tmp_path: Path) -> None:
    import base64

    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    first = synthetic.frame_pixels(0, 64, 36, pattern="gradient", alpha=None)
    _still_from(first, tmp_path / "upload.png")
    _still_from(first, tmp_path / "last_frame.png")
    _still_from(first, tmp_path / "moodboard.png")
    inline = base64.b64encode((tmp_path / "upload.png").read_bytes()).decode()
    _json(
        tmp_path / "request.json",
        {
            "model": "gen4_turbo",
            "promptImage": f"data:image/png;base64,{inline}",
            "promptText": "a street",
        },
    )
    result = init_folder(tmp_path)
    prov = result.spec.provenance
    assert prov is not None and prov.generator == "runway"
    # The inline image is the file with the same bytes; the named still the last
    # frame; the other still is left out, said.
    assert [(k.frame, k.image) for k in prov.keyframes] == [
        (0, "upload.png"),
        (5, "last_frame.png"),
    ]
    assert "base64" not in json.dumps(dict(prov.extra))
    assert dict(prov.extra)["runway.keyframe_1"].startswith("data:image/png (")
    assert "moodboard.png" in dict(result.left_out)
    assert any(
        "last_frame.png: a keyframe image at the comp's last frame (1006)" in str(g)
        for g in result.guesses
    )


def test_a_still_named_like_a_pattern_is_left_out_not_a_keyframe(
    tmp_path: Path,
) -> None:
    # 'first@2x.png' placed itself at the first frame and init wrote it as the
    # keyframe image, which the spec reads as a pattern ('@' is a frame field).
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    first = synthetic.frame_pixels(0, 64, 36, pattern="gradient", alpha=None)
    _still_from(first, tmp_path / "first@2x.png")
    _still_from(first, tmp_path / "last.png")
    result = init_folder(tmp_path)
    prov = result.spec.provenance
    assert prov is not None
    assert [(k.frame, k.image) for k in prov.keyframes] == [(5, "last.png")]
    assert dict(result.left_out)["first@2x.png"] == (
        "a still whose name holds a frame field (#, @, %d, $F), which names an image "
        "sequence, not one image: rename it to use it as a keyframe image"
    )


def test_variable_rate_and_fully_opaque_alpha_are_said(tmp_path: Path) -> None:
    synthetic.write_movie(
        tmp_path / "screen_capture.mp4", frames=9, width=64, height=36, vfr=True
    )
    # An RGBA PNG sequence whose alpha is 1 everywhere is a plate all the same.
    synthetic.write_png_sequence(
        tmp_path / "plate", "bg", frames=9, width=64, height=36, pattern="solid"
    )
    result = init_folder(tmp_path)
    spec = result.spec
    assert spec.layers[0].id == "bg" and spec.layers[0].role is Role.BACKGROUND
    capture = spec.layer("screen_capture")
    assert capture.source.vfr.value == "resample"  # type: ignore[union-attr]
    said = "\n".join(str(g) for g in result.guesses)
    assert "plate/bg.####.png: its alpha is 1 everywhere in the first frame" in said
    assert any(
        "has a variable frame rate; it is resampled" in w for w in result.warnings
    )


def test_an_exclude_naming_a_sequence_as_init_lists_it_leaves_it_out(
    tmp_path: Path,
) -> None:
    # init's hint '--exclude plate/bg.####.png leaves it out' matched no file (each
    # frame's name was matched), so the sequence stayed in.
    _tiny(tmp_path, "hero.mp4", pattern="gradient")
    synthetic.write_png_sequence(
        tmp_path / "plate", "bg", frames=6, width=64, height=36, pattern="solid"
    )
    said = "\n".join(str(g) for g in init_folder(tmp_path).guesses)
    assert "--exclude plate/bg.####.png leaves it out" in said
    result = init_folder(tmp_path, exclude=["plate/bg.####.png"])
    paths = [layer.source.path for layer in result.spec.layers]  # type: ignore[union-attr]
    assert paths == ["hero.mp4"]
    assert ("plate/bg.####.png", "excluded (--exclude)") in result.left_out
    assert not any(p.startswith("plate/bg.1") for p, _ in result.left_out)


@pytest.mark.parametrize(
    ("spelling", "left_out"),
    [
        ("plate/bg.%04d.png", True),
        ("plate/bg.@@@@.png", True),
        ("plate/bg.#.png", True),
        ("./plate/bg.1001-1006#.png", True),
        ("plate/bg.#####.png", False),  # five digits: no frame of these
        ("plate/bg.1001-1005#.png", False),  # not frame 1006
        ("bg.####.png", False),
        ("plate/fg.####.png", False),
    ],
)
def test_an_exclude_naming_a_sequence_in_any_spelling_leaves_it_out(
    tmp_path: Path, spelling: str, left_out: bool
) -> None:
    # Only init's own spelling, plate/bg.####.png, matched: the same frames written
    # as the sequence grammar also reads them stayed in.
    _tiny(tmp_path, "hero.mp4", pattern="gradient")
    synthetic.write_png_sequence(
        tmp_path / "plate", "bg", frames=6, width=64, height=36, pattern="solid"
    )
    result = init_folder(tmp_path, exclude=[spelling])
    paths = {layer.source.path for layer in result.spec.layers}  # type: ignore[union-attr]
    assert paths == {"hero.mp4"} | (set() if left_out else {"plate/bg.####.png"})
    entry = ("plate/bg.####.png", "excluded (--exclude)")
    assert (entry in result.left_out) is left_out


@pytest.mark.parametrize(
    "spelling", ["sh.####.tga", "sh.%04d.tga", "sh.1001-1003#.tga"]
)
def test_an_excluded_run_of_unread_files_is_listed_as_excluded(
    tmp_path: Path, spelling: str
) -> None:
    # Excluding sh.####.tga by its pattern still listed it as unread.
    _tiny(tmp_path, "hero.mp4", pattern="gradient")
    for frame in (1001, 1002, 1003):
        (tmp_path / f"sh.{frame}.tga").write_bytes(b"tga")
    result = init_folder(tmp_path, exclude=[spelling])
    assert ("sh.####.tga", "excluded (--exclude)") in result.left_out
    assert [p for p, _ in result.left_out if p.startswith("sh.")] == ["sh.####.tga"]


def test_no_clip_is_a_clear_refusal(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path / "empty")
    assert str(caught.value) == (
        f"{(tmp_path / 'empty').as_posix()}: no movie or image sequence found (movies: "
        ".mp4, .mov, .webm, ...; sequences: at least 3 numbered images)"
    )
    assert caught.value.left_out == ()


def test_a_folder_of_files_init_cannot_use_is_refused_with_each_and_why(
    tmp_path: Path,
) -> None:
    # Only "no movie or image sequence found" was said, while a folder with a clip
    # lists the files left out and why: here that is all the user needs to know.
    for frame in (1001, 1002, 1003):
        (tmp_path / f"sh.{frame}.tga").write_bytes(b"tga")
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    (tmp_path / "clip.mp4").write_bytes(b"not a movie")
    (tmp_path / ".DS_Store").write_bytes(b"hidden")
    unread = (
        "not a movie, an image or a generator record: aebridge does not read {} "
        "files; allowed: images (.exr, .jpeg, .jpg, .png, .tif, .tiff) and movies "
        "(.avi, .m4v, .mkv, .mov, .mp4, .mxf, .webm)"
    )
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    left_out = caught.value.left_out
    assert [path for path, _ in left_out] == ["anim.gif", "clip.mp4", "sh.####.tga"]
    assert left_out[0][1] == unread.format(".gif")
    assert left_out[1][1].startswith("cannot be read: cannot open the movie")
    assert left_out[2][1] == "3 numbered files, " + unread.format(".tga")
    assert str(caught.value) == (
        f"{tmp_path.resolve().as_posix()}: no movie or image sequence found (movies: "
        ".mp4, .mov, .webm, ...; sequences: at least 3 numbered images); left out: "
        + ", ".join(f"{path} ({why})" for path, why in left_out)
    )
    run = CliRunner().invoke(main, ["init", str(tmp_path), "-o", str(tmp_path / "c")])
    assert run.exit_code == 1
    assert run.output.count("\n") == 1
    assert "left out: anim.gif (not a movie" in run.output


def test_options_that_name_no_clip_list_the_clips(folders: dict[str, Path]) -> None:
    with pytest.raises(OptionError, match=r"--plate: 'nope\.mp4' is not allowed"):
        init_folder(folders["prores_vp9"], plate="nope.mp4")


def test_an_empty_name_is_refused_as_the_option_not_blamed_on_the_plate(
    folders: dict[str, Path],
) -> None:
    # --name "$SHOT" with SHOT unset gave '': it fell back to the folder's name, then
    # (as None vs '' was told apart) was blamed on the plate.
    with pytest.raises(OptionError, match=r"--name: '' is not allowed; allowed: "):
        init_folder(folders["prores_vp9"], name="")


def test_a_refused_name_says_what_the_comp_model_allows(
    folders: dict[str, Path],
) -> None:
    # The refusal said "1 to 255 characters of any text" (its own copy of the
    # comp name's rule), so a name with a line break was refused while the message
    # said any text was allowed.
    with pytest.raises(OptionError) as caught:
        init_folder(folders["prores_vp9"], name="sh\n040")
    assert str(caught.value) == (
        "--name: 'sh\\n040' is not allowed; allowed: any text of 1 to 255 "
        "characters without line breaks or other control characters"
    )


def test_a_rate_no_comp_has_is_the_options_fault_and_hides_no_other(
    folders: dict[str, Path],
) -> None:
    # --rate 120 (a rate, not a comp's) was blamed on the plate ("the plate ...
    # cannot set the comp: comp.rate ..."), and beside a late --start-frame only the
    # start frame, judged at 120 fps, was said.
    with pytest.raises(OptionError) as caught:
        init_folder(folders["prores_vp9"], rate="120", start_frame=10**9)
    assert str(caught.value) == (
        "--rate: '120' is not allowed; allowed: 1 to 99 fps (After Effects' comp rates)"
    )
    assert [str(e) for e in option_errors(name="", rate="120", start_frame=10**9)] == [
        "--name: '' is not allowed; allowed: any text of 1 to 255 characters "
        "without line breaks or other control characters",
        "--rate: '120' is not allowed; allowed: 1 to 99 fps (After Effects' comp "
        "rates)",
        "--start-frame: 1000000000 is not allowed; allowed: 0 to 8547561 (at 99 fps, "
        "86339 s: 23:59:00, the latest start After Effects gives a comp), fewer at "
        "a lower rate",
    ]


@pytest.mark.parametrize("style", [" =Noir", "\ufeff=Noir", "\x1c"])
def test_a_blank_style_id_is_the_style_option_s_refusal(style: str) -> None:
    # Blank as the model and the JSON Schema say it (aebridge.whitespace): a lone
    # byte-order mark passed str.strip() and became a style the schema refuses.
    assert [str(e) for e in option_errors(style=style)] == [
        f"--style: {style!r} is not allowed; allowed: ID or ID=NAME, e.g. noir-01=Noir"
    ]


# -- the written spec, the CLI and the Python API ------------------------------------


def test_the_written_spec_validates_and_round_trips(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    for key in ("runway_rvm", "png_keyframe", "prores_vp9", "kling_over_runway"):
        path = tmp_path / key / "comp.json"
        result = init_folder(folders[key], base_dir=path.parent, camera=True)
        save_spec(result.spec, path)
        assert [p for p in validate(path) if p.severity == "error"] == []
        assert load_spec(path) == result.spec
        text = path.read_text(encoding="utf-8")
        assert '    {\n      "id": "plate",' in text or key == "prores_vp9"


def test_python_api_returns_the_spec(folders: dict[str, Path]) -> None:
    spec = aebridge.init_spec(folders["prores_vp9"], name="sh060_v2")
    assert isinstance(spec, CompSpec)
    assert spec.comp.name == "sh060_v2"
    assert spec.layers[0].source.path == "bg_plate.mp4"  # type: ignore[union-attr]


def test_names_with_quotes_hashes_and_accents_build(tmp_path: Path) -> None:
    # The comp is named as the folder (free text), and a movie whose name holds a
    # '#' or '%' is a movie, not a frame pattern.
    folder = tmp_path / "it's a ünïcode #1 100%"
    folder.mkdir()
    _tiny(folder, "Tom's plate #2 50%.mp4")
    spec_path = tmp_path / "spec" / "comp.json"
    result = init_folder(folder, base_dir=spec_path.parent)
    assert result.spec.comp.name == "it's a ünïcode #1 100%"
    save_spec(result.spec, spec_path)
    assert [p for p in validate(spec_path) if p.severity == "error"] == []
    built = build(spec_path, tmp_path / "out")
    assert built.script.name == "it_s_a_unicode_1_100.jsx"


def test_names_of_no_ascii_letter_pair_and_keep_their_name_in_after_effects(
    tmp_path: Path,
) -> None:
    # 前景_matte was the bare word 'matte' (no partner: init refused the folder); a
    # layer named with no ASCII letter took its role as id and as its After Effects
    # name ('fg', 'fg_2' by order, 'plate').
    folder = tmp_path / "dl"
    folder.mkdir()
    _tiny(folder, "背景.mp4", pattern="gradient")
    _tiny(folder, "前景.mp4", pattern="disc")
    _grey_matte(folder / "前景_matte.mp4")
    _tiny(folder, "中景.mp4", pattern="disc")
    _grey_matte(folder / "中景_matte.mp4")
    result = init_folder(folder)
    layers = [(x.id, x.name, x.source.path) for x in result.spec.layers]  # type: ignore[union-attr]
    assert sorted(layers) == [
        ("layer_62cf3dd7", "前景", "前景.mp4"),
        ("layer_9f5579e3", "中景", "中景.mp4"),
        ("layer_f4b669c5", "背景", "背景.mp4"),
    ]
    fg = result.spec.layer("layer_62cf3dd7")
    assert fg.source.matte == "前景_matte.mp4"  # type: ignore[union-attr]
    # The ids are the names': the same with another clip beside them.
    (folder / "中景.mp4").unlink()
    (folder / "中景_matte.mp4").unlink()
    again = init_folder(folder)
    assert {x.id for x in again.spec.layers} == {"layer_62cf3dd7", "layer_f4b669c5"}
    spec_path = folder / "comp.json"
    save_spec(again.spec, spec_path)
    built = build(spec_path, tmp_path / "out")
    script = built.script.read_text(encoding="utf-8")
    assert script.isascii() and '"name": "\\u524d\\u666f"' in script
    (snap,) = aejsx.run_in_model(built.script)
    (comp,) = [i for i in snap["items"] if i["type"] == "Composition"]
    assert sorted(x["name"] for x in comp["layers"]) == ["前景", "背景"]


def test_a_matte_pairs_with_its_own_name_in_any_script(tmp_path: Path) -> None:
    # Folding split 'दिन' (day) and 'दान' (gift) at their vowel signs into the same
    # words, so the matte of the one was paired with the clip of the other.
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    _tiny(tmp_path, "दान.mp4", pattern="disc")
    _grey_matte(tmp_path / "दिन_matte.mp4")
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    assert "दिन_matte.mp4 is a matte" in str(caught.value)
    _tiny(tmp_path, "दिन.mp4", pattern="disc")
    result = init_folder(tmp_path, exclude=["bg.mp4"])
    mattes = {
        layer.source.path: layer.source.matte  # type: ignore[union-attr]
        for layer in result.spec.layers
    }
    assert mattes == {"दान.mp4": None, "दिन.mp4": "दिन_matte.mp4"}


def test_a_hashed_layer_id_is_the_one_convert_names_the_file_by(
    tmp_path: Path,
) -> None:
    # init hashed the lower-cased words ('фон') and convert the name as written
    # ('Фон'), so one file got two ids; both hash the name as written.
    _tiny(tmp_path, "bg.mp4", pattern="gradient")
    files = ["Фон.mp4", "前景.mp4", "Фон ночь.mp4", "ФОН-НОЧЬ.mp4", "दिन.mp4"]
    for name in files:
        _tiny(tmp_path, name, pattern="disc")
    layers = init_folder(tmp_path).spec.layers
    ids = {layer.source.path: layer.id for layer in layers}  # type: ignore[union-attr]
    for name in files:
        assert ids[name].startswith("layer_")
        assert ids[name] == _default_name(f"downloads/{name}")


@pytest.mark.parametrize(
    ("name", "init_id", "convert_name"),
    [
        # convert took the name before the first '.' and trimmed '_'/'-' at its
        # ends, init neither: one file had two ids.
        ("Фон.v2.mp4", "v2", "v2"),
        ("_Фон_.mp4", "layer_20844251", "layer_20844251"),
        ("fg.v2.mp4", "fg_v2", "fg_v2"),
        ("plate_v003.mov", "plate_v003", "plate_v003"),
        ("Tom's plate #2 50%.mp4", "tom_s_plate_2_50", "tom_s_plate_2_50"),
        ("Hero FG.mp4", "hero_fg", "hero_fg"),
        ("前景.mp4", "layer_62cf3dd7", "layer_62cf3dd7"),
        # init's one difference: a colour word goes, its layer being the pair's.
        ("fg_rgb.mp4", "fg", "fg_rgb"),
        ("前景_rgb.mp4", "layer_62cf3dd7", "rgb"),
    ],
)
def test_init_and_convert_give_a_file_one_layer_id(
    tmp_path: Path, name: str, init_id: str, convert_name: str
) -> None:
    _tiny(tmp_path, "bg.mp4", pattern="gradient", frames=8)
    _tiny(tmp_path, name, pattern="disc")
    layers = init_folder(tmp_path).spec.layers
    ids = {layer.source.path: layer.id for layer in layers}  # type: ignore[union-attr]
    assert ids[name] == init_id
    assert _default_name(f"downloads/{name}") == convert_name


def test_cli_writes_prints_the_table_and_never_overwrites(
    folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["init", str(folders["runway_rvm"]), "-o", "sh040/comp.json"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "layer  source" in first.output
    assert "guesses (and how to change them):" in first.output
    assert "wrote sh040/comp.json: 2 layers, 1280x720, 24 fps, 6 frames" in first.output
    assert "aebridge build sh040/comp.json -o out --preview" in first.output
    again = runner.invoke(main, args)
    assert again.exit_code == 1
    assert "sh040/comp.json: the spec file exists already; give --force" in again.output
    assert "Traceback" not in again.output
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    valid = runner.invoke(main, ["validate", "sh040/comp.json"])
    assert valid.exit_code == 0 and "valid" in valid.output


def test_cli_refusal_is_one_line_and_exit_1(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg_plate_v1.mp4")
    _tiny(tmp_path, "bg_plate_v2.mp4")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "aebridge",
            "init",
            str(tmp_path),
            "-o",
            str(tmp_path / "out" / "comp.json"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: two candidate plates, bg_plate_v1.mp4 and ")
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "comp.json").exists()


def test_a_start_frame_after_23_59_00_at_the_rate_names_the_option(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    # After Effects starts a comp at 86339 s at the latest (CompItem.displayStartTime):
    # at the folder's 24 fps that is frame 2072136.
    runner = CliRunner()
    out = tmp_path / "comp.json"
    args = ["init", str(folders["kling_over_runway"]), "-o", str(out)]
    run = runner.invoke(main, [*args, "--start-frame", "2072137"])
    assert run.exit_code == 1
    assert run.output.strip() == (
        "error: --start-frame: 2072137 is not allowed; allowed: 0 to 2072136 (at 24 "
        "fps, 86339 s: 23:59:00, the latest start After Effects gives a comp)"
    )
    assert not out.exists()
    run = runner.invoke(main, [*args, "--start-frame", "2072136"])
    assert run.exit_code == 0, run.output
    assert load_spec(out).comp.start_frame == 2072136


def test_cli_options_reach_init(folders: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "comp.json"
    run = runner.invoke(
        main,
        [
            "init",
            str(folders["kling_over_runway"]),
            "-o",
            str(out),
            "--camera",
            "--style",
            "noir-01=Noir",
            "--name",
            "sh070",
            "--start-frame",
            "1",
            "--exclude",
            "kling_*.json",
        ],
    )
    assert run.exit_code == 0, run.output
    spec = load_spec(out)
    assert spec.comp.name == "sh070" and spec.comp.start_frame == 1
    assert spec.style is not None and (spec.style.id, spec.style.name) == (
        "noir-01",
        "Noir",
    )
    # The Kling records were excluded, so there is no control to make a camera from.
    assert spec.camera is None
    assert "--camera: no record in the folder carries a camera control" in run.output
    bad = runner.invoke(
        main,
        [
            "init",
            str(folders["kling_over_runway"]),
            "-o",
            str(tmp_path / "x.json"),
            "--pair",
            "nonsense",
        ],
    )
    assert bad.exit_code == 1
    assert "--pair: 'nonsense' is not allowed; allowed: CLIP=MATTE" in bad.output


def test_a_spec_in_the_folder_itself_is_not_read_as_a_record(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "sh060"
    shutil.copytree(folders["prores_vp9"], folder)
    first = init_folder(folder)
    save_spec(first.spec, folder / "comp.json")
    again = init_folder(folder, ignore=[folder / "comp.json"])
    assert again.spec == first.spec
    third = init_folder(folder)
    assert ("comp.json", "an aebridge file, not a generator record") in third.left_out


# -- the README's downloads sample -----------------------------------------------------


def test_the_readme_shows_what_init_prints_for_the_downloads_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    import re

    repo = Path(__file__).resolve().parents[2]
    loader = importlib.util.spec_from_file_location(
        "make_samples", repo / "samples" / "make_samples.py"
    )
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    folder = module.SHOTS["sh040"](False)
    readme = (repo / "README.md").read_text(encoding="utf-8")
    assert (
        "aebridge init samples/downloads/sh040 -o sh040/comp.json && "
        "aebridge build sh040/comp.json -o out --preview" in readme
    )
    shown = re.search(r"```\n(layer  source.*?)\n```", readme, re.S)
    assert shown is not None
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["init", str(folder), "-o", "sh040/comp.json"])
    assert run.exit_code == 0, run.output
    assert run.stdout.rstrip() == shown.group(1), (
        "README.md's init output is out of date; paste what `aebridge init "
        "samples/downloads/sh040 -o sh040/comp.json` prints"
    )
    assert "asked for 5 s (120 frames at 24 fps); the clip has 24" in run.stderr
    assert load_spec(tmp_path / "sh040" / "comp.json").comp.duration == 24


def test_a_plate_after_effects_cannot_hold_is_one_line_naming_it(
    tmp_path: Path,
) -> None:
    # A 2x2 clip cannot set a comp (After Effects' addComp takes 4..30000 pixels).
    synthetic.write_movie(
        tmp_path / "bg_plate.mp4", frames=3, width=2, height=2, rate=Fraction(24)
    )
    with pytest.raises(InitError) as caught:
        init_folder(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "the plate bg_plate.mp4 cannot set the comp" in message
    assert "comp.width: 2 is out of range; allowed: 4 to 30000" in message
    assert "--plate" in message


def test_cli_refuses_a_spec_under_a_file_before_probing(tmp_path: Path) -> None:
    _tiny(tmp_path, "bg_plate.mp4")
    (tmp_path / "notes").write_text("a file, not a folder")
    result = CliRunner().invoke(
        main, ["init", str(tmp_path), "-o", str(tmp_path / "notes" / "comp.json")]
    )
    assert result.exit_code == 1
    assert "notes is a file, not a folder" in result.output
    assert "File exists" not in result.output
    # Refused before the folder is read: no report of a spec that is not written.
    assert "layer  source" not in result.output


def test_cli_refuses_a_spec_path_that_is_a_broken_link_before_probing(
    tmp_path: Path,
) -> None:
    # A link to nothing does not "exist": the folder was probed and the report
    # printed, then the write failed with "the spec file exists already" and no
    # word of --force.
    _tiny(tmp_path, "bg_plate.mp4")
    spec = tmp_path / "comp.json"
    spec.symlink_to(tmp_path / "gone.json")
    result = CliRunner().invoke(main, ["init", str(tmp_path), "-o", str(spec)])
    assert result.exit_code == 1
    assert "the spec file exists already; give --force to overwrite it" in (
        result.output
    )
    assert "layer  source" not in result.output
    forced = CliRunner().invoke(
        main, ["init", str(tmp_path), "-o", str(spec), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert not spec.is_symlink() and json.loads(spec.read_text())["layers"]
