"""``aebridge inspect``: a sequence named by one of its frames; one EXR file alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from aebridge.cli import main
from aebridge.inspect import inspect_sequence


def _exr(path: Path, value: float, *, comment: str) -> None:
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(4, 2, 3, "half")
    spec.attribute("comments", comment)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None
    out.open(str(path), spec)
    out.write_image(np.full((2, 4, 3), value, np.float32))
    out.close()


def test_one_frame_given_shows_that_frames_header(tmp_path: Path) -> None:
    for number in (1001, 1002, 1003):
        _exr(tmp_path / f"fg.{number}.exr", 0.5, comment=f"frame {number}")
    report = inspect_sequence(tmp_path / "fg.1002.exr")
    # The sequence it belongs to is still described...
    assert (report["first"], report["last"], report["count"]) == (1001, 1003, 3)
    # ...but the header is the named file's, not the first frame's.
    assert report["header_frame"] == 1002
    assert report["header"]["comments"] == "frame 1002"
    assert inspect_sequence(tmp_path / "fg.1002.exr", frame=1003)["header_frame"] == (
        1003
    )


def test_an_exr_without_a_frame_number_is_reported_as_one_file(
    tmp_path: Path,
) -> None:
    _exr(tmp_path / "plate.exr", 0.25, comment="from elsewhere")
    report = inspect_sequence(tmp_path / "plate.exr")
    assert report["pattern"] == "plate.exr"
    assert report["count"] == 1
    assert report["first"] is None and report["last"] is None
    assert report["contiguous"] is True
    assert report["display_window"] == "(0, 0) - (3, 1), 4x2"
    assert report["header"]["comments"] == "from elsewhere"
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "plate.exr")])
    assert result.exit_code == 0, result.output
    assert "frames:          one file (no frame number)" in result.output
    assert "comments: from elsewhere" in result.output
