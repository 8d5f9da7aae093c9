"""A YUV matrix given instead of the tag (``yuv_matrix``, ``--yuv-matrix``).

Robust Video Matting's ``inference_utils.VideoWriter`` encodes its ``fgr``/``pha``
MP4s with PyAV from ``rgb24`` frames into ``yuv420p``: swscale's default matrix
(BT.601), no tag. aebridge reads an untagged HD movie as BT.709, so such a
foreground at 720 lines shifts hue unless ``bt601`` is given. The pixels are
checked against the source RGB and against the BT.601 / BT.709 formulas computed
here in numpy from the decoded YUV planes (not against aebridge).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner

from aebridge import synthetic
from aebridge.api import build
from aebridge.cli import main
from aebridge.convert import convert, read_sidecar
from aebridge.errors import SourceError
from aebridge.exr import read_header, read_pixels

av = pytest.importorskip("av")

W, H = 1280, 720
# Saturated patches (and one mid colour), each a 160x120 block: chroma is
# subsampled 2x2, so a block's centre holds its own colour exactly.
PATCHES: list[tuple[int, int, int]] = [
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (0, 255, 255),
    (255, 0, 255),
    (255, 255, 0),
    (200, 30, 60),
    (40, 90, 220),
]
BLOCK_W, BLOCK_H = 160, 120
CENTRES = [(BLOCK_H // 2, i * BLOCK_W + BLOCK_W // 2) for i in range(len(PATCHES))]
# 8-bit YUV (and 4:2:0 of flat blocks) holds RGB to about one code value.
CODEC_ROUNDING = 2.0

Codes = npt.NDArray[np.float64]
Ffmpeg = Callable[..., Path]  # tests/conftest.py's ffmpeg fixture


def _source_rgb() -> npt.NDArray[np.uint8]:
    rgb = np.full((H, W, 3), 128, np.uint8)
    for i, colour in enumerate(PATCHES):
        rgb[:BLOCK_H, i * BLOCK_W : (i + 1) * BLOCK_W] = colour
    return rgb


def write_like_rvm(path: Path, frames: int = 2) -> Path:
    """As RVM's ``VideoWriter`` does (``add_stream('h264')``, ``pix_fmt='yuv420p'``,
    ``VideoFrame.from_ndarray(rgb, format='rgb24')``), but lossless (``qp=0``)."""
    rgb = _source_rgb()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"qp": "0"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _planes(path: Path) -> tuple[Codes, Codes, Codes]:
    """The first frame's Y, Cb, Cr planes as stored (chroma at full size)."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "yuv420p"
        out = []
        for index, plane in enumerate(frame.planes):
            rows = H if index == 0 else H // 2
            cols = W if index == 0 else W // 2
            data = np.frombuffer(bytes(plane), np.uint8).reshape(-1, plane.line_size)
            values = data[:rows, :cols].astype(np.float64)
            if index:
                values = values.repeat(2, axis=0).repeat(2, axis=1)
            out.append(values)
    return out[0], out[1], out[2]


def reference_rgb(path: Path, matrix: str) -> Codes:
    """RGB codes (0-255, unrounded) of the patch centres by the ITU formulas,
    limited range (Y 16-235, C 16-240)."""
    kr, kb = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}[matrix]
    y_plane, cb_plane, cr_plane = _planes(path)
    rows = []
    for row, col in CENTRES:
        y = (y_plane[row, col] - 16) / 219
        cb = (cb_plane[row, col] - 128) / 224
        cr = (cr_plane[row, col] - 128) / 224
        r = y + 2 * (1 - kr) * cr
        b = y + 2 * (1 - kb) * cb
        g = (y - kr * r - kb * b) / (1 - kr - kb)
        rows.append([r, g, b])
    return np.clip(np.array(rows) * 255, 0, 255)


