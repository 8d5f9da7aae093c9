"""The fast path's colour tables: a conversion split into a per-channel curve (made
by running OCIO on every code value) and a 3x3 matrix, each split checked against OCIO
itself, and the table gather the pipeline applies per frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._native import lookup
from ..colour import color_config, is_linear, linear_counterpart
from ..encoding import ColourIn, Encoding, output_matrix
from .maths import ocio_convert

__all__ = [
    "check_table",
    "convert_float",
    "find_split",
    "gather",
    "is_linear_in",
    "ramp_curve",
]


# Largest absolute difference allowed between the fast path (tables, matrix) and OCIO
# itself on random values before the fast path is refused. Half float has a relative
# step of 2**-11 (~4.9e-4); this is two orders of magnitude below it.
_FAST_PATH_TOLERANCE = 2e-6


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True, kw_only=True)
class _Split:
    """A conversion split into a per-channel curve and an optional 3x3 matrix.

    ``curve(code) -> middle`` per channel, then ``matrix @ middle -> output``.
    """

    middle: str
    matrix: npt.NDArray[np.float64] | None


def ramp_curve(
    values: npt.NDArray[np.float64], cs_in: ColourIn, cs_out: str
) -> npt.NDArray[np.float64]:
    """OCIO on a grey ramp: N values -> N x 3 (one column per channel).

    A declared encoding's curves are evaluated from their formulas in float64 instead
    (``cs_out`` is then its own linear space, the middle of its split).
    """
    if isinstance(cs_in, Encoding):
        return cs_in.linearise(np.repeat(values[:, None], 3, axis=1))
    grey = np.repeat(values.astype(np.float32)[:, None], 3, axis=1)
    return ocio_convert(grey, cs_in, cs_out).astype(np.float64)


def convert_float(
    rgb: npt.NDArray[np.float32], cs_in: ColourIn, cs_out: str
) -> npt.NDArray[np.float32]:
    """``... x 3`` straight float colour from a source's colour to an output space.

    OCIO for a named space; a declared encoding's curves and matrix otherwise.
    """
    if not isinstance(cs_in, Encoding):
        return ocio_convert(rgb, cs_in, cs_out)
    linear = cs_in.linearise(rgb)
    matrix = output_matrix(cs_in, cs_out)
    return np.asarray(linear @ matrix.T, dtype=np.float32)


def is_linear_in(cs_in: ColourIn) -> bool:
    """Whether a source's colour is scene-linear (a matrix away from the output)."""
    if isinstance(cs_in, Encoding):
        return cs_in.is_linear
    return is_linear(cs_in)


def _matrix(cs_from: str, cs_to: str) -> npt.NDArray[np.float64] | None:
    """The 3x3 matrix of a linear-to-linear OCIO conversion; None for identity."""
    if cs_from == cs_to:
        return None
    basis = np.eye(3, dtype=np.float32)
    columns = ocio_convert(basis, cs_from, cs_to).astype(np.float64)
    m = columns.T  # ocio_convert maps row vectors; M[:, j] is the image of e_j
    if np.allclose(m, np.eye(3), atol=1e-7):
        return None
    return m


def _apply_split(
    codes: npt.NDArray[np.float64], split: _Split, cs_in: ColourIn
) -> npt.NDArray[np.float64]:
    rgb = np.stack(
        [ramp_curve(codes[:, c], cs_in, split.middle)[:, c] for c in range(3)], axis=1
    )
    if split.matrix is not None:
        rgb = rgb @ split.matrix.T
    return rgb


_SPLITS: dict[tuple[ColourIn, str], _Split | None] = {}

# The middle space of a declared encoding's split: its own linear RGB.
_DECLARED_LINEAR = "declared linear"


def find_split(cs_in: ColourIn, cs_out: str) -> _Split | None:
    """Split ``cs_in -> cs_out`` into curve + matrix, verified against OCIO.

    Tries the input's own linear space, then the output space itself, then every other
    linear space of the config, and keeps the first that reproduces OCIO on random
    colours (including values just outside 0..1) within a tolerance far below half
    float precision. None when no split does (the float path is used then).
    """
    key = (cs_in, cs_out)
    if key in _SPLITS:
        return _SPLITS[key]
    if isinstance(cs_in, Encoding):
        # Curve and matrix by construction: nothing to search or verify here (the
        # tests check the formulas against OCIO and littleCMS).
        matrix = output_matrix(cs_in, cs_out)
        identity = np.allclose(matrix, np.eye(3), atol=1e-7)
        split = _Split(middle=_DECLARED_LINEAR, matrix=None if identity else matrix)
        _SPLITS[key] = split
        return split
    cc = color_config()
    candidates: list[str] = []
    own = linear_counterpart(cs_in)
    if own is not None:
        candidates.append(own)
    candidates.append(cs_out)
    for name in cc.getColorSpaceNames():
        name = str(name)
        if cc.isColorSpaceLinear(name) and name not in candidates:
            candidates.append(name)
    rng = np.random.default_rng(20240611)
    probe = rng.uniform(-0.05, 1.05, size=(512, 3))
    # Black, white, primaries, mid grey and an orange are always among the probes.
    probe[:8] = np.array(
        [
            [0, 0, 0],
            [1, 1, 1],
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [0.5] * 3,
            [0.18] * 3,
            [1, 0.5, 0],
        ],
        dtype=np.float64,
    )
    reference = ocio_convert(probe.astype(np.float32), cs_in, cs_out).astype(np.float64)
    found: _Split | None = None
    for middle in candidates:
        try:
            split = _Split(middle=middle, matrix=_matrix(middle, cs_out))
            got = _apply_split(probe, split, cs_in)
        except ValueError:
            continue
        scale = np.maximum(1.0, np.abs(reference))
        if np.all(np.isfinite(got)) and np.all(
            np.abs(got - reference) <= _FAST_PATH_TOLERANCE * scale
        ):
            found = split
            break
    _SPLITS[key] = found
    return found


def check_table(table: npt.NDArray[Any], what: str) -> None:
    if not np.all(np.isfinite(table)):
        raise ValueError(
            f"the colour conversion {what} gives values that are not finite in the "
            "output precision (overflow in half float?); use --float"
        )


def gather(
    table: npt.NDArray[Any], index: npt.NDArray[Any], out: npt.NDArray[Any]
) -> None:
    """``out[...] = table[index]`` (index: integer codes, [C x] H x W; out: the same
    shape, the table's dtype); indexes past the table's end read its last entry, as
    numpy's ``take(..., mode="clip")`` does. Done by
    :func:`aebridge._native.lookup`."""
    if out.dtype != table.dtype:
        raise ValueError(f"gather into {out.dtype} from a {table.dtype} table")
    if index.ndim == 2:
        lookup(table, index, out, 0xFFFFFFFF)
    else:
        for plane, target in zip(index, out, strict=True):
            lookup(table, plane, target, 0xFFFFFFFF)
