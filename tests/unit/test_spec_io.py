"""Comp spec JSON: every validation problem with its spec path, round trips."""

from __future__ import annotations

import copy
import functools
import json
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aebridge import model as m
from aebridge import spec_io
from aebridge.errors import OptionError, OutputError, Problem, SpecError
from aebridge.model import (
    BlendMode,
    CustomEase,
    Ease,
    EaseHandle,
    ExrSequence,
    LayerSource,
    MatteType,
    MoveKind,
)
from aebridge.model.names import ID_ALLOWED, is_id
from aebridge.sequence import is_sequence_pattern
from aebridge.spec.schema import comp_spec_schema
from aebridge.spec_io import dump_spec, load_spec, resolve_paths, spec_hash, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx
from aejsx import ECMA_SPACE, PYTHON_SPACE

Spec = dict[str, Any]


def base() -> Spec:
    """A small valid spec that touches every section."""
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "sh010",
            "width": 320,
            "height": 180,
            "rate": "24000/1001",
            "duration": 48,
        },
        "layers": [
            {"id": "bg", "source": {"path": "media/bg.####.png"}, "role": "background"},
            {
                "id": "fg",
                "source": {"path": "media/fg.mov", "alpha": "straight"},
                "blend": "screen",
                "three_d": True,
                "track_matte": {"layer": "matte", "type": "luma"},
                "transform": {
                    "position": {
                        "keyframes": [
                            {
                                "frame": 1001,
                                "value": [160, 90, 0],
                                "easing": "ease_out",
                            },
                            {
                                "frame": 1048,
                                "value": [200, 90, 0],
                                "easing": {"in": {"speed": 0, "influence": 75}},
                            },
                        ]
                    },
                    "opacity": 80,
                },
            },
            {"id": "matte", "source": "media/matte.mp4", "role": "matte"},
        ],
        "camera": {
            "focal_length_mm": 35,
            "moves": [
                {
                    "kind": "dolly",
                    "start": 1001,
                    "end": 1024,
                    "amount": 120,
                    "easing": "ease_in_out",
                },
            ],
        },
        "markers": [{"frame": 1010, "name": "hit", "parameters": {"take": "3"}}],
        "style": {"id": "noir-01", "name": "Noir"},
        "provenance": {
            "generator": "gen",
            "seed": 7,
            "keyframes": [{"frame": 0, "prompt": "start"}],
            "extra": {"steps": 30},
        },
    }


def problems_of(data: Spec, **kwargs: Any) -> list[tuple[str, str, str]]:
    kwargs.setdefault("check_files", False)
    return [(p.severity, p.path, p.message) for p in validate(data, **kwargs)]


def test_the_base_spec_is_valid() -> None:
    assert problems_of(base()) == []
    spec = load_spec(base(), check_files=False)
    assert spec.comp.rate == Fraction(24000, 1001)
    assert spec.layers[1].blend is BlendMode.SCREEN
    assert spec.layers[1].track_matte is not None
    assert spec.layers[1].track_matte.type is MatteType.LUMA
    assert spec.layers[2].source == LayerSource(path="media/matte.mp4")
    keys = spec.layers[1].transform.position
    assert keys is not None and keys.keyframes[1].easing == CustomEase(
        ease_in=EaseHandle(speed=0.0, influence=75.0)
    )
    assert spec.camera is not None and spec.camera.moves[0].kind is MoveKind.DOLLY
    assert spec.camera.moves[0].easing is Ease.EASE_IN_OUT
    assert spec.provenance is not None and spec.provenance.extra == (("steps", "30"),)


Mutation = Callable[[Spec], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: Spec) -> None:
        target: Any = data
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: Spec) -> None:
        parts = path.split(".")
        target: Any = data
        for part in parts[:-1]:
            target = target[part]
        del target[parts[-1]]

    return mutate


BLENDS = ", ".join(m.value for m in BlendMode)

