"""Timecode review findings: rates SMPTE 12M timecode cannot count."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from aebridge.convert import convert
from aebridge.exr import read_header
from aebridge.timing import pack_timecode


@pytest.mark.parametrize("rate", [Fraction(96), Fraction(120), Fraction(120000, 1001)])
def test_pack_timecode_refuses_rates_above_sixty(rate: Fraction) -> None:
    # The frames field holds two BCD digits, tens at most 3: at 120 fps frame pair 50
    # was stored as 10 and the timecode jumped backwards within each second.
    with pytest.raises(ValueError, match="60"):
        pack_timecode(100, rate)


def test_a_conversion_above_sixty_fps_writes_no_timecode(tmp_path: Path) -> None:
    import OpenImageIO as oiio

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