def output_codes(folder: Path) -> Codes:
    """The patch centres of the first frame written, back in BT.1886 code values:
    an untagged transfer is read as BT.1886 (gamma 2.4) Rec.709, and the output is
    linear Rec.709, so linear = (code / 255) ** 2.4."""
    first = sorted(folder.glob("*.exr"))[0]
    linear = read_pixels(first)[..., :3].astype(np.float64)
    centres = np.array([linear[row, col] for row, col in CENTRES])
    return 255 * np.clip(centres, 0, None) ** (1 / 2.4)


def assert_same_frames(one: Path, other: Path) -> None:
    """Both folders hold the same EXR frames, pixel for pixel."""
    names = sorted(path.name for path in one.glob("*.exr"))
    assert names and names == sorted(path.name for path in other.glob("*.exr"))
    for name in names:
        first, second = read_pixels(one / name), read_pixels(other / name)
        np.testing.assert_array_equal(first, second)


@pytest.fixture(scope="module")
def rvm_fgr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_like_rvm(tmp_path_factory.mktemp("rvm") / "fgr.mp4")


def test_the_writer_here_encodes_as_rvm_does(rvm_fgr: Path) -> None:
    # Pure red by BT.601 limited range is Y 81, Cb 90, Cr 240 (BT.709's: 63, 102, 240).
    y, cb, cr = (plane[CENTRES[0]] for plane in _planes(rvm_fgr))
    assert (y, cb, cr) == (81, 90, 240)
    with av.open(str(rvm_fgr)) as container:
        assert container.streams.video[0].codec_context.colorspace in (2, None)


def test_rvm_foreground_with_bt601_matches_its_source(
    rvm_fgr: Path, tmp_path: Path
) -> None:
    result = convert(rvm_fgr, tmp_path, name="fgr", yuv_matrix="bt601", jobs=1)
    assert "YUV matrix bt601 as given (tag: unspecified)" in result.decisions[0]
    got = output_codes(tmp_path / "fgr")
    np.testing.assert_allclose(got, reference_rgb(rvm_fgr, "bt601"), atol=1.0)
    assert np.abs(got - np.array(PATCHES)).max() <= CODEC_ROUNDING


def test_rvm_foreground_without_it_is_read_as_bt709_and_shifts_hue(
    rvm_fgr: Path, tmp_path: Path
) -> None:
    result = convert(rvm_fgr, tmp_path, name="fgr", jobs=1)
    assert "untagged YUV matrix read as BT.709" in result.decisions[0]
    got = output_codes(tmp_path / "fgr")
    np.testing.assert_allclose(got, reference_rgb(rvm_fgr, "bt709"), atol=1.0)
    assert np.abs(got - np.array(PATCHES)).max() > 10 * CODEC_ROUNDING


def _small_rvm_movie(folder: Path) -> Path:
    return Path(
        synthetic.write_movie(
            folder / "fgr.mp4",
            pattern="solid",
            frames=3,
            width=64,
            height=720,
            matrix=None,
            transfer=None,
            primaries=None,
            encode_matrix="bt601",
        )
    )


def test_another_matrix_reconverts_instead_of_resuming(tmp_path: Path) -> None:
    movie = _small_rvm_movie(tmp_path)
    out = tmp_path / "out"
    first = convert(movie, out, name="fg", jobs=1)
    assert (first.frames_written, first.frames_skipped) == (3, 0)
    given = convert(movie, out, name="fg", yuv_matrix="bt601", jobs=1)
    assert (given.frames_written, given.frames_skipped) == (3, 0)
    again = convert(movie, out, name="fg", yuv_matrix="bt601", jobs=1)
    assert (again.frames_written, again.frames_skipped) == (0, 3)
    frame = out / "fg" / "fg.1001.exr"
    decisions = json.loads(str(read_header(frame)["aebridge/decisions"]))
    assert "YUV matrix bt601 as given (tag: unspecified)" in decisions[0]
    sidecar = read_sidecar(out / "fg")
    assert sidecar["settings"]["yuv_matrix"] == "bt601"
    assert "YUV matrix bt601 as given" in sidecar["decisions"][0]


