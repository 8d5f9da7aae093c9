"""What a conversion records about itself: the settings (and their hash, which
decides whether a frame is current), the header attributes of every frame
(``docs/exr-metadata.md``) and the sidecar ``<name>.aebridge.json`` beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import fileio
from .._version import __version__
from ..errors import SourceError
from ..model import AlphaMode
from ..timing import format_rate
from .options import ConvertOptions
from .result import ConvertResult, light_report

__all__ = [
    "EXR_METADATA_SCHEMA",
    "PIPELINE_VERSION",
    "PROVENANCE_KEYS",
    "SIDECAR_SCHEMA",
    "header_attributes",
    "read_sidecar",
    "settings",
    "settings_hash",
    "write_sidecar",
]

EXR_METADATA_SCHEMA = "aebridge.exr/1"
SIDECAR_SCHEMA = "aebridge.sequence/1"
# Bump when the pixels written for the same source and settings change, so that a
# re-run after an upgrade redoes frames instead of trusting old ones.
# 2: light under alpha 0 kept for premultiplied linear input; 10/12-bit 4:2:0 movies
#    decoded without the scaler's full-chroma path.
# 3: 9- to 16-bit movies converted from their planes with exact full scale (10-bit
#    white was 0.9961).
# 4: the colour and orientation a file declares are applied (PNG chunks, ICC, EXR
#    chromaticities, wide-gamut and HDR movie tags, EXIF, display matrices).
# 5: a matte movie without alpha is read from its luma plane, not from RGB; the default
#    compression is zip (a change of compression alone is in the settings hash too).
# 6: 8-bit H.264/HEVC and grey movies read by the exact H.273 rule like deeper ones
#    (swscale's exact-rounding path differs by a code here and there); interlaced
#    4:2:0 converted field by field at every depth; untagged 9- to 16-bit grey read
#    as full range, as 8-bit grey was; tagged limited-range 8-bit grey scaled.
PIPELINE_VERSION = 6

# Provenance keys with a meaning of their own; anything else is kept under "extra".
PROVENANCE_KEYS = (
    "generator",
    "model",
    "prompt",
    "negative_prompt",
    "seed",
    "keyframes",
    "camera_move",
    "style_id",
)


def settings_hash(settings: Mapping[str, Any]) -> str:
    """A short hash of ``settings`` (sorted keys, so order does not matter)."""
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def settings(
    options: ConvertOptions,
    info: Any,
    *,
    matte_info: Any | None,
    alpha_mode: str,
    colorspace_in: str,
    source_colour: Any,
    rate: Fraction,
    pixel_aspect: Fraction,
) -> dict[str, Any]:
    """Everything that decides a frame's pixels and header, as recorded in the
    sidecar and hashed into every frame's ``aebridge/settingsHash``."""
    recorded: dict[str, Any] = {
        "pipeline": PIPELINE_VERSION,
        "alpha": alpha_mode,
        "matte": matte_info is not None,
        "colorspace_in": colorspace_in,
        "colorspace_out": options.output_colorspace,
        "orientation": int(info.orientation),
        "fields": info.field_mode,
        "exr": None
        if info.exr is None
        else {"part": info.exr.part, "channels": list(info.exr.names)},
        "half": options.half,
        "compression": options.compression,
        "autocrop": options.autocrop,
        "rate": format_rate(rate),
        "start_frame": options.start_frame,
        "vfr": options.vfr.value,
        "pixel_aspect": str(pixel_aspect),
        "role": options.role.value,
        "owner": options.owner,
        "comments": options.comments,
        "provenance": dict(options.provenance),
    }
    if matte_info is not None and matte_info.field_mode != "keep":
        # An interlaced matte's field handling shapes the alpha, whatever the
        # source's is; only then, so the frames of every other run stay current
        # (and those made while the matte's fields were always kept are remade).
        recorded["matte_fields"] = matte_info.field_mode
    if options.yuv_matrix is not None:
        # Only when given, so the frames of a run that gives none stay current.
        recorded["yuv_matrix"] = options.yuv_matrix.value
    if not isinstance(source_colour, str):
        # A declared encoding is hashed by its full definition (curves, matrix).
        recorded["encoding"] = settings_hash({"encoding": repr(source_colour)})
    return recorded