CASES: list[tuple[str, Mutation, list[tuple[str, str, str]]]] = [
    (
        "a comp narrower than After Effects allows",
        _set("comp.width", 2),
        [("error", "comp.width", "2 is out of range; allowed: 4 to 30000")],
    ),
    (
        "a comp rate After Effects refuses",
        _set("comp.rate", 120),
        [
            (
                "error",
                "comp.rate",
                "120 fps is out of range; allowed: 1 to 99 fps (After Effects' comp "
                "rates)",
            )
        ],
    ),
    (
        "a comp longer than three hours",
        _set("comp.duration", 300000),
        [
            (
                "error",
                "comp.duration",
                "300000 frames at 24000/1001 fps is 12512.5 s; allowed: up to 10800 s "
                "(258941 frames), After Effects' longest comp",
            )
        ],
    ),
    (
        "a comp starting after 23:59:00",
        _set("comp.start_frame", 2100000),
        [
            (
                "error",
                "comp.start_frame",
                "frame 2100000 at 24000/1001 fps is 87587.5 s; allowed: up to 86339 s "
                "(2070065 frames, 23:59:00), the latest start After Effects gives a "
                "comp",
            )
        ],
    ),
    (
        "a comp start frame no rate can reach",
        _set("comp.start_frame", 10**300),
        [
            (
                "error",
                "comp.start_frame",
                f"{10**300} is out of range; allowed: 0 to 8547561",
            )
        ],
    ),
    (
        "a layer start further than three hours from the comp",
        _set("layers[0].start", -300000),
        [
            (
                "error",
                "layers[0].start",
                "frame -300000 is -12554.3 s from the comp's first frame; allowed: "
                "within 10800 s of it (frames -257940 to 259942), as After Effects "
                "keeps layer times",
            )
        ],
    ),
    (
        "a comp name with a line break",
        _set("comp.name", "a\nb"),
        [
            (
                "error",
                "comp.name",
                "'a\\nb' is not allowed; allowed: any text of 1 to 255 characters "
                "without line breaks or other control characters",
            )
        ],
    ),
    (
        "a comp name longer than 255 characters",
        _set("comp.name", "x" * 256),
        [
            (
                "error",
                "comp.name",
                "'" + "x" * 56 + "... is not allowed; allowed: any text of 1 to 255 "
                "characters without line breaks or other control characters",
            )
        ],
    ),
    ("a comp name of free text", _set("comp.name", "SH010 comp v2 (final) \u65e5"), []),
    (
        "a comp id that is not a file name",
        _set("comp.id", "a/b"),
        [
            (
                "error",
                "comp.id",
                f"'a/b' is not allowed; allowed: {ID_ALLOWED}",
            )
        ],
    ),
    (
        "light kept under alpha 0 needs the normal blend",
        _set("layers[1].light_under_alpha", "add"),
        [
            (
                "error",
                "layers[1].light_under_alpha",
                "'add' is not allowed with blend 'screen'; allowed: 'add' with blend "
                "'normal' only (the layer becomes a cut-out and an additive copy, "
                "which together give the colour of 'over'), else 'drop'",
            )
        ],
    ),
    (
        "a layer keeping its light with nothing drawn below it is warned about",
        _set("layers[0].light_under_alpha", "add"),
        [
            (
                "warning",
                "layers[0].light_under_alpha",
                "layer 'bg' keeps its light with 'add' but no layer is drawn below "
                "it: the additive copy is opaque, so the layer's whole frame hides "
                "the comp background (alpha 1, in After Effects and in the preview); "
                "'add' is meant for a layer above an opaque plate",
            )
        ],
    ),
    (
        "a layer keeping its light above a plate is not warned about",
        lambda data: data["layers"][1].update(blend="normal", light_under_alpha="add"),
        [],
    ),
    (
        "a layer keeping its light above a guide only is warned about",
        lambda data: (
            data["layers"][0].update(role="guide"),
            data["layers"][1].update(blend="normal", light_under_alpha="add"),
        ),
        [
            (
                "warning",
                "layers[1].light_under_alpha",
                "layer 'fg' keeps its light with 'add' but no layer is drawn below "
                "it: the additive copy is opaque, so the layer's whole frame hides "
                "the comp background (alpha 1, in After Effects and in the preview); "
                "'add' is meant for a layer above an opaque plate",
            )
        ],
    ),
    (
        "a matte layer asked to render is warned about",
        _set("layers[2].enabled", True),
        [
            (
                "warning",
                "layers[2].enabled",
                "layer 'matte' is another layer's track matte: its video is switched "
                "off in After Effects (and the preview never draws it), whatever "
                "enabled says",
            )
        ],
    ),
    (
        "a matte role no layer uses is warned about",
        lambda data: data["layers"][1].pop("track_matte"),
        [
            (
                "warning",
                "layers[2].role",
                "layer 'matte' has role 'matte' but no layer uses it as its "
                "track_matte, so it renders as an ordinary layer",
            )
        ],
    ),
    (
        "unknown field with a suggestion",
        _set("layers[0].blnd", "add"),
        [("error", "layers[0].blnd", "unknown field; did you mean 'blend'?")],
    ),
    (
        "unknown top-level field lists what is allowed",
        _set("zzz", 1),
        [
            (
                "error",
                "zzz",
                "unknown field; allowed: schema, comp, layers, camera, markers, "
                "style, provenance",
            )
        ],
    ),
    (
        "unknown blend mode lists every mode",
        _set("layers[1].blend", "mutliply"),
        [
            (
                "error",
                "layers[1].blend",
                "'mutliply' is not allowed; did you mean 'multiply'? "
                f"allowed: {BLENDS}",
            )
        ],
    ),
    (
        "track matte naming an unknown layer",
        _set("layers[1].track_matte.layer", "fg2"),
        [
            (
                "error",
                "layers[1].track_matte.layer",
                "no layer with id 'fg2'; ids are: bg, fg, matte",
            )
        ],
    ),
    (
        "track matte naming the layer itself",
        _set("layers[1].track_matte.layer", "fg"),
        [
            (
                "error",
                "layers[1].track_matte.layer",
                "a layer cannot be its own track matte",
            )
        ],
    ),
    (
        "track mattes forming a cycle",
        _set("layers[2].track_matte", {"layer": "fg"}),
        [
            (
                "error",
                "layers[1].track_matte.layer",
                "track mattes form a cycle: fg -> matte -> fg",
            )
        ],
    ),
    (
        "duplicate layer ids",
        _set("layers[2].id", "bg"),
        [
            (
                "error",
                "layers[2].id",
                "'bg' is already the id of layers[0]; layer ids must be unique",
            ),
            (
                "error",
                "layers[1].track_matte.layer",
                "no layer with id 'matte'; ids are: bg, fg",
            ),
        ],
    ),
    (
        # Layers 'FG' and 'fg' wrote layers/FG/ and layers/fg/: one folder on Windows
        # and macOS, where the second layer's frames land among the first's.
        "layer ids differing only in case",
        _set("layers[0].id", "FG"),
        [
            (
                "error",
                "layers[1].id",
                "'fg' differs only in case from 'FG', the id of layers[0]; layer ids "
                "must differ in more than case, as they name folders, which Windows "
                "and macOS do not tell apart by case",
            )
        ],
    ),
    (
        "layer id that cannot be a folder name",
        _set("layers[0].id", "../bg"),
        [
            (
                "error",
                "layers[0].id",
                f"'../bg' is not allowed; allowed: {ID_ALLOWED}",
            )
        ],
    ),
    (
        # A layer 'con' wrote layers/con/con.1001.exr, which Windows (where After
        # Effects reads the frames) cannot open: CON is a device there, whatever the
        # case and extension.
        "layer id that is a Windows device name",
        _set("layers[0].id", "con"),
        [
            (
                "error",
                "layers[0].id",
                "'con' is not allowed; allowed: 1 to 128 letters, digits, '_', '-', "
                "'.', starting with a letter or digit, not ending in '.', and not a "
                "name Windows keeps for a device (CON, PRN, AUX, NUL, COM1 to COM9, "
                "LPT1 to LPT9, in any case, alone or before a '.')",
            )
        ],
    ),
    (
        "comp id that is a Windows device name before an extension",
        _set("comp.id", "Nul.exr"),
        [("error", "comp.id", f"'Nul.exr' is not allowed; allowed: {ID_ALLOWED}")],
    ),
    (
        # A layer 'fg.' wrote layers/fg./, which Windows, where After Effects reads
        # the frames, shows as 'fg' (it drops a trailing '.'): a layer 'fg''s folder.
        "layer id ending in '.'",
        _set("layers[0].id", "fg."),
        [("error", "layers[0].id", f"'fg.' is not allowed; allowed: {ID_ALLOWED}")],
    ),
    (
        "comp id ending in '.'",
        _set("comp.id", "shot.v2."),
        [("error", "comp.id", f"'shot.v2.' is not allowed; allowed: {ID_ALLOWED}")],
    ),
    (
        # The pattern matches the whole id (a trailing line break was let through).
        "layer id ending in a line break",
        _set("layers[0].id", "bg\n"),
        [
            (
                "error",
                "layers[0].id",
                f"'bg\\n' is not allowed; allowed: {ID_ALLOWED}",
            )
        ],
    ),
    (
        "wrong type",
        _set("comp.width", "320"),
        [("error", "comp.width", "expected a whole number, got string '320'")],
    ),
    (
        "out of range",
        _set("layers[0].opacity", 150),
        [("error", "layers[0].opacity", "150 is out of range; allowed: 0 to 100")],
    ),
    (
        "missing required field",
        _delete("comp.duration"),
        [("error", "comp.duration", "missing; this field is required")],
    ),
    (
        "bad rate",
        _set("comp.rate", "fast"),
        [
            (
                "error",
                "comp.rate",
                "'fast' is not allowed; allowed: a number or ratio such as 24, 25, "
                "23.976, 29.97, 24000/1001",
            )
        ],
    ),
    (
        "a rate of more digits than a number holds",
        _set("comp.rate", "1" * 5000),
        [
            (
                "error",
                "comp.rate",
                "'" + "1" * 56 + "... is not allowed; allowed: a number or ratio "
                "such as 24, 25, 23.976, 29.97, 24000/1001",
            )
        ],
    ),
    (
        # A positive rate, but not one a comp may have: its range, not the syntax.
        "a comp rate below 1",
        _set("comp.rate", "0.5"),
        [
            (
                "error",
                "comp.rate",
                "1/2 fps is out of range; allowed: 1 to 99 fps (After Effects' comp "
                "rates)",
            )
        ],
    ),
    (
        # Digits 0-9 only, as the JSON Schema's pattern (an ECMA-262 regular
        # expression, where \d is [0-9]) takes them: Python's \d and Fraction also
        # read fullwidth and other Unicode digits, so validate took fullwidth 24 as 24.
        "a rate in fullwidth digits",
        _set("comp.rate", "\uff12\uff14"),
        [
            (
                "error",
                "comp.rate",
                "'\uff12\uff14' is not allowed; allowed: a number or ratio such as "
                "24, 25, 23.976, 29.97, 24000/1001",
            )
        ],
    ),
    (
        # The JSON Schema's form: decimals and ratios, no exponent (Fraction read
        # "1e100000000" too, and spent minutes making that number exact).
        "a ratio written with an exponent",
        _set("comp.pixel_aspect", "1e1"),
        [
            (
                "error",
                "comp.pixel_aspect",
                "'1e1' is not allowed; allowed: a ratio from 0.01 to 100 such as 1, "
                '0.9, "10/11"',
            )
        ],
    ),
    (
        "marker outside the comp",
        _set("markers[0].frame", 1049),
        [
            (
                "error",
                "markers[0].frame",
                "frame 1049 is outside the comp; allowed: 1001 to 1048",
            )
        ],
    ),
    (
        "keyframe outside the comp",
        _set("layers[1].transform.position.keyframes[1].frame", 2000),
        [
            (
                "error",
                "layers[1].transform.position.keyframes[1].frame",
                "frame 2000 is outside the comp; allowed: 1001 to 1048",
            )
        ],
    ),
    (
        "keyframes out of order",
        _set("layers[1].transform.position.keyframes[1].frame", 1001),
        [
            (
                "error",
                "layers[1].transform.position.keyframes[1].frame",
                "1001 is not after the previous key's frame 1001; keys must be in "
                "increasing frame order",
            )
        ],
    ),
    (
        "vector of the wrong size on a 2D layer",
        _set("layers[0].transform", {"anchor": [1, 2, 3]}),
        [
            (
                "error",
                "layers[0].transform.anchor",
                "expected a list of 2 numbers, got list [1, 2, 3]",
            )
        ],
    ),
    (
        "influence out of range",
        _set(
            "layers[1].transform.position.keyframes[1].easing",
            {"in": {"speed": 0, "influence": 0}},
        ),
        [
            (
                "error",
                "layers[1].transform.position.keyframes[1].easing.in.influence",
                "0 is out of range; allowed: 0.1 to 100",
            )
        ],
    ),
    (
        "camera move ending before it starts",
        _set("camera.moves[0].end", 1001),
        [
            (
                "error",
                "camera.moves[0].end",
                "1001 is not after start 1001; allowed: 1002 or later",
            )
        ],
    ),
    (
        "unknown camera move with a suggestion",
        _set("camera.moves[0].kind", "dolley"),
        [
            (
                "error",
                "camera.moves[0].kind",
                "'dolley' is not allowed; did you mean 'dolly'? allowed: dolly, truck, "
                "pedestal, pan, tilt, roll, zoom, orbit",
            )
        ],
    ),
    (
        "zoom factor must be positive",
        _set(
            "camera.moves[0]", {"kind": "zoom", "start": 1001, "end": 1010, "amount": 0}
        ),
        [
            (
                "error",
                "camera.moves[0].amount",
                "0 is out of range; allowed: more than 0 up to 100",
            )
        ],
    ),
    (
        "explicit ease influences over 100 in one move",
        _set(
            "camera.moves[0].easing",
            {"in": {"speed": 0, "influence": 60}, "out": {"speed": 0, "influence": 60}},
        ),
        [
            (
                "error",
                "camera.moves[0].easing",
                "in influence plus out influence is 120; allowed: at most 100",
            )
        ],
    ),
    (
        "a camera with no 3D layer is a warning",
        _set("layers[1]", {"id": "fg", "source": "media/fg.mov"}),
        [
            (
                "warning",
                "layers[2].role",
                "layer 'matte' has role 'matte' but no layer uses it as its "
                "track_matte, so it renders as an ordinary layer",
            ),
            (
                "warning",
                "camera",
                "no layer has three_d: true, so the camera changes nothing; set "
                "three_d on the layers that should follow it",
            ),
        ],
    ),
    (
        "opacity given twice",
        _set("layers[1].opacity", 50),
        [
            (
                "error",
                "layers[1].opacity",
                "set either opacity or transform.opacity, not both",
            )
        ],
    ),
    (
        "layer rate that differs from the comp is conformed with a warning",
        _set("layers[0].source.rate", 30),
        [
            (
                "warning",
                "layers[0].source.rate",
                "30 fps differs from the comp's 24000/1001 fps; After Effects conforms "
                "it to 24000/1001 fps (frame for frame, so its duration changes)",
            )
        ],
    ),
    (
        "out frame not after in frame",
        _set("layers[0].out_frame", 1001),
        [
            (
                "error",
                "layers[0].out_frame",
                "1001 is not after the in frame 1001; allowed: 1002 or later "
                "(out_frame is exclusive)",
            )
        ],
    ),
    (
        "in frame before the source starts",
        _set("layers[0].in_frame", 990),
        [
            (
                "error",
                "layers[0].in_frame",
                "990 is before the layer's start 1001 (its source frame 0); allowed: "
                "1001 or later",
            )
        ],
    ),
    (
        "layer that starts after the comp",
        _set("layers[0].start", 1100),
        [
            (
                "error",
                "layers[0].start",
                "frame 1100 is after the comp's last frame 1048; the layer would never "
                "be seen",
            )
        ],
    ),
    (
        "conditioning keyframe landing outside the comp",
        _set("provenance.keyframes[0].frame", 48),
        [
            (
                "error",
                "provenance.keyframes[0].frame",
                "source frame 48 lands on comp frame 1049, outside the comp (1001 to "
                "1048)",
            )
        ],
    ),
    (
        "stretch After Effects would set to 1 %",
        _set("layers[0].stretch", 0.5),
        [
            (
                "error",
                "layers[0].stretch",
                "0.5 is out of range; allowed: -9900 to 9900, not between -1 and 1",
            )
        ],
    ),
    (
        "bad alpha mode",
        _set("layers[1].source.alpha", "straigth"),
        [
            (
                "error",
                "layers[1].source.alpha",
                "'straigth' is not allowed; did you mean 'straight'? allowed: auto, "
                "straight, premultiplied, none",
            )
        ],
    ),
    (
        "a matte with premultiplied alpha",
        _set(
            "layers[0].source",
            {"path": "a.mov", "matte": "m.mov", "alpha": "premultiplied"},
        ),
        [
            (
                "error",
                "layers[0].source.alpha",
                "'premultiplied' is not allowed with a matte; allowed: auto, straight "
                "(the matte becomes the alpha and the colour is treated as straight)",
            )
        ],
    ),
    (
        "non-linear 8 bpc project is a warning",
        _set("comp.bpc", 8),
        [
            (
                "warning",
                "comp.bpc",
                "8 bpc clips the scene-linear EXR values above 1; 32 keeps them",
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_validation_problem(
    mutate: Mutation, expected: list[tuple[str, str, str]]
) -> None:
    data = copy.deepcopy(base())
    mutate(data)
    assert problems_of(data) == expected


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        # Microsoft's reserved names, alone or before an extension, in any case.
        *((device, False) for device in ("CON", "prn", "Aux", "nUL")),
        *((f"{port}{n}", False) for port in ("COM", "lpt") for n in range(1, 10)),
        ("nul.tar.gz", False),
        ("Com3.1001.exr", False),
        # The superscript ports are reserved too; an id is ASCII anyway.
        ("COM\u00b9", False),
        ("LPT\u00b3", False),
        # Not devices: Microsoft took COM0 and LPT0 out of its list (April 2025) as
        # listed in error; a longer word, a number past 9, or a device after '_'.
        ("COM0", True),
        ("lpt0.1001.exr", True),
        ("COM10", True),
        ("console", True),
        ("nul_", True),
        ("con_.v2", True),
        ("fg.con", True),
        # A trailing '.' is dropped by Windows; inside a name it is kept.
        ("fg.", False),
        ("fg.v2", True),
        ("fg-", True),
    ],
)
def test_the_id_grammar_follows_microsoft_s_naming_conventions(
    name: str, allowed: bool
) -> None:
    assert is_id(name) is allowed


def test_every_problem_is_reported_at_once() -> None:
    data = base()
    data["comp"]["width"] = 0
    data["layers"][0]["blend"] = "nope"
    data["markers"][0]["frame"] = 5
    with pytest.raises(SpecError) as info:
        load_spec(data, check_files=False)
    paths = [p.path for p in info.value.problems]
    assert paths == ["comp.width", "layers[0].blend", "markers[0].frame"]
    assert "3 problems in the comp spec" in str(info.value)
    assert "  comp.width: 0 is out of range; allowed: 4 to 30000" in str(info.value)


def test_rate_policy_refuse_makes_a_rate_mismatch_an_error() -> None:
    data = base()
    data["layers"][0]["source"]["rate"] = 30
    assert problems_of(data, rate_policy="refuse") == [
        (
            "error",
            "layers[0].source.rate",
            "30 fps differs from the comp's 24000/1001 fps; conform it or build with "
            "rate_policy 'conform'",
        )
    ]
    with pytest.raises(OptionError, match="rate_policy: 'sometimes' is not allowed"):
        validate(data, rate_policy="sometimes")


def test_warnings_reach_the_callback_and_do_not_fail_loading() -> None:
    data = base()
    data["comp"]["bpc"] = 16
    seen: list[Problem] = []
    load_spec(data, check_files=False, warn=seen.append)
    assert [(p.severity, p.path) for p in seen] == [("warning", "comp.bpc")]


def test_missing_sources_are_reported_relative_to_the_spec_folder(
    tmp_path: Path,
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    for frame in (1001, 1002):
        (media / f"bg.{frame}.png").write_bytes(b"png")
    (media / "fg.mov").write_bytes(b"mov")
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(base()))
    problems = [(p.path, p.message) for p in validate(path)]
    assert problems == [
        (
            "layers[2].source.path",
            f"source not found: 'media/matte.mp4' (looked for "
            f"{(tmp_path / 'media/matte.mp4').as_posix()})",
        )
    ]


def test_a_source_path_the_system_cannot_look_up_is_a_problem(tmp_path: Path) -> None:
    # A name longer than the file system allows made exists() raise: a traceback
    # from validate, and a 500 from the service.
    data = base()
    data["layers"] = [{"id": "plate", "source": "a" * 300}]
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "layers[0].source.path",
            "source '" + "a" * 56 + "... cannot be looked up: File name too long "
            f"(looked for {(tmp_path / ('a' * 300)).as_posix()})",
        )
    ]


