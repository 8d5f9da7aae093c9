"""aebridge._native: each compiled loop against the rule it compiles.

The references here are plain numpy (and, for Y'CbCr, exact rational arithmetic):
what the loops replaced, kept as oracles. Every comparison is bit for bit.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction as Q
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from aebridge import _native
from aebridge.ingest import probe
from aebridge.ingest.moviepixels import exact_to_array, yuv_rule
from aebridge.synthetic import write_movie

RNG = np.random.default_rng(2026)

# ------------------------------------------------------------------ Y'CbCr to R'G'B'


def _plus_upsampled(
    full: npt.NDArray[np.float64], term: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """numpy's evaluation of the interpolation rule (exact_to_array's docstring):
    horizontally the mean of the two neighbouring samples, vertically 0.25 of the
    far row + 0.75 of the near one, edges repeated."""
    height, width = full.shape
    h, w = term.shape
    if w < width:
        right = np.concatenate((term[:, 1:], term[:, -1:]), axis=1)
        right += term
        right *= 0.5
        wide = np.empty((h, width))
        wide[:, 0::2] = term[:, : (width + 1) // 2]
        wide[:, 1::2] = right[:, : width // 2]
        term = wide
    if h < height:
        up = np.concatenate((term[:1], term[:-1]), axis=0) * 0.25
        down = np.concatenate((term[1:], term[-1:]), axis=0) * 0.25
        near = term * 0.75
        out = np.empty_like(full)
        out[0::2] = full[0::2] + (up + near)[: (height + 1) // 2]
        out[1::2] = full[1::2] + (down + near)[: height // 2]
        return out
    return full + term


def _scaled(codes: Any, offset: float, span: float, top: float) -> Any:
    out = np.subtract(codes, offset, dtype=np.float64)
    out *= top
    out /= span
    return out


def _reference_rgb(
    y: Any, cb: Any, cr: Any, rule: tuple[float, ...], dtype: str
) -> Any:
    y_off, y_span, c_off, c_span, top, k_r, k_gb, k_gr, k_b = rule
    luma = _scaled(y, y_off, y_span, top)
    b = _scaled(cb, c_off, c_span, top)
    r = _scaled(cr, c_off, c_span, top)
    terms = (r * k_r, b * k_gb + r * k_gr, b * k_b)
    return np.stack(
        [
            np.rint(np.clip(_plus_upsampled(luma, t), 0.0, top)).astype(dtype)
            for t in terms
        ]
    )


def _codes(shape: tuple[int, int], bits: int, container: int) -> Any:
    dtype = np.uint8 if container == 8 else np.uint16
    return RNG.integers(0, 1 << bits, shape).astype(dtype)


@pytest.mark.parametrize("bits", [8, 10, 12, 16])
@pytest.mark.parametrize("layout", ["420", "422", "440", "444"])
@pytest.mark.parametrize("size", [(64, 32), (63, 31), (1, 1), (5, 2)])
def test_yuv_rgb_matches_the_numpy_evaluation_of_the_rule(
    bits: int, layout: str, size: tuple[int, int]
) -> None:
    width, height = size
    cw = (width + 1) // 2 if layout in ("420", "422") else width
    ch = (height + 1) // 2 if layout in ("420", "440") else height
    container = 8 if bits == 8 else 16
    for out_dtype in ("uint8", "uint16"):
        top = 255.0 if out_dtype == "uint8" else 65535.0
        for color_range in ("MPEG", "JPEG"):
            for matrix in ("itu709", "itu601", "bt2020", "smpte240m", "fcc"):
                y = _codes((height, width), bits, container)
                cb, cr = (
                    _codes((ch, cw), bits, container),
                    _codes((ch, cw), bits, container),
                )
                rule = yuv_rule(bits, color_range, matrix, top)
                out = np.zeros((3, height, width), out_dtype)
                _native.yuv_rgb(y, cb, cr, out[0], out[1], out[2], rule)
                want = _reference_rgb(y, cb, cr, rule, out_dtype)
                assert np.array_equal(out, want), (out_dtype, color_range, matrix)


def test_yuv_rgb_reads_strided_rows_and_writes_interleaved_output() -> None:
    y = _codes((31, 70), 8, 8)[:, 3:66]
    cb, cr = _codes((16, 40), 8, 8)[:, :32], _codes((16, 40), 8, 8)[:, 5:37]
    rule = yuv_rule(8, "MPEG", "itu709", 255.0)
    out = np.zeros((31, 63, 3), np.uint8)
    _native.yuv_rgb(y, cb, cr, out[..., 0], out[..., 1], out[..., 2], rule)
    assert np.array_equal(
        out.transpose(2, 0, 1), _reference_rgb(y, cb, cr, rule, "uint8")
    )


def test_eight_bit_yuv_rounds_the_exact_formula_for_every_luma_code() -> None:
    """Exact rational arithmetic, every Y code against a spread of chroma pairs (a
    lossless 4:4:4 frame), clipped values included: no float evaluation order is
    trusted here. Only a value within 1e-9 of a half could round either way from
    float64, and none is (every value is checked)."""
    chroma = [16, 17, 64, 127, 128, 129, 200, 239, 240, 0, 255]
    pairs = [(b, r) for b in chroma for r in chroma]
    y = np.repeat(np.arange(256, dtype=np.uint8)[:, None], len(pairs), axis=1)
    cb = np.tile(np.array([b for b, _ in pairs], np.uint8), (256, 1))
    cr = np.tile(np.array([r for _, r in pairs], np.uint8), (256, 1))
    out = np.zeros((3, 256, len(pairs)), np.uint8)
    _native.yuv_rgb(
        y, cb, cr, out[0], out[1], out[2], yuv_rule(8, "MPEG", "itu709", 255.0)
    )
    kr, kb = Q(2126, 10000), Q(722, 10000)
    checked = 0
    for j in range(256):
        for i, (b_code, r_code) in enumerate(pairs):
            yy = Q(j - 16, 219)
            pb, pr = Q(b_code - 128, 224), Q(r_code - 128, 224)
            r = yy + 2 * (1 - kr) * pr
            b = yy + 2 * (1 - kb) * pb
            g = (yy - kr * r - kb * b) / (1 - kr - kb)
            for c, v in enumerate((r, g, b)):
                exact = min(max(v * 255, Q(0)), Q(255))
                half = abs(exact - exact.numerator // exact.denominator - Q(1, 2))
                if half > Q(1, 10**9):  # not within float64's reach of a tie
                    assert out[c, j, i] == round(exact), (j, b_code, r_code, c)
                    checked += 1
    assert checked == 3 * 256 * len(pairs)


def test_out_of_gamut_codes_clip_where_swscale_wrapped() -> None:
    """Y 249, Cb 243, Cr 241 (a bright, over-saturated code triple a lossy encoder
    can produce): blue is far above full scale and clips to 255; swscale's
    exact-rounding path wrapped it to 0 (measured with the FFmpeg PyAV bundles)."""
    y, cb, cr = (np.full((2, 2), v, np.uint8) for v in (249, 243, 241))
    out = np.zeros((3, 2, 2), np.uint8)
    _native.yuv_rgb(
        y, cb, cr, out[0], out[1], out[2], yuv_rule(8, "MPEG", "itu709", 255.0)
    )
    assert out[:, 0, 0].tolist() == [255, 187, 255]


def test_an_eight_bit_movie_agrees_with_swscale_exact_rounding_within_one_code(
    tmp_path: Path,
) -> None:
    """The rule changed the 8-bit path from swscale's exact-rounding conversion to
    the formula; on a real H.264 frame they differ by at most one code."""
    from av.video.reformatter import Interpolation

    path = tmp_path / "m.mp4"
    write_movie(path, frames=2, width=96, height=64)
    info = probe(path)
    frame = next(av.open(str(path)).decode(video=0))
    flags = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
    flags |= Interpolation.FULL_CHR_H_INT
    swscale = frame.reformat(
        format="rgb24", src_colorspace=info.matrix, src_color_range=info.color_range,
        interpolation=flags,
    ).to_ndarray()  # fmt: skip
    ours = np.asarray(exact_to_array(frame, info))
    assert np.abs(ours.astype(int) - swscale).max() <= 1


@pytest.mark.parametrize(
    ("packed", "planar"),
    [("nv12", "yuv420p"), ("yuyv422", "yuv422p"), ("rgb24", "gbrp"), ("bgra", "gbrap")],
)
def test_packed_layouts_read_as_their_planar_twins(
    tmp_path: Path, packed: str, planar: str
) -> None:
    path = tmp_path / "m.mp4"
    write_movie(path, frames=1, width=32, height=16)
    info = probe(path)
    source = av.VideoFrame(32, 16, planar)
    for plane in source.planes:
        view = np.frombuffer(plane, np.uint8)
        view[:] = RNG.integers(0, 256, view.size)
    alpha = planar.endswith("ap")
    info = dataclasses.replace(
        info, channels=4 if alpha else 3, has_alpha=alpha,
        pixel_format="rgba" if alpha else "rgb24",
    )  # fmt: skip
    twin = source.reformat(format=packed)
    assert np.array_equal(
        np.asarray(exact_to_array(twin, info)), np.asarray(exact_to_array(source, info))
    )


def test_yuv_rgb_refuses_planes_that_do_not_fit() -> None:
    y = np.zeros((8, 8), np.uint8)
    out = np.zeros((3, 8, 8), np.uint8)
    rule = yuv_rule(8, "MPEG", "itu709", 255.0)
    with pytest.raises(ValueError, match="chroma planes are 3x4"):
        _native.yuv_rgb(y, np.zeros((4, 3), np.uint8), np.zeros((4, 3), np.uint8),
                        out[0], out[1], out[2], rule)  # fmt: skip
    with pytest.raises(ValueError, match="G is 8x7"):
        _native.yuv_rgb(y, y, y, out[0], out[1, :7], out[2], rule)
    with pytest.raises(ValueError, match="Cb has 2-byte items"):
        _native.yuv_rgb(y, y.astype(np.uint16), y, out[0], out[1], out[2], rule)
    frozen = np.zeros((8, 8), np.uint8)
    frozen.setflags(write=False)
    with pytest.raises((BufferError, ValueError)):
        _native.yuv_rgb(y, y, y, out[0], out[1], frozen, rule)


# --------------------------------------------------------------------------- lookups


@pytest.mark.parametrize("table_dtype", [np.uint8, np.uint16, np.float16, np.float32])
@pytest.mark.parametrize("index_dtype", [np.uint8, np.uint16])
def test_lookup_is_take_with_clipping(table_dtype: Any, index_dtype: Any) -> None:
    table = RNG.random(300).astype(np.float64)
    table = (table * 200).astype(table_dtype)
    index = RNG.integers(0, np.iinfo(index_dtype).max + 1, (7, 40)).astype(index_dtype)
    if index_dtype == np.uint16:
        index[0, :3] = (0, 299, 300)  # the last entry, and one past it
    out = np.zeros((7, 50), table_dtype)[:, 5:45]
    _native.lookup(table, index[:, :40], out, 0xFFFFFFFF)
    assert np.array_equal(out, np.take(table, index, mode="clip"))
    masked = np.zeros((7, 40), table_dtype)
    _native.lookup(table, index, masked, 0xFF)
    assert np.array_equal(masked, np.take(table, index & 0xFF, mode="clip"))


def test_gather2d_indexes_value_then_alpha() -> None:
    tables = tuple(RNG.random(65536).astype(np.float16) for _ in range(3))
    rgb = RNG.integers(0, 256, (9, 33, 3)).astype(np.uint8)
    alpha = RNG.integers(0, 256, (9, 40)).astype(np.uint8)[:, 4:37]
    out = np.zeros((3, 9, 33), np.float16)
    values = tuple(rgb[..., c] for c in range(3))
    _native.gather2d(tables, values, alpha, tuple(out))
    for c in range(3):
        index = rgb[..., c].astype(np.intp) << 8 | alpha
        assert np.array_equal(out[c], tables[c][index])
    shared = np.zeros((3, 9, 33), np.float16)
    _native.gather2d(tables[:1], values, alpha, tuple(shared))
    assert np.array_equal(
        shared[2], tables[0][rgb[..., 2].astype(np.intp) << 8 | alpha]
    )
    with pytest.raises(ValueError, match="65536"):
        _native.gather2d((tables[0][:256],), values, alpha, tuple(out))


# --------------------------------------------------------------- EXR zip prediction


def _reference_split(planes: list[Any], lines: int) -> Any:
    """The OpenEXR file format's zip preprocessing, spelled out: each block's raw
    bytes (scanline by scanline, each channel's row), even bytes then odd bytes, then
    d[i] = t[i] - t[i-1] + 128."""
    blocks = []
    for top in range(0, planes[0].shape[0], lines):
        raw = b"".join(
            np.ascontiguousarray(p[y]).astype(p.dtype.newbyteorder("<")).tobytes()
            for y in range(top, top + lines)
            for p in planes
        )
        t = np.frombuffer(raw[0::2] + raw[1::2], np.uint8).astype(np.int64)
        d = t.copy()
        d[1:] = (t[1:] - t[:-1] + 128) % 256
        blocks.append(d.astype(np.uint8))
    return np.stack(blocks)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize(
    ("width", "height", "lines"), [(7, 32, 16), (33, 17, 17), (3, 5, 1)]
)
def test_zip_split_is_the_file_formats_preprocessing(
    dtype: Any, width: int, height: int, lines: int
) -> None:
    planes = [
        RNG.normal(0, 4, (height, width + 3)).astype(dtype)[:, 1 : width + 1]
        for _ in range(4)
    ]
    row_bytes = 4 * width * np.dtype(dtype).itemsize
    out = np.zeros((height // lines, lines * row_bytes), np.uint8)
    _native.zip_split(tuple(planes), lines, out)
    assert np.array_equal(out, _reference_split(planes, lines))


def test_kernels_refuse_non_contiguous_tables_with_a_value_error() -> None:
    """A table, plane or out row that is not contiguous is a ValueError (it was a
    SystemError: the kernels returned NULL with no exception set)."""
    table = np.zeros(131072, np.uint16)[::2]
    codes = np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError):
        _native.gather2d((table,), (codes,), codes, (np.zeros((2, 2), np.uint16),))
    with pytest.raises(ValueError):
        _native.zip_split(
            (np.zeros((2, 8), np.float16)[:, ::2],), 2, np.zeros((1, 16), np.uint8)
        )


def test_zip_split_refuses_planes_without_columns() -> None:
    """A zero-width plane read before its start (found with AddressSanitizer)."""
    with pytest.raises(ValueError, match="no columns"):
        _native.zip_split(
            (np.zeros((16, 0), np.float16),), 16, np.zeros((1, 0), np.uint8)
        )


def test_zip_split_refuses_an_output_of_the_wrong_size() -> None:
    planes = (np.zeros((32, 8), np.float16),)
    with pytest.raises(ValueError, match="2 blocks of 256 bytes"):
        _native.zip_split(planes, 16, np.zeros((2, 255), np.uint8))


@pytest.mark.parametrize(("fmt", "dtype"), [("ya8", "uint8"), ("ya16le", "uint16")])
def test_grey_with_alpha_reads_as_grey_rgb_and_its_alpha(
    tmp_path: Path, fmt: str, dtype: str
) -> None:
    """Packed grey + alpha (PNG in MOV writes it): the grey in all three colour
    channels, full range, and the alpha (16-bit ones failed: the alpha was dropped)."""
    path = tmp_path / "m.mp4"
    write_movie(path, frames=1, width=32, height=16)
    info = dataclasses.replace(
        probe(path), channels=4, has_alpha=True, dtype=dtype, color_range="JPEG",
        pixel_format="rgba" if dtype == "uint8" else "rgba64le",
    )  # fmt: skip
    frame = av.VideoFrame(32, 16, fmt)
    raw = np.frombuffer(frame.planes[0], dtype)
    raw[:] = RNG.integers(0, np.iinfo(dtype).max + 1, raw.size)
    pairs = raw.reshape(16, -1)[:, :64].reshape(16, 32, 2)
    got = np.asarray(exact_to_array(frame, info))
    for c in range(3):
        assert np.array_equal(got[..., c], pairs[..., 0])
    assert np.array_equal(got[..., 3], pairs[..., 1])


def test_yuv_rgb_refuses_a_rule_for_another_scale_or_not_finite() -> None:
    y = np.zeros((2, 2), np.uint8)
    out = np.zeros((3, 2, 2), np.uint8)
    deep = yuv_rule(8, "MPEG", "itu709", 65535.0)  # full scale of 16-bit output
    with pytest.raises(ValueError, match="full scale"):
        _native.yuv_rgb(y, y, y, out[0], out[1], out[2], deep)
    broken = (*yuv_rule(8, "MPEG", "itu709", 255.0)[:5], float("inf"), 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        _native.yuv_rgb(y, y, y, out[0], out[1], out[2], broken)
