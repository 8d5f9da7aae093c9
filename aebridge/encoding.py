"""Colour encodings a file declares that the OCIO config has no name for, as formulas.

A file can declare its colour precisely without naming a space of OpenImageIO's
built-in OCIO config: a PNG ``gAMA`` of 1.8 with ``cHRM`` primaries, an ICC profile,
an EXR ``chromaticities`` attribute, a movie tagged BT.2020 primaries with the PQ or
HLG transfer. :class:`Encoding` describes such a declaration as what every one of them
is: a per-channel transfer curve (code value -> linear light) and an RGB -> CIE XYZ
matrix with its white. :func:`output_matrix` then takes that linear RGB to one of the
output spaces, adapting the white with the Bradford transform (the one OCIO's built-in
config uses between D65 and the ACES white: measured equal to 3e-8), so a declared
encoding runs through the same fused curve-table + 3x3-matrix machinery as an OCIO
conversion (:mod:`aebridge.imaging`).

Scene-linear scale of the HDR transfers (ITU-R BT.2408, reference white 203 cd/m2):

* PQ (SMPTE ST 2084): the EOTF's display light divided by 203 cd/m2, so PQ reference
  white is 1.0 (a PQ code of 1.0, 10,000 cd/m2, is 49.26).
* HLG (ARIB STD-B67, BT.2100): the inverse OETF (scene light 0..1), divided by its
  value at the reference-white signal 0.75 (0.26496), so HLG reference white is 1.0
  (peak 3.77). The display OOTF (system gamma 1.2) is not applied: the output is
  scene-referred. On a 1000 cd/m2 HLG display that white is shown at 203 cd/m2, the
  same as PQ's.

Everything here is pure numpy; tests check every formula against OCIO's built-in
transforms and named spaces, and ICC profiles against littleCMS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CURVE_KINDS",
    "HDR_REFERENCE_WHITE_NITS",
    "KNOWN_PRIMARIES",
    "ColourIn",
    "Curve",
    "Encoding",
    "bradford",
    "output_matrix",
    "rgb_to_xyz",
]

FloatArray = npt.NDArray[np.float64]

#: cd/m2 that scene-linear 1.0 stands for in PQ and HLG (ITU-R BT.2408).
HDR_REFERENCE_WHITE_NITS = 203.0

#: Transfer curves a declared encoding may have.
CURVE_KINDS: tuple[str, ...] = (
    "linear",
    "gamma",
    "srgb",
    "pq",
    "hlg",
    "parametric",
    "table",
)

# SMPTE ST 2084 constants.
_PQ_M1 = 2610 / 16384
_PQ_M2 = 2523 / 4096 * 128
_PQ_C1 = 3424 / 4096
_PQ_C2 = 2413 / 4096 * 32
_PQ_C3 = 2392 / 4096 * 32
# ARIB STD-B67 / BT.2100 HLG constants.
_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * float(np.log(4 * _HLG_A))

# Output spaces of aebridge: primaries and white (xy), as OCIO's config gives them.
_OUTPUT_PRIMARIES: dict[str, tuple[float, ...]] = {
    "Linear Rec.709 (sRGB)": (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    "ACEScg": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
}

_BRADFORD = np.array(
    [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ]
)


def _hlg_inverse_oetf(x: FloatArray) -> FloatArray:
    low = x * x / 3.0
    with np.errstate(over="ignore"):
        high = (np.exp((x - _HLG_C) / _HLG_A) + _HLG_B) / 12.0
    return np.where(x <= 0.5, low, high)


_HLG_WHITE = float(_hlg_inverse_oetf(np.array(0.75)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Curve:
    """One channel's transfer: code value (1.0 = full scale) -> linear light.

    ``kind`` is one of :data:`CURVE_KINDS`; ``params`` are its numbers:

    * ``gamma``: ``(g,)``, linear = code ** g (the decoding exponent: a PNG ``gAMA``
      of 0.45455 is g = 2.2);
    * ``parametric``: ICC ``para`` ``(g, a, b, c, d, e, f)`` (function type 4; the
      other types are expressed in it);
    * ``table``: ICC ``curv`` samples (0..1) at equal steps, interpolated linearly;
    * ``linear``, ``srgb``, ``pq``, ``hlg``: none.

    Negative codes (float sources only) pass through a pure gamma unchanged, as OCIO's
    gamma spaces do, and mirror every other curve (``-f(-x)``, for sRGB the linear
    segment continued); codes above 1 extend the curve (a table holds its last value).
    """

    kind: str
    params: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in CURVE_KINDS:
            raise ValueError(f"curve kind {self.kind!r}; allowed: {CURVE_KINDS}")
        wanted = {"gamma": 1, "parametric": 7}.get(self.kind)
        if wanted is not None and len(self.params) != wanted:
            raise ValueError(f"a {self.kind} curve needs {wanted} parameter(s)")
        if self.kind == "table" and len(self.params) < 2:
            raise ValueError("a table curve needs at least 2 samples")

    def __call__(self, codes: npt.ArrayLike) -> FloatArray:
        x = np.asarray(codes, dtype=np.float64)
        out = self._positive(np.abs(x))
        if self.kind == "gamma":
            return np.where(x < 0, x, out)
        return np.where(x < 0, -out, out)

    def _positive(self, x: FloatArray) -> FloatArray:
        kind = self.kind
        if kind == "linear":
            return x.copy()
        if kind == "gamma":
            return np.power(x, self.params[0])
        if kind == "srgb":
            return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
        if kind == "pq":
            p = np.power(x, 1 / _PQ_M2)
            nits = 10000.0 * np.power(
                np.maximum(p - _PQ_C1, 0.0) / (_PQ_C2 - _PQ_C3 * p), 1 / _PQ_M1
            )
            return nits / HDR_REFERENCE_WHITE_NITS
        if kind == "hlg":
            return _hlg_inverse_oetf(x) / _HLG_WHITE
        if kind == "parametric":
            g, a, b, c, d, e, f = self.params
            with np.errstate(invalid="ignore"):
                high = np.power(np.maximum(a * x + b, 0.0), g) + e
            return np.where(x >= d, high, c * x + f)
        table = np.asarray(self.params, dtype=np.float64)
        grid = np.linspace(0.0, 1.0, table.size)
        return np.interp(x, grid, table)

    def describe(self) -> str:
        if self.kind == "gamma":
            return f"gamma {self.params[0]:.4g}"
        if self.kind == "parametric":
            return f"ICC parametric curve (gamma {self.params[0]:.4g})"
        if self.kind == "table":
            return f"ICC curve table ({len(self.params)} samples)"
        return {"srgb": "sRGB curve", "pq": "PQ", "hlg": "HLG", "linear": "linear"}[
            self.kind
        ]


def rgb_to_xyz(primaries: tuple[float, ...]) -> FloatArray:
    """The RGB -> XYZ matrix of primaries and white (xr, yr, xg, yg, xb, yb, xw, yw).

    Raises:
        ValueError: the primaries are degenerate (collinear, or a y of 0).
    """
    if len(primaries) != 8:
        raise ValueError(
            f"primaries need 8 numbers (R, G, B, white xy), got {primaries}"
        )
    xy = np.asarray(primaries, dtype=np.float64).reshape(4, 2)
    if np.any(np.abs(xy[:, 1]) < 1e-9):
        raise ValueError(f"primaries with y = 0 cannot be used: {primaries}")
    xyz = np.stack([xy[:, 0] / xy[:, 1], np.ones(4), (1 - xy.sum(axis=1)) / xy[:, 1]])
    rgb, white = xyz[:, :3], xyz[:, 3]
    if abs(np.linalg.det(rgb)) < 1e-9:
        raise ValueError(f"primaries are collinear: {primaries}")
    scale = np.linalg.solve(rgb, white)
    return np.asarray(rgb * scale, dtype=np.float64)


def _white_xyz(white: tuple[float, float]) -> FloatArray:
    x, y = white
    return np.array([x / y, 1.0, (1 - x - y) / y])


def bradford(source: tuple[float, float], target: tuple[float, float]) -> FloatArray:
    """The Bradford chromatic adaptation of XYZ from one white (xy) to another."""
    lms_s = _BRADFORD @ _white_xyz(source)
    lms_t = _BRADFORD @ _white_xyz(target)
    adapted = np.linalg.inv(_BRADFORD) @ np.diag(lms_t / lms_s) @ _BRADFORD
    return np.asarray(adapted, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoding:
    """A declared colour encoding: transfer curve(s), RGB -> XYZ matrix and its white.

    Hashable and picklable (everything is a tuple), so it can key the pipeline's
    table cache and travel to worker processes.

    Attributes:
        label: what the file declares, in words (recorded in the header and sidecar).
        curves: one curve for all channels, or one per channel (R, G, B).
        matrix: RGB -> XYZ, 9 numbers row by row, Y of white = 1.
        white: the xy of the white that ``matrix`` is relative to (D50 for ICC).
    """

    label: str
    curves: tuple[Curve, ...]
    matrix: tuple[float, ...]
    white: tuple[float, float]
    source: str = field(default="", compare=False)
    """Where the declaration came from (``PNG cHRM+gAMA``, ``ICC profile 'x'``)."""

    def __post_init__(self) -> None:
        if len(self.curves) not in (1, 3):
            raise ValueError("an encoding needs 1 or 3 curves")
        if len(self.matrix) != 9:
            raise ValueError("an encoding needs a 3x3 RGB -> XYZ matrix")

    @classmethod
    def from_primaries(
        cls,
        label: str,
        curve: Curve,
        primaries: tuple[float, ...],
        *,
        source: str = "",
    ) -> Encoding:
        """An encoding from one curve and xy primaries with their white."""
        matrix = rgb_to_xyz(primaries)
        return cls(
            label=label,
            curves=(curve,),
            matrix=tuple(float(v) for v in matrix.ravel()),
            white=(float(primaries[6]), float(primaries[7])),
            source=source,
        )

    @property
    def is_linear(self) -> bool:
        return all(c.kind == "linear" for c in self.curves)

    def linearise(self, codes: npt.ArrayLike) -> FloatArray:
        """``... x 3`` code values -> linear RGB in the encoding's own primaries."""
        x = np.asarray(codes, dtype=np.float64)
        if len(self.curves) == 1:
            return self.curves[0](x)
        return np.stack([self.curves[c](x[..., c]) for c in range(3)], axis=-1)