def test_a_folder_source_is_listed_as_the_build_lists_it(tmp_path: Path) -> None:
    """A folder source passed the spec check when it merely existed, so a folder
    holding two image sequences (or none) was valid to validate and to the
    service's submission and failed later, in the build; it is listed like a
    pattern is, and what the listing refuses is a problem at its path."""
    for name in ("bg", "fg"):
        for frame in (1001, 1002):
            (tmp_path / "two" / f"{name}.{frame}.png").parent.mkdir(exist_ok=True)
            (tmp_path / "two" / f"{name}.{frame}.png").write_bytes(b"png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "fg.1001.png").write_bytes(b"png")
    data = base()
    data["layers"] = [
        {"id": "two", "source": {"path": "two"}},
        {"id": "empty", "source": {"path": "empty", "matte": "two"}},
        {"id": "one", "source": "one"},
    ]
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "layers[0].source.path",
            "source 'two': the folder holds 2 image sequences, give one as a pattern "
            "instead: bg.####.png (1001-1002); fg.####.png (1001-1002)",
        ),
        (
            "layers[1].source.path",
            "source 'empty': the folder holds no numbered image sequence (looked "
            "for .exr, .jpeg, .jpg, .png, .tif, .tiff files named like "
            "name.1001.ext)",
        ),
        (
            "layers[1].source.matte",
            "matte 'two': the folder holds 2 image sequences, give one as a pattern "
            "instead: bg.####.png (1001-1002); fg.####.png (1001-1002)",
        ),
    ]


