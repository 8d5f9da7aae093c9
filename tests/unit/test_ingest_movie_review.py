"""Movie ingest review findings: deep 4:2:0 sources decode to the right colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge.ingest import probe
from aebridge.ingest.movie import read_movie_frames

av = pytest.importorskip("av")

RGB = (10000, 30000, 50000)


def _flat_movie(path: Path, encoder: str, pix_fmt: str) -> None:
    container = av.open(str(path), "w")
    stream = container.add_stream(encoder, rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 36, pix_fmt
    if encoder == "libx265":
        stream.options = {"x265-params": "log-level=error"}
    # The YUV codes are made here with the exact BT.601 limited-range formulas
    # (swscale's RGB -> 10-bit YUV is off by about 0.4 %, so it cannot make them).
    r, g, b = (v / 65535 for v in RGB)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    codes = (64 + 876 * y, 512 + 896 * (b - y) / 1.772, 512 + 896 * (r - y) / 1.402)
    for index in range(3):
        # Untagged (BT.601, limited), as aebridge reads SD.
        frame = av.VideoFrame(64, 36, pix_fmt)
        for plane, code in zip(frame.planes, codes, strict=True):
            view = np.frombuffer(plane, np.uint16)
            view[:] = round(code)
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


@pytest.mark.parametrize(
    ("encoder", "pix_fmt"),
    [
        ("libx265", "yuv420p10le"),  # HEVC Main10: swscale's full-chroma path broke it
        ("libx265", "yuv422p10le"),
        ("prores_ks", "yuv422p10le"),
    ],
)
def test_ten_bit_movies_keep_their_colour(
    tmp_path: Path, encoder: str, pix_fmt: str
) -> None:
    path = tmp_path / "flat.mov"
    _flat_movie(path, encoder, pix_fmt)
    info = probe(path)
    assert info.dtype == "uint16"
    frames = list(read_movie_frames(info, 0, info.frame_count))
    assert len(frames) == 3
    for _, pixels in frames:
        # 10-bit YUV and lossy coding of a flat field: within about 0.6% of full scale.
        error = np.abs(pixels.astype(np.int64) - np.array(RGB)).max()
        assert error < 400, pixels[10, 10]