def test_the_command_line_takes_it_and_refuses_other_values(tmp_path: Path) -> None:
    movie = _small_rvm_movie(tmp_path)
    out = tmp_path / "out"
    args = ["convert", str(movie), "-o", str(out), "--name", "fg", "-j", "1"]
    run = CliRunner().invoke(main, [*args, "--yuv-matrix", "bt601"])
    assert run.exit_code == 0, run.output
    assert read_sidecar(out / "fg")["settings"]["yuv_matrix"] == "bt601"
    bad = CliRunner().invoke(main, [*args, "--yuv-matrix", "bt470"])
    assert bad.exit_code != 0 and "bt709" in bad.output and "bt601" in bad.output


def test_an_image_sequence_given_a_matrix_is_refused(tmp_path: Path) -> None:
    synthetic.write_png_sequence(tmp_path, "fg", frames=1, width=8, height=8)
    with pytest.raises(SourceError, match=r"applies only to YUV movies"):
        convert(
            tmp_path / "fg.####.png", tmp_path / "out", name="fg", yuv_matrix="bt601"
        )


def test_an_rgb_movie_records_it_as_not_applicable(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    movie = ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=64x32:r=24:d=0.0834",
        "-c:v", "libx264rgb", "-pix_fmt", "rgb24", output=tmp_path / "rgb.mkv",
    )  # fmt: skip
    from aebridge.ingest import probe

    assert probe(movie).yuv is False and probe(_small_rvm_movie(tmp_path)).yuv
    plain = convert(movie, tmp_path / "a", name="fg", jobs=1)
    given = convert(movie, tmp_path / "b", name="fg", yuv_matrix="bt601", jobs=1)
    assert "YUV matrix bt601 given, not applicable" in given.decisions[0]
    assert plain.frames_written == given.frames_written > 0
    assert_same_frames(tmp_path / "a" / "fg", tmp_path / "b" / "fg")


def test_a_spec_source_builds_what_convert_reads_with_it(tmp_path: Path) -> None:
    _small_rvm_movie(tmp_path)
    spec = {
        "schema": "aebridge.comp/1",
        "comp": {"name": "m", "width": 64, "height": 720, "rate": 24, "duration": 3},
        "layers": [{"id": "fg", "source": {"path": "fgr.mp4", "yuv_matrix": "bt601"}}],
    }
    result = build(spec, tmp_path / "built", base_dir=tmp_path, jobs=1)
    sequence = result.layers[0].sequence
    built = read_pixels(Path(sequence.folder) / sequence.frame_name(sequence.first))
    convert(tmp_path / "fgr.mp4", tmp_path / "conv", name="fg", yuv_matrix="bt601")
    converted = read_pixels(tmp_path / "conv" / "fg" / "fg.1001.exr")
    np.testing.assert_array_equal(built, converted)
    codes = 255 * built[5, 30, :3].astype(np.float64) ** (1 / 2.4)
    assert np.abs(codes - synthetic.SOLID_RGB).max() <= CODEC_ROUNDING + 1


def test_a_probe_made_for_other_options_is_not_reused(tmp_path: Path) -> None:
    # convert_layer takes a probe the caller made; one made without the matrix
    # these options give was used as is, so the frames were read as BT.709 while
    # their headers' settings hash said bt601 (and later runs kept them as current).
    from aebridge import ingest
    from aebridge.convert import ConvertOptions, convert_layer

    movie = _small_rvm_movie(tmp_path)
    options = ConvertOptions(source=str(movie), name="fgr", yuv_matrix="bt601")
    other = ingest.probe(str(movie))
    assert other.read_with != ingest.reading_key(**options.probe_arguments())
    assert other.read_with == ingest.reading_key()  # probe's defaults
    handed = convert_layer(options, tmp_path / "handed", info=other, jobs=1)
    convert_layer(options, tmp_path / "probed", jobs=1)
    assert "bt601 as given" in handed.decisions[0]
    assert_same_frames(tmp_path / "handed" / "fgr", tmp_path / "probed" / "fgr")
    same = ingest.probe(str(movie), **options.probe_arguments())
    assert same.read_with == ingest.reading_key(**options.probe_arguments())