def test_exr_sequence_sources_report_missing_frames_and_other_sizes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "layers" / "bg"
    folder.mkdir(parents=True)
    for frame in (1001, 1003):
        (folder / f"bg.{frame}.exr").write_bytes(b"exr")
    data = base()
    data["layers"] = [
        {
            "id": "bg",
            "source": {
                "folder": "layers/bg",
                "name": "bg",
                "first": 1001,
                "last": 1004,
                "rate": "24000/1001",
                "width": 64,
                "height": 36,
            },
        }
    ]
    data.pop("camera")
    problems = [
        (p.severity, p.path, p.message) for p in validate(data, base_dir=tmp_path)
    ]
    assert problems == [
        (
            "error",
            "layers[0].source.folder",
            f"frames 1002, 1004 of bg.####.exr are missing in {folder.as_posix()}",
        ),
        (
            "warning",
            "layers[0].source",
            "64x36 differs from the comp's 320x180; the layer is placed by its "
            "transform (centred by default)",
        ),
    ]


def test_json_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text('{\n  "schema": "aebridge.comp/1",\n  "comp": }\n')
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert [str(p) for p in info.value.problems] == [
        "not valid JSON: line 3, column 11: Expecting value"
    ]
    # A problem of the file as a whole: one line naming the file.
    assert str(info.value) == (
        f"{path.as_posix()}: not valid JSON: line 3, column 11: Expecting value"
    )


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text('{"schema": "aebridge.comp/1", "comp": {}, "comp": {}}')
    assert [p.message for p in validate(path)] == [
        "the key 'comp' appears twice in one object"
    ]


