"""The pixel pipeline: one source's frames to premultiplied scene-linear RGBA, by the
fused lookup tables where they are exact and OCIO on floats otherwise (the plan is
described in :mod:`aebridge.imaging`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._native import gather2d
from ..colour import validate_colorspace
from ..encoding import ColourIn, Encoding
from ..errors import OptionError
from ..model import AlphaMode
from .maths import (
    ALPHA_MODES,
    DTYPES,
    matte_to_alpha,
    normalise,
    premultiply,
    unpremultiply,
)
from .tables import (
    check_table,
    convert_float,
    find_split,
    gather,
    is_linear_in,
    ramp_curve,
)

__all__ = ["PixelPipeline"]


# --------------------------------------------------------------------------- pipeline


def _light_under_zero_alpha(planes: npt.NDArray[Any]) -> int:
    """Pixels of 4 x H x W RGBA planes with colour where alpha is 0.

    On the float bits, sign dropped (-0 is 0): integer ORs and compares, some 25
    times faster than float16 comparisons (8 ms for a 1080p frame here).
    """
    bits: npt.NDArray[Any]
    magnitude: np.unsignedinteger[Any]
    if planes.dtype == np.float16:
        bits, magnitude = planes.view(np.uint16), np.uint16(0x7FFF)
    else:
        bits, magnitude = planes.view(np.uint32), np.uint32(0x7FFFFFFF)
    colour = np.bitwise_or(bits[0], bits[1])
    np.bitwise_or(colour, bits[2], out=colour)
    np.bitwise_and(colour, magnitude, out=colour)
    clear = np.bitwise_and(bits[3], magnitude) == 0
    return int(np.count_nonzero((colour != 0) & clear))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    """Everything a pipeline precomputes, built once per process and settings.

    ``kind`` is "lut" (integer input: tables) or "float" (OCIO on every frame).
    """

    kind: str
    # 8-bit: flattened 256 x 256 tables, index (value << 8) | alpha -> premultiplied
    # value in the middle space; one table when all channels share it, else three.
    table2d: tuple[npt.NDArray[Any], ...] = ()
    # Per-channel curve (3 x levels, float32, each row contiguous): code -> straight
    # value in the middle space.
    curve: npt.NDArray[np.float32] | None = None
    # Opaque input without a matrix: code -> output value in the output dtype, one
    # contiguous table per channel (one when all channels share it).
    table1d: tuple[npt.NDArray[Any], ...] = ()
    # Middle space -> output space, None when they are the same.
    matrix: npt.NDArray[np.float32] | None = None
    # code -> alpha in the output dtype, and in float32 for multiplying.
    alpha_lut: npt.NDArray[Any] | None = None
    alpha32: npt.NDArray[np.float32] | None = None


_PLANS: dict[tuple[object, ...], _Plan] = {}


class PixelPipeline:
    """Converts frames of one source to premultiplied scene-linear RGBA.

    Build one per layer (or chunk) and call it per frame. It pickles as its settings
    only; the lookup tables are built lazily, once per process, on the first call, and
    shared by every pipeline with the same settings in that process.

    Args:
        dtype: source dtype, one of :data:`DTYPES`.
        channels: source channels: 1 (grey), 2 (grey + alpha), 3 (RGB), 4 (RGBA).
        colorspace_in: OCIO name (or alias) of the source's encoding, or an
            :class:`~aebridge.encoding.Encoding` the file declares.
        colorspace_out: OCIO name (or alias) of the scene-linear output space.
        alpha_mode: how the source stores alpha, one of :data:`ALPHA_MODES`. Ignored
            (treated as straight) when a matte is given, and sources without an alpha
            channel are opaque whatever the mode.
        half: output float16 (True) or float32.
        matte_dtype: dtype of the separate matte frames, when there is a matte.
        matte_channels: channel count of the matte frames, when there is a matte.

    Raises:
        OptionError: a setting is not allowed (names it and lists the choices).
    """

    # What the pipeline pickles as: its settings, and nothing per frame (frames of one
    # chunk may be converted on several threads at once).
    _SETTINGS = (
        "alpha_mode",
        "channels",
        "colorspace_in",
        "colorspace_out",
        "dtype",
        "half",
        "matte_channels",
        "matte_dtype",
    )
    __slots__ = _SETTINGS

    def __init__(
        self,
        *,
        dtype: str,
        channels: int,
        colorspace_in: ColourIn,
        colorspace_out: str,
        alpha_mode: str,
        half: bool,
        matte_dtype: str | None = None,
        matte_channels: int | None = None,
    ) -> None:
        if dtype not in DTYPES:
            raise OptionError("dtype", dtype, DTYPES)
        if channels not in (1, 2, 3, 4):
            raise OptionError("channels", channels, "1, 2, 3 or 4")
        if alpha_mode not in ALPHA_MODES:
            raise OptionError("--alpha", alpha_mode, ALPHA_MODES)
        if (matte_dtype is None) != (matte_channels is None):
            raise OptionError(
                "matte",
                (matte_dtype, matte_channels),
                "both dtype and channels, or neither",
            )
        if matte_dtype is not None and matte_dtype not in DTYPES:
            raise OptionError("matte dtype", matte_dtype, DTYPES)
        if matte_channels is not None and matte_channels not in (1, 2, 3, 4):
            raise OptionError("matte channels", matte_channels, "1, 2, 3 or 4")
        self.dtype = dtype
        self.channels = channels
        self.colorspace_in: ColourIn = (
            colorspace_in
            if isinstance(colorspace_in, Encoding)
            else validate_colorspace(colorspace_in, option="--colorspace")
        )
        self.colorspace_out = validate_colorspace(
            colorspace_out, option="--output-colorspace"
        )
        self.alpha_mode = alpha_mode
        self.half = bool(half)
        self.matte_dtype = matte_dtype
        self.matte_channels = matte_channels

    # Pickling: settings only (slots classes need explicit state).
    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self._SETTINGS}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._SETTINGS)
        return f"PixelPipeline({args})"

    @property
    def keeps_light(self) -> bool:
        """Whether this pipeline's frames can hold light under alpha 0.

        Only premultiplied scene-linear input on the float path converts the
        premultiplied values as stored (a glow's colour where alpha is 0 stays); every
        other path sets colour to 0 where alpha is 0.
        """
        return (
            self.effective_alpha == AlphaMode.PREMULTIPLIED
            and is_linear_in(self.colorspace_in)
            and self._plan().kind != "lut"
        )

    def light_pixels(self, rgba: npt.NDArray[Any]) -> int:
        """Pixels of a frame this pipeline converted that hold light under alpha 0
        (RGB not 0 where A is 0), which After Effects drops when it unpremultiplies.

        Counted on the frame just made (in cache), and only where the pipeline keeps
        such light (:attr:`keeps_light`): 0 otherwise, at no cost.

        Args:
            rgba: the H x W x 4 view :meth:`__call__` returned.

        Returns:
            The number of such pixels.
        """
        if not self.keeps_light:
            return 0
        return _light_under_zero_alpha(rgba.transpose(2, 0, 1))

    @property
    def effective_alpha(self) -> str:
        """The alpha handling applied: matte, straight, premultiplied or none."""
        if self.matte_dtype is not None:
            return "matte"
        if self.channels in (1, 3):
            return AlphaMode.NONE
        return self.alpha_mode

    @property
    def out_dtype(self) -> type[np.floating[Any]]:
        return np.float16 if self.half else np.float32

    # ------------------------------------------------------------------ planning

    def _key(self) -> tuple[object, ...]:
        return (
            self.dtype,
            self.colorspace_in,
            self.colorspace_out,
            self.effective_alpha,
            self.half,
        )

    def _plan(self) -> _Plan:
        key = self._key()
        plan = _PLANS.get(key)
        if plan is None:
            plan = self._build_plan()
            _PLANS[key] = plan
        return plan

    def _build_plan(self) -> _Plan:
        label = (
            self.colorspace_in.label
            if isinstance(self.colorspace_in, Encoding)
            else self.colorspace_in
        )
        what = f"{label!r} -> {self.colorspace_out!r}"
        alpha = self.effective_alpha
        if self.dtype not in ("uint8", "uint16"):
            return _Plan(kind="float")
        if self.dtype == "uint16" and alpha == AlphaMode.PREMULTIPLIED:
            # The unpremultiplied code v / a is no longer an integer and a 65536 x
            # 65536 table is out of the question: OCIO on floats keeps it exact.
            return _Plan(kind="float")
        split = find_split(self.colorspace_in, self.colorspace_out)
        if split is None:
            return _Plan(kind="float")
        levels = 256 if self.dtype == "uint8" else 65536
        codes = np.arange(levels, dtype=np.float64) / (levels - 1)
        curve = ramp_curve(codes, self.colorspace_in, split.middle)
        matrix = None if split.matrix is None else split.matrix.astype(np.float32)
        odt = self.out_dtype
        # With a matrix still to apply, the tables hold float32 middle-space values
        # and the rounding to half happens once, after the matrix.
        table_dtype = odt if matrix is None else np.float32
        tables: tuple[npt.NDArray[Any], ...] = ()
        if self.dtype == "uint8" and alpha in (AlphaMode.STRAIGHT, "matte"):
            tables = self._tables_2d(
                curve, split.middle, AlphaMode.STRAIGHT, table_dtype
            )
        elif self.dtype == "uint8" and alpha == AlphaMode.PREMULTIPLIED:
            tables = self._tables_2d(
                curve, split.middle, AlphaMode.PREMULTIPLIED, table_dtype
            )
        for t in tables:
            check_table(t, what)
        curve32 = np.ascontiguousarray(curve.T, dtype=np.float32)
        bound = float(np.abs(curve32).max())
        for t in tables:
            bound = max(bound, float(np.abs(t.astype(np.float32)).max()))
        if matrix is not None:
            bound *= float(np.abs(matrix).sum(axis=1).max())
        check_table(np.asarray([bound], dtype=odt), what)
        table1d: tuple[npt.NDArray[Any], ...] = ()
        if alpha == AlphaMode.NONE and matrix is None:
            # Rounded once, from OCIO's float32 result, as the float path does.
            flat = [curve32[c].astype(odt) for c in range(3)]
            same = all(np.array_equal(flat[0], t) for t in flat[1:])
            table1d = (flat[0],) if same else tuple(flat)
        return _Plan(
            kind="lut",
            table2d=tables,
            table1d=table1d,
            curve=curve32,
            matrix=matrix,
            alpha_lut=codes.astype(odt),
            alpha32=codes.astype(np.float32),
        )

    def _tables_2d(
        self,
        curve: npt.NDArray[np.float64],
        middle: str,
        alpha: str,
        odt: type[np.floating[Any]],
    ) -> tuple[npt.NDArray[Any], ...]:
        """256 x 256 (value, alpha) -> premultiplied value, flattened, per channel."""
        v = np.arange(256, dtype=np.float64)[:, None]
        a = np.arange(256, dtype=np.float64)[None, :]
        if alpha == AlphaMode.STRAIGHT:
            tables = [curve[:, c][:, None] * (a / 255.0) for c in range(3)]
        else:
            # Premultiplied: the straight code is v / a (in code units, values above
            # 1 when v > a), which OCIO evaluates directly; a == 0 gives 0.
            ratio = np.divide(v, a, out=np.zeros((256, 256)), where=a > 0)
            lin = ramp_curve(ratio.ravel(), self.colorspace_in, middle)
            tables = [
                np.where(a > 0, lin[:, c].reshape(256, 256) * (a / 255.0), 0.0)
                for c in range(3)
            ]
        flat = [np.ascontiguousarray(t.astype(odt).ravel()) for t in tables]
        if all(np.array_equal(flat[0], t) for t in flat[1:]):
            return (flat[0],)
        return tuple(flat)

    # ------------------------------------------------------------------ per frame

    def __call__(
        self, pixels: npt.NDArray[Any], matte: npt.NDArray[Any] | None = None
    ) -> npt.NDArray[Any]:
        """Convert one frame.

        Args:
            pixels: H x W x C (or H x W) source frame in the dtype and channel count
                this pipeline was built for.
            matte: H x W [x C] matte frame, required when the pipeline was built
                with a matte, refused otherwise.

        Returns:
            H x W x 4 RGBA, premultiplied, scene-linear, float16 if ``half`` else
            float32. The array is a view over four contiguous channel planes
            (``out[..., c]`` is C-contiguous): EXR stores channels as planes, so the
            writer takes them without a copy.

        Raises:
            ValueError: the frame does not match the pipeline (dtype, channels, size
                of the matte), or the result holds NaN or Inf.
        """
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        if (
            str(pixels.dtype) != self.dtype
            or pixels.ndim != 3
            or (pixels.shape[2] != self.channels)
        ):
            raise ValueError(
                f"frame is {pixels.dtype} with shape {pixels.shape}; this layer's "
                f"frames are {self.dtype} with {self.channels} channel(s)"
            )
        if (matte is None) != (self.matte_dtype is None):
            raise ValueError(
                "a matte frame is required for this layer"
                if matte is None
                else "this layer has no matte, but a matte frame was given"
            )
        alpha_codes: npt.NDArray[Any] | None = None
        alpha_float: npt.NDArray[np.float32] | None = None
        if matte is not None:
            if matte.shape[:2] != pixels.shape[:2]:
                raise ValueError(
                    f"matte is {matte.shape[1]}x{matte.shape[0]}, the frame is "
                    f"{pixels.shape[1]}x{pixels.shape[0]}"
                )
            m_channels = matte.shape[2] if matte.ndim == 3 else 1
            if str(matte.dtype) == self.dtype and m_channels in (1, 2, 4):
                # Integer codes of the same depth: exact, and the 8-bit tables apply.
                alpha_codes = matte if matte.ndim == 2 else matte[..., m_channels - 1]
                if self.dtype not in ("uint8", "uint16"):
                    alpha_float = matte_to_alpha(matte)
                    alpha_codes = None
            else:
                alpha_float = matte_to_alpha(matte)
        elif self.effective_alpha in (AlphaMode.STRAIGHT, AlphaMode.PREMULTIPLIED):
            alpha_codes = pixels[..., self.channels - 1]

        plan = self._plan()
        h, w = pixels.shape[:2]
        if plan.kind == "lut" and plan.table2d and alpha_codes is not None:
            if plan.matrix is None:
                # Final values straight from the tables (checked finite when built).
                planes = np.empty((4, h, w), dtype=self.out_dtype)
                self._run_table2d(plan, pixels, alpha_codes, planes)
                return planes.transpose(1, 2, 0)
            middle = np.empty((4, h, w), dtype=np.float32)
            self._run_table2d(plan, pixels, alpha_codes, middle)
            return self._finish(middle[:3], middle[3], plan.matrix, check=False)
        if plan.table1d and alpha_codes is None and alpha_float is None:
            return self._run_table1d(plan, pixels)
        if plan.kind == "lut":
            return self._run_curve(plan, pixels, alpha_codes, alpha_float)
        return self._run_float(pixels, alpha_codes, alpha_float)

    def _colour_planes(self, pixels: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        """The R, G, B source channels (grey repeated), as H x W views."""
        if self.channels >= 3:
            return [pixels[..., c] for c in range(3)]
        return [pixels[..., 0]] * 3

    def _run_table2d(
        self,
        plan: _Plan,
        pixels: npt.NDArray[Any],
        alpha_codes: npt.NDArray[Any],
        planes: npt.NDArray[Any],
    ) -> None:
        """8-bit: one gather per channel from the (value << 8 | alpha) table, by
        :func:`aebridge._native.gather2d`; alpha from its own table."""
        assert plan.alpha_lut is not None
        colours = 3 if self.channels >= 3 else 1
        values = tuple(pixels[..., c] for c in range(colours))
        tables = plan.table2d if len(plan.table2d) == 1 else plan.table2d[:colours]
        gather2d(tables, values, alpha_codes, tuple(planes[:colours]))
        if colours == 1:
            planes[1] = planes[0]  # one grey channel spread to RGB
            planes[2] = planes[0]
        gather(plan.alpha_lut.astype(planes.dtype, copy=False), alpha_codes, planes[3])

    def _run_table1d(self, plan: _Plan, pixels: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Opaque integer input: one gather per channel into output values."""
        h, w = pixels.shape[:2]
        planes = np.empty((4, h, w), dtype=self.out_dtype)
        sources = self._colour_planes(pixels)
        for c in range(3):
            if c > 0 and sources[c] is sources[0] and len(plan.table1d) == 1:
                planes[c] = planes[0]  # one grey channel spread to RGB
                continue
            table = plan.table1d[c if len(plan.table1d) == 3 else 0]
            gather(table, sources[c], planes[c])
        planes[3] = 1.0
        return planes.transpose(1, 2, 0)

    def _run_curve(
        self,
        plan: _Plan,
        pixels: npt.NDArray[Any],
        alpha_codes: npt.NDArray[Any] | None,
        alpha_float: npt.NDArray[np.float32] | None,
    ) -> npt.NDArray[Any]:
        """Per-channel curve table, then a float32 multiply by alpha."""
        assert plan.curve is not None and plan.alpha32 is not None
        h, w = pixels.shape[:2]
        sources = self._colour_planes(pixels)
        if alpha_codes is not None and alpha_float is None and plan.matrix is None:
            # Integer alpha, no matrix (16-bit straight): gather, multiply in float32
            # and round into the output plane in one pass; nothing to check (the
            # tables were checked finite when built).
            planes = np.empty((4, h, w), dtype=self.out_dtype)
            cover = np.empty((h, w), dtype=np.float32)
            gather(plan.alpha32, alpha_codes, cover)
            lin = np.empty((h, w), dtype=np.float32)
            for c in range(3):
                if c > 0 and sources[c] is sources[0]:
                    planes[c] = planes[0]  # one grey channel spread to RGB
                    continue
                gather(plan.curve[c], sources[c], lin)
                np.multiply(lin, cover, out=planes[c], casting="unsafe")
            planes[3] = cover
            return planes.transpose(1, 2, 0)
        rgb = np.empty((3, h, w), dtype=np.float32)
        for c, values in enumerate(sources):
            gather(plan.curve[c], values, rgb[c])
        alpha: npt.NDArray[np.float32] | None = None
        if alpha_float is not None:
            alpha = alpha_float
        elif alpha_codes is not None:
            alpha = np.empty(alpha_codes.shape, dtype=np.float32)
            gather(plan.alpha32, alpha_codes, alpha)
        if alpha is not None:
            rgb *= alpha
            if alpha_float is not None:
                np.copyto(rgb, np.float32(0.0), where=(alpha == 0))
        # A float matte can hold NaN (integer codes cannot), and a matrix can
        # overflow half where the curve alone did not.
        return self._finish(
            rgb,
            alpha,
            plan.matrix,
            check=alpha_float is not None or plan.matrix is not None,
        )

    def _run_float(
        self,
        pixels: npt.NDArray[Any],
        alpha_codes: npt.NDArray[Any] | None,
        alpha_float: npt.NDArray[np.float32] | None,
    ) -> npt.NDArray[Any]:
        """OCIO on floats: float input, and conversions that no table reproduces."""
        colour = normalise(np.stack(self._colour_planes(pixels), axis=-1))
        alpha: npt.NDArray[np.float32] | None = None
        if alpha_float is not None:
            alpha = alpha_float
        elif alpha_codes is not None:
            alpha = normalise(alpha_codes)
        if (
            alpha is not None
            and self.effective_alpha == AlphaMode.PREMULTIPLIED
            and is_linear_in(self.colorspace_in)
        ):
            # Linear to linear is a matrix, which commutes with premultiplying: convert
            # the premultiplied values as they are. Colour under alpha 0 in a
            # premultiplied image is added light (fire, glows), which 'over' shows, so
            # it is kept, not zeroed as hidden straight colour is.
            rgb = convert_float(colour, self.colorspace_in, self.colorspace_out)
            return self._finish(rgb.transpose(2, 0, 1), alpha, None, check=True)
        if alpha is not None and self.effective_alpha == AlphaMode.PREMULTIPLIED:
            colour = unpremultiply(colour, alpha)
        rgb = convert_float(colour, self.colorspace_in, self.colorspace_out)
        if alpha is not None:
            rgb = premultiply(rgb, alpha)
        return self._finish(rgb.transpose(2, 0, 1), alpha, None, check=True)

    def _finish(
        self,
        rgb: npt.NDArray[Any],
        alpha: npt.NDArray[Any] | None,
        matrix: npt.NDArray[np.float32] | None,
        *,
        check: bool,
    ) -> npt.NDArray[Any]:
        """3 x H x W colour planes and H x W alpha -> the H x W x 4 output view."""
        h, w = rgb.shape[1:]
        planes = np.empty((4, h, w), dtype=self.out_dtype)
        if matrix is not None:
            # BLAS through einsum: output plane d = sum over c of M[d, c] * plane c.
            rgb = np.einsum("dc,chw->dhw", matrix, rgb, optimize=True)
        with np.errstate(over="ignore"):  # overflow to Inf is reported just below
            planes[:3] = rgb
            planes[3] = 1.0 if alpha is None else alpha
        out = planes.transpose(1, 2, 0)
        if check and not np.all(np.isfinite(planes)):
            bad = np.argwhere(~np.isfinite(out))[0]
            y, x, c = (int(i) for i in bad)
            raise ValueError(
                f"the converted frame holds NaN or Inf (first at x={x}, y={y}, "
                f"channel {'RGBA'[c]}); "
                + (
                    "values overflow half float, use --float"
                    if self.half and np.all(np.isfinite(rgb))
                    else "the source holds NaN or Inf"
                )
            )
        return out
