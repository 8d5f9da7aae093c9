"""ConvertOptions: one layer's conversion options, checked once when built (from
keywords or from a comp spec's layer source)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from aebridge import exr
from aebridge.convert import ConvertOptions
from aebridge.errors import OptionError
from aebridge.model import (
    AlphaMode,
    FieldMode,
    LayerSource,
    Orientation,
    Role,
    VfrPolicy,
    YuvMatrix,
)


def test_defaults_are_the_command_lines() -> None:
    options = ConvertOptions(source="fg.####.png", name="fg")
    assert options.alpha is AlphaMode.AUTO
    assert options.role is Role.ELEMENT
    assert options.vfr is VfrPolicy.REFUSE
    assert options.orientation is Orientation.APPLY
    assert options.fields is FieldMode.KEEP
    assert options.yuv_matrix is None
    assert options.compression == exr.DEFAULT_COMPRESSION
    assert options.output_colorspace == "Linear Rec.709 (sRGB)"
    assert (options.start_frame, options.padding, options.half) == (1001, 4, True)


def test_values_given_as_text_become_the_models_enums() -> None:
    options = ConvertOptions(
        source="fg.mov",
        name="fg",
        alpha="straight",  # type: ignore[arg-type]
        role="foreground",  # type: ignore[arg-type]
        vfr="resample",  # type: ignore[arg-type]
        orientation="keep",  # type: ignore[arg-type]
        fields="interpolate",  # type: ignore[arg-type]
        yuv_matrix="bt601",  # type: ignore[arg-type]
        rate="23.976",  # type: ignore[arg-type]
    )
    assert options.yuv_matrix is YuvMatrix.BT601
    assert options.alpha is AlphaMode.STRAIGHT
    assert options.role is Role.FOREGROUND
    assert options.vfr is VfrPolicy.RESAMPLE
    assert options.orientation is Orientation.KEEP
    assert options.fields is FieldMode.INTERPOLATE
    assert options.rate == Fraction(24000, 1001)


@pytest.mark.parametrize(
    ("field", "value", "option", "allowed"),
    [
        ("alpha", "premult", "--alpha", "auto, straight, premultiplied, none"),
        ("role", "hero", "--role", "background, foreground, element, matte, guide"),
        ("vfr", "drop", "--vfr", "refuse, resample"),
        ("orientation", "flip", "--orientation", "apply, keep"),
        ("fields", "bob", "--fields", "keep, interpolate"),
        ("yuv_matrix", "bt470", "--yuv-matrix", "bt709, bt601, bt2020"),
        ("padding", 0, "--padding", "1 to 10"),
        ("start_frame", -1, "--start-frame", "0 or more"),
    ],
)
def test_a_value_not_allowed_is_refused_naming_the_option(
    field: str, value: object, option: str, allowed: str
) -> None:
    with pytest.raises(OptionError) as caught:
        ConvertOptions(source="fg.mov", name="fg", **{field: value})  # type: ignore[arg-type]
    assert (caught.value.option, caught.value.value) == (option, value)
    assert caught.value.allowed == allowed


def test_a_bad_name_compression_or_rate_is_refused() -> None:
    with pytest.raises(OptionError, match="--name"):
        ConvertOptions(source="fg.mov", name="../fg")
    with pytest.raises(OptionError, match="--compression"):
        ConvertOptions(source="fg.mov", name="fg", compression="zap")
    with pytest.raises(OptionError, match="--fps"):
        ConvertOptions(source="fg.mov", name="fg", rate="fast")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="--output-colorspace"):
        ConvertOptions(source="fg.mov", name="fg", output_colorspace="sRGB")


def test_a_matte_takes_straight_or_auto_alpha_only() -> None:
    with pytest.raises(OptionError, match="auto or straight with --matte"):
        ConvertOptions(
            source="fg.mov",
            name="fg",
            matte="fg_matte.mov",
            alpha=AlphaMode.PREMULTIPLIED,
        )


def test_the_options_are_frozen() -> None:
    options = ConvertOptions(source="fg.mov", name="fg")
    with pytest.raises(AttributeError):
        options.name = "bg"  # type: ignore[misc]


def test_built_from_a_spec_source_they_carry_its_fields() -> None:
    source = LayerSource(
        path="/shots/fg.mov",
        alpha=AlphaMode.STRAIGHT,
        matte="/shots/fg_matte.mov",
        colorspace="ACEScg",
        rate=Fraction(25),
        vfr=VfrPolicy.RESAMPLE,
        pixel_aspect=Fraction(2),
        yuv_matrix=YuvMatrix.BT601,
    )
    options = ConvertOptions.from_source(
        source,
        name="fg",
        rate=source.rate,
        start_frame=1,
        role=Role.FOREGROUND,
        provenance={"seed": 7},
        comments="hero",
    )
    assert options.source == "/shots/fg.mov"
    assert options.alpha is AlphaMode.STRAIGHT
    assert options.matte == "/shots/fg_matte.mov"
    assert options.colorspace == "ACEScg"
    assert options.rate == Fraction(25)
    assert options.vfr is VfrPolicy.RESAMPLE
    assert options.pixel_aspect == Fraction(2)
    assert options.yuv_matrix is YuvMatrix.BT601
    assert (options.start_frame, options.role) == (1, Role.FOREGROUND)
    assert dict(options.provenance) == {"seed": 7}
    assert options.comments == "hero"


def test_colour_space_aliases_become_the_configs_names() -> None:
    options = ConvertOptions(source="fg.png", name="fg", colorspace="sRGB - Texture")
    assert options.colorspace == "sRGB Encoded Rec.709 (sRGB)"


def test_aebridge_convert_stays_callable_once_the_package_is_imported(
    tmp_path: Path,
) -> None:
    # The README's aebridge.convert(...): the name is also the package's, which Python
    # binds to aebridge once the package is imported (a build imports it).
    import aebridge
    import aebridge.convert
    from aebridge import synthetic

    synthetic.write_png_sequence(tmp_path / "src", "fg", frames=2, width=8, height=4)
    for _ in range(2):
        result = aebridge.convert(
            str(tmp_path / "src" / "fg.####.png"), tmp_path / "out", name="fg", fps=24,
            jobs=1,
        )  # fmt: skip
        assert (result.first, result.last) == (1001, 1002)


def test_aebridge_convert_is_one_object_from_the_first_access() -> None:
    # The first access went through aebridge.__getattr__, which handed back the
    # function while importing the package rebound the name: aebridge.convert was the
    # function once and the package after, so aebridge.convert.ConvertOptions failed
    # on first use. A fresh interpreter, since this one has imported the package.
    import subprocess
    import sys

    code = (
        "import aebridge\n"
        "first = aebridge.convert\n"
        "assert first is aebridge.convert, (first, aebridge.convert)\n"
        "assert callable(first) and first.ConvertOptions is not None\n"
        "from aebridge import convert\n"
        "assert convert is first\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_options_pickle_and_hash_so_they_can_travel_to_workers() -> None:
    # A farm script may send ConvertOptions to Dask or a process pool; the
    # provenance, held read-only, did not pickle and made the frozen options
    # unhashable.
    import pickle

    options = ConvertOptions(
        source="fg.####.png", name="fg", provenance={"seed": 7, "model": "gen4"}
    )
    again = pickle.loads(pickle.dumps(options))
    assert again == options and dict(again.provenance) == {"seed": 7, "model": "gen4"}
    assert hash(again) == hash(options)
    with pytest.raises(TypeError):
        again.provenance["seed"] = 8  # type: ignore[index]


def test_the_options_say_how_to_read_with_every_argument_probe_takes() -> None:
    # probe's signature is the one list of reading arguments; an argument added
    # there but not here would be left at its default for every conversion.
    from aebridge import ingest

    reading = {name for name, _ in ingest.reading_key()}
    options = ConvertOptions(source="fg.mp4", name="fg", matte="pha.mp4")
    assert set(options.probe_arguments()) == reading - {"matte"}
    assert set(options.matte_probe_arguments()) <= reading
    assert ingest.reading_key(**options.matte_probe_arguments()) != (
        ingest.reading_key(**options.probe_arguments())
    )


def test_type_checkers_see_aebridge_convert_as_the_callable_package(
    tmp_path: Path,
) -> None:
    # It was typed as the function, so aebridge.convert.ConvertOptions failed a
    # strict type check of user code although it works. Calls of the package are
    # checked against convert()'s parameters; its attributes are typed Any (a
    # module's __getattr__), so a misspelt one is not caught: import them instead.
    from mypy import api

    user = tmp_path / "user.py"
    user.write_text(
        "import aebridge\n"
        "result = aebridge.convert('fg.####.png', 'out', name='fg')\n"
        "options = aebridge.convert.ConvertOptions(source='fg.mp4', name='fg')\n"
        "reveal_type(result)\n"
        "aebridge.convert('fg.mp4', 'out', name='fg', jobs='two')\n"
    )
    out, _, _ = api.run(["--strict", "--no-error-summary", str(user)])
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert "ConvertResult" in lines[0]
    assert 'Argument "jobs"' in lines[1] and "user.py:5:" in lines[1]