def test_a_missing_spec_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.json")


def test_unknown_schema_label_names_the_known_ones() -> None:
    data = base()
    data["schema"] = "aebridge.comp/9"
    assert problems_of(data) == [
        (
            "error",
            "schema",
            "'aebridge.comp/9' is not a comp spec label this version of aebridge "
            "reads; known labels: aebridge.comp/1",
        )
    ]
    del data["schema"]
    assert problems_of(data) == [
        ("error", "schema", "missing; expected 'aebridge.comp/1'")
    ]


def test_old_labels_load_through_registered_upgrades(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def upgrade_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["comp"] = dict(data["comp"], name=data["comp"].pop("title"))
        data["schema"] = "aebridge.comp/1"
        return data

    monkeypatch.setitem(spec_io.UPGRADES, "aebridge.comp/0", upgrade_0_to_1)
    old = base()
    old["schema"] = "aebridge.comp/0"
    old["comp"]["title"] = old["comp"].pop("name")
    spec = load_spec(old, check_files=False)
    assert spec.schema == "aebridge.comp/1"
    assert spec == load_spec(base(), check_files=False)


def test_dump_round_trips_exactly_and_is_deterministic() -> None:
    spec = load_spec(base(), check_files=False)
    text = dump_spec(spec)
    again = load_spec(json.loads(text), check_files=False)
    assert again == spec
    assert dump_spec(again) == text
    data = json.loads(text)
    assert data["comp"]["rate"] == "24000/1001"
    assert list(data) == sorted(data)
    assert data["layers"][1]["transform"]["opacity"] == 80
    assert text.endswith("}\n")


def test_spec_hash_changes_with_content() -> None:
    one = load_spec(base(), check_files=False)
    data = base()
    data["layers"][0]["opacity"] = 50
    two = load_spec(data, check_files=False)
    assert spec_hash(one) == spec_hash(load_spec(base(), check_files=False))
    assert spec_hash(one) != spec_hash(two)
    assert len(spec_hash(one)) == 64


def test_resolve_paths_makes_sources_absolute(tmp_path: Path) -> None:
    spec = resolve_paths(load_spec(base(), check_files=False), tmp_path)
    source = spec.layers[0].source
    assert isinstance(source, LayerSource)
    assert source.path == (tmp_path / "media/bg.####.png").as_posix()
    exr = ExrSequence(
        folder="../done/bg",
        name="bg",
        first=1,
        last=2,
        rate=Fraction(24),
        width=2,
        height=2,
    )
    import dataclasses

    with_exr = dataclasses.replace(
        spec, layers=(dataclasses.replace(spec.layers[0], source=exr),)
    )
    resolved = resolve_paths(with_exr, tmp_path / "shot")
    assert isinstance(resolved.layers[0].source, ExrSequence)
    assert resolved.layers[0].source.folder == (tmp_path / "done/bg").as_posix()


SCHEMA_FILE = Path(spec_io.__file__).parent / "schema" / "comp-1.schema.json"


@pytest.mark.parametrize(
    ("definition", "model"),
    [
        ("comp", "Comp"),
        ("layer", "Layer"),
        ("layer_source", "LayerSource"),
        ("exr_sequence", "ExrSequence"),
        ("transform", "Transform"),
        ("camera", "Camera"),
        ("camera_move", "CameraMove"),
        ("marker", "Marker"),
        ("style", "Style"),
        ("provenance", "Provenance"),
        ("conditioning_keyframe", "ConditioningKeyframe"),
    ],
)
def test_json_schema_fields_follow_the_model(definition: str, model: str) -> None:
    import dataclasses

    from aebridge import model as model_module

    schema = json.loads(SCHEMA_FILE.read_text())
    fields = [f.name for f in dataclasses.fields(getattr(model_module, model))]
    assert sorted(schema["$defs"][definition]["properties"]) == sorted(fields)


def test_json_schema_enums_follow_the_model() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    layer = schema["$defs"]["layer"]["properties"]
    assert layer["blend"]["enum"] == [m.value for m in BlendMode]
    kinds = schema["$defs"]["camera_move"]["properties"]["kind"]["enum"]
    assert kinds == [m.value for m in MoveKind]


def test_specs_aebridge_writes_satisfy_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(base(), schema)
    jsonschema.validate(
        json.loads(dump_spec(load_spec(base(), check_files=False))), schema
    )
    samples = Path(__file__).resolve().parents[2] / "samples"
    for shot in ("sh010", "sh020", "sh030"):
        jsonschema.validate(
            json.loads((samples / shot / "comp.json").read_text()), schema
        )
    bad = base()
    bad["layers"][0]["blend"] = "mutliply"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    for stretch in (0.5, -0.5, 0):
        bad = base()
        bad["layers"][0]["stretch"] = stretch
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    for stretch in (1, -1, 9900):
        good = base()
        good["layers"][0]["stretch"] = stretch
        jsonschema.validate(good, schema)


def _not_blank_patterns(schema: Any) -> list[set[str]]:
    """The patterns of every string the JSON Schema says may not be blank (a string
    of at least one character), each string's own and its allOf's."""
    found: list[set[str]] = []
    if isinstance(schema, dict):
        kind = schema.get("type")
        text = kind == "string" or (isinstance(kind, list) and "string" in kind)
        if text and schema.get("minLength") == 1:
            patterns = {p["pattern"] for p in schema.get("allOf", [])}
            found.append(patterns | {schema.get("pattern", "")} - {""})
        for value in schema.values():
            found += _not_blank_patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _not_blank_patterns(value)
    return found


def _blank_to_python(text: str) -> list[bool]:
    """Whether validate takes ``text`` in fields that may not be blank and allow
    any other text: a string source, a source path, a style id, a camera name."""
    spec = base()
    spec["layers"][0]["source"] = text
    spec["layers"][2]["source"] = {"path": text}
    spec["style"]["id"] = text
    spec["camera"]["name"] = text
    refused = {path for _, path, _ in problems_of(spec)}
    paths = ("layers[0].source.path", "layers[2].source.path", "style.id")
    return [path not in refused for path in (*paths, "camera.name")]


def test_blank_text_is_blank_to_the_model_and_to_the_json_schema() -> None:
    # The model said blank with str.strip() (Python's white space), the schema with
    # ECMA-262's \S: '\ufeff' passed validate and not a client's schema check,
    # '\x1c' the other way round; a string source was checked for length alone.
    spaces = sorted(ECMA_SPACE | PYTHON_SPACE)
    texts = [t for s in spaces for t in (s, s * 3)]
    texts += ["x", " x ", "\ufeffx", "\x1cx\x1c", "\u200b", "\x00"]
    schema = comp_spec_schema()
    pattern = schema["$defs"]["style"]["properties"]["id"]["pattern"]
    schema_takes = aejsx.ecma_searches(pattern, texts)
    python_takes = [_blank_to_python(text) for text in texts]
    disagree = [
        (text, python, schema)
        for text, python, schema in zip(texts, python_takes, schema_takes, strict=True)
        if python != [schema[0]] * 4 or schema[0] != schema[1]
    ]
    assert disagree == []
    blank = [t for t, taken in zip(texts, python_takes, strict=True) if not any(taken)]
    assert blank == texts[: 2 * len(spaces)]
    problems = problems_of({**base(), "style": {"id": "\ufeff"}})
    assert problems == [("error", "style.id", "must not be empty")]
    # Every field that may not be blank says so with that one pattern.
    patterns = _not_blank_patterns(schema)
    assert len(patterns) == 14
    assert [p for p in patterns if pattern not in p] == []


IMAGE_FILE = (
    "an image file (.exr, .jpeg, .jpg, .png, .tif, .tiff) whose name holds no frame "
    "field (#, @, %d, $F: that names an image sequence, not one image)"
)


def test_a_keyframe_image_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "first_frame.png").mkdir()
    (tmp_path / "fg.png").write_bytes(b"png")
    data = base()
    data["layers"] = [{"id": "fg", "source": "fg.png"}]
    data["provenance"] = {
        "keyframes": [
            {"frame": 0, "image": "first_frame.png"},
            {"frame": 1, "image": "fg.png"},
        ]
    }
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "provenance.keyframes[0].image",
            f"keyframe image 'first_frame.png' is a folder; allowed: {IMAGE_FILE} "
            f"(looked for {tmp_path.as_posix()}/first_frame.png)",
        )
    ]


