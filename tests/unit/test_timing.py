"""Exact rates and SMPTE timecode, as packed and as a conversion writes it."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aebridge.errors import OptionError
from aebridge.spec.schema import comp_spec_schema
from aebridge.timing import (
    format_rate,
    frame_to_timecode,
    pack_timecode,
    parse_rate,
    ratio_from_text,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx
from aejsx import ECMA_SPACE, PYTHON_SPACE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24", Fraction(24)),
        (24, Fraction(24)),
        ("23.976", Fraction(24000, 1001)),
        ("23.98", Fraction(24000, 1001)),
        (23.976, Fraction(24000, 1001)),
        ("29.97", Fraction(30000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        ([30000, 1001], Fraction(30000, 1001)),
        ("25", Fraction(25)),
        ("12.5", Fraction(25, 2)),
        (Fraction(48), Fraction(48)),
    ],
)
def test_rates_parse_exactly(text: object, expected: Fraction) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "0",
        "-24",
        "24/0",
        "2000",
        True,
        None,
        [1, 0],
        # More digits than Python turns into an integer (it raised ValueError).
        pytest.param("1" * 5000, id="5000-digits"),
        pytest.param("24/" + "1" * 5000, id="5000-digit-denominator"),
        # Digits other than 0-9 (the JSON Schema's pattern takes 0-9 only).
        pytest.param("\uff12\uff14", id="fullwidth-digits"),
        pytest.param("\u0662\u0664/1", id="arabic-indic-digits"),
        # Not numbers (Fraction raised ValueError for them).
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
    ],
)
def test_bad_rates_name_the_option_and_what_is_allowed(bad: object) -> None:
    with pytest.raises(OptionError) as info:
        parse_rate(bad, option="--fps")
    assert str(info.value).startswith("--fps: ")
    assert "24000/1001" in str(info.value)


@pytest.mark.parametrize("bad", ["0.5", 0.5, "1/2", [1, 2], "1001", 2000])
def test_a_rate_out_of_range_is_told_the_range(bad: object) -> None:
    # 0.5 is a positive number: the message must say what rates are allowed.
    with pytest.raises(OptionError, match=r"allowed: 1 to 1000 frames per second"):
        parse_rate(bad, option="--fps")


# Rate and ratio text is read by the parser (validate, --fps, the service) and by
# whoever checks a spec with the published JSON Schema, whose patterns are ECMA-262's:
# the two must take the same text.


def _rate_patterns(schema: Any) -> set[str]:
    """The patterns of every string a rate or ratio may be written as (the string
    beside a number in an anyOf)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        choices = schema.get("anyOf", [])
        if any(c.get("type") == "number" for c in choices):
            found |= {c["pattern"] for c in choices if c.get("type") == "string"}
        for value in schema.values():
            found |= _rate_patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _rate_patterns(value)
    return found


def _takes(text: str) -> bool:
    try:
        parse_rate(text)
    except OptionError:
        return False
    return ratio_from_text(text) is not None


def _spaced(space: str) -> list[str]:
    """Valid rates with ``space`` everywhere white space may stand."""
    return [f"{space}24", f"23.976{space}", f"24000{space}/{space}1001"]


def test_rate_text_takes_the_white_space_both_regex_dialects_match() -> None:
    # Python's \s alone matches U+001C-U+001F and U+0085, ECMA-262's alone U+FEFF:
    # '\x1c24' passed the parser and not the schema, '\ufeff24' the other way round.
    assert set("\x1c\x1d\x1e\x1f\x85\ufeff") == ECMA_SPACE ^ PYTHON_SPACE
    for space in sorted(ECMA_SPACE | PYTHON_SPACE):
        wanted = space in ECMA_SPACE and space in PYTHON_SPACE
        assert [_takes(t) for t in _spaced(space)] == [wanted] * 3, hex(ord(space))


def test_the_schema_s_rate_pattern_takes_what_the_parser_takes() -> None:
    (pattern,) = _rate_patterns(comp_spec_schema())
    texts = [
        t for space in sorted(ECMA_SPACE | PYTHON_SPACE | {"x"}) for t in _spaced(space)
    ]
    texts += ["24", "12.5", "48/2", "\uff12\uff14", "24.", "-24", "2e1", "24/1/1"]
    schema_takes = aejsx.ecma_searches(pattern, texts)
    disagree = [
        (text, taken)
        for text, taken in zip(texts, schema_takes, strict=True)
        if taken != [_takes(text)] * 2
    ]
    assert disagree == []


