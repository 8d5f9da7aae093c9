"""A comp spec's source takes the reading options of ``aebridge convert``:
``orientation``, ``fields``, ``part`` and ``view``. A spec using one builds the same
pixels as ``aebridge convert`` with the command-line option, and the option changes
what is read (so a spec cannot silently ignore it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner

from aebridge.api import build
from aebridge.cli import main
from aebridge.exr import read_pixels

Pixels = npt.NDArray[np.float32]
Ffmpeg = Callable[..., Path]  # tests/conftest.py's ffmpeg fixture


def _build_frames(
    folder: Path, source: dict[str, Any], frames: int, out: str = "built"
) -> list[Pixels]:
    spec = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "opts", "width": 64, "height": 32, "rate": 25,
                 "duration": frames},
        "layers": [{"id": "fg", "source": source}],
    }  # fmt: skip
    result = build(spec, folder / out, base_dir=folder, jobs=1)
    (layer,) = result.layers
    sequence = layer.sequence
    return [
        read_pixels(Path(sequence.folder) / sequence.frame_name(frame))
        for frame in range(sequence.first, sequence.last + 1)
    ]


def _convert_frames(folder: Path, source: str, *options: str) -> list[Pixels]:
    out = folder / "converted"
    args = ["convert", source, "-o", str(out), "--name", "fg", "--fps", "25"]
    run = CliRunner().invoke(main, [*args, "-j", "1", *options])
    assert run.exit_code == 0, run.output
    return [read_pixels(path) for path in sorted((out / "fg").glob("fg.*.exr"))]


def _same(built: list[Pixels], converted: list[Pixels]) -> None:
    assert len(built) == len(converted) > 0
    for got, expected in zip(built, converted, strict=True):
        np.testing.assert_array_equal(got, expected)


def _differ(a: list[Pixels], b: list[Pixels]) -> bool:
    return a[0].shape != b[0].shape or not np.array_equal(a[0], b[0])


# --------------------------------------------------------------------- orientation


def _rotated_jpegs(folder: Path) -> str:
    from PIL import Image

    rng = np.random.default_rng(7)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    for frame in (1001, 1002):
        pixels = rng.integers(0, 255, (32, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(
            folder / f"o.{frame}.jpg", exif=exif.tobytes(), quality=100
        )
    return "o.####.jpg"


def test_orientation_keep_builds_what_convert_keeps(tmp_path: Path) -> None:
    source = _rotated_jpegs(tmp_path)
    kept = _build_frames(tmp_path, {"path": source, "orientation": "keep"}, 2)
    _same(kept, _convert_frames(tmp_path, str(tmp_path / source), "--orientation",
                                "keep"))  # fmt: skip
    assert kept[0].shape[:2] == (32, 64)  # as stored
    applied = _build_frames(tmp_path, {"path": source}, 2, out="applied")
    assert applied[0].shape[:2] == (64, 32)  # turned, as the file says


# -------------------------------------------------------------------------- fields


def test_fields_interpolate_builds_what_convert_interpolates(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    movie = ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x32:r=25:d=0.12",
        "-c:v", "libx264", "-flags", "+ilme+ildct", "-top", "1",
        "-pix_fmt", "yuv420p", output=tmp_path / "il.mp4",
    )  # fmt: skip
    made = _build_frames(tmp_path, {"path": "il.mp4", "fields": "interpolate"}, 3)
    _same(made, _convert_frames(tmp_path, str(movie), "--fields", "interpolate"))
    woven = _build_frames(tmp_path, {"path": "il.mp4"}, 3, out="woven")
    assert _differ(made, woven)


# -------------------------------------------------------------------- part and view


def _flat(value: float) -> npt.NDArray[np.float32]:
    return np.full((32, 64), value, np.float32)


def _exr_frames(folder: Path, name: str, write: Callable[[Path, float], None]) -> str:
    for offset, frame in enumerate((1001, 1002)):
        write(folder / f"{name}.{frame}.exr", 0.1 * offset)
    return f"{name}.####.exr"


def test_part_builds_what_convert_reads_from_that_part(tmp_path: Path) -> None:
    OpenEXR = pytest.importorskip("OpenEXR")

    def two_parts(path: Path, shift: float) -> None:
        parts = [
            OpenEXR.Part(
                {"name": name, "compression": OpenEXR.ZIP_COMPRESSION},
                {c: _flat(v + shift) for c, v in zip("RGBA", values, strict=True)},
            )
            for name, values in (
                ("beauty", (0.2, 0.3, 0.4, 1.0)),
                ("fx", (0.6, 0.5, 0.1, 0.5)),
            )
        ]
        OpenEXR.File(parts).write(str(path))

    source = _exr_frames(tmp_path, "mp", two_parts)
    fx = _build_frames(tmp_path, {"path": source, "part": "fx"}, 2)
    _same(fx, _convert_frames(tmp_path, str(tmp_path / source), "--part", "fx"))
    by_index = _build_frames(tmp_path, {"path": source, "part": "1"}, 2, out="index")
    _same(by_index, fx)
    first = _build_frames(tmp_path, {"path": source}, 2, out="first")
    assert _differ(fx, first)


def test_view_builds_what_convert_reads_from_that_view(tmp_path: Path) -> None:
    OpenEXR = pytest.importorskip("OpenEXR")

    def stereo(path: Path, shift: float) -> None:
        header = {
            "compression": OpenEXR.ZIP_COMPRESSION,
            "multiView": ["left", "right"],
        }
        channels = {"R": _flat(0.2 + shift), "G": _flat(0.2), "B": _flat(0.2),
                    "right.R": _flat(0.7 + shift), "right.G": _flat(0.7),
                    "right.B": _flat(0.7)}  # fmt: skip
        OpenEXR.File(header, channels).write(str(path))

    source = _exr_frames(tmp_path, "st", stereo)
    right = _build_frames(tmp_path, {"path": source, "view": "right"}, 2)
    _same(right, _convert_frames(tmp_path, str(tmp_path / source), "--view", "right"))
    left = _build_frames(tmp_path, {"path": source}, 2, out="left")
    assert _differ(right, left)


def test_an_option_value_not_allowed_is_a_spec_problem_at_its_path(
    tmp_path: Path,
) -> None:
    from aebridge.errors import SpecError

    spec = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "opts", "width": 64, "height": 32, "rate": 25, "duration": 2},
        "layers": [
            {"id": "fg", "source": {"path": "x.mp4", "orientation": "flip",
                                    "fields": "bob", "part": "", "view": 2}},
        ],
    }  # fmt: skip
    with pytest.raises(SpecError) as caught:
        build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    text = str(caught.value)
    assert "layers[0].source.orientation" in text and "apply, keep" in text
    assert "layers[0].source.fields" in text and "keep, interpolate" in text
    assert "layers[0].source.part" in text
    assert "layers[0].source.view" in text


def test_the_sources_are_checked_as_the_options_read_them(tmp_path: Path) -> None:
    # The comp is 64x32, as the JPEGs are stored; EXIF turns them to 32x64.
    from aebridge.api import check_sources

    source = _rotated_jpegs(tmp_path)

    def size_warnings(layer_source: dict[str, Any]) -> list[str]:
        spec = {
            "schema": "aebridge.comp/1",
            "comp": {"name": "opts", "width": 64, "height": 32, "rate": 25,
                     "duration": 2},
            "layers": [{"id": "fg", "source": layer_source}],
        }  # fmt: skip
        problems = check_sources(spec, base_dir=tmp_path)
        return [p.message for p in problems if "differs from the comp" in p.message]

    assert size_warnings({"path": source, "orientation": "keep"}) == []
    assert size_warnings({"path": source}) == [
        "32x64 differs from the comp's 64x32; the layer is placed by its transform "
        "(centred by default)"
    ]


def test_a_matte_that_does_not_fit_fails_the_check_before_any_conversion(
    tmp_path: Path,
) -> None:
    # The build's source check did not open mattes: a matte of another size failed
    # only in its layer's conversion, after the layers before it were converted.
    from aebridge import synthetic
    from aebridge.api import check_sources
    from aebridge.errors import SpecError

    synthetic.write_movie(tmp_path / "bg.mp4", frames=4, width=64, height=32)
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=32)
    synthetic.write_movie(tmp_path / "small.mp4", frames=4, width=32, height=16)
    synthetic.write_movie(tmp_path / "long.mp4", frames=6, width=64, height=32)
    spec = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "mattes", "width": 64, "height": 32, "rate": 24,
                 "duration": 4},
        "layers": [
            {"id": "bg", "source": "bg.mp4"},
            {"id": "fg", "source": {"path": "fg.mp4", "matte": "small.mp4"}},
            {"id": "fg2", "source": {"path": "fg.mp4", "matte": "long.mp4"}},
        ],
    }  # fmt: skip
    problems = {p.path: p for p in check_sources(spec, base_dir=tmp_path)}
    small = problems["layers[1].source.matte"]
    assert small.severity == "error"
    assert "the matte is 32x16 but the source is 64x32" in small.message
    long = problems["layers[2].source.matte"]
    assert long.severity == "warning" and "extra matte frames" in long.message
    with pytest.raises(SpecError, match=r"layers\[1\]\.source\.matte"):
        build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert not list((tmp_path / "out").rglob("*.exr"))
    del spec["layers"][1]
    result = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    said = [w for w in result.warnings if "extra matte frames" in w]
    assert said == [f"layers[1].source.matte: {long.message}"]


def test_a_reading_option_the_file_cannot_take_is_refused_at_its_field(
    tmp_path: Path,
) -> None:
    # part or view on a movie or PNG sequence, a YUV matrix on an image sequence:
    # the source check put each at layers[i].source.path, though the path is
    # right and the field to remove is the option.
    from aebridge import synthetic
    from aebridge.api import check_sources

    synthetic.write_movie(tmp_path / "bg.mp4", frames=4, width=64, height=32)
    synthetic.write_png_sequence(tmp_path, "fg", frames=4, width=64, height=32)
    spec = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "opts", "width": 64, "height": 32, "rate": 24,
                 "duration": 4},
        "layers": [
            {"id": "a", "source": {"path": "bg.mp4", "part": "beauty"}},
            {"id": "b", "source": {"path": "fg.####.png", "view": "left"}},
            {"id": "c", "source": {"path": "fg.####.png", "yuv_matrix": "bt601"}},
        ],
    }  # fmt: skip
    problems = {p.path: p.message for p in check_sources(spec, base_dir=tmp_path)}
    assert sorted(problems) == [
        "layers[0].source.part",
        "layers[1].source.view",
        "layers[2].source.yuv_matrix",
    ]
    part = problems["layers[0].source.part"]
    assert "applies only to EXR files, and this is a movie" in part
    assert "this is a PNG; remove it" in problems["layers[1].source.view"]
    assert "applies only to YUV movies" in problems["layers[2].source.yuv_matrix"]