@pytest.mark.parametrize(
    "name",
    [
        "kf.png",
        "kf/first.JPG",
        "shot #2/first.png",  # a field in a folder's name is the folder's
        "%x.png",
        "kf.####.png",
        "kf.#.tif",
        "kf.@@@@.exr",
        "kf@2x.png",
        "kf.%04d.png",
        "kf.%d.PNG",
        "kf.$F4.exr",
        "kf.1001-1120#.png",
        "50%discount.png",
    ],
)
def test_a_keyframe_image_is_one_image_as_the_sequence_grammar_reads_it(
    name: str,
) -> None:
    # The model's rule (and the JSON Schema's pattern) is the grammar's: a name is
    # refused exactly when the build would read it as a sequence pattern.
    try:
        m.ConditioningKeyframe(frame=0, image=name)
        refused = False
    except SpecError:
        refused = True
    assert refused is is_sequence_pattern(name)


def test_the_schema_s_keyframe_image_pattern_takes_what_the_model_takes() -> None:
    # The JSON Schema's pattern is read by ECMA-262, whose '.' stops at CR, U+2028
    # and U+2029 and whose \d is ASCII: 'a\rb.png' passed validate and not a
    # client's schema check, 'kf.%\u0661d.png' (an Arabic-Indic digit) the other
    # way round. Both read a name as the sequence grammar does, as one image or not.
    pattern = comp_spec_schema()["$defs"]["conditioning_keyframe"]["properties"][
        "image"
    ]["pattern"]
    names = [
        "kf.png",
        "a\rb.png",
        "a\u2028b.png",
        "a\u2029b.png",
        "a\nb.png",
        "kf.png\n",
        "kf.%\u0661d.png",
        "kf.$F\u0661.png",
        "kf.%04d.png",
        "kf.####\r.png",
        "shot #2/first.png",
    ]
    schema_takes = aejsx.ecma_searches(pattern, names)
    one_image = [
        name.lower().endswith(".png") and not is_sequence_pattern(name)
        for name in names
    ]

    def model_takes(name: str) -> bool:
        try:
            m.ConditioningKeyframe(frame=0, image=name)
        except SpecError:
            return False
        return True

    assert [model_takes(name) for name in names] == one_image
    assert schema_takes == [[taken, taken] for taken in one_image]


def test_a_keyframe_image_that_is_not_one_image_file_is_refused(
    tmp_path: Path,
) -> None:
    # Only its existence was checked: notes.txt or a movie passed validate, a marker
    # named it as the image, and with keyframe_guides the build failed on the text
    # file or made a guide layer of the movie's first frame. kf.####.png was listed
    # as a sequence and passed when its frames were there: its guide layer converted
    # the whole sequence. A keyframe image is one image.
    kf = ("kf.0001.png", "kf.0002.png", "kf.0003.png")
    for name in ("notes.txt", "clip.mp4", "first_frame", "Last.PNG", "fg.png", *kf):
        (tmp_path / name).write_bytes(b"x")
    data = base()
    data["layers"] = [
        {
            "id": "fg",
            "source": "fg.png",
            "provenance": {"keyframes": [{"frame": 0, "image": "clip.mp4"}]},
        }
    ]
    data["provenance"] = {
        "keyframes": [
            {"frame": 0, "image": "notes.txt"},
            {"frame": 1, "image": "first_frame"},
            {"frame": 2, "image": "Last.PNG"},
            {"frame": 3, "image": "kf.####.png"},
        ]
    }
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    expected = [
        (
            "layers[0].provenance.keyframes[0].image",
            f"'clip.mp4' is not allowed; allowed: {IMAGE_FILE}",
        ),
        (
            "provenance.keyframes[0].image",
            f"'notes.txt' is not allowed; allowed: {IMAGE_FILE}",
        ),
        (
            "provenance.keyframes[1].image",
            f"'first_frame' is not allowed; allowed: {IMAGE_FILE}",
        ),
        (
            "provenance.keyframes[3].image",
            f"'kf.####.png' is not allowed; allowed: {IMAGE_FILE}",
        ),
    ]
    for check_files in (True, False):
        problems = validate(path, check_files=check_files)
        assert [(p.path, p.message) for p in problems if p.severity == "error"] == (
            expected
        )
    # The model holds the rule: a spec built in Python is refused alike.
    with pytest.raises(SpecError) as caught:
        m.ConditioningKeyframe(frame=0, image="clip.mp4")
    assert [p.message for p in caught.value.problems] == [expected[0][1]]


GIFS = ("g.0001.gif", "g.0002.gif", "g.0003.gif")


