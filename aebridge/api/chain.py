"""The chain :func:`build` runs for a comp spec: validate, check the sources, convert
every layer, write the script and ``build.json``, render a preview (see the package
docstring for what each writes)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._version import __version__
from ..build_io import read_document, write_build
from ..errors import (
    CanceledError,
    OptionError,
    OutputError,
    Problem,
    SourceError,
    SpecError,
)
from ..model import Comp, CompSpec, ExrSequence, Layer, Provenance, expand_conditioning
from ..sequence import FoundSequences
from ..spec import RATE_POLICIES, resolve_paths, spec_hash, spec_to_dict
from ..timing import format_rate
from .layers import BuiltLayer, build_layer, light_entry, source_text
from .sources import load, source_problems

__all__ = ["STAGES", "BuildProgress", "BuildResult", "build"]

#: The stages :class:`BuildProgress` reports, in order.
STAGES = ("validate", "convert", "script", "build_json", "preview", "done")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildProgress:
    """Where a build is: the stage, the layer being converted, frames done of total.

    ``frames_done``/``frames_total`` count the current layer's frames during
    ``convert`` and are 0 in the other stages; ``layer`` is None outside ``convert``.
    ``build_frames_done``/``build_frames_total`` count the frames of every layer the
    build converts (frames already written and skipped included): the total is
    known once the sources are probed (a second ``validate`` report says it, before
    any frame is converted), and done rises to it through the later stages.
    """

    stage: str
    layer: str | None
    frames_done: int
    frames_total: int
    build_frames_done: int = 0
    build_frames_total: int = 0


class _FrameCount:
    """Frames of every layer a build converts: each layer's count from the probe of
    its source, replaced by what its conversion reports (a source replaced since)."""

    def __init__(self) -> None:
        self._layers: dict[str, tuple[int, int]] = {}

    def expect(self, layer: str, total: int) -> None:
        self._layers[layer] = (0, total)

    def update(self, layer: str, done: int, total: int) -> None:
        if total > 0:
            self._layers[layer] = (done, total)

    @property
    def done(self) -> int:
        return sum(d for d, _t in self._layers.values())

    @property
    def total(self) -> int:
        return sum(t for _d, t in self._layers.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What :func:`build` wrote.

    Attributes:
        comp_dir: ``out_dir/<comp id or slug of its name>``.
        script: the After Effects script.
        build_json: the build description.
        preview: the preview movie, or None without ``preview=True``.
        layers: every layer's sequence, bottom to top.
        warnings: every warning, each prefixed with its spec path.
    """

    comp_dir: Path
    script: Path
    build_json: Path
    preview: Path | None
    layers: tuple[BuiltLayer, ...]
    warnings: tuple[str, ...]


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def build(
    spec: CompSpec | str | os.PathLike[str] | Mapping[str, Any],
    out_dir: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    preview: bool = False,
    engine: str = "local",
    jobs: int | None = None,
    force: bool = False,
    aep: str | os.PathLike[str] | None = None,
    progress: Callable[[BuildProgress], None] | None = None,
    cancel: threading.Event | None = None,
    rate_policy: str = "conform",
) -> BuildResult:
    """Convert every layer of a comp spec and write its After Effects script.

    Args:
        spec: a spec file, a spec mapping, or a loaded :class:`CompSpec`.
        out_dir: the output root; the comp goes to ``out_dir/<comp id or name slug>/``.
        base_dir: the folder relative paths in the spec are relative to; default the
            spec file's folder (the current folder for a mapping or a CompSpec).
        preview: also render ``<comp>/preview.mp4``.
        engine: ``local`` or ``dask://host:port`` for the conversions.
        jobs: parallel processes for the local engine (default all cores).
        force: rewrite frames even when they are up to date.
        aep: make the script save the After Effects project at this path.
        progress: called with a :class:`BuildProgress` at every stage and as frames
            are converted.
        cancel: set it to stop between chunks of frames (CanceledError is raised;
            finished frames are kept and a re-run resumes).
        rate_policy: ``conform`` (a layer whose rate differs from the comp's is
            conformed, with a warning) or ``refuse`` (that is an error).

    Returns:
        What was written.

    Raises:
        SpecError: the spec has problems (every one, with its spec path), including
            problems found once the sources are read (rates, lengths).
        SourceError: a source cannot be read.
        OutputError: the output cannot be written.
        OptionError: an option is not allowed.
        CanceledError: ``cancel`` was set.
    """
    if rate_policy not in RATE_POLICIES:
        raise OptionError("rate_policy", rate_policy, RATE_POLICIES)

    frames = _FrameCount()

    def report(
        stage: str, layer: str | None = None, done: int = 0, total: int = 0
    ) -> None:
        if layer is not None:
            frames.update(layer, done, total)
        if progress is not None:
            progress(
                BuildProgress(
                    stage=stage,
                    layer=layer,
                    frames_done=done,
                    frames_total=total,
                    build_frames_done=frames.done,
                    build_frames_total=frames.total,
                )
            )

    report("validate")
    warnings: list[str] = []

    def collect(problem: Problem) -> None:
        warnings.append(str(problem))

    # Each image sequence is listed once in this build: by the spec check, or else by
    # the probe; the probes and the conversions then use that listing (and open every
    # frame, so a frame that vanished since is named). Made here and dropped with the
    # build: the next build lists again.
    sequences = FoundSequences()
    loaded, base = load(spec, base_dir, rate_policy, collect, sequences)
    hash_of_spec = spec_hash(loaded)
    # Paths are made absolute first, so that keyframe images in the markers and
    # guide layers added from the provenance are absolute too.
    resolved = expand_conditioning(resolve_paths(loaded, base))
    comp = resolved.comp
    # Open every source before converting any, so a bad rate or length fails fast
    # and every such problem is reported at once.
    probed: dict[str, tuple[Any, Any | None]] = {}
    preflight = source_problems(resolved, rate_policy, probed, sequences=sequences)
    if any(p.severity == "error" for p in preflight):
        raise SpecError(preflight, source=comp.name)
    warnings.extend(str(p) for p in preflight)
    # Every source is probed: the frames the build converts are known from here on.
    for layer in resolved.layers:
        if layer.id in probed:
            frames.expect(layer.id, int(probed[layer.id][0].frame_count))
    report("validate")

    comp_dir = Path(out_dir).resolve() / comp.folder_name
    _check_folder_owner(comp_dir, comp, spec)
    layers_dir = comp_dir / "layers"
    try:
        layers_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder: {exc}", path=str(layers_dir)
        ) from exc

    from .. import ingest

    built: list[BuiltLayer] = []
    for index, layer in enumerate(resolved.layers):
        if cancel is not None and cancel.is_set():
            raise CanceledError(f"canceled before converting layer '{layer.id}'")
        path = f"layers[{index}]"
        if isinstance(layer.source, ExrSequence):
            built.append(
                BuiltLayer(
                    id=layer.id,
                    sequence=layer.source,
                    source_sha256=None,
                    frames_written=0,
                    frames_skipped=layer.source.frame_count,
                )
            )
            continue
        probes = probed.get(layer.id, (None, None))
        if not all(p is None or ingest.is_current(p) for p in probes):
            # Replaced since the check (a render landing while the layers before it
            # converted): held to the comp again, as the check held the old file.
            again = source_problems(
                resolved, rate_policy, probed, sequences=sequences, only=layer.id
            )
            if any(p.severity == "error" for p in again):
                raise SpecError(again, source=comp.name)
            new = [p for p in again if p not in preflight]
            preflight.extend(new)
            warnings.extend(str(p) for p in new)
            probes = probed.get(layer.id, (None, None))
        built.append(
            build_layer(
                resolved,
                layer,
                layers_dir,
                probes=probes,
                sequences=sequences,
                engine=engine,
                jobs=jobs,
                force=force,
                cancel=cancel,
                report=report,
            )
        )
        # What the source check said of this layer (a longer matte) is not repeated.
        said = {p.message for p in preflight if p.path.startswith(f"{path}.")}
        warnings.extend(
            f"{path}.source: {text}" for text in built[-1].warnings if text not in said
        )

    # The spec as built: sources replaced by sequences relative to the comp folder.
    layer_map: dict[str, ExrSequence] = {}
    built_layers: list[Layer] = []
    for layer, item in zip(resolved.layers, built, strict=True):
        relative = replace(
            item.sequence, folder=_relative(Path(item.sequence.folder), comp_dir)
        )
        layer_map[layer.id] = relative
        built_layers.append(replace(layer, source=relative))
    as_built = replace(resolved, layers=tuple(built_layers))
    # Provenance keyframe images stay absolute; relative ones read better in build.json
    # and keep the folder portable.
    as_built = _relative_keyframe_images(as_built, comp_dir)

    report("script")
    from ..emit import default_build_id, write_script

    build_id = default_build_id(as_built)
    built_hash = spec_hash(as_built)
    script_path = comp_dir / f"{comp.folder_name}.jsx"
    aep_path = None if aep is None else Path(aep).resolve()
    write_script(
        as_built,
        layer_map,
        script_path,
        aep=aep_path,
        build_id=build_id,
        spec_hash=built_hash,
    )

    report("build_json")
    build_json = comp_dir / "build.json"
    originals = {layer.id: layer.source for layer in expand_conditioning(loaded).layers}
    document = {
        "build_id": build_id,
        # The hash of the spec below (the script header carries the same one); the
        # user's spec as written hashes to source_spec_hash.
        "spec_hash": built_hash,
        "source_spec_hash": hash_of_spec,
        # Where the spec came from (null for a mapping): named when another comp's
        # build would land in this folder.
        "source_spec": _spec_file(spec),
        "aebridge_version": __version__,
        "script": script_path.name,
        "spec": spec_to_dict(as_built),
        "layers": {
            item.id: {
                "source": source_text(originals[item.id]),
                "source_sha256": item.source_sha256,
                "frames": item.sequence.frame_count,
                "rate": format_rate(item.sequence.rate),
                "light_under_alpha0": light_entry(item, layer),
                "warnings": list(item.warnings),
            }
            for item, layer in zip(built, resolved.layers, strict=True)
        },
        "warnings": warnings,
    }
    write_build(build_json, document)

    preview_path: Path | None = None
    if preview:
        report("preview")
        from ..preview.render import render_preview

        preview_path = Path(render_preview(build_json, comp_dir / "preview.mp4"))
    report("done")
    return BuildResult(
        comp_dir=comp_dir,
        script=script_path,
        build_json=build_json,
        preview=preview_path,
        layers=tuple(built),
        warnings=tuple(warnings),
    )