def output_matrix(encoding: Encoding, output: str) -> FloatArray:
    """The 3x3 matrix from the encoding's linear RGB to an output space's.

    The white is adapted with Bradford from the encoding's white to the output's.

    Raises:
        ValueError: ``output`` is not one of aebridge's output spaces.
    """
    if output not in _OUTPUT_PRIMARIES:
        raise ValueError(
            f"no primaries known for output space {output!r}; allowed: "
            + ", ".join(_OUTPUT_PRIMARIES)
        )
    target = _OUTPUT_PRIMARIES[output]
    to_xyz = np.asarray(encoding.matrix, dtype=np.float64).reshape(3, 3)
    adapt = bradford(encoding.white, (target[6], target[7]))
    matrix = np.linalg.inv(rgb_to_xyz(target)) @ adapt @ to_xyz
    return np.asarray(matrix, dtype=np.float64)


def same_primaries(
    a: tuple[float, ...], b: tuple[float, ...], tol: float = 5e-4
) -> bool:
    """Whether two 8-number primaries-and-white sets are the same within ``tol``."""
    return len(a) == len(b) == 8 and all(
        abs(float(x) - float(y)) <= tol for x, y in zip(a, b, strict=True)
    )


def describe_primaries(primaries: tuple[float, ...]) -> str:
    """A known name for primaries (``Rec.709``, ``P3-D65``), else their numbers."""
    for name, known in _KNOWN_PRIMARIES.items():
        if same_primaries(primaries, known):
            return name
    return "primaries " + " ".join(f"{v:.4f}" for v in primaries)


_KNOWN_PRIMARIES: dict[str, tuple[float, ...]] = {
    "Rec.709": (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    "P3-D65": (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290),
    "DCI-P3": (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.314, 0.351),
    "Rec.2020": (0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290),
    "ACES AP0": (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767),
    "ACES AP1": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
    "Adobe RGB": (0.64, 0.33, 0.21, 0.71, 0.15, 0.06, 0.3127, 0.3290),
}

#: Primaries by name, for ingest (movie tags, EXR chromaticities).
KNOWN_PRIMARIES: dict[str, tuple[float, ...]] = dict(_KNOWN_PRIMARIES)

#: A source's colour: an OCIO colour-space name, or an encoding the file declares that
#: the config has no name for.
ColourIn = str | Encoding


def as_float_tuple(values: Any) -> tuple[float, ...]:
    """Numbers as a tuple of Python floats."""
    return tuple(float(v) for v in np.asarray(values, dtype=np.float64).ravel())
