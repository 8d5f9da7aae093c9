"""Image files read as their headers say, or refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge.errors import SourceError
from aebridge.ingest import probe, read_frames

oiio = pytest.importorskip("OpenImageIO")


def _noise(height: int = 32, width: int = 48) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif"])
def test_a_truncated_frame_is_an_error_naming_file_and_frame(
    tmp_path: Path, ext: str
) -> None:
    for number in (1, 2, 3):
        buf = oiio.ImageBuf(_noise())
        assert buf.write(str(tmp_path / f"f.{number:04d}{ext}"))
    damaged = tmp_path / f"f.0002{ext}"
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # "premature end" for libjpeg
    info = probe(str(tmp_path / f"f.####{ext}"))
    with pytest.raises(SourceError) as caught:
        list(read_frames(info, 0, 3))
    text = str(caught.value)
    assert f"f.0002{ext}" in text and "frame 2" in text
    assert "\n" not in text
