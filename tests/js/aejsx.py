"""Test helpers for the ExtendScript: node setup, the ES3 check, the DOM model runner,
and the sample comp specs the golden files and DOM tests share; and how ECMA-262,
which reads the JSON Schema's patterns, matches a regex.

Imported by tests/unit/test_emit.py, tests/golden/test_golden.py,
tests/e2e/test_jsx_dom.py, and by tests/unit/test_timing.py and test_spec_io.py for
the schema's patterns (they put this folder on ``sys.path``).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from aebridge.model import CompSpec
from aebridge.spec_io import load_spec

JS_DIR = Path(__file__).resolve().parent
REPO = JS_DIR.parents[1]
LIBRARY = REPO / "jsx" / "aebridge.jsx"
#: The command CI runs once to install the node test dependencies (acorn).
NPM_COMMAND = ["npm", "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"]


def node_ready() -> str:
    """The node executable, with tests/js dependencies installed; skips without node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ExtendScript checks need node 18+")
    if not (JS_DIR / "node_modules" / "acorn" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install acorn for the ES3 check")
        subprocess.run(
            [npm, *NPM_COMMAND[1:]], check=True, capture_output=True, timeout=300
        )
    return node


# ECMA-262's WhiteSpace and LineTerminator, what its \s matches: TAB VT FF SP NBSP
# ZWNBSP, every Zs, LF CR LS PS.
ECMA_SPACE = frozenset("\t\v\f \xa0\ufeff\n\r\u2028\u2029") | {
    chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"
}
#: What Python's \s matches.
PYTHON_SPACE = frozenset(
    chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c)) is not None
)


