"""The colour an image file declares: a PNG's own chunks, an EXR's colorInteropID or
chromaticities, another format's embedded ICC profile (an sRGB profile read as OCIO's
sRGB space, exactly)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..encoding import ColourIn, Encoding, output_matrix
from ..errors import SourceError
from .metadata import (
    UnsupportedColour,
    chromaticities_colour,
    icc_colour,
    png_colour,
    read_png_chunks,
)

if TYPE_CHECKING:
    import OpenImageIO as oiio

__all__ = ["LINEAR", "SRGB", "declared_colour"]

#: The default input spaces: integer images are display-encoded sRGB, float ones
#: scene-linear Rec.709.
SRGB = "sRGB Encoded Rec.709 (sRGB)"
LINEAR = "Linear Rec.709 (sRGB)"


def _declared_colorspace(reported: str) -> str | None:
    """The scene-linear OCIO space an EXR declares, or None.

    OpenImageIO reports an EXR's colour space only when the file names it (the
    ``colorInteropID`` attribute: ``lin_ap1_scene`` for ACEScg, as Nuke, Houdini and
    aebridge write it). Integer formats are left out: OpenImageIO reports its default
    for them whatever the file holds. Display-referred or unknown names are ignored.
    """
    from ..colour import color_config, colorspace_names, is_linear

    if not reported:
        return None
    cc = color_config()
    for name in colorspace_names():
        if reported in (name, str(cc.get_color_interop_id(name) or "")):
            return name if is_linear(name) else None
    return None


def _icc_bytes(value: object) -> bytes | None:
    if value is None:
        return None
    return bytes(np.asarray(value, dtype=np.uint8).tobytes())


_SRGB_CURVE_CODES = np.linspace(0.0, 1.0, 1024)


def _named_if_srgb(colour: ColourIn) -> ColourIn:
    """An ICC profile that is sRGB (curves and primaries within ICC's 16-bit
    precision) is read as OCIO's sRGB space, exactly, instead of by its numbers."""
    from ..encoding import Curve

    if not isinstance(colour, Encoding):
        return colour
    srgb = Curve(kind="srgb")(_SRGB_CURVE_CODES)
    curves_match = all(
        np.abs(c(_SRGB_CURVE_CODES) - srgb).max() < 2e-3 for c in colour.curves
    )
    matrix = output_matrix(colour, LINEAR)
    if curves_match and np.abs(matrix - np.eye(3)).max() < 2e-3:
        return SRGB
    return colour


def declared_colour(
    inp: oiio.ImageInput,
    *,
    file_format: str,
    file_colorspace: str,
    path: str,
    number: int,
    strict: bool,
) -> tuple[ColourIn | None, str]:
    """The colour a frame file declares, and in what words; (None, "") for none.

    PNG: its own chunks (read here, not by the pixel decoder); EXR: colorInteropID,
    else chromaticities; other formats: an embedded ICC profile. A declaration that
    cannot be read is an error when ``strict`` (no --colorspace given), else noted.
    """
    spec = inp.spec()
    try:
        if file_format == "png":
            found = png_colour(read_png_chunks(path))
            return found if found is not None else (None, "")
        if file_format == "openexr":
            interop = _declared_colorspace(file_colorspace)
            if interop is not None:
                return interop, (f"colorInteropID {file_colorspace!r}")
            chroma = spec.getattribute("chromaticities")
            if chroma is not None:
                return chromaticities_colour(chroma), "chromaticities attribute"
            return None, ""
        icc = _icc_bytes(spec.getattribute("ICCProfile"))
        if icc is not None:
            colour = _named_if_srgb(icc_colour(icc, "embedded"))
            what = colour.label if isinstance(colour, Encoding) else "an sRGB profile"
            return colour, f"embedded ICC profile ({what})"
    except UnsupportedColour as exc:
        if not strict:
            return None, f"a colour aebridge cannot read ({exc})"
        raise SourceError(
            f"{exc}; give --colorspace to read the file as a named space",
            path=path,
            frame=number,
        ) from exc
    except OSError as exc:
        raise SourceError(
            f"cannot read the file's colour chunks: {exc}", path=path, frame=number
        ) from exc
    return None, ""
