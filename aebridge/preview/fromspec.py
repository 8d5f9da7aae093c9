"""The preview's plan read from a comp spec: the one place the renderer reads the
spec's shape (layers, footage timing, transforms, the camera) into numbers."""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ..animation import Track, keys_from_spec, layer_bounds
from ..errors import Problem, SpecError
from . import composite
from .display import is_colour_space
from .plan import (
    CameraPlan,
    CameraState,
    CompPlan,
    LayerPlan,
    SequencePlan,
)

if TYPE_CHECKING:
    from ..model import AnimatableValue, CompSpec

__all__ = ["plan_from_spec"]


# --- the spec, read into a plan ------------------------------------------------------


def _vec(value: float | tuple[float, ...]) -> tuple[float, ...]:
    if isinstance(value, tuple):
        return tuple(float(v) for v in value)
    return (float(value),)


def _track(
    prop: AnimatableValue | None,
    default: tuple[float, ...],
    rate: Fraction,
    *,
    spatial: bool = False,
) -> Track:
    """A spec property as the same keys the build script gives After Effects."""
    if prop is None:
        return Track(value=default)
    if not prop.keyframes:
        return Track(value=_vec(prop.value) if prop.value is not None else default)
    return Track(
        keys=keys_from_spec(prop.keyframes, rate, spatial=spatial), spatial=spatial
    )


def _camera_plan(spec: CompSpec) -> CameraPlan | None:
    """The spec's camera, evaluated by :mod:`aebridge.camera` (the same keys and eases
    the script gives After Effects), or None when the comp has no camera."""
    if spec.camera is None:
        return None
    from ..camera import camera_keys, camera_state_at

    keys = camera_keys(spec)

    def state(frame: float) -> CameraState:
        st = camera_state_at(keys, frame)
        pos, poi, zoom = st.position, st.point_of_interest, st.zoom
        return (
            (float(pos[0]), float(pos[1]), float(pos[2])),
            (float(poi[0]), float(poi[1]), float(poi[2])),
            float(zoom),
            float(st.roll),
        )

    return CameraPlan(state=state)


def plan_from_spec(spec: CompSpec, base_dir: str | os.PathLike[str]) -> CompPlan:
    """Reduce a comp spec whose layers are EXR sequences to a render plan.

    Args:
        spec: a validated spec (``build.json`` gives one with every source converted).
        base_dir: the folder the sequences' ``folder`` fields are relative to.

    Returns:
        The plan: one layer per drawn spec layer and matte, bottom to top, except that
        a layer keeping its light under alpha 0 is two, as in After Effects: itself
        blended ``silhouette_alpha`` and its copy ``<id>#light`` (alpha ignored)
        blended ``add``.

    Raises:
        SpecError: a layer still has an unconverted source, or uses a blend mode or
            matte the preview cannot render; every such problem at once, with its
            spec path and what is allowed.
    """
    from ..model import (
        LIGHT_COPY_BLEND,
        LIGHT_CUTOUT_BLEND,
        LIGHT_SUFFIX,
        ExrSequence,
        LightUnderAlpha,
    )

    base = Path(base_dir)
    comp = spec.comp
    problems: list[Problem] = []
    ids = {layer.id: i for i, layer in enumerate(spec.layers)}
    mattes = {
        ids[layer.track_matte.layer]
        for layer in spec.layers
        if layer.track_matte is not None
    }
    layers: list[LayerPlan] = []
    # Layers that never draw (disabled or guides, and no one's matte) are left out of
    # the plan, so they may even keep an unconverted source (keyframe guide images).
    drawn = [
        i for i, layer in enumerate(spec.layers) if i in mattes or spec.draws(layer)
    ]
    # A drawn layer keeping its light under alpha 0 is two plan layers, as After
    # Effects has it (LIGHT_CUTOUT_BLEND and, just above, its copy).
    keeps_light = {
        i
        for i in drawn
        if spec.layers[i].light_under_alpha is LightUnderAlpha.ADD
        and spec.draws(spec.layers[i])
    }
    plan_index: dict[int, int] = {}
    count = 0
    for spec_index in drawn:
        plan_index[spec_index] = count
        count += 2 if spec_index in keeps_light else 1
    for i in drawn:
        layer = spec.layers[i]
        path = f"layers[{i}]"
        src = layer.source
        if not isinstance(src, ExrSequence):
            problems.append(
                Problem(
                    path=f"{path}.source",
                    message="the preview needs converted EXR sequences; render the "
                    "build.json that `aebridge build` writes",
                )
            )
            continue
        if layer.blend.value not in composite.SUPPORTED_BLEND_MODES:
            problems.append(
                Problem(
                    path=f"{path}.blend",
                    message=f"'{layer.blend.value}' is not a blend mode the preview "
                    "renders; it renders: "
                    + ", ".join(composite.SUPPORTED_BLEND_MODES),
                )
            )
        if not is_colour_space(src.colorspace):
            problems.append(
                Problem(
                    path=f"{path}.source.colorspace",
                    message=f"{src.colorspace!r} is not a colour space of the OCIO "
                    "config; see `aebridge preview --list-displays`",
                )
            )
        start = spec.layer_start(layer)
        stretch = Fraction(str(layer.stretch))
        in_frame, out_frame = layer_bounds(
            start=start,
            frame_count=src.frame_count,
            stretch=stretch,
            in_frame=layer.in_frame,
            out_frame=layer.out_frame,
        )
        depth = 3 if layer.three_d else 2
        centre = (src.width / 2, src.height / 2, 0.0)[:depth]
        comp_centre = (comp.width / 2, comp.height / 2, 0.0)[:depth]
        t = layer.transform
        matte = None
        if layer.track_matte is not None:
            # The spec holds its mattes: each names another of its layers.
            matte_id = layer.track_matte.layer
            matte = (plan_index[ids[matte_id]], layer.track_matte.type.value)
        plan = LayerPlan(
            id=layer.id,
            spec_path=path,
            source=SequencePlan(
                folder=base / src.folder,
                name=src.name,
                first=src.first,
                last=src.last,
                padding=src.padding,
                width=src.width,
                height=src.height,
                colorspace=src.colorspace,
            ),
            blend=str(layer.blend.value),
            visible=spec.draws(layer),
            three_d=layer.three_d,
            start=start,
            in_frame=in_frame,
            out_frame=out_frame,
            stretch=stretch,
            matte=matte,
            is_matte=i in mattes,
            anchor=_track(t.anchor, centre, comp.rate, spatial=True),
            position=_track(t.position, comp_centre, comp.rate, spatial=True),
            scale=_track(t.scale, (100.0, 100.0, 100.0), comp.rate),
            rotation=_track(t.rotation, (0.0,), comp.rate),
            opacity=_track(layer.opacity_value(), (100.0,), comp.rate),
        )
        if i in keeps_light:
            layers += [
                replace(plan, blend=LIGHT_CUTOUT_BLEND.value),
                replace(
                    plan,
                    id=plan.id + LIGHT_SUFFIX,
                    blend=LIGHT_COPY_BLEND.value,
                    alpha_ignored=True,
                ),
            ]
        else:
            layers.append(plan)
    if problems:
        raise SpecError(problems)
    return CompPlan(
        name=comp.name,
        width=comp.width,
        height=comp.height,
        rate=comp.rate,
        start_frame=comp.start_frame,
        duration=comp.duration,
        layers=tuple(layers),
        background=comp.background,
        working_space=spec.colorspace,
        camera=_camera_plan(spec),
    )
