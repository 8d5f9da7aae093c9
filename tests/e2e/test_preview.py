"""Previews end to end: tiny EXR sequences on disk, rendered and written out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio
import pytest

from aebridge.animation import Key, Track
from aebridge.errors import OptionError, OutputError, SourceError, SpecError
from aebridge.model import (
    AnimatableValue,
    BlendMode,
    Camera,
    CameraMove,
    Comp,
    CompSpec,
    ExrSequence,
    Keyframe,
    Layer,
    LightUnderAlpha,
    MatteType,
    MoveKind,
    TrackMatte,
    Transform,
)
from aebridge.model import Ease as ModelEase
from aebridge.preview.plan import (
    CameraPlan,
    CameraState,
    CompPlan,
    LayerPlan,
    SequencePlan,
)
from aebridge.preview.render import Renderer, parse_frames, render_frame, render_preview
from aebridge.spec_io import spec_to_dict

W, H = 64, 36
FIRST = 1001


def write_exr(path: Path, rgba: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = oiio.ImageSpec(rgba.shape[1], rgba.shape[0], 4, oiio.HALF)
    spec.channelnames = ("R", "G", "B", "A")
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec)
    assert out.write_image(rgba.astype(np.float32))
    out.close()


def disc(frame: int, colour: tuple[float, float, float]) -> np.ndarray:
    """A soft-edged premultiplied disc that moves one pixel per frame."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    cx, cy = 20 + frame, 18
    alpha = np.clip(12 - np.hypot(xx - cx, yy - cy), 0, 1)
    img = np.zeros((H, W, 4), np.float32)
    img[..., :3] = np.array(colour, np.float32) * alpha[..., None]
    img[..., 3] = alpha
    return img


def solid(*rgba: float) -> np.ndarray:
    return np.tile(np.array(rgba, np.float32), (H, W, 1))


def plate(frame: int) -> np.ndarray:
    img = np.ones((H, W, 4), np.float32)
    img[..., 0] = np.linspace(0.0, 2.0, W)[None, :]  # HDR values too
    img[..., 1] = 0.1 * frame
    img[..., 2] = np.linspace(0.0, 1.0, H)[:, None]
    return img


def sequence(root: Path, name: str, frames: list[np.ndarray]) -> SequencePlan:
    for i, img in enumerate(frames):
        write_exr(root / name / f"{name}.{FIRST + i:04d}.exr", img)
    return SequencePlan(
        folder=root / name,
        name=name,
        first=FIRST,
        last=FIRST + len(frames) - 1,
        width=frames[0].shape[1],
        height=frames[0].shape[0],
    )


def layer(seq: SequencePlan, **kw: object) -> LayerPlan:
    fields: dict[str, object] = {
        "id": seq.name,
        "spec_path": f"layers[{seq.name}]",
        "source": seq,
        "start": FIRST,
        "in_frame": FIRST,
        "out_frame": FIRST + seq.frame_count,
    }
    fields.update(kw)
    return LayerPlan(**fields)  # type: ignore[arg-type]