def test_rates_format_as_integers_or_ratios() -> None:
    assert format_rate(Fraction(24)) == "24"
    assert format_rate(Fraction(24000, 1001)) == "24000/1001"


@pytest.mark.parametrize(
    ("frame", "rate", "expected"),
    [
        (0, Fraction(24), (0, 0, 0, 0, False)),
        (1001, Fraction(24), (0, 0, 41, 17, False)),
        (86400 * 24, Fraction(24), (0, 0, 0, 0, False)),  # hours wrap at 24
        (1001, Fraction(24000, 1001), (0, 0, 41, 17, False)),  # 23.976 is never drop
        (1799, Fraction(30000, 1001), (0, 0, 59, 29, True)),
        (1800, Fraction(30000, 1001), (0, 1, 0, 2, True)),  # frames 0, 1 dropped
        (17982, Fraction(30000, 1001), (0, 10, 0, 0, True)),  # not every tenth minute
        (3600, Fraction(60000, 1001), (0, 1, 0, 4, True)),
    ],
)
def test_timecode_counts_smpte(
    frame: int, rate: Fraction, expected: tuple[int, int, int, int, bool]
) -> None:
    assert frame_to_timecode(frame, rate) == expected


def test_timecode_packs_bcd() -> None:
    # 01:02:03:04 at 24 fps
    frame = ((1 * 60 + 2) * 60 + 3) * 24 + 4
    value, user = pack_timecode(frame, Fraction(24))
    assert value == 0x01020304
    assert user == 0


def test_timecode_drop_flag_is_bit_6() -> None:
    value, _ = pack_timecode(1800, Fraction(30000, 1001))
    assert value & (1 << 6)
    assert value & 0x3F == 0x02


def test_timecode_above_30fps_counts_frame_pairs() -> None:
    # 50 fps: frame 49 of a second is the second field of pair 24.
    value, _ = pack_timecode(49, Fraction(50))
    assert value & 0x3F == 0x24
    assert value & (1 << 15)  # field phase: the second frame of the pair
    assert not value & (1 << 7)  # colour frame stays clear
    value, _ = pack_timecode(48, Fraction(50))
    assert value & 0x3F == 0x24
    assert not value & (1 << 15)


@pytest.mark.parametrize("rate", [Fraction(96), Fraction(120), Fraction(120000, 1001)])
def test_pack_timecode_refuses_rates_above_sixty(rate: Fraction) -> None:
    # The frames field holds two BCD digits, tens at most 3: at 120 fps frame pair 50
    # was stored as 10 and the timecode jumped backwards within each second.
    with pytest.raises(ValueError, match="60"):
        pack_timecode(100, rate)


def test_frame_pairs_reach_openexr_as_field_phase(tmp_path: Path) -> None:
    import OpenEXR

    from aebridge.exr import ExrSettings, write_frame

    path = tmp_path / "f.exr"
    write_frame(
        path,
        np.zeros((2, 2, 4), np.float16),
        settings=ExrSettings(),
        attributes={"timeCode": pack_timecode(49, Fraction(50))},
    )
    with OpenEXR.File(str(path)) as f:
        tc = f.header()["timeCode"]
    assert (tc.seconds, tc.frame, tc.fieldPhase, tc.colorFrame) == (0, 24, True, False)


def test_a_conversion_above_sixty_fps_writes_no_timecode(tmp_path: Path) -> None:
    import OpenImageIO as oiio

    from aebridge.convert import convert
    from aebridge.exr import read_header

    src = tmp_path / "src"
    src.mkdir()
    for number in (1, 2):
        out = oiio.ImageOutput.create(str(src / f"f.{number:04d}.png"))
        assert out is not None
        out.open(str(src / f"f.{number:04d}.png"), oiio.ImageSpec(4, 2, 3, "uint8"))
        out.write_image(np.zeros((2, 4, 3), np.uint8))
        out.close()
    convert(src, tmp_path / "out", name="f", fps=120, jobs=1)
    header = read_header(tmp_path / "out" / "f" / "f.1001.exr")
    assert header["framesPerSecond"] == Fraction(120)
    assert "timeCode" not in header
    convert(src, tmp_path / "out", name="g", fps=60, jobs=1)
    assert "timeCode" in read_header(tmp_path / "out" / "g" / "g.1001.exr")