def _provenance_attributes(provenance: Mapping[str, Any]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for key, value in provenance.items():
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
        )
        attrs[f"aebridge/provenance/{key}"] = text
    return attrs


def header_attributes(
    options: ConvertOptions,
    *,
    rate: Fraction,
    pixel_aspect: Fraction,
    alpha_mode: str,
    colorspace_in: str,
    decisions: list[str],
    hashed: str,
) -> dict[str, Any]:
    """The header attributes every frame of the sequence shares."""
    from .. import colour

    output = options.output_colorspace
    attributes: dict[str, Any] = {
        "framesPerSecond": (rate.numerator, rate.denominator),
        "chromaticities": colour.chromaticities(output),
        "colorInteropID": colour.interop_id(output),
        "pixelAspectRatio": float(pixel_aspect),
        "aebridge/schema": EXR_METADATA_SCHEMA,
        "aebridge/version": __version__,
        "aebridge/layer": options.name,
        "aebridge/role": options.role.value,
        "aebridge/source": options.source,
        "aebridge/sourceAlpha": alpha_mode,
        "aebridge/inputColorspace": colorspace_in,
        "aebridge/outputColorspace": output,
        "aebridge/decisions": json.dumps(decisions, ensure_ascii=False),
        "aebridge/settingsHash": hashed,
    }
    if options.matte is not None:
        attributes["aebridge/matte"] = options.matte
    if options.owner:
        attributes["owner"] = options.owner
    if options.comments:
        attributes["comments"] = options.comments
    attributes.update(_provenance_attributes(options.provenance))
    return attributes


def write_sidecar(
    result: ConvertResult,
    info: Any,
    matte_info: Any | None,
    recorded: Mapping[str, Any],
    hashed: str,
) -> None:
    """Write ``result.sidecar``, which describes the sequence (deterministic: no
    timestamps, no host names, so a re-run rewrites the same bytes).

    Raises:
        OutputError: it cannot be written.
    """
    data = {
        "schema": SIDECAR_SCHEMA,
        "aebridge_version": __version__,
        "name": result.name,
        "pattern": result.pattern,
        "first": result.first,
        "last": result.last,
        "padding": result.padding,
        "rate": format_rate(result.rate),
        "width": result.width,
        "height": result.height,
        "pixel_aspect": str(result.pixel_aspect),
        "colorspace": result.colorspace,
        "alpha": AlphaMode.PREMULTIPLIED.value,
        "role": result.role,
        "source": {
            "path": result.source,
            "kind": info.kind,
            "alpha_mode": result.alpha_mode,
            "colorspace": recorded["colorspace_in"],
            "colour_tags": dict(info.colour_tags),
            "frame_count": info.frame_count,
            "rate": None if info.rate is None else format_rate(Fraction(info.rate)),
        },
        "matte": None
        if matte_info is None
        else {"path": str(matte_info.path), "kind": matte_info.kind},
        "settings": dict(recorded),
        "settings_hash": hashed,
        "provenance": dict(recorded["provenance"]),
        "decisions": list(result.decisions),
        "light_under_alpha0": light_report(result),
    }
    text = json.dumps(
        data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
    )
    fileio.write_text(result.sidecar, text + "\n", what="the sidecar")


def read_sidecar(
    folder: str | os.PathLike[str], name: str | None = None
) -> dict[str, Any]:
    """Read the ``<name>.aebridge.json`` sidecar of a converted sequence folder.

    Raises:
        SourceError: no sidecar, or it is not valid.
    """
    folder = Path(folder)
    if name is None:
        found = sorted(folder.glob("*.aebridge.json"))
        if len(found) != 1:
            raise SourceError(
                "expected exactly one *.aebridge.json sidecar in the folder, found "
                f"{len(found)}",
                path=str(folder),
            )
        path = found[0]
    else:
        path = folder / f"{name}.aebridge.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(
            "no aebridge sidecar here (not converted?)", path=str(path)
        ) from exc
    except (OSError, ValueError) as exc:
        raise SourceError(f"unreadable sidecar: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or data.get("schema") != SIDECAR_SCHEMA:
        raise SourceError(f"not an {SIDECAR_SCHEMA} sidecar", path=str(path))
    return data
