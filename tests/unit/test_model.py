"""The comp spec model: defaults, derived camera values, conditioning keyframes."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from aebridge.errors import ModelError, SpecError
from aebridge.model import (
    SCHEMA,
    AnimatableValue,
    BlendMode,
    Camera,
    CameraMove,
    Comp,
    CompSpec,
    ConditioningKeyframe,
    ExrSequence,
    Keyframe,
    Layer,
    LayerSource,
    LightUnderAlpha,
    Marker,
    MarkerKind,
    MoveKind,
    Provenance,
    Role,
    TrackMatte,
    Transform,
    expand_conditioning,
)
from aebridge.model.names import MAX_ID_LENGTH, folder_key, is_id, text_digest

# After Effects' BlendingMode constants (AE spells SILHOUETE_ALPHA with one T).
AE_BLENDING_MODES = [
    "NORMAL",
    "DISSOLVE",
    "DANCING_DISSOLVE",
    "DARKEN",
    "MULTIPLY",
    "COLOR_BURN",
    "CLASSIC_COLOR_BURN",
    "LINEAR_BURN",
    "DARKER_COLOR",
    "ADD",
    "LIGHTEN",
    "SCREEN",
    "COLOR_DODGE",
    "CLASSIC_COLOR_DODGE",
    "LINEAR_DODGE",
    "LIGHTER_COLOR",
    "OVERLAY",
    "SOFT_LIGHT",
    "HARD_LIGHT",
    "LINEAR_LIGHT",
    "VIVID_LIGHT",
    "PIN_LIGHT",
    "HARD_MIX",
    "DIFFERENCE",
    "CLASSIC_DIFFERENCE",
    "EXCLUSION",
    "SUBTRACT",
    "DIVIDE",
    "HUE",
    "SATURATION",
    "COLOR",
    "LUMINOSITY",
    "STENCIL_ALPHA",
    "STENCIL_LUMA",
    "SILHOUETE_ALPHA",
    "SILHOUETTE_LUMA",
    "ALPHA_ADD",
    "LUMINESCENT_PREMUL",
]


def _comp(**changes: object) -> Comp:
    base = Comp(name="sh010", width=320, height=180, rate=Fraction(24), duration=48)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_blend_modes_cover_every_after_effects_mode_in_order() -> None:
    ours = [m.value.upper() for m in BlendMode]
    theirs = [n.replace("SILHOUETE_", "SILHOUETTE_") for n in AE_BLENDING_MODES]
    assert ours == theirs
    assert len(BlendMode) == 38


def test_models_are_frozen_slotted_and_keyword_only() -> None:
    layer = Layer(id="bg", source=LayerSource(path="bg.####.png"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.id = "fg"  # type: ignore[misc]
    assert not hasattr(layer, "__dict__")
    with pytest.raises(TypeError):
        Layer("bg", None, LayerSource(path="x"))  # type: ignore[misc]


def test_comp_frame_range_is_start_to_start_plus_duration() -> None:
    comp = _comp(start_frame=1001, duration=48)
    assert (comp.last_frame, comp.end_frame) == (1048, 1049)


def test_spec_defaults() -> None:
    spec = CompSpec(comp=_comp())
    assert spec.schema == SCHEMA == "aebridge.comp/1"
    assert spec.layers == () and spec.markers == () and spec.camera is None
    assert spec.comp.bpc == 32 and spec.comp.linear_blending is True


def test_camera_frames_the_comp_one_to_one_by_default() -> None:
    comp = _comp(width=1920, height=1080)
    camera = Camera(focal_length_mm=50.0, film_width_mm=36.0)
    zoom = 1920 * 50.0 / 36.0
    assert camera.zoom(comp) == pytest.approx(2666.6666666667)
    assert camera.start_position(comp) == (960.0, 540.0, -zoom)
    assert camera.start_point_of_interest(comp) == (960.0, 540.0, 0.0)
    moved = Camera(position=(0.0, 0.0, -100.0), point_of_interest=(1.0, 2.0, 3.0))
    assert moved.start_position(comp) == (0.0, 0.0, -100.0)
    assert moved.start_point_of_interest(comp) == (1.0, 2.0, 3.0)


def test_layer_name_defaults_to_its_id() -> None:
    assert Layer(id="fg", source=LayerSource(path="x")).display_name == "fg"
    named = Layer(id="fg", name="Hero", source=LayerSource(path="x"))
    assert named.display_name == "Hero"


def test_opacity_value_prefers_animated_transform_opacity() -> None:
    static = Layer(id="a", source=LayerSource(path="x"), opacity=40.0)
    assert static.opacity_value() == AnimatableValue(value=40.0)
    keys = (Keyframe(frame=1001, value=0.0), Keyframe(frame=1010, value=100.0))
    animated = Layer(
        id="a",
        source=LayerSource(path="x"),
        transform=Transform(opacity=AnimatableValue(keyframes=keys)),
    )
    assert animated.opacity_value().animated
    assert animated.opacity_value().first_value() == 0.0


def test_animatable_without_value_or_keys_has_no_first_value() -> None:
    with pytest.raises(ValueError, match="needs a value or keyframes"):
        AnimatableValue().first_value()


def test_exr_sequence_frame_names_and_count() -> None:
    seq = ExrSequence(
        folder="layers/fg",
        name="fg",
        first=1001,
        last=1048,
        rate=Fraction(24),
        width=320,
        height=180,
    )
    assert seq.frame_count == 48
    assert seq.frame_name(1001) == "fg.1001.exr"
    assert dataclasses.replace(seq, padding=6).frame_name(7) == "fg.000007.exr"


def test_layer_start_defaults_to_the_comp_start() -> None:
    spec = CompSpec(
        comp=_comp(start_frame=1001),
        layers=(
            Layer(id="a", source=LayerSource(path="x")),
            Layer(id="b", source=LayerSource(path="x"), start=1010),
        ),
    )
    assert spec.layer_start(spec.layer("a")) == 1001
    assert spec.layer_start(spec.layer("b")) == 1010
    with pytest.raises(KeyError):
        spec.layer("missing")


def _conditioned(**comp_changes: object) -> CompSpec:
    return CompSpec(
        comp=_comp(**comp_changes),
        layers=(
            Layer(
                id="fg",
                source=LayerSource(path="fg.####.png"),
                start=1005,
                provenance=Provenance(
                    keyframes=(ConditioningKeyframe(frame=10, image="kf/fg10.png"),)
                ),
            ),
        ),
        provenance=Provenance(
            keyframes=(
                ConditioningKeyframe(frame=0, image="kf/a.png", prompt="dawn"),
                ConditioningKeyframe(frame=24, prompt="dusk", strength=0.5),
            )
        ),
    )


def test_conditioning_keyframes_become_keyframe_markers_at_comp_frames() -> None:
    spec = expand_conditioning(_conditioned())
    assert [(m.frame, m.name, m.comment) for m in spec.markers] == [
        (1001, "keyframe 1", "dawn"),
        (1015, "fg keyframe 1", ""),
        (1025, "keyframe 2", "dusk"),
    ]
    assert all(m.kind is MarkerKind.KEYFRAME for m in spec.markers)
    assert dict(spec.markers[0].parameters) == {
        "image": "kf/a.png",
        "source_frame": "0",
    }
    assert dict(spec.markers[1].parameters) == {
        "image": "kf/fg10.png",
        "layer": "fg",
        "source_frame": "10",
    }
    assert dict(spec.markers[2].parameters) == {"source_frame": "24", "strength": "0.5"}
    assert len(spec.layers) == 1  # no guides unless asked


def test_keyframe_images_become_one_frame_guide_layers_on_request() -> None:
    spec = expand_conditioning(_conditioned(keyframe_guides=True))
    guides = [layer for layer in spec.layers if layer.role is Role.GUIDE]
    assert [(g.id, g.start, g.in_frame, g.out_frame, g.guide) for g in guides] == [
        ("kf_comp_1", 1001, 1001, 1002, True),
        ("kf_fg_1", 1015, 1015, 1016, True),
    ]
    assert isinstance(guides[0].source, LayerSource)
    assert guides[0].source.path == "kf/a.png"


def test_expanding_twice_adds_nothing_and_markers_can_be_switched_off() -> None:
    once = expand_conditioning(_conditioned(keyframe_guides=True))
    assert expand_conditioning(once) == once
    off = expand_conditioning(_conditioned(keyframe_markers=False))
    assert off.markers == ()


def test_a_guide_whose_id_a_layer_holds_in_any_case_takes_the_next_free_id() -> None:
    # A user's layer 'KF_fg_1' (or 'kf_fg_1') is not the guide: the guide was dropped
    # as if it were there. It takes the next id free in any case ('KF_fg_1' and
    # 'kf_fg_1' are one folder on Windows and macOS), and expanding again adds nothing.
    for held in ("KF_fg_1", "kf_fg_1"):
        spec = _conditioned(keyframe_guides=True)
        taken = Layer(id=held, source=LayerSource(path="kf/fg10.png"), start=1015)
        also = Layer(id="KF_FG_1_2", source=LayerSource(path="x.png"))
        spec = dataclasses.replace(spec, layers=(*spec.layers, taken, also))
        expanded = expand_conditioning(spec)
        ids = [layer.id for layer in expanded.layers]
        assert ids == ["fg", held, "KF_FG_1_2", "kf_comp_1", "kf_fg_1_3"]
        guide = expanded.layer("kf_fg_1_3")
        assert guide.guide and guide.role is Role.GUIDE and guide.start == 1015
        assert expand_conditioning(expanded) == expanded


def test_a_guide_of_a_layer_with_a_long_id_has_a_valid_id_of_its_own() -> None:
    # kf_<owner>_<n> of a layer id of 124 to 128 characters was longer than an id may
    # be, and expanding the spec failed with the Layer model's many-line error.
    def owned(layer_id: str, keys: int) -> Layer:
        frames = range(0, 2 * keys, 2)
        images = (ConditioningKeyframe(frame=f, image=f"kf/{f}.png") for f in frames)
        return Layer(
            id=layer_id,
            source=LayerSource(path="fg.mp4"),
            provenance=Provenance(keyframes=tuple(images)),
        )

    long_ids = ["a" * 128, "a" * 127 + "b", "a" * 124, "a" * 122, "a" * 121]
    spec = CompSpec(
        comp=_comp(keyframe_guides=True, duration=48),
        layers=tuple(owned(i, 12) for i in long_ids),
    )
    expanded = expand_conditioning(spec)
    guides = [layer.id for layer in expanded.layers if layer.role is Role.GUIDE]
    assert len(guides) == 5 * 12
    assert len({folder_key(g) for g in guides}) == len(guides)
    assert all(is_id(g) and len(g) <= MAX_ID_LENGTH for g in guides)
    # Whole while it fits (kf_, 122 characters and _10 are 128), else the layer id's
    # start, a hash of it and the number; the same spec gives the same ids.
    assert {"kf_" + "a" * 122 + "_9", "kf_" + "a" * 122 + "_10"} <= set(guides)
    short = "kf_" + "a" * 114 + "_" + text_digest("kf_" + "a" * 128) + "_1"
    assert len(short) == MAX_ID_LENGTH and short in guides
    assert expand_conditioning(expanded) == expanded
    assert expand_conditioning(spec) == expanded


def test_existing_markers_are_kept_in_frame_order() -> None:
    spec = dataclasses.replace(
        _conditioned(), markers=(Marker(frame=1040, name="end"),)
    )
    frames = [m.frame for m in expand_conditioning(spec).markers]
    assert frames == [1001, 1015, 1025, 1040]


# -- the models hold their own invariants ----------------------------------------------


def _problems(error: pytest.ExceptionInfo[ModelError]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_keyframes_out_of_order_cannot_exist() -> None:
    # Moved from the build plan's tests: the plan no longer checks key order, the
    # model refuses it once, for everyone downstream.
    with pytest.raises(SpecError) as info:
        AnimatableValue(
            keyframes=(Keyframe(frame=1005, value=1.0), Keyframe(frame=1003, value=2.0))
        )
    assert info.value.problems[0].path == "keyframes[1].frame"
    assert isinstance(info.value, ModelError) and isinstance(info.value, ValueError)


def test_constructors_check_every_field_rule_at_once() -> None:
    with pytest.raises(ModelError) as info:
        _comp(width=2, rate=Fraction(120), bpc=12, name="a\nb")
    assert _problems(info) == [
        "name: 'a\\nb' is not allowed; allowed: any text of 1 to 255 characters "
        "without line breaks or other control characters",
        "width: 2 is out of range; allowed: 4 to 30000",
        "rate: 120 fps is out of range; allowed: 1 to 99 fps (After Effects' comp "
        "rates)",
        "bpc: 12 is not allowed; allowed: 8, 16, 32",
    ]
    assert str(info.value).startswith("Comp: 4 problems in the comp spec:")


def test_constructors_refuse_values_of_the_wrong_type() -> None:
    with pytest.raises(ModelError) as info:
        Layer(id="fg", source="fg.png", blend="screen")  # type: ignore[arg-type]
    assert _problems(info) == [
        "source: expected LayerSource or ExrSequence, got string",
        "blend: expected a BlendMode, got string 'screen'",
    ]


def test_constructors_check_the_relations_between_their_fields() -> None:
    with pytest.raises(ModelError, match=r"last: 1000 is before first 1001"):
        ExrSequence(
            folder="f",
            name="f",
            first=1001,
            last=1000,
            rate=Fraction(24),
            width=4,
            height=4,
        )
    with pytest.raises(ModelError, match=r"'add' is not allowed with blend 'screen'"):
        Layer(
            id="fg",
            source=LayerSource(path="x"),
            blend=BlendMode.SCREEN,
            light_under_alpha=LightUnderAlpha.ADD,
        )
    with pytest.raises(ModelError, match=r"transform\.anchor: has 3 components"):
        Layer(
            id="fg",
            source=LayerSource(path="x"),
            transform=Transform(anchor=AnimatableValue(value=(1.0, 2.0, 3.0))),
        )
    # Layer.stretch: "Values between 0 and 1 are set to 1, and values between -1 and
    # 0 (not including 0) are set to -1" (scripting guide): a 0.5 % stretch would play
    # at 1 % in After Effects while the preview played it at 0.5 %.
    for stretch in (0.5, -0.5, 0.0):
        with pytest.raises(
            ModelError,
            match=rf"stretch: {stretch:g} is out of range; allowed: -9900 to 9900, "
            r"not between -1 and 1",
        ):
            Layer(id="fg", source=LayerSource(path="x"), stretch=stretch)
    for stretch in (1.0, -1.0):
        assert Layer(id="fg", source=LayerSource(path="x"), stretch=stretch).stretch
    with pytest.raises(ModelError, match=r"amount: 0 is out of range; allowed: more"):
        CameraMove(kind=MoveKind.ZOOM, start=1001, end=1002, amount=0.0)
    with pytest.raises(ModelError, match="needs a value or keyframes, not both"):
        AnimatableValue(value=1.0, keyframes=(Keyframe(frame=1, value=2.0),))


def test_a_spec_holds_its_layer_references_and_frames() -> None:
    matte = TrackMatte(layer="nope")
    with pytest.raises(ModelError) as info:
        CompSpec(
            comp=_comp(),
            layers=(
                Layer(id="a", source=LayerSource(path="x"), track_matte=matte),
                Layer(id="a", source=LayerSource(path="x")),
            ),
            markers=(Marker(frame=5),),
        )
    assert _problems(info) == [
        "layers[1].id: 'a' is already the id of layers[0]; layer ids must be unique",
        "layers[0].track_matte.layer: no layer with id 'nope'; ids are: a",
        "markers[0].frame: frame 5 is outside the comp; allowed: 1001 to 1048",
    ]
    with pytest.raises(ModelError, match="track mattes form a cycle: a -> b -> a"):
        CompSpec(
            comp=_comp(),
            layers=(
                Layer(
                    id="a",
                    source=LayerSource(path="x"),
                    track_matte=TrackMatte(layer="b"),
                ),
                Layer(
                    id="b",
                    source=LayerSource(path="x"),
                    track_matte=TrackMatte(layer="a"),
                ),
            ),
        )


def test_a_spec_refuses_layer_ids_that_differ_only_in_case() -> None:
    # 'Fg' and 'fg' name layers/Fg/ and layers/fg/: one folder on Windows and macOS.
    with pytest.raises(ModelError) as info:
        CompSpec(
            comp=_comp(),
            layers=(
                Layer(id="fg", source=LayerSource(path="x")),
                Layer(id="bg", source=LayerSource(path="x")),
                Layer(id="Fg", source=LayerSource(path="x")),
            ),
        )
    assert _problems(info) == [
        "layers[2].id: 'Fg' differs only in case from 'fg', the id of layers[0]; "
        "layer ids must differ in more than case, as they name folders, which "
        "Windows and macOS do not tell apart by case",
    ]
