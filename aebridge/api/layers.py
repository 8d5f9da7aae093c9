"""One layer of a build: the conversion options its spec source asks for, its
conversion, and what build.json says about it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats import IMAGE_EXTENSIONS
from ..model import (
    CompSpec,
    ExrSequence,
    Layer,
    LayerSource,
    LightUnderAlpha,
    Provenance,
)
from ..sequence import FoundSequences, is_sequence_pattern

if TYPE_CHECKING:
    from ..convert import ConvertOptions

__all__ = [
    "BuiltLayer",
    "build_layer",
    "is_image_source",
    "layer_options",
    "light_entry",
    "provenance_dict",
    "source_text",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltLayer:
    """One converted layer: its id, EXR sequence (absolute folder) and what happened.

    ``light_pixels``/``light_frames``: light under alpha 0 the conversion found (which
    After Effects drops unless the layer's ``light_under_alpha`` is ``add``).
    """

    id: str
    sequence: ExrSequence
    source_sha256: str | None
    frames_written: int
    frames_skipped: int
    warnings: tuple[str, ...] = ()
    light_pixels: int = 0
    light_frames: tuple[int, ...] = ()


def provenance_dict(spec: CompSpec, layer: Layer) -> dict[str, Any]:
    """The provenance convert writes into EXR headers: the layer's over the comp's."""
    merged: dict[str, Any] = {}
    sources: list[Provenance] = [
        p for p in (spec.provenance, layer.provenance) if p is not None
    ]
    for prov in sources:
        for key in (
            "generator",
            "model",
            "prompt",
            "negative_prompt",
            "seed",
            "camera_move",
        ):
            value = getattr(prov, key)
            if value is not None:
                merged[key] = value
        if prov.keyframes:
            merged["keyframes"] = [
                {
                    k: v
                    for k, v in (
                        ("frame", kf.frame),
                        ("image", kf.image),
                        ("prompt", kf.prompt),
                        ("strength", kf.strength),
                    )
                    if v is not None
                }
                for kf in prov.keyframes
            ]
        for key, value in prov.extra:
            merged[key] = value
    if spec.style is not None:
        merged["style_id"] = spec.style.id
        if spec.style.name:
            merged["style_name"] = spec.style.name
    return merged


def is_image_source(path: str) -> bool:
    return (
        is_sequence_pattern(path)
        or os.path.isdir(path)
        or os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS
    )


def layer_options(spec: CompSpec, layer: Layer) -> ConvertOptions:
    """The conversion a layer's spec source asks for (paths resolved).

    Raises:
        OptionError: the source's colour space is not in the OCIO config.
    """
    from ..convert import ConvertOptions

    source = layer.source
    assert isinstance(source, LayerSource)
    # Image sequences carry no rate: without an explicit one they play at the comp's.
    fps: Fraction | None = source.rate
    if fps is None and is_image_source(source.path):
        fps = spec.comp.rate
    return ConvertOptions.from_source(
        source,
        name=layer.id,
        rate=fps,
        start_frame=spec.comp.start_frame,
        role=layer.role,
        provenance=provenance_dict(spec, layer),
        comments=layer.comment or None,
    )


def build_layer(
    spec: CompSpec,
    layer: Layer,
    layers_dir: Path,
    *,
    probes: tuple[Any | None, Any | None],
    sequences: FoundSequences | None,
    engine: str,
    jobs: int | None,
    force: bool,
    cancel: threading.Event | None,
    report: Callable[[str, str | None, int, int], None],
) -> BuiltLayer:
    """Convert one layer; ``probes`` are its source and matte as the source check
    probed them with the same options (None: probed again), ``sequences`` the
    build's listings."""
    from ..convert import convert_layer

    layer_warnings: list[str] = []

    def on_progress(done: int, total: int) -> None:
        report("convert", layer.id, done, total)

    report("convert", layer.id, 0, 0)
    options = layer_options(spec, layer)
    result = convert_layer(
        options,
        layers_dir,
        info=probes[0],
        matte_info=probes[1],
        sequences=sequences,
        engine=engine,
        jobs=jobs,
        force=force,
        progress=on_progress,
        cancel=cancel,
        warn=layer_warnings.append,
    )
    sequence = result.sequence
    for text in result.warnings:
        if text not in layer_warnings:
            layer_warnings.append(text)
    if result.light_frames and layer.light_under_alpha is LightUnderAlpha.ADD:
        # The layer keeps that light (an additive copy in After Effects): no warning.
        from ..convert import light_warning

        dropped = light_warning(result.light_pixels, result.light_frames)
        layer_warnings = [w for w in layer_warnings if w != dropped]
    return BuiltLayer(
        id=layer.id,
        sequence=sequence,
        source_sha256=result.source_sha256,
        frames_written=result.frames_written,
        frames_skipped=result.frames_skipped,
        warnings=tuple(layer_warnings),
        light_pixels=result.light_pixels,
        light_frames=tuple(result.light_frames),
    )


def light_entry(item: BuiltLayer, layer: Layer) -> dict[str, Any]:
    """build.json's report of a layer's light under alpha 0: pixels, frames, and
    whether After Effects shows it (``kept``: the layer adds it back)."""
    from ..sequence import format_frame_ranges

    return {
        "pixels": item.light_pixels,
        "frames": format_frame_ranges(item.light_frames),
        "kept": layer.light_under_alpha is LightUnderAlpha.ADD,
    }


def source_text(source: LayerSource | ExrSequence) -> str:
    if isinstance(source, LayerSource):
        return source.path
    return f"{source.folder}/{source.name}.{'#' * source.padding}.exr"