def test_a_source_in_a_format_aebridge_does_not_read_is_refused(tmp_path: Path) -> None:
    # src.txt passed validate (it exists), and g.####.gif was 'not found' though
    # its frames were there; the build then refused each by its extension.
    for name in ("src.txt", "noext", "notes.txt", "fg.png", *GIFS):
        (tmp_path / name).write_bytes(b"x")
    data = base()
    data["layers"] = [
        {"id": "a", "source": "src.txt"},
        {"id": "b", "source": "g.####.gif"},
        {"id": "c", "source": {"path": "fg.png", "matte": "notes.txt"}},
        {"id": "d", "source": "noext"},
        {"id": "e", "source": "missing.txt"},
        {"id": "f", "source": "fg.png"},
    ]
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    readable = (
        "images (.exr, .jpeg, .jpg, .png, .tif, .tiff) and movies (.avi, .m4v, "
        ".mkv, .mov, .mp4, .mxf, .webm)"
    )
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "layers[0].source.path",
            "source 'src.txt' exists, but aebridge does not read .txt files; "
            f"allowed: {readable}",
        ),
        (
            "layers[1].source.path",
            "source 'g.####.gif': aebridge does not read .gif files; allowed: "
            f"{readable}",
        ),
        (
            "layers[2].source.matte",
            "matte 'notes.txt' exists, but aebridge does not read .txt files; "
            f"allowed: {readable}",
        ),
        (
            "layers[3].source.path",
            "source 'noext' exists, but the name has no extension; allowed: "
            f"{readable}",
        ),
        (
            "layers[4].source.path",
            "source 'missing.txt': aebridge does not read .txt files; allowed: "
            f"{readable}",
        ),
    ]


def test_a_source_file_named_like_a_pattern_is_that_file(tmp_path: Path) -> None:
    # logo@2x.png and take#3.png, there as named, were read as patterns ('cannot
    # read the frame field'); a name that is a file and a pattern of frames too is
    # refused as naming both, and a missing one says it is no file either.
    for name in ("logo@2x.png", "take#3.png", "fg_%d.png", "fg.####.png"):
        (tmp_path / name).write_bytes(b"png")
    for frame in (1001, 1002):
        (tmp_path / f"fg.{frame}.png").write_bytes(b"png")
    data = base()
    data["layers"] = [
        {"id": "a", "source": {"path": "logo@2x.png", "matte": "take#3.png"}},
        {"id": "b", "source": "fg_%d.png"},
        {"id": "c", "source": "fg.####.png"},
        {"id": "d", "source": "fg.%04d.png"},
        {"id": "e", "source": "absent@2x.png"},
    ]
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "layers[2].source.path",
            "source 'fg.####.png': names an image file and also frames 1001-1002 of "
            "fg.####.png: rename the file, or write the pattern fg.%04d.png to read "
            "the frames",
        ),
        (
            "layers[4].source.path",
            "source 'absent@2x.png': no such file, and cannot read the frame field "
            "'@'; allowed: name.####.ext, name.%04d.ext, name.1001-1120#.ext, "
            "name.@@@@.ext or a folder holding one image sequence",
        ),
    ]


def test_a_source_range_that_skips_frames_is_a_problem(tmp_path: Path) -> None:
    # The build would read fg.1,3#.png as two consecutive frames: the spec check
    # refuses it as the build does, naming the field and the spellings allowed.
    for frame in (1, 2, 3):
        (tmp_path / f"fg.{frame:04d}.png").write_bytes(b"png")
    data = base()
    data["layers"] = [
        {"id": "a", "source": "fg.1,3#.png"},
        {"id": "b", "source": {"path": "fg.1-3#.png", "matte": "fg.1-3x2#.png"}},
    ]
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(data))
    problems = [(p.path, p.message) for p in validate(path) if p.severity == "error"]
    assert problems == [
        (
            "layers[0].source.path",
            "source 'fg.1,3#.png': the frame range 1,3 skips frame(s) 2; a sequence "
            "has no holes; allowed: one ascending run first-last (fg.1-3#.png) or "
            "every frame (fg.####.png)",
        ),
        (
            "layers[1].source.matte",
            "matte 'fg.1-3x2#.png': the frame range 1-3x2 skips frame(s) 2; a "
            "sequence has no holes; allowed: one ascending run first-last "
            "(fg.1-3#.png) or every frame (fg.####.png)",
        ),
    ]


def test_a_layer_conditioning_keyframe_lands_relative_to_the_layer_start() -> None:
    data = base()
    data["layers"][0]["start"] = 1040
    data["layers"][0]["provenance"] = {"keyframes": [{"frame": 10, "prompt": "late"}]}
    assert problems_of(data) == [
        (
            "error",
            "layers[0].provenance.keyframes[0].frame",
            "source frame 10 lands on comp frame 1050, outside the comp (1001 to 1048)",
        )
    ]
    data["layers"][0]["provenance"]["keyframes"][0]["frame"] = 8
    assert problems_of(data) == []


@pytest.mark.parametrize("shot", ["sh010", "sh020", "sh030"])
def test_samples_round_trip_through_dump(shot: str) -> None:
    samples = Path(__file__).resolve().parents[2] / "samples"
    spec = load_spec(samples / shot / "comp.json", check_files=False)
    assert load_spec(json.loads(dump_spec(spec)), check_files=False) == spec


# -- round trip of generated specs ---------------------------------------------------


_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_text = st.text(max_size=12)


@st.composite
def _easing(draw: st.DrawFn, move: bool = False) -> m.Easing:
    if draw(st.booleans()):
        return draw(st.sampled_from(list(Ease)))
    speed = st.floats(0, 1e4) if move else _finite
    handle = st.builds(m.EaseHandle, speed=speed, influence=st.floats(0.1, 50))
    return m.CustomEase(ease_in=draw(st.none() | handle), ease_out=draw(handle))


@st.composite
def _animatable(draw: st.DrawFn, size: int | None, lo: float = -1e6, hi: float = 1e6):
    value = (
        st.floats(lo, hi) if size is None else st.tuples(*[st.floats(lo, hi)] * size)
    )
    if draw(st.booleans()):
        return m.AnimatableValue(value=draw(value))
    frames = sorted(draw(st.sets(st.integers(1001, 1024), min_size=1, max_size=3)))
    keys = tuple(
        m.Keyframe(
            frame=f,
            value=draw(value),
            easing=draw(st.sampled_from([Ease.LINEAR, Ease.HOLD, Ease.EASE_IN_OUT])),
        )
        for f in frames
    )
    return m.AnimatableValue(keyframes=keys)


