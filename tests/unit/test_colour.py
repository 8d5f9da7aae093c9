"""Colour-space names: what users may type, and what ends up in the EXR header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aebridge import colour
from aebridge.errors import OptionError


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("srgb", "sRGB Encoded Rec.709 (sRGB)"),
        ("sRGB", "sRGB Encoded Rec.709 (sRGB)"),
        ("linear", "Linear Rec.709 (sRGB)"),
        ("rec709", "Gamma 2.4 Encoded Rec.709"),
        ("acescg", "ACEScg"),
        ("ACEScg", "ACEScg"),
        ("Linear Rec.709 (sRGB)", "Linear Rec.709 (sRGB)"),
        # the config's own aliases resolve too
        ("lin_rec709", "Linear Rec.709 (sRGB)"),
        ("srgb_tx", "sRGB Encoded Rec.709 (sRGB)"),
        ("lin_ap1_scene", "ACEScg"),
        # case-insensitive full names
        ("linear rec.709 (srgb)", "Linear Rec.709 (sRGB)"),
        ("  ACEScg ", "ACEScg"),
    ],
)
def test_typed_names_resolve_to_the_configs_canonical_name(
    typed: str, canonical: str
) -> None:
    assert colour.validate_colorspace(typed, option="--colorspace") == canonical


def test_an_unknown_name_names_the_option_and_lists_the_choices() -> None:
    with pytest.raises(OptionError) as err:
        colour.validate_colorspace("sRGB-ish", option="--colorspace")
    text = str(err.value)
    assert text.startswith("--colorspace: 'sRGB-ish' is not allowed; allowed: ")
    assert "Linear Rec.709 (sRGB)" in text
    assert "ACEScg" in text
    assert "srgb (= sRGB Encoded Rec.709 (sRGB))" in text


@pytest.mark.parametrize("bad", ["", "   "])
def test_an_empty_name_is_refused(bad: str) -> None:
    with pytest.raises(OptionError, match="--colorspace"):
        colour.validate_colorspace(bad, option="--colorspace")


def test_output_spaces_are_scene_linear_and_known_to_the_config() -> None:
    assert colour.OUTPUT_COLORSPACES == ("Linear Rec.709 (sRGB)", "ACEScg")
    for name in colour.OUTPUT_COLORSPACES:
        assert name in colour.colorspace_names()
        assert colour.is_linear(name)


def test_rec709_output_chromaticities_are_the_published_primaries() -> None:
    assert colour.chromaticities("Linear Rec.709 (sRGB)") == (
        0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.329,
    )  # fmt: skip


def test_acescg_chromaticities_are_ap1_with_the_aces_white() -> None:
    assert colour.chromaticities("acescg") == (
        0.713, 0.293, 0.165, 0.83, 0.128, 0.044, 0.32168, 0.33767,
    )  # fmt: skip


def test_raw_has_no_chromaticities() -> None:
    with pytest.raises(OptionError, match="RGB primaries"):
        colour.chromaticities("Raw")


@pytest.mark.parametrize(
    ("name", "interop"),
    [("Linear Rec.709 (sRGB)", "lin_rec709_scene"), ("ACEScg", "lin_ap1_scene")],
)
def test_interop_ids_follow_the_aswf_names(name: str, interop: str) -> None:
    assert colour.interop_id(name) == interop


@pytest.mark.parametrize(
    ("name", "linear"),
    [
        ("sRGB Encoded Rec.709 (sRGB)", "Linear Rec.709 (sRGB)"),
        ("sRGB Encoded AP1", "ACEScg"),
        ("sRGB Encoded P3-D65", "Linear P3-D65"),
        ("ACEScg", "ACEScg"),
    ],
)
def test_each_encoded_space_has_the_linear_space_of_its_primaries(
    name: str, linear: str
) -> None:
    assert colour.linear_counterpart(name) == linear


def test_raw_has_no_linear_counterpart() -> None:
    assert colour.linear_counterpart("Raw") is None


def test_the_config_is_openimageios_own_read_once_per_process(tmp_path: Path) -> None:
    # Parsing the config costs some 50 ms a time; validating names, probing with a
    # colour space, converting pixels and previewing all use the one OpenImageIO's
    # conversions use, so no second ColorConfig is ever made.
    code = f"""
import OpenImageIO as oiio
import numpy as np

real = oiio.ColorConfig
made = []

class Counted:
    default_colorconfig = staticmethod(real.default_colorconfig)

    def __new__(cls, *args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

oiio.ColorConfig = Counted
from aebridge import colour, ingest
from aebridge.errors import SourceError
from aebridge.imaging import PixelPipeline
from aebridge.preview.display import DisplayTransform

colour.validate_colorspace("acescg", option="--colorspace")
try:
    ingest.probe({str(tmp_path / "missing.mp4")!r}, colorspace="Raw")
except SourceError:
    pass
PixelPipeline(
    dtype="uint8", channels=3, colorspace_in="srgb", colorspace_out="ACEScg",
    alpha_mode="none", half=True,
)(np.zeros((2, 2, 3), np.uint8))
DisplayTransform("sRGB")
print(len(made))
"""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "0", run.stdout + run.stderr