def _spec_file(
    spec: CompSpec | str | os.PathLike[str] | Mapping[str, Any],
) -> str | None:
    if isinstance(spec, (str, os.PathLike)):
        return Path(spec).resolve().as_posix()
    return None


def _check_folder_owner(
    comp_dir: Path,
    comp: Comp,
    spec: CompSpec | str | os.PathLike[str] | Mapping[str, Any],
) -> None:
    """Refuse to build into a folder that holds another comp's build.

    The folder is named by the comp's id or the slug of its name, and two names can
    share a slug (``SH010 comp`` and ``SH010-comp``): the second build would overwrite
    the first. The same comp (same explicit id, or same name without one) may rebuild.

    Raises:
        SpecError: at ``comp.name`` (or ``comp.id``), naming both comps and specs.
    """
    try:
        document = read_document(comp_dir / "build.json")
        other = document["spec"]["comp"]
        other_name, other_id = str(other["name"]), other.get("id")
    except (SourceError, KeyError, TypeError, AttributeError):
        return  # no earlier build there (or not one of ours): nothing to protect
    if comp.id is not None and other_id == comp.id:
        return
    if comp.id is None and other_id is None and other_name == comp.name:
        return
    other_spec = document.get("source_spec") or "a spec given as data"
    path = "comp.id" if comp.id is not None else "comp.name"
    raise SpecError(
        [
            Problem(
                path=path,
                message=(
                    f"comp {comp.name!r} builds into {comp_dir.as_posix()}, which "
                    f"holds the build of comp {other_name!r} (comp.name in "
                    f"{other_spec}): both give the folder name "
                    f"{comp_dir.name!r}; allowed: a comp.id (or name) of its own"
                ),
            )
        ],
        source=_spec_file(spec) or comp.name,
    )


def _relative_keyframe_images(spec: CompSpec, comp_dir: Path) -> CompSpec:
    """Keyframe images (in provenance and marker parameters) relative to the comp."""

    def fix(prov: Provenance | None) -> Provenance | None:
        if prov is None:
            return None
        keys = tuple(
            replace(
                k, image=None if k.image is None else _relative(Path(k.image), comp_dir)
            )
            for k in prov.keyframes
        )
        return replace(prov, keyframes=keys)

    def fix_params(params: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (key, _relative(Path(value), comp_dir))
            if key == "image" and os.path.isabs(value)
            else (key, value)
            for key, value in params
        )

    layers = tuple(
        replace(layer, provenance=fix(layer.provenance)) for layer in spec.layers
    )
    markers = tuple(
        replace(marker, parameters=fix_params(marker.parameters))
        for marker in spec.markers
    )
    return replace(
        spec, layers=layers, markers=markers, provenance=fix(spec.provenance)
    )
