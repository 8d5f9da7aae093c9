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


def _is_guide(layer: Layer, image: str, frame: int) -> bool:
    """Whether ``layer`` is the guide of the keyframe image ``image`` at ``frame``
    (added when the spec was expanded before)."""
    return (
        layer.guide
        and layer.role is Role.GUIDE
        and isinstance(layer.source, LayerSource)
        and layer.source.path == image
        and layer.start == frame
    )


def _guide_id(
    head: str, number: int, layers: list[Layer], image: str, frame: int
) -> str | None:
    """The id for a keyframe image's guide layer, or None when the guide is there.

    A guide's id names its folder beside the layers', so an id a layer has in any
    case is taken, unless that layer is this guide: ``kf_fg_1``, else ``kf_fg_1_2``,
    ``kf_fg_1_3``, ... (each kept within the id length by
    :func:`~aebridge.model.names.joined_id`).
    """
    by_key = {folder_key(layer.id): layer for layer in layers}
    n = 1
    while True:
        tail = f"_{number}" if n == 1 else f"_{number}_{n}"
        candidate = joined_id(head, tail)
        holder = by_key.get(folder_key(candidate))
        if holder is None:
            return candidate
        if holder.id == candidate and _is_guide(holder, image, frame):
            return None
        n += 1


def expand_conditioning(spec: CompSpec) -> CompSpec:
    """Turn conditioning keyframes into comp markers and, on request, guide layers.

    With ``comp.keyframe_markers`` every keyframe of the comp's or a layer's provenance
    becomes a ``keyframe`` marker (name ``keyframe <n>``, the prompt as comment, image,
    strength and layer as parameters). With ``comp.keyframe_guides`` every keyframe
    image also becomes a one-frame guide layer on top (id ``kf_<owner>_<n>``; for an
    owner whose id leaves no room, its start and a hash of it:
    :func:`~aebridge.model.names.joined_id`) at the frame it conditions. Markers and
    layers already present are kept; running this twice adds nothing new. A layer
    that is not the guide but holds its id in any case (a user's ``KF_fg_1``) does
    not stand for it: the guide takes the first free id of ``kf_<owner>_<n>_2``,
    ``_3``, ...

    Args:
        spec: a validated spec.

    Returns:
        The spec with the markers (sorted by frame) and guide layers added.
    """
    markers = list(spec.markers)
    layers = list(spec.layers)
    existing_markers = {(m.frame, m.name, m.kind) for m in markers}
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
        if not (spec.comp.keyframe_guides and key.image):
            continue
        guide_id = _guide_id(f"kf_{owner or 'comp'}", number, layers, key.image, frame)
        if guide_id is not None:
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
