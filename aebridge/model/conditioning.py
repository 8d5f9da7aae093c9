"""Conditioning keyframes (the images and prompts a generator was given) as comp
markers and one-frame guide layers."""

from __future__ import annotations

from dataclasses import replace

from ..animation import first_frame_showing
from .comp import CompSpec, Marker
from .enums import AlphaMode, MarkerKind, Role
from .layer import ConditioningKeyframe, Layer, LayerSource, Provenance
from .names import folder_key, joined_id

__all__ = ["expand_conditioning"]


def _conditioning_sources(
    spec: CompSpec,
) -> list[tuple[int, str, ConditioningKeyframe, Provenance]]:
    """(comp frame, owner id, keyframe, provenance) for every conditioning keyframe."""
    found: list[tuple[int, str, ConditioningKeyframe, Provenance]] = []
    if spec.provenance is not None:
        for key in spec.provenance.keyframes:
            found.append((spec.comp.start_frame + key.frame, "", key, spec.provenance))
    for layer in spec.layers:
        if layer.provenance is not None:
            for key in layer.provenance.keyframes:
                frame = first_frame_showing(
                    key.frame, start=spec.layer_start(layer), stretch=layer.stretch
                )
                found.append((frame, layer.id, key, layer.provenance))
    return found


def expand_conditioning(spec: CompSpec) -> CompSpec:
    """Turn conditioning keyframes into comp markers and, on request, guide layers.

    With ``comp.keyframe_markers`` every keyframe of the comp's or a layer's provenance
    becomes a ``keyframe`` marker (name ``keyframe <n>``, the prompt as comment, image,
    strength and layer as parameters). With ``comp.keyframe_guides`` every keyframe
    image also becomes a one-frame guide layer on top (id ``kf_<owner>_<n>``; for an
    owner whose id leaves no room, its start and a hash of it:
    :func:`~aebridge.model.names.joined_id`) at the frame it conditions. Markers and
    layers already present are kept; running this twice adds nothing new.

    Args:
        spec: a validated spec.

    Returns:
        The spec with the markers (sorted by frame) and guide layers added.
    """
    markers = list(spec.markers)
    layers = list(spec.layers)
    existing_markers = {(m.frame, m.name, m.kind) for m in markers}
    # A guide's id names its folder beside the layers': one a layer has in any case
    # is taken (the guide is there already when the spec was expanded before).
    existing_ids = {folder_key(layer.id) for layer in layers}
    counters: dict[str, int] = {}
    for frame, owner, key, _prov in sorted(
        _conditioning_sources(spec), key=lambda item: (item[0], item[1])
    ):
        counters[owner] = counters.get(owner, 0) + 1
        number = counters[owner]
        label = f"keyframe {number}" if not owner else f"{owner} keyframe {number}"
        if spec.comp.keyframe_markers and (
            (frame, label, MarkerKind.KEYFRAME) not in existing_markers
        ):
            params: list[tuple[str, str]] = [("source_frame", str(key.frame))]
            if owner:
                params.append(("layer", owner))
            if key.image:
                params.append(("image", key.image))
            if key.strength is not None:
                params.append(("strength", repr(float(key.strength))))
            markers.append(
                Marker(
                    frame=frame,
                    name=label,
                    comment=key.prompt or "",
                    parameters=tuple(sorted(params)),
                    kind=MarkerKind.KEYFRAME,
                )
            )
        guide_id = joined_id(f"kf_{owner or 'comp'}", f"_{number}")
        if (
            spec.comp.keyframe_guides
            and key.image
            and folder_key(guide_id) not in existing_ids
        ):
            existing_ids.add(folder_key(guide_id))
            layers.append(
                Layer(
                    id=guide_id,
                    name=label,
                    source=LayerSource(path=key.image, alpha=AlphaMode.AUTO),
                    role=Role.GUIDE,
                    guide=True,
                    start=frame,
                    in_frame=frame,
                    out_frame=frame + 1,
                    comment=key.prompt or "",
                )
            )
    markers.sort(key=lambda m: m.frame)
    return replace(spec, markers=tuple(markers), layers=tuple(layers))