@st.composite
def _specs(draw: st.DrawFn) -> m.CompSpec:
    comp = m.Comp(
        name=draw(
            st.text(
                st.characters(blacklist_categories=("Cc", "Cs")),
                min_size=1,
                max_size=12,
            ).filter(lambda t: t.strip() != "")
        ),
        id=draw(
            st.none()
            | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True).filter(
                is_id
            )
        ),
        width=draw(st.integers(4, 4000)),
        height=draw(st.integers(4, 4000)),
        rate=draw(st.sampled_from([Fraction(24), Fraction(24000, 1001), Fraction(50)])),
        duration=24,
        background=draw(st.tuples(*[st.floats(0, 1)] * 3)),
    )
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(is_id),
            unique=True,
            max_size=3,
        )
    )
    layers = []
    for i, layer_id in enumerate(ids):
        three_d = draw(st.booleans())
        size = 3 if three_d else 2
        layers.append(
            m.Layer(
                id=layer_id,
                name=draw(st.none() | _text),
                source=m.LayerSource(
                    path=f"media/{layer_id}.####.png",
                    alpha=draw(st.sampled_from(list(m.AlphaMode))),
                    rate=draw(st.none() | st.just(comp.rate)),
                ),
                role=draw(st.sampled_from(list(m.Role))),
                blend=draw(st.sampled_from(list(BlendMode))),
                enabled=draw(st.booleans()),
                guide=draw(st.booleans()),
                three_d=three_d,
                stretch=draw(st.sampled_from([100.0, 50.0, 250.0])),
                track_matte=(
                    m.TrackMatte(
                        layer=ids[i - 1], type=draw(st.sampled_from(list(MatteType)))
                    )
                    if i > 0 and draw(st.booleans())
                    else None
                ),
                transform=m.Transform(
                    position=draw(st.none() | _animatable(size)),
                    scale=draw(st.none() | _animatable(size)),
                    rotation=draw(st.none() | _animatable(None)),
                    opacity=draw(st.none() | _animatable(None, 0, 100)),
                ),
                comment=draw(_text),
            )
        )
    moves = tuple(
        m.CameraMove(
            kind=draw(st.sampled_from(list(MoveKind))),
            start=1001 + k,
            end=1010 + k,
            amount=draw(st.floats(0.5, 3)),
            easing=draw(_easing(move=True)),
        )
        for k in range(draw(st.integers(0, 2)))
    )
    camera = m.Camera(moves=moves) if draw(st.booleans()) else None
    markers = tuple(
        m.Marker(
            frame=draw(st.integers(1001, 1024)),
            name=draw(_text),
            parameters=tuple(
                sorted(draw(st.dictionaries(_text, _text, max_size=2)).items())
            ),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    return m.CompSpec(
        comp=comp,
        layers=tuple(layers),
        camera=camera,
        markers=markers,
        style=draw(st.none() | st.builds(m.Style, id=st.just("s1"), name=_text)),
    )


@settings(max_examples=80, deadline=None)
@given(_specs())
def test_any_spec_round_trips_through_dump_and_load(spec: m.CompSpec) -> None:
    text = dump_spec(spec)
    again = load_spec(json.loads(text), check_files=False)
    assert again == spec
    assert dump_spec(again) == text
    assert spec_hash(again) == spec_hash(spec)


# -- the form for people (aebridge init writes it) ---------------------------------


@settings(max_examples=80, deadline=None)
@given(_specs())
def test_any_spec_round_trips_through_the_human_form(spec: m.CompSpec) -> None:
    text = spec_io.format_spec(spec)
    assert load_spec(json.loads(text), check_files=False) == spec
    assert all(len(line) <= 88 or '"' in line for line in text.splitlines())


@pytest.mark.parametrize("shot", ["sh010", "sh020", "sh030"])
def test_samples_round_trip_through_the_human_form(shot: str) -> None:
    samples = Path(__file__).resolve().parents[2] / "samples"
    spec = load_spec(samples / shot / "comp.json", check_files=False)
    assert load_spec(json.loads(spec_io.format_spec(spec)), check_files=False) == spec


def test_the_human_form_keeps_model_order_and_one_layer_per_block() -> None:
    spec = load_spec(base(), check_files=False)
    text = spec_io.format_spec(spec)
    data = json.loads(text)
    assert list(data) == [
        k
        for k in (
            "schema",
            "comp",
            "layers",
            "camera",
            "markers",
            "style",
            "provenance",
        )
        if k in data
    ]
    assert list(data["layers"][0])[:3] == ["id", "source", "role"]
    lines = text.splitlines()
    # Every layer opens its own block: "    {" on a line of its own, then "id".
    opens = [i for i, line in enumerate(lines) if line == "    {"]
    assert len(opens) == len(spec.layers)
    assert all(lines[i + 1].startswith('      "id": ') for i in opens)
    # Defaults that read back by themselves are left out; the ones people look
    # for first stay.
    assert '"start_frame": 1001' in text
    assert '"blend": "normal"' not in text and '"vfr"' not in text
    assert all('"role"' in json.dumps(layer) for layer in data["layers"])


def test_a_layer_guide_switch_is_written_when_it_differs_from_its_role() -> None:
    layer = m.Layer(id="g", source=m.LayerSource(path="g.png"), role=m.Role.GUIDE)
    comp = m.Comp(name="c", width=8, height=8, rate=Fraction(24), duration=4)
    for guide in (True, False):
        spec = m.CompSpec(
            comp=comp, layers=(m.Layer(**{**_fields(layer)}, guide=guide),)
        )
        text = spec_io.format_spec(spec)
        assert ('"guide": false' in text) is (guide is False)
        assert load_spec(json.loads(text), check_files=False) == spec


def _fields(layer: m.Layer) -> dict[str, Any]:
    return {k: getattr(layer, k) for k in ("id", "source", "role")}


def test_save_spec_never_overwrites_without_being_told_to(tmp_path: Path) -> None:
    spec = load_spec(base(), check_files=False)
    path = tmp_path / "shot" / "comp.json"
    assert spec_io.save_spec(spec, path) == path
    assert load_spec(path, check_files=False) == spec
    path.write_text("hand edits", encoding="utf-8")
    with pytest.raises(OutputError, match="exists already; give --force"):
        spec_io.save_spec(spec, path)
    assert path.read_text(encoding="utf-8") == "hand edits"
    spec_io.save_spec(spec, path, overwrite=True)
    assert load_spec(path, check_files=False) == spec
    assert sorted(p.name for p in path.parent.iterdir()) == ["comp.json"]


@settings(max_examples=80, deadline=None)
@given(_specs())
def test_any_valid_spec_satisfies_the_derived_json_schema(spec: m.CompSpec) -> None:
    validator = _schema_validator()
    for text in (dump_spec(spec), spec_io.format_spec(spec)):
        assert [e.message for e in validator.iter_errors(json.loads(text))] == []


@functools.cache
def _schema_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    return jsonschema.Draft202012Validator(schema)


def test_a_spec_under_a_broken_link_is_refused_before_any_work(tmp_path: Path) -> None:
    # The walk up to the nearest existing folder passed a link to nothing (it does
    # not "exist"), so init probed the whole folder and then failed creating the
    # folder with "cannot write the spec: File exists".
    from aebridge.spec import check_spec_target

    (tmp_path / "shots").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError) as caught:
        check_spec_target(tmp_path / "shots" / "sh010" / "comp.json")
    message = str(caught.value)
    assert f"{tmp_path.as_posix()}/shots is a link to {tmp_path.as_posix()}/gone" in (
        message
    )
    assert "not a folder" in message and "\n" not in message
    check_spec_target(tmp_path / "comp.json")  # a folder that exists
    check_spec_target("comp.json")  # relative: the working folder