def comp(*layers: LayerPlan, duration: int = 3, **kw: object) -> CompPlan:
    return CompPlan(
        name="sh",
        width=W,
        height=H,
        rate=Fraction(24),
        start_frame=FIRST,
        duration=duration,
        layers=layers,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture()
def two_layers(tmp_path: Path) -> CompPlan:
    bg = sequence(tmp_path, "bg", [plate(i) for i in range(3)])
    fg = sequence(tmp_path, "fg", [disc(i, (0.9, 0.4, 0.2)) for i in range(3)])
    return comp(layer(bg), layer(fg))


def test_two_normal_layers_match_oiiotool_over_frame_by_frame(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    if shutil.which("oiiotool") is None:
        pytest.skip("oiiotool is not on PATH")
    bg, fg = (lp.source for lp in two_layers.layers)
    for i in range(3):
        ref = tmp_path / f"ref.{i}.exr"
        subprocess.run(
            [
                "oiiotool",
                str(fg.path(i)),
                str(bg.path(i)),
                "--over",
                "-d",
                "half",
                "-o",
                str(ref),
            ],
            check=True,
        )
        expected = oiio.ImageBuf(str(ref)).get_pixels(oiio.FLOAT)
        got = render_frame(two_layers, FIRST + i)
        # Half floats carry 11 significant bits: relative 2^-11 plus a tiny floor.
        np.testing.assert_allclose(got, expected, rtol=2**-10, atol=2**-14)


def test_layer_timing_start_in_out_and_stretch(tmp_path: Path) -> None:
    frames = [np.full((H, W, 4), v, np.float32) for v in (0.1, 0.2, 0.3, 0.4)]
    seq = sequence(tmp_path, "ramp", frames)
    # Source frame 0 at comp 1002, shown 1003..1008 (out exclusive), at 200 % stretch.
    lp = layer(seq, start=1002, in_frame=1003, out_frame=1009, stretch=Fraction(200))
    renderer = Renderer(comp(lp, duration=10))
    seen = {f: float(renderer.render(f)[0, 0, 3]) for f in range(1001, 1011)}
    assert seen == pytest.approx(
        {
            1001: 0.0,
            1002: 0.0,  # before the in point
            1003: 0.1,  # (1003 - 1002) * 100/200 = 0.5 -> source frame 0
            1004: 0.2,
            1005: 0.2,
            1006: 0.3,
            1007: 0.3,
            1008: 0.4,
            1009: 0.0,
            1010: 0.0,  # at and after the out point
        },
        abs=1e-3,
    )  # values stored as half floats


def test_track_matte_hides_the_matte_and_cuts_the_layer(tmp_path: Path) -> None:
    white = np.ones((H, W, 4), np.float32)
    half = np.zeros((H, W, 4), np.float32)
    half[:, : W // 2] = 1.0  # opaque white on the left half only
    fg = sequence(tmp_path, "fg", [white * np.array([1, 0, 0, 1], np.float32)])
    matte = sequence(tmp_path, "m", [half])
    plan = comp(
        layer(matte, is_matte=True),
        layer(fg, matte=(0, "alpha_inverted")),
        duration=1,
    )
    out = render_frame(plan, FIRST)
    np.testing.assert_array_equal(out[:, : W // 2], 0.0)  # matte alpha 1 -> cut
    np.testing.assert_array_equal(
        out[:, W // 2 :], np.broadcast_to([1, 0, 0, 1], (H, W // 2, 4))
    )


def glow_frame(height: int = H, width: int = W) -> np.ndarray:
    """Premultiplied colour on the left, light under alpha 0 on the right (a glow),
    and transparent black along the bottom row."""
    glow = np.zeros((height, width, 4), np.float32)
    glow[:, : width // 2] = (0.5, 0.25, 0.0, 0.5)  # covered: premultiplied colour
    glow[:, width // 2 :, :3] = (0.0, 0.75, 1.0)  # light under alpha 0
    glow[-1] = 0.0
    return glow


def test_light_under_alpha_zero_shows_only_when_the_layer_keeps_it(
    tmp_path: Path,
) -> None:
    # A glow over a grey plate. After Effects unpremultiplies premultiplied footage
    # and drops that light; the preview shows what AE will: the plate alone there,
    # unless the layer keeps it (a cut-out and an additive copy in AE), which over an
    # opaque plate gives the colour of 'over' with the light added.
    bg = exr_layer(tmp_path, "bg", [solid(0.2, 0.2, 0.2, 1.0)])
    fg = exr_layer(tmp_path, "fg", [glow_frame()])
    kept = replace(fg, light_under_alpha=LightUnderAlpha.ADD)
    dropped = render_frame(spec_of(bg, fg), FIRST, base_dir=tmp_path)
    added = render_frame(spec_of(bg, kept), FIRST, base_dir=tmp_path)
    np.testing.assert_allclose(dropped[0, -1], (0.2, 0.2, 0.2, 1.0), atol=1e-3)
    np.testing.assert_allclose(added[0, -1], (0.2, 0.95, 1.2, 1.0), atol=1e-3)
    for out in (dropped, added):  # where alpha > 0 both are 'over'
        np.testing.assert_allclose(out[0, 0], (0.6, 0.35, 0.1, 1.0), atol=1e-3)


def test_a_silhouette_layer_cuts_what_is_below_and_nothing_at_the_bottom(
    tmp_path: Path,
) -> None:
    cut = np.zeros((H, W, 4), np.float32)
    cut[:, : W // 2] = (0.3, 0.3, 0.3, 0.75)  # its colour is never drawn
    plate_layer = exr_layer(tmp_path, "plate", [solid(0.2, 0.4, 0.6, 1.0)])
    hole = exr_layer(tmp_path, "hole", [cut], blend=BlendMode.SILHOUETTE_ALPHA)
    out = render_frame(spec_of(plate_layer, hole), FIRST, base_dir=tmp_path)
    np.testing.assert_allclose(out[0, 0], (0.05, 0.1, 0.15, 0.25), atol=1e-3)
    np.testing.assert_allclose(out[0, -1], (0.2, 0.4, 0.6, 1.0), atol=1e-3)
    alone = render_frame(spec_of(hole), FIRST, base_dir=tmp_path)
    assert not alone.any()


# A light-keeping layer half the comp's size, centred: comp pixels 16..47 x 9..26.
SMALL = (slice(9, 27), slice(16, 48))


def light_comp(
    tmp_path: Path, *below: Layer, **kw: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The comp frame of a small glow layer kept with light_under_alpha 'add' above
    the layers ``below``, and its part inside the glow's frame."""
    glow = exr_layer(
        tmp_path,
        "glow",
        [glow_frame(H // 2, W // 2)],
        light_under_alpha=LightUnderAlpha.ADD,
        **kw,
    )
    out = render_frame(spec_of(*below, glow), FIRST, base_dir=tmp_path)
    return out, out[SMALL]


def test_a_layer_keeping_its_light_over_nothing_is_opaque_over_its_whole_frame(
    tmp_path: Path,
) -> None:
    # In After Effects the cut-out (Silhouette Alpha) cuts nothing out of nothing;
    # the copy, its alpha ignored, is opaque over its whole frame and Add gives
    # alpha as + ab - as ab = 1 there: the stored colour, opaque, even where the
    # frame is transparent black.
    out, inside = light_comp(tmp_path)
    np.testing.assert_allclose(inside[0, 0], (0.5, 0.25, 0.0, 1.0), atol=1e-3)
    np.testing.assert_allclose(inside[0, -1], (0.0, 0.75, 1.0, 1.0), atol=1e-3)
    np.testing.assert_allclose(inside[-1, 0], (0.0, 0.0, 0.0, 1.0), atol=1e-3)
    assert np.all(inside[..., 3] == 1.0)
    outside = out.copy()
    outside[SMALL] = 0.0
    assert not outside.any()


BELOW = (0.2, 0.1, 0.05, 0.5)  # premultiplied, half transparent


def test_a_layer_keeping_its_light_over_a_half_transparent_layer(
    tmp_path: Path,
) -> None:
    # Colour c + cb (1 - a), alpha 1 inside the layer's frame (not a + ab (1 - a) as
    # 'over' would give); the layer below unchanged outside it.
    below = exr_layer(tmp_path, "below", [solid(*BELOW)])
    out, inside = light_comp(tmp_path, below)
    # c = (.5, .25, 0), a = .5: (.5 + .2 * .5, .25 + .1 * .5, 0 + .05 * .5)
    np.testing.assert_allclose(inside[0, 0], (0.6, 0.3, 0.025, 1.0), atol=1e-3)
    # light under alpha 0, a = 0: c + cb
    np.testing.assert_allclose(inside[0, -1], (0.2, 0.85, 1.05, 1.0), atol=1e-3)
    # transparent black: the backdrop's colour, made opaque
    np.testing.assert_allclose(inside[-1, 0], (0.2, 0.1, 0.05, 1.0), atol=1e-3)
    np.testing.assert_allclose(out[0, 0], BELOW, atol=1e-3)
    np.testing.assert_allclose(out[-1, -1], BELOW, atol=1e-3)
    np.testing.assert_allclose(out[8, 20], BELOW, atol=1e-3)  # just above the frame


@pytest.mark.parametrize("scaled_by", ["opacity", "matte"])
def test_a_layer_keeping_its_light_at_half_strength_follows_the_general_formula(
    tmp_path: Path, scaled_by: str
) -> None:
    # Opacity 50 % or an alpha matte of 0.5 scale both layers: the cut-out leaves
    # cb (1 - .5 a), the copy adds source alpha .5 and colour .5 c by the general
    # formula: colour .5 c + cb (1 - .5 a), alpha .5 + ab (1 - .5 a)(1 - .5).
    below = [exr_layer(tmp_path, "below", [solid(*BELOW)])]
    kw: dict[str, Any] = {"opacity": 50.0}
    if scaled_by == "matte":
        below.append(exr_layer(tmp_path, "m", [solid(0.5, 0.5, 0.5, 0.5)]))
        kw = {"track_matte": TrackMatte(layer="m", type=MatteType.ALPHA)}
    out, inside = light_comp(tmp_path, *below, **kw)
    # a = .5: (.25 + .2 * .75, .125 + .1 * .75, 0 + .05 * .75), .5 + .5 * .75 * .5
    np.testing.assert_allclose(inside[0, 0], (0.4, 0.2, 0.0375, 0.6875), atol=1e-3)
    # a = 0: (0 + .2, .375 + .1, .5 + .05), .5 + .5 * .5
    np.testing.assert_allclose(inside[0, -1], (0.2, 0.475, 0.55, 0.75), atol=1e-3)
    # transparent black: the backdrop's colour, alpha .75
    np.testing.assert_allclose(inside[-1, 0], (0.2, 0.1, 0.05, 0.75), atol=1e-3)
    np.testing.assert_allclose(out[0, 0], BELOW, atol=1e-3)


# --- 3D layers through the camera -----------------------------------------------------

ZOOM = 80.0


def test_3d_layer_at_z0_with_the_default_camera_renders_one_to_one(
    two_layers: CompPlan,
) -> None:
    flat = render_frame(two_layers, FIRST)
    bg, fg = two_layers.layers
    cam = CameraPlan.static((W / 2, H / 2, -ZOOM), (W / 2, H / 2, 0.0), ZOOM)
    three_d = replace(
        two_layers,
        layers=(bg, replace(fg, three_d=True)),
        camera=cam,
    )
    np.testing.assert_array_equal(render_frame(three_d, FIRST), flat)


def test_a_dolly_in_enlarges_the_layer_by_zoom_over_distance(tmp_path: Path) -> None:
    square = np.zeros((H, W, 4), np.float32)
    square[14:22, 28:36] = 1.0  # 8x8, centred on the comp
    seq = sequence(tmp_path, "sq", [square] * 5)
    # Camera dollies from -ZOOM to -ZOOM/2 over frames 1001..1005, linearly.
    keys = (
        Key(frame=1001, value=(W / 2, H / 2, -ZOOM)),
        Key(frame=1005, value=(W / 2, H / 2, -ZOOM / 2)),
    )
    position = Track(keys=keys, spatial=True)

    def state(frame: float) -> CameraState:
        x, y, z = position.at(frame, 24.0)
        return ((x, y, z), (W / 2, H / 2, 0.0), ZOOM, 0.0)

    plan = comp(
        layer(seq, three_d=True, start=FIRST, in_frame=FIRST, out_frame=FIRST + 5),
        duration=5,
        camera=CameraPlan(state=state),
    )
    renderer = Renderer(plan)
    for frame, distance in ((1001, ZOOM), (1003, 0.75 * ZOOM), (1005, ZOOM / 2)):
        coverage = float(renderer.render(frame)[..., 3].sum())
        # Size scales by zoom / distance, area by its square.
        assert coverage == pytest.approx(64 * (ZOOM / distance) ** 2, rel=0.02), frame


def test_3d_layers_draw_back_to_front_whatever_their_stacking(tmp_path: Path) -> None:
    red = sequence(tmp_path, "red", [solid(1, 0, 0, 1)])
    blue = sequence(tmp_path, "blue", [solid(0, 0, 1, 1)])
    near = Track.const(W / 2, H / 2, -10.0)
    far = Track.const(W / 2, H / 2, 10.0)
    cam = CameraPlan.static((W / 2, H / 2, -ZOOM), (W / 2, H / 2, 0.0), ZOOM)
    # Red is nearer but lower in the stack: AE sorts 3D layers by depth, so red wins.
    plan = comp(
        layer(red, three_d=True, position=near),
        layer(blue, three_d=True, position=far),
        duration=1,
        camera=cam,
    )
    np.testing.assert_allclose(render_frame(plan, FIRST)[H // 2, W // 2], [1, 0, 0, 1])


# --- blend, opacity, transforms through the renderer ----------------------------------


def test_screen_layer_with_opacity_over_a_plate(tmp_path: Path) -> None:
    grey = sequence(tmp_path, "g", [solid(0.25, 0.25, 0.25, 1.0)])
    top = sequence(tmp_path, "t", [solid(0.5, 0.5, 0.5, 1.0)])
    plan = comp(
        layer(grey),
        layer(top, blend="screen", opacity=Track.const(50.0)),
        duration=1,
    )
    # screen(0.25, 0.5) = 0.625; at 50 %: 0.25 * 0.5 + 0.5 * 0.625 (general formula
    # with as = 0.5, ab = 1) = 0.125 + 0.3125 = 0.4375
    np.testing.assert_allclose(render_frame(plan, FIRST)[0, 0], [0.4375] * 3 + [1.0])


def test_keyframed_position_moves_the_layer(tmp_path: Path) -> None:
    dot = np.zeros((4, 4, 4), np.float32)
    dot[...] = 1.0
    seq = sequence(tmp_path, "dot", [dot] * 3)
    keys = (Key(frame=1001, value=(2.0, 2.0)), Key(frame=1003, value=(12.0, 2.0)))
    plan = comp(
        layer(seq, out_frame=1004, position=Track(keys=keys, spatial=True)),
        duration=3,
    )
    renderer = Renderer(plan)
    for frame, left in ((1001, 0), (1002, 5), (1003, 10)):
        xs = np.nonzero(renderer.render(frame)[0, :, 3] > 0.5)[0]
        assert (xs.min(), xs.max()) == (left, left + 3), frame


# --- outputs --------------------------------------------------------------------------


def test_png_sequence_is_numbered_by_comp_frame_and_srgb_encoded(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    out = tmp_path / "png" / "sh.####.png"
    render_preview(two_layers, out)
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["sh.1001.png", "sh.1002.png", "sh.1003.png"]
    buf = oiio.ImageBuf(str(out.parent / "sh.1001.png"))
    assert buf.spec().format == oiio.UINT8 and buf.spec().nchannels == 3
    # Row 0, column 20 is plate only (the disc does not reach it): linear red
    # 2 * 20/63, green 0.1 * frame 0, blue 0; sRGB encoded, 8 bits.
    lin = 2.0 * 20 / 63
    srgb = 1.055 * lin ** (1 / 2.4) - 0.055
    px = buf.get_pixels(oiio.UINT8)
    assert [int(v) for v in px[0, 20]] == [round(srgb * 255), 0, 0]


def test_mp4_has_the_exact_rate_even_size_and_every_frame(tmp_path: Path) -> None:
    import av

    odd_w, odd_h = 63, 35
    seq = sequence(
        tmp_path,
        "o",
        [np.full((odd_h, odd_w, 4), v, np.float32) for v in (0.2, 0.5, 1.0)],
    )
    plan = replace(
        comp(layer(seq), duration=3),
        width=odd_w,
        height=odd_h,
        rate=Fraction(24000, 1001),
    )
    out = render_preview(plan, tmp_path / "p.mp4")
    with av.open(str(out)) as movie:
        stream = movie.streams.video[0]
        assert stream.average_rate == Fraction(24000, 1001)
        assert (stream.width, stream.height) == (64, 36)
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.codec_context.color_trc == 13  # tagged as sRGB (H.273)
        decoded = [f.to_ndarray(format="rgb24") for f in movie.decode(video=0)]
    assert len(decoded) == 3
    last = decoded[-1][10, 10].astype(int)
    assert np.all(np.abs(last - 255) <= 3)


def test_contact_sheet_has_one_labelled_cell_per_frame(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    sheet = render_preview(two_layers, None, contact_sheet=tmp_path / "sheet.png")
    px = oiio.ImageBuf(str(sheet)).get_pixels(oiio.UINT8)
    # 3 frames -> 2 columns x 2 rows of 64x36 thumbnails with 12 px labels, 4 px gaps
    assert px.shape == (4 + 2 * (36 + 12 + 4), 4 + 2 * (64 + 4), 3)
    label = px[4 + 36 : 4 + 36 + 12, 4 : 4 + 64]
    assert label.max() > 128  # the frame number is drawn
    empty_cell = px[4 + 52 : 4 + 52 + 36, 4 + 68 : 4 + 68 + 64]
    assert empty_cell.max() == 24  # the fourth cell stays background


def test_flat_memory_over_long_comps(tmp_path: Path) -> None:
    import tracemalloc

    seq = sequence(tmp_path, "bg", [plate(i) for i in range(24)])

    def peak(frames: int) -> int:
        plan = comp(layer(seq), duration=frames)
        tracemalloc.start()
        render_preview(plan, tmp_path / f"m{frames}.mp4")
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    short, long = peak(3), peak(24)
    frame_bytes = W * H * 4 * 4
    assert long - short < 4 * frame_bytes


# --- errors ---------------------------------------------------------------------------


def test_unknown_display_lists_the_choices(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    with pytest.raises(OptionError) as info:
        render_preview(two_layers, tmp_path / "x.mp4", display="Rec.9999")
    text = str(info.value)
    assert "--display: 'Rec.9999'" in text
    assert "sRGB - Display" in text and "ACEScg" in text


def test_a_display_name_renders_through_its_default_view(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    from aebridge.preview.display import DisplayTransform

    grey = np.array([[[0.18, 0.18, 0.18, 1.0], [0.5, 0.25, 0.1, 1.0]]], np.float32)
    plain = DisplayTransform("sRGB")(grey)
    # 0.18 linear is sRGB 0.4614 -> 118
    assert plain[0, 0].tolist() == [118, 118, 118]
    # The display's default view tone-maps (ACES 2.0 in the built-in config) ...
    assert DisplayTransform("sRGB - Display")(grey).tolist() != plain.tolist()
    # ... and DISPLAY/VIEW picks another view: untone-mapped is the plain encoding.
    untouched = DisplayTransform("sRGB - Display/Un-tone-mapped")(grey)
    assert np.abs(untouched.astype(int) - plain.astype(int)).max() <= 1
    out = render_preview(
        two_layers, tmp_path / "d.png", frame=1002, display="sRGB - Display"
    )
    assert out.is_file()


def test_an_unknown_view_lists_the_displays_views() -> None:
    from aebridge.preview.display import DisplayTransform

    with pytest.raises(OptionError, match=r"views of sRGB - Display: ACES 2\.0"):
        DisplayTransform("sRGB - Display/Filmic")


def test_frames_option_forms_and_bounds(two_layers: CompPlan) -> None:
    assert parse_frames("1001-1003", two_layers) == (1001, 1002, 1003)
    assert parse_frames("1001-1003x2", two_layers) == (1001, 1003)
    assert parse_frames("1003,1001", two_layers) == (1003, 1001)
    with pytest.raises(
        OptionError, match=r"--frames: '1000-1002'.*comp frames 1001-1003"
    ):
        parse_frames("1000-1002", two_layers)
    with pytest.raises(OptionError, match="--frames: 'abc'"):
        parse_frames("abc", two_layers)


def test_several_frames_to_one_png_name_is_refused(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    with pytest.raises(OptionError, match=r"out\.####\.png"):
        render_preview(two_layers, tmp_path / "one.png")


def test_a_missing_frame_names_the_layer_and_file(two_layers: CompPlan) -> None:
    fg = two_layers.layers[1].source
    fg.path(1).unlink()
    with pytest.raises(SourceError) as info:
        render_frame(two_layers, 1002)
    assert "layers[fg] (fg), comp frame 1002: the frame file is missing" in str(
        info.value
    )
    assert str(fg.path(1)) in str(info.value)


def test_a_frame_outside_the_read_roots_keeps_its_error_kind(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    # A service job previews under a read sandbox; a frame file swapped for a link
    # out of the roots was reported as bad_source, not path_not_allowed.
    from aebridge import sandbox

    fg = two_layers.layers[1].source
    outside = tmp_path / "elsewhere.exr"
    shutil.copy(fg.path(1), outside)
    fg.path(1).unlink()
    fg.path(1).symlink_to(outside)
    roots = [layer.source.path(1).parent for layer in two_layers.layers]
    box = sandbox.sandbox_for(roots)
    with sandbox.active(box), pytest.raises(sandbox.PathOutsideRootsError) as info:
        render_frame(two_layers, 1002)
    assert info.value.code == "path_not_allowed"
    assert "layers[fg] (fg), comp frame 1002" in str(info.value)


# --- from build.json, through the comp spec ----------------------------------------


def write_build(comp_dir: Path, spec: CompSpec) -> Path:
    """A build.json as `aebridge build` writes it: the spec as built, under "spec"."""
    path = comp_dir / "build.json"
    path.write_text(
        json.dumps({"schema": "aebridge.build/1", "spec": spec_to_dict(spec)})
    )
    return path


def exr_layer(comp_dir: Path, name: str, frames: list[np.ndarray], **kw: Any) -> Layer:
    for i, img in enumerate(frames):
        write_exr(comp_dir / "layers" / name / f"{name}.{FIRST + i:04d}.exr", img)
    source = ExrSequence(
        folder=f"layers/{name}",
        name=name,
        first=FIRST,
        last=FIRST + len(frames) - 1,
        rate=Fraction(24),
        width=frames[0].shape[1],
        height=frames[0].shape[0],
    )
    return Layer(id=name, source=source, **kw)


def spec_of(*layers: Layer, duration: int = 5, **kw: Any) -> CompSpec:
    comp_settings = Comp(
        name="sh", width=W, height=H, rate=Fraction(24), duration=duration
    )
    return CompSpec(comp=comp_settings, layers=layers, **kw)


def centred_square(size: int) -> np.ndarray:
    img = np.zeros((H, W, 4), np.float32)
    y0, x0 = (H - size) // 2, (W - size) // 2
    img[y0 : y0 + size, x0 : x0 + size] = 1.0
    return img


def test_a_spec_camera_dolly_enlarges_the_layer_at_the_expected_frames(
    tmp_path: Path,
) -> None:
    # Default camera: zoom = 64 * 50 / 36; a dolly of half that distance with ease
    # in-out over 1001..1005 is half done at 1003 (the ease is symmetric).
    zoom = W * 50 / 36
    layer_spec = exr_layer(tmp_path, "sq", [centred_square(8)] * 5, three_d=True)
    dolly = CameraMove(
        kind=MoveKind.DOLLY,
        start=1001,
        end=1005,
        amount=zoom / 2,
        easing=ModelEase.EASE_IN_OUT,
    )
    build = write_build(tmp_path, spec_of(layer_spec, camera=Camera(moves=(dolly,))))
    for frame, distance in ((1001, zoom), (1003, 0.75 * zoom), (1005, 0.5 * zoom)):
        coverage = float(render_frame(build, frame)[..., 3].sum())
        assert coverage == pytest.approx(64 * (zoom / distance) ** 2, rel=0.02), frame


def test_a_spec_with_keys_blend_and_luma_matte_renders_to_movie_and_sheet(
    tmp_path: Path,
) -> None:
    moving = AnimatableValue(
        keyframes=(
            Keyframe(frame=1001, value=(24.0, 18.0), easing=ModelEase.EASE_OUT),
            Keyframe(frame=1005, value=(40.0, 18.0), easing=ModelEase.EASE_IN),
        )
    )
    spec = spec_of(
        exr_layer(tmp_path, "bg", [plate(i) for i in range(5)]),
        exr_layer(tmp_path, "m", [solid(0.5, 0.5, 0.5, 1.0)] * 5),
        exr_layer(
            tmp_path,
            "fg",
            [disc(i, (1.0, 0.5, 0.25)) for i in range(5)],
            blend=BlendMode.SCREEN,
            opacity=75.0,
            track_matte=TrackMatte(layer="m", type=MatteType.LUMA),
            transform=Transform(position=moving),
        ),
    )
    build = write_build(tmp_path, spec)
    movie = tmp_path / "out" / "preview.mp4"
    sheet = tmp_path / "out" / "sheet.png"
    assert render_preview(build, movie, contact_sheet=sheet) == movie
    import av

    with av.open(str(movie)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    assert oiio.ImageBuf(str(sheet)).spec().width == 4 + 3 * (64 + 4)
    # The matte is not drawn, and luma 0.5 halves the screened layer's weight.
    plan_frame = render_frame(build, 1001)
    bg_only = render_frame(write_build(tmp_path, spec_of(spec.layers[0])), 1001)
    np.testing.assert_allclose(plan_frame[0, 63], bg_only[0, 63], atol=1e-6)
    # The disc (centre x 20 in its layer) sits at x 20 - 32 + 24 = 12 at frame 1001.
    # There: source (1, .5, .25) opaque, times opacity .75 and luma matte .5 -> as =
    # .375; screen over the opaque plate: cb (1 - as) + as (cb + cs - cb cs).
    cb = bg_only[18, 12, :3].astype(np.float64)
    cs = np.array([1.0, 0.5, 0.25])
    a_s = 0.75 * 0.5
    expected = cb * (1 - a_s) + a_s * (cb + cs - cb * cs)
    np.testing.assert_allclose(plan_frame[18, 12, :3], expected, atol=2e-3)


def test_unsupported_blend_modes_and_colour_spaces_are_refused_with_spec_paths(
    tmp_path: Path,
) -> None:
    spec = spec_of(
        exr_layer(tmp_path, "bg", [plate(0)]),
        exr_layer(tmp_path, "fx", [plate(0)], blend=BlendMode.COLOR_DODGE),
        exr_layer(tmp_path, "fy", [plate(0)], blend=BlendMode.HUE),
    )
    odd = replace(spec.layers[0].source, colorspace="Kodak 2383")  # type: ignore[type-var]
    spec = replace(spec, layers=(replace(spec.layers[0], source=odd), *spec.layers[1:]))
    with pytest.raises(SpecError) as info:
        render_frame(write_build(tmp_path, spec), FIRST)
    text = str(info.value)
    assert "3 problems" in text
    assert "layers[0].source.colorspace: 'Kodak 2383' is not a colour space" in text
    assert "layers[1].blend: 'color_dodge'" in text
    assert "layers[2].blend: 'hue'" in text
    assert "normal, add, screen, multiply, overlay, soft_light" in text


def test_a_file_that_is_not_a_build_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text('{"schema": "aebridge.comp/1", "comp": {}}')
    with pytest.raises(SourceError, match="no 'spec' object"):
        render_frame(path, FIRST)
    with pytest.raises(SourceError, match=r"build\.json not found"):
        render_frame(tmp_path / "nope" / "build.json", FIRST)


# --- the command line ---------------------------------------------------------------


def test_cli_renders_a_still_in_process(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aebridge.cli import main

    build = write_build(tmp_path, spec_of(exr_layer(tmp_path, "bg", [plate(0)] * 5)))
    out = tmp_path / "still.png"
    result = CliRunner().invoke(
        main, ["preview", str(build), "-o", str(out), "--frame", "1003"]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file()


def test_cli_reports_a_bad_display_without_a_traceback(tmp_path: Path) -> None:
    build = write_build(tmp_path, spec_of(exr_layer(tmp_path, "bg", [plate(0)] * 5)))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "aebridge",
            "preview",
            str(build),
            "-o",
            str(tmp_path / "p.mp4"),
            "--display",
            "nope",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: --display: 'nope' is not allowed")
    assert "Traceback" not in run.stderr


def test_a_spec_in_memory_renders_like_its_build_json(tmp_path: Path) -> None:
    spec = spec_of(exr_layer(tmp_path, "bg", [plate(i) for i in range(5)]))
    from_json = render_frame(write_build(tmp_path, spec), 1004)
    in_memory = render_frame(spec, 1004, base_dir=tmp_path)
    np.testing.assert_array_equal(in_memory, from_json)
    assert in_memory[0, 0, 1] == pytest.approx(0.3, abs=1e-3)  # source frame 3


def test_output_names_expand_hashes_and_printf_padding() -> None:
    from aebridge.preview.writers import frame_path

    assert frame_path("out/sh.####.png", 1001).name == "sh.1001.png"
    assert frame_path("out/sh.%06d.png", 1001).name == "sh.001001.png"
    assert frame_path("still.png", 1001).name == "still.png"
    # The grammar of sources (aebridge.sequence): the frame field is the name's last,
    # a lone '#' is four digits, and folders may hold '#' or '%'.
    assert frame_path("out #1/sh.####.png", 7) == Path("out #1/sh.0007.png")
    assert frame_path("50%d/it's #2.%03d.png", 7) == Path("50%d/it's #2.007.png")
    assert frame_path("out/sh.#.png", 7) == Path("out/sh.0007.png")
    assert frame_path("out/sh.@@.png", 7) == Path("out/sh.07.png")


@pytest.mark.parametrize(
    ("name", "frames", "plain"),
    [
        ("x.1-3#.png", "1-3", "x.####.png, x.%04d.png, x.@@@@.png"),
        ("x.1,3#.png", "1,3", "x.####.png"),
        ("x.1-9x2@@.png", "1-9x2", "x.##.png, x.%02d.png, x.@@.png"),
    ],
)
def test_an_output_pattern_holding_frame_numbers_is_refused(
    two_layers: CompPlan, tmp_path: Path, name: str, frames: str, plain: str
) -> None:
    # An output names where frames go; which frames is --frames. Writing the comp's
    # frame numbers under a name that lists others would give files not asked for.
    out = tmp_path / "out" / name
    with pytest.raises(OptionError) as caught:
        render_preview(two_layers, out)
    message = str(caught.value)
    assert message.startswith(f"-o/--output: '{out}' is not allowed")
    assert plain in message and message.endswith(f"--frames {frames}")
    assert "\n" not in message
    assert not out.parent.exists()


def test_an_unknown_output_extension_is_refused(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    with pytest.raises(OptionError, match=r"'.*\.mov'.*a \.mp4 movie or \.png frames"):
        render_preview(two_layers, tmp_path / "p.mov")


def test_contact_sheet_labels_without_a_font(
    two_layers: CompPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenImageIO returns False from render_text when it finds no font.
    monkeypatch.setattr(oiio.ImageBufAlgo, "render_text", lambda *a, **k: False)
    sheet = render_preview(two_layers, None, contact_sheet=tmp_path / "s.png")
    px = oiio.ImageBuf(str(sheet)).get_pixels(oiio.UINT8)
    label = px[4 + 36 : 4 + 36 + 12, 4 : 4 + 64]
    # "1001" in the 3x5 digit font at 1 px per dot: 4 glyphs, 2 px apart.
    assert label.max() == 255
    lit_columns = np.nonzero(label.max(axis=(0, 2)) == 255)[0]
    assert lit_columns.min() == 2 and lit_columns.max() == 2 + 4 * 4 - 2


def test_a_failure_mid_movie_leaves_no_movie_file(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    two_layers.layers[0].source.path(2).unlink()  # frame 1003 of the plate
    out = tmp_path / "m" / "p.mp4"
    with pytest.raises(SourceError, match="comp frame 1003"):
        render_preview(two_layers, out)
    assert list(out.parent.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_movie_that_cannot_be_created_is_an_output_error(
    two_layers: CompPlan, tmp_path: Path
) -> None:
    # /proc exists but no file can be made in it (even by root): PyAV opens the file
    # only when the first packet is muxed, which raised a bare av.error traceback.
    with pytest.raises(OutputError, match="cannot write the movie"):
        render_preview(two_layers, Path("/proc/aebridge-preview.mp4"))


_FULL_DISK = """
import resource, signal, sys
from fractions import Fraction
from pathlib import Path
import numpy as np
from aebridge.errors import OutputError
from aebridge.preview.writers import Mp4Sink

frames, limit, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
sink = Mp4Sink(out, rate=Fraction(24))
# A write past the limit fails with EFBIG, as one on a full disk fails with ENOSPC.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
noise = np.random.default_rng(0)
try:
    for index in range(frames):
        sink.write(index, noise.integers(0, 256, (256, 256, 3), dtype=np.uint8))
    sink.close()
except OutputError as exc:
    sink.abort()
    print(exc)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize(
    "frames, limit",
    [(2, 1000), (12, 200_000)],
    ids=["when-the-movie-is-closed", "while-frames-are-written"],
)
def test_a_movie_the_disk_cannot_hold_is_one_line_naming_it(
    tmp_path: Path, frames: int, limit: int
) -> None:
    # A failure when the movie was closed (PyAV writes a small movie out only
    # then) said "[Errno 27] File too large: '.../.p.<pid>-<token>.tmp.mp4'": an
    # errno and the hidden temporary's name, where one while writing gave the reason.
    out = tmp_path / "p.mp4"
    run = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(frames), str(limit), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == f"{out}: cannot write the movie: File too large\n"
    assert list(tmp_path.iterdir()) == []


def test_reading_ahead_gives_the_same_frames_and_stops_its_threads(
    two_layers: CompPlan,
) -> None:
    import threading

    plain = [Renderer(two_layers).render(f) for f in two_layers.frames]
    with Renderer(two_layers) as renderer:
        ahead = []
        for f in two_layers.frames:
            if f + 1 in two_layers.frames:
                renderer.prefetch(f + 1)
            ahead.append(renderer.render(f))
    for a, b in zip(plain, ahead, strict=True):
        np.testing.assert_array_equal(a, b)
    names = [t.name for t in threading.enumerate()]
    assert not any(n.startswith("aebridge-preview") for n in names)


def test_guides_and_disabled_layers_are_skipped_and_mattes_still_found(
    tmp_path: Path,
) -> None:
    from aebridge.model import LayerSource, Role

    left = np.zeros((H, W, 4), np.float32)
    left[:, : W // 2] = 1.0
    spec = spec_of(
        Layer(id="kf", source=LayerSource(path="kf.png"), guide=True, role=Role.GUIDE),
        exr_layer(tmp_path, "off", [solid(0, 1, 0, 1)] * 5, enabled=False),
        exr_layer(tmp_path, "m", [left] * 5, enabled=False),
        exr_layer(
            tmp_path,
            "fg",
            [solid(1, 0, 0, 1)] * 5,
            track_matte=TrackMatte(layer="m", type=MatteType.ALPHA),
        ),
    )
    out = render_frame(spec, 1001, base_dir=tmp_path)
    np.testing.assert_array_equal(
        out[:, : W // 2], np.broadcast_to([1, 0, 0, 1], (H, W // 2, 4))
    )
    assert out[:, W // 2 :].sum() == 0  # the matte cuts; the disabled green never shows
