"""Colour-space names: validation against OCIO, chromaticities and interop IDs.

Every colour space is named as OpenImageIO's colour configuration names it (by default
the OCIO 2.x built-in "studio" config that ships inside the OpenImageIO wheel). A few
short aliases that users type are mapped to canonical names; everything else is passed
through the config's own alias resolution (``lin_rec709``, ``srgb_tx``, ``lin_ap1``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .errors import OptionError

__all__ = [
    "ALIASES",
    "DEFAULT_OUTPUT",
    "OUTPUT_COLORSPACES",
    "chromaticities",
    "color_config",
    "colorspace_names",
    "interop_id",
    "is_linear",
    "linear_counterpart",
    "validate_colorspace",
]

OUTPUT_COLORSPACES: tuple[str, ...] = ("Linear Rec.709 (sRGB)", "ACEScg")
DEFAULT_OUTPUT = "Linear Rec.709 (sRGB)"

# Short names users type. "rec709" means Rec.709 video as it is displayed: the BT.1886
# display EOTF, a 2.4 power, which is what "Gamma 2.4 Encoded Rec.709" models in the
# built-in config (the config's own alias for it is "rec709_display"). The camera OETF
# of BT.709 is not in the config and is not what a generated clip was graded through.
ALIASES: dict[str, str] = {
    "srgb": "sRGB Encoded Rec.709 (sRGB)",
    "linear": "Linear Rec.709 (sRGB)",
    "lin_srgb": "Linear Rec.709 (sRGB)",
    "rec709": "Gamma 2.4 Encoded Rec.709",
    "bt709": "Gamma 2.4 Encoded Rec.709",
    "acescg": "ACEScg",
    "aces": "ACES2065-1",
    "raw": "Raw",
}

# OCIO 2.4+ / ASWF colour interop IDs for the output spaces. OpenImageIO 3.x can also
# derive them, but only for configs that carry them; these two are fixed by the
# OpenEXR 3.4 ``colorInteropID`` convention, so they are stated, not looked up.
_INTEROP_IDS: dict[str, str] = {
    "Linear Rec.709 (sRGB)": "lin_rec709_scene",
    "ACEScg": "lin_ap1_scene",
}


@lru_cache(maxsize=1)
def color_config() -> Any:
    """The process-wide OpenImageIO ColorConfig: OpenImageIO's own default config
    (``$OCIO`` when set, else the built-in one), the one its colour conversions
    use, so the config is parsed once per process (some 50 ms) and the names
    checked here are those the conversions resolve."""
    import OpenImageIO as oiio

    return oiio.ColorConfig.default_colorconfig()


@lru_cache(maxsize=1)
def colorspace_names() -> tuple[str, ...]:
    """Every colour-space name of the config, in the config's order."""
    return tuple(str(n) for n in color_config().getColorSpaceNames())


def validate_colorspace(name: str, *, option: str) -> str:
    """Return the canonical OCIO name for a colour space a user typed.

    Args:
        name: an OCIO colour-space name, one of its aliases in the config, or a short
            alias from :data:`ALIASES` (``srgb``, ``linear``, ``rec709``, ``acescg``);
            case is ignored for the short aliases.
        option: the option or spec path named in the error (``--colorspace``).

    Returns:
        The canonical colour-space name as the config spells it.

    Raises:
        OptionError: the name is not known to the config; the message lists the names.
    """
    if not isinstance(name, str) or not name.strip():
        raise OptionError(option, name, colorspace_names())
    text = name.strip()
    alias = ALIASES.get(text.lower())
    if alias is not None:
        return alias
    names = colorspace_names()
    if text in names:
        return text
    # ColorConfig.resolve returns the input unchanged when it knows no such name, so
    # the result must be checked against the list of real names.
    resolved = str(color_config().resolve(text))
    if resolved in names:
        return resolved
    lowered = {n.lower(): n for n in names}
    if text.lower() in lowered:
        return lowered[text.lower()]
    raise OptionError(
        option, name, [*names, *(f"{k} (= {v})" for k, v in ALIASES.items())]
    )


def chromaticities(name: str) -> tuple[float, ...]:
    """The EXR ``chromaticities`` of a colour space: R xy, G xy, B xy, white xy.

    Args:
        name: a colour-space name (validated with :func:`validate_colorspace`).

    Returns:
        Eight floats, rounded to 6 decimals so that they are the published values
        (0.64, 0.33, ...) rather than their float32 spelling.

    Raises:
        OptionError: unknown colour space, or one without primaries (``Raw``).
    """
    canonical = validate_colorspace(name, option="colorspace")
    values = color_config().get_chromaticities(canonical)
    if values is None or len(values) != 8:
        raise OptionError(
            "colorspace",
            name,
            "a colour space with RGB primaries and a white point, such as "
            + ", ".join(OUTPUT_COLORSPACES),
        )
    return tuple(round(float(v), 6) for v in values)


def interop_id(name: str) -> str:
    """The EXR ``colorInteropID`` of an output space (``lin_rec709_scene`` ...).

    Args:
        name: a colour-space name (validated with :func:`validate_colorspace`).

    Returns:
        The OCIO 2.4+ / ASWF interop ID.

    Raises:
        OptionError: the space has no interop ID known to aebridge or the config.
    """
    canonical = validate_colorspace(name, option="colorspace")
    known = _INTEROP_IDS.get(canonical)
    if known is not None:
        return known
    found = color_config().get_color_interop_id(canonical)
    if found:
        return str(found)
    raise OptionError("colorspace", name, OUTPUT_COLORSPACES)


def is_linear(name: str) -> bool:
    """Whether the config marks the colour space as scene-linear."""
    canonical = validate_colorspace(name, option="colorspace")
    return bool(color_config().isColorSpaceLinear(canonical))


def linear_counterpart(name: str) -> str | None:
    """The scene-linear space with the same primaries and white as ``name``.

    Used to split a conversion into a per-channel curve (encoded -> its own linear)
    and a 3x3 matrix (that linear -> the output space).

    Args:
        name: a colour-space name.

    Returns:
        ``name`` itself when it is linear, the first linear space of the config with
        the same chromaticities otherwise, or None when there is none.
    """
    canonical = validate_colorspace(name, option="colorspace")
    cc = color_config()
    if cc.isColorSpaceLinear(canonical):
        return canonical
    prims = cc.get_chromaticities(canonical)
    if prims is None:
        return None
    for candidate in colorspace_names():
        if (
            not cc.isColorSpaceLinear(candidate)
            or cc.getColorSpaceFamilyByName(candidate) == "Display"
        ):
            continue
        other = cc.get_chromaticities(candidate)
        if other is not None and all(
            abs(float(a) - float(b)) < 1e-5 for a, b in zip(prims, other, strict=True)
        ):
            return candidate
    return None
