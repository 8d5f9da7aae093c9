"""The convert command's help and option parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from aebridge.cli import main
from aebridge.cli.convert import _default_name, _parse_frames, _parse_meta
from aebridge.errors import OptionError
from aebridge.exr import COMPRESSIONS


def test_help_lists_every_compression_and_flags_the_lossy_ones() -> None:
    text = " ".join(CliRunner().invoke(main, ["convert", "-h"]).output.split())
    lossless, lossy = (
        re.search(r"Lossless: (.*?)\(default", text).group(1),
        re.search(r"Lossy: (.*?)htj2k", text).group(1),
    )
    for name, info in COMPRESSIONS.items():
        if name == "htj2k":
            assert "htj2k" in text and "may not open it" in text
        elif info.lossy or info.lossy_float:
            assert name in lossy, name
        else:
            assert name in lossless, name


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("1001-1004", [1001, 1002, 1003, 1004]),
        ("1001,1005", [1001, 1005]),
        ("1001-1009x4", [1001, 1005, 1009]),
    ],
)
def test_frame_ranges_parse(text: str, frames: list[int]) -> None:
    assert _parse_frames(text) == frames


def test_bad_frame_range_names_the_option() -> None:
    with pytest.raises(OptionError, match="--frames"):
        _parse_frames("soon")


def test_meta_pairs_parse_and_bad_ones_are_refused() -> None:
    assert _parse_meta(("prompt=a=b", "seed=7")) == {"prompt": "a=b", "seed": "7"}
    with pytest.raises(OptionError, match="--meta"):
        _parse_meta(("novalue",))


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("runs/fg.####.png", "fg"),
        ("runs/bg_plate.mp4", "bg_plate"),
        ("runs/plates/", "plates"),
        # Its words lower-cased and joined by '_', as init's layer ids are.
        ("dl/Tom's plate #2 50%.mp4", "tom_s_plate_2_50"),
        ("dl/Hero-FGR.mp4", "hero_fgr"),
        ("dl/fg.v2.mp4", "fg_v2"),
        ("dl/fg ünï's #3.webm", "fg_uni_s_3"),
        ("dl/été/", "ete"),
        # A Windows device name (con/con.1001.exr cannot be opened there).
        ("dl/con.mp4", "con_"),
        ("dl/Nul.mp4", "nul_"),
        ("dl/LPT1/", "lpt1_"),
        # No ASCII letter or digit: a layer's hashed id (was 'comp_62cf3dd7').
        ("dl/前景.mp4", "layer_62cf3dd7"),
        ("dl/背景.mp4", "layer_f4b669c5"),
        # Never ending in '.', which Windows drops from a folder's name.
        ("dl/fg./", "fg"),
        ("dl/..take...mp4", "take"),
        ("dl/...mp4", "layer"),
    ],
)
def test_default_layer_name_comes_from_the_source(source: str, name: str) -> None:
    assert _default_name(source) == name


@pytest.mark.parametrize(
    ("file", "name"),
    [("logo@2x.png", "logo_2x"), ("take#3.png", "take_3"), ("Take #1.png", "take_1")],
)
def test_an_existing_image_named_like_a_pattern_is_named_by_its_file_name(
    tmp_path: Path, file: str, name: str
) -> None:
    # convert reads such a file as that image, but its default --name read the name
    # as a pattern: 'cannot read the frame field' for logo@2x.png, and 'take' for
    # take#3.png, where it was take_3.
    (tmp_path / file).write_bytes(b"")
    assert _default_name(str(tmp_path / file)) == name


def test_the_default_compression_is_the_one_exr_defines_everywhere() -> None:
    import inspect as pyinspect

    from aebridge import convert as convert_module
    from aebridge import exr

    assert exr.DEFAULT_COMPRESSION == "zip"  # chosen by bench/compression.py's rule
    assert exr.ExrSettings().compression == exr.DEFAULT_COMPRESSION
    default = pyinspect.signature(convert_module.convert).parameters["compression"]
    assert default.default is None  # None: exr.DEFAULT_COMPRESSION
    text = CliRunner().invoke(main, ["convert", "--help"]).output
    assert f"default: {exr.DEFAULT_COMPRESSION}" in " ".join(text.split())


def test_an_empty_name_is_refused_not_replaced(tmp_path: Path) -> None:
    # --name "" (an unset shell variable) wrote the frames under the source's name.
    result = CliRunner().invoke(
        main, ["convert", "nowhere.####.png", "-o", str(tmp_path), "--name", ""]
    )
    assert result.exit_code == 1
    expected = "error: --name: '' is not allowed; allowed: 1 to 128 letters"
    assert expected in result.output


@pytest.mark.parametrize("name", ["con", "Nul.exr", "aux.v2", "COM7", "lpt1.1001"])
def test_a_windows_device_name_is_refused(tmp_path: Path, name: str) -> None:
    # --name con wrote con/con.1001.exr, which Windows, where After Effects reads
    # the frames, cannot open.
    result = CliRunner().invoke(
        main, ["convert", "nowhere.####.png", "-o", str(tmp_path), "--name", name]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"error: --name: {name!r} is not allowed; allowed: 1 to 128 letters, "
        "digits, '_', '-', '.', starting with a letter or digit, not ending in '.', "
        "and not a name Windows keeps for a device (CON, PRN, AUX, NUL, COM1 to "
        "COM9, LPT1 to LPT9, in any case, alone or before a '.') (it becomes a "
        "folder and file name)\n"
    )
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["fg.", "fg.v2.", "a.."])
def test_a_name_ending_in_a_dot_is_refused(tmp_path: Path, name: str) -> None:
    # --name fg. wrote fg./fg..1001.exr; Windows drops the folder's trailing '.',
    # so After Effects there looks in 'fg', another layer's folder.
    result = CliRunner().invoke(
        main, ["convert", "nowhere.####.png", "-o", str(tmp_path), "--name", name]
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"error: --name: {name!r} is not allowed; ")
    assert "not ending in '.'" in result.output
    assert not any(tmp_path.iterdir())


def test_a_pattern_of_a_format_not_read_is_one_line_saying_what_is(
    tmp_path: Path,
) -> None:
    source = str(tmp_path / "x.####.tga")
    result = CliRunner().invoke(main, ["convert", source, "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output == (
        f"error: {source}: aebridge does not read .tga files; allowed: images (.exr, "
        ".jpeg, .jpg, .png, .tif, .tiff) and movies (.avi, .m4v, .mkv, .mov, .mp4, "
        ".mxf, .webm)\n"
    )