def ecma_searches(pattern: str, texts: list[str]) -> list[list[bool]]:
    """Whether ECMA-262's ``RegExp(pattern).test`` finds ``pattern`` in each text,
    without and with the 'u' flag (ajv's), as a JSON Schema validator runs it."""
    node = node_ready()
    script = (
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const [plain, unicode] = [new RegExp(process.argv[1]),"
        " new RegExp(process.argv[1], 'u')];"
        "console.log(JSON.stringify(texts.map(t => [plain.test(t), unicode.test(t)])));"
    )
    run = subprocess.run(
        [node, "-e", script, pattern],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: list[list[bool]] = json.loads(run.stdout)
    return found


def es3_problems(*paths: Path) -> list[str]:
    """Problems check_es3.js reports (empty when every file is clean ES3)."""
    node = node_ready()
    proc = subprocess.run(
        [node, str(JS_DIR / "check_es3.js"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def _run(
    scripts: tuple[Path, ...],
    runs: int,
    env: dict[str, str] | None,
    evaluate: bool,
    profiles: list[str] | None = None,
) -> dict[str, Any]:
    node = node_ready()
    cmd = [node, str(JS_DIR / "run.js"), *map(str, scripts), "--runs", str(runs)]
    if profiles is not None:
        cmd += ["--profiles", "|".join(profiles)]
    for key, value in (env or {}).items():
        cmd += ["--env", f"{key}={value}"]
    if evaluate:
        cmd.append("--evaluate")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_in_model(
    *scripts: Path,
    runs: int = 1,
    env: dict[str, str] | None = None,
    profiles: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Run each script ``runs`` times, in order, against one modelled project.

    Args:
        scripts: the scripts, run in order.
        runs: how many times each runs.
        env: environment variables the scripts see (``$.getenv``).
        profiles: the colour profiles the modelled After Effects lists.

    Returns:
        One project snapshot per run (see tests/js/ae_dom.js ``snapshot``).
    """
    result: list[dict[str, Any]] = _run(scripts, runs, env, False, profiles)["runs"]
    return result


def evaluate_in_model(
    *scripts: Path, env: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the scripts once each, then evaluate every comp at each of its frames.

    Returns:
        (one snapshot per run, one evaluation per comp: see ae_dom.js
        ``evaluateComp``).
    """
    result = _run(scripts, 1, env, True)
    return result["runs"], result["evaluation"]


def exr_header(width: int, height: int) -> bytes:
    """The start of an OpenEXR file: magic, version and a header holding only its
    display window (all the DOM model reads; no pixels follow)."""
    import struct

    box = struct.pack("<4i", 0, 0, width - 1, height - 1)
    attribute = b"displayWindow\0box2i\0" + struct.pack("<i", len(box)) + box
    return struct.pack("<iI", 20000630, 2) + attribute + b"\0"


def touch_sequences(spec: CompSpec, script_dir: Path) -> None:
    """Create the EXR files the spec's sequences name, next to the script: a header
    with the sequence's size and no pixels."""
    from aebridge.model import ExrSequence

    for layer in spec.layers:
        seq = layer.source
        assert isinstance(seq, ExrSequence)
        folder = script_dir / seq.folder
        folder.mkdir(parents=True, exist_ok=True)
        header = exr_header(seq.width, seq.height)
        for frame in range(seq.first, seq.last + 1):
            (folder / seq.frame_name(frame)).write_bytes(header)


def _seq(name: str, rate: Any, first: int = 1001, last: int = 1008) -> dict[str, Any]:
    return {
        "folder": f"layers/{name}",
        "name": name,
        "first": first,
        "last": last,
        "rate": rate,
        "width": 64,
        "height": 36,
    }


def sample_data() -> dict[str, dict[str, Any]]:
    """Three shots as spec mappings (tiny, 8 frames, 64x36)."""
    sh010 = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "sh010", "width": 64, "height": 36, "rate": 24, "duration": 8},
        "layers": [
            {
                "id": "bg",
                "source": _seq("bg", 24),
                "role": "background",
                "three_d": True,
            },
            {
                "id": "fg",
                "name": "hero",
                "three_d": True,
                "source": _seq("fg", 24),
                "role": "foreground",
                "comment": "straight alpha source",
                "provenance": {
                    "generator": "gen",
                    "model": "m-1",
                    "prompt": "a hero walks",
                    "seed": 7,
                },
            },
        ],
        "camera": {
            "moves": [
                {
                    "kind": "truck",
                    "start": 1001,
                    "end": 1008,
                    "amount": 12,
                    "easing": "ease_in_out",
                }
            ]
        },
        "provenance": {"generator": "gen", "prompt": "a street at night"},
    }
    sh020 = {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "sh020",
            "width": 64,
            "height": 36,
            "rate": "24000/1001",
            "duration": 8,
            "background": [0.1, 0.2, 0.3],
        },
        "layers": [
            {"id": "plate", "source": _seq("plate", "24000/1001")},
            {
                "id": "fx",
                "source": _seq("fx", "24000/1001", 1001, 1004),
                "blend": "screen",
                "start": 1003,
                "opacity": 80,
                "transform": {
                    "position": {
                        "keyframes": [
                            {"frame": 1003, "value": [32, 18], "easing": "ease_out"},
                            {"frame": 1006, "value": [40, 12], "easing": "hold"},
                            {"frame": 1007, "value": [44, 12]},
                        ]
                    },
                    "scale": [50, 50],
                    "rotation": 15,
                },
            },
            {
                "id": "fg",
                "source": _seq("fg", "24000/1001"),
                "blend": "silhouette_alpha",
                "three_d": False,
                "stretch": 200,
                "out_frame": 1009,
            },
        ],
        "markers": [{"frame": 1004, "name": "hit", "parameters": {"take": "3"}}],
    }
    sh030 = {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "sh030",
            "width": 64,
            "height": 36,
            "rate": 25,
            "duration": 8,
            "start_frame": 1,
        },
        "layers": [
            {"id": "bg", "source": _seq("bg", 25, 1, 8), "three_d": True},
            {
                "id": "matte",
                "source": _seq("matte", 25, 1, 8),
                "role": "matte",
                "enabled": False,
            },
            {
                "id": "fg",
                "source": _seq("fg", 25, 1, 8),
                "blend": "multiply",
                "three_d": True,
                "track_matte": {"layer": "matte", "type": "luma_inverted"},
                "transform": {
                    "scale": {
                        "keyframes": [
                            {
                                "frame": 1,
                                "value": [100, 100, 100],
                                "easing": {"out": {"speed": 10, "influence": 50}},
                            },
                            {
                                "frame": 8,
                                "value": [120, 110, 100],
                                "easing": "ease_in",
                            },
                        ]
                    },
                    "opacity": {
                        "keyframes": [
                            {"frame": 1, "value": 0, "easing": "ease_in_out"},
                            {"frame": 5, "value": 100},
                        ]
                    },
                },
            },
            {"id": "ref", "source": _seq("ref", 25, 1, 8), "guide": True},
        ],
        "camera": {
            "focal_length_mm": 35,
            "moves": [
                {
                    "kind": "dolly",
                    "start": 1,
                    "end": 8,
                    "amount": 20,
                    "easing": "ease_in_out",
                },
                {"kind": "roll", "start": 2, "end": 6, "amount": 5},
            ],
        },
        "markers": [
            {"frame": 3, "name": "keyframe 1", "comment": "start", "kind": "keyframe"},
            {"frame": 6, "name": "note", "duration": 2, "label": 3},
        ],
        "style": {"id": "noir-01", "name": "Noir"},
    }
    return {"sh010": sh010, "sh020": sh020, "sh030": sh030}


def load(data: dict[str, Any]) -> CompSpec:
    """A spec from a mapping, validated (files not checked)."""
    return load_spec(data, check_files=False)


HOSTILE = (
    "q\"uote 'apos' back\\slash */ end /* c */ \u2028line\u2029para "
    "caf\u00e9 \u65e5\u672c \U0001f3ac </script> %20 ${x} \n new line"
)


def hostile_data(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with hostile text in every name, prompt and comment.

    Ids and the comp name keep to what validation allows (see :func:`hostile_spec`
    for the comp name); layer names get the hostile text plus a 2000-character tail.
    """
    data = copy.deepcopy(base)
    long = HOSTILE + "x" * 2000
    data["provenance"] = {
        "generator": HOSTILE,
        "prompt": long,
        "negative_prompt": HOSTILE,
        "extra": {"k" + HOSTILE: HOSTILE},
    }
    for i, layer in enumerate(data["layers"]):
        layer["name"] = f"{i} {long}"
        layer["comment"] = HOSTILE
        layer["provenance"] = {"prompt": long, "model": HOSTILE}
        layer["source"]["name"] = f'{layer["id"]} it\'s "{i}" caf\u00e9 %41'
    if "camera" in data:
        data["camera"]["name"] = "cam " + HOSTILE
    data["markers"] = [
        {
            "frame": data["comp"].get("start_frame", 1001),
            "name": HOSTILE,
            "comment": long,
            "parameters": {HOSTILE: long},
        }
    ]
    if os.name == "nt":  # pragma: no cover - names with quotes are not valid there
        for layer in data["layers"]:
            layer["source"]["name"] = layer["id"]
    return data


def hostile_spec(base: dict[str, Any]) -> CompSpec:
    """:func:`hostile_data` loaded, then given a hostile comp name too.

    Validation (and the model's own constructor) refuses such a comp name; the
    emitter must still never let it break the script, so it is forced onto the comp
    past its constructor, as a bug elsewhere might.
    """
    from dataclasses import replace

    spec = load(hostile_data(base))
    comp = replace(spec.comp)
    object.__setattr__(comp, "name", "sh " + HOSTILE)
    return replace(spec, comp=comp)
