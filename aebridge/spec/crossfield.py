"""The spec's rules that span fields and sections, written by hand.

Everything one field allows is its rule in :mod:`aebridge.model.rules`, and every
relation inside one object its model's own. What is left needs more than one object,
the files, or a policy, and is here: comp frames known before the comp is whole,
track mattes and ids across layers (reported on the raw data, so every problem comes
at once), a layer's timing against its footage and After Effects' time limits, a
layer's size and rate against the comp's (``rate_policy``), conditioning keyframes
landing inside the comp, files that must exist, and the warnings.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..animation import footage_span, layer_bounds, shown_frames
from ..errors import Problem, SourceError
from ..formats import IMAGE_FILE, unread_file
from ..model import (
    Camera,
    Comp,
    CompSpec,
    ConditioningKeyframe,
    ExrSequence,
    Layer,
    LayerSource,
    LightUnderAlpha,
    Role,
)
from ..model.comp import (
    MAX_SECONDS,
    duplicate_id_problems,
    duration_problem,
    matte_cycle_problems,
    matte_target_problems,
    start_problem,
)
from ..model.rules import num_text, quote, vector_sizes
from ..model.table import FieldSpec
from ..sequence import (
    FoundSequences,
    find_sequence,
    format_frame_ranges,
    is_sequence_pattern,
)
from ..timing import format_rate
from .reader import FAIL, Context, RuleReader

__all__ = ["RATE_POLICIES", "SpecReader", "footage_problems"]

#: What to do when a layer's rate differs from the comp's.
RATE_POLICIES = ("conform", "refuse")


def _ok(value: Any) -> Any:
    """A value read, or ``None`` for one that failed."""
    return None if value is FAIL else value


class SpecReader(RuleReader):
    """Reads a whole comp spec: the field rules plus the rules spanning fields.

    Args:
        base_dir: the folder relative paths are resolved against.
        check_files: check that sources, mattes, EXR frames and keyframe images exist.
        rate_policy: ``conform`` or ``refuse`` a layer rate that differs from the
            comp's.
        sequences: the build's listings, when a build loads the spec: the sequences
            checked here are then not listed again by its probes.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        check_files: bool,
        rate_policy: str,
        sequences: FoundSequences | None = None,
    ) -> None:
        super().__init__()
        self.base_dir = base_dir
        self.check_files = check_files
        self.rate_policy = rate_policy
        self.sequences = sequences

    def spec(self, data: object) -> CompSpec | None:
        """The spec, or ``None`` when any error was found."""
        spec = self.model(CompSpec, data, "", Context())
        return None if self.error_count else spec

    # -- context and defaults ------------------------------------------------------

    def context(
        self, cls: type, name: str, values: dict[str, Any], ctx: Context
    ) -> Context:
        if cls is CompSpec and name != "comp":
            comp = _ok(values.get("comp"))
            origin = None if comp is None else comp.start_frame
            return Context(comp=comp, origin=origin)
        if cls is Layer and name == "transform":
            return Context(comp=ctx.comp, sizes=vector_sizes(values["three_d"] is True))
        if cls is Layer and name == "provenance":
            # A layer's conditioning keyframes are numbered from its start.
            start = _ok(values.get("start"))
            comp_start = None if ctx.comp is None else ctx.comp.start_frame
            return Context(
                comp=ctx.comp, origin=start if start is not None else comp_start
            )
        return ctx

    def default(self, cls: type, spec: FieldSpec, data: dict[str, Any]) -> Any:
        if cls is Layer and spec.name == "guide":
            # A layer is a guide layer by default when its role is guide.
            return data.get("role") == Role.GUIDE.value
        return spec.default

    # -- after each field ------------------------------------------------------------

    def after_field(
        self,
        cls: type,
        name: str,
        values: dict[str, Any],
        data: dict[str, Any],
        path: str,
        ctx: Context,
    ) -> None:
        value = values[name]
        if cls is LayerSource and name in ("path", "matte") and _ok(value) is not None:
            self.path_exists(
                value, path, what="source" if name == "path" else "matte", sequence=True
            )
        elif cls is ConditioningKeyframe and name == "frame" and _ok(value) is not None:
            if ctx.comp is not None and ctx.origin is not None:
                landing = ctx.origin + value
                comp = ctx.comp
                if not comp.start_frame <= landing <= comp.last_frame:
                    self.error(
                        path,
                        f"source frame {value} lands on comp frame {landing}, outside "
                        f"the comp ({comp.start_frame} to {comp.last_frame})",
                    )
                    values[name] = FAIL
        elif cls is ConditioningKeyframe and name == "image" and _ok(value) is not None:
            self.path_exists(value, path, what="keyframe image", file=True)
        elif cls is CompSpec and name == "layers" and isinstance(data.get(name), list):
            self.layer_references(data[name], path)
        elif cls is CompSpec and name == "camera" and isinstance(_ok(value), Camera):
            layers = _ok(values.get("layers"))
            if layers is not None and not any(layer.three_d for layer in layers):
                self.warn(
                    "camera",
                    "no layer has three_d: true, so the camera changes nothing; "
                    "set three_d on the layers that should follow it",
                )

    def after(
        self,
        cls: type,
        values: dict[str, Any],
        data: dict[str, Any],
        path: str,
        ctx: Context,
    ) -> None:
        if cls is Comp:
            self.comp_frames(values)
            bpc, linear = _ok(values["bpc"]), _ok(values["linear_blending"])
            if bpc is not None and bpc != 32 and linear:
                self.warn(
                    f"{path}.bpc",
                    f"{bpc} bpc clips the scene-linear EXR values above 1; 32 keeps "
                    "them",
                )
        elif cls is Layer and ctx.comp is not None:
            source = _ok(values["source"])
            self.timing(
                path,
                ctx.comp,
                source,
                _ok(values["start"]),
                _ok(values["in_frame"]),
                _ok(values["out_frame"]),
                _ok(values["stretch"]),
            )
            if source is not None:
                self.source_fit(path, ctx.comp, source)

    def built(self, obj: Any, path: str) -> None:
        if isinstance(obj, CompSpec):
            self.light_backdrop(obj)
        if isinstance(obj, ExrSequence) and self.check_files:
            base = self.base_dir / obj.folder
            missing = [
                f
                for f in range(obj.first, obj.last + 1)
                if not (base / obj.frame_name(f)).is_file()
            ]
            if missing:
                self.error(
                    f"{path}.folder",
                    f"frames {format_frame_ranges(missing)} of "
                    f"{obj.name}.{'#' * obj.padding}.exr are missing in "
                    f"{base.as_posix()}",
                )

    # -- the rules -------------------------------------------------------------------

    def comp_frames(self, values: dict[str, Any]) -> None:
        """Know the comp's frames as soon as its start and duration are valid."""
        start, duration = _ok(values["start_frame"]), _ok(values["duration"])
        rate = _ok(values["rate"])
        if start is None or duration is None:
            return
        if rate is not None and (
            duration_problem(duration, rate) is not None
            or start_problem(start, rate) is not None
        ):
            return
        self.frames = (start, start + duration - 1)

    def path_exists(
        self,
        value: str,
        path: str,
        *,
        what: str,
        sequence: bool = False,
        file: bool = False,
    ) -> None:
        """Report a path that does not exist. A sequence pattern, and for a layer's
        source or matte (``sequence``) a folder, is listed as the build lists it:
        a folder holding no image sequence, or several, is reported here, not when
        the build reads it; any other source or matte is refused, as the build
        refuses it, when it is of a kind aebridge does not read. What must be one
        ``file`` (a keyframe image) may not be a folder."""
        if not self.check_files:
            return
        full = self.base_dir / value
        # isdir is False, not OSError, for a name too long: exists() reports that.
        if is_sequence_pattern(value) or (sequence and os.path.isdir(full)):
            try:
                if self.sequences is None:
                    find_sequence(full)
                else:
                    self.sequences.find(full)
            except SourceError as exc:
                self.error(path, f"{what} {quote(value)}: {exc.message}")
        else:
            unread = unread_file(full) if sequence else None
            if unread is not None:
                # As the build refuses it: by its name, before asking whether it
                # exists (saying so when it does: it is not missing).
                exists = " exists, but" if os.path.lexists(full) else ":"
                self.error(path, f"{what} {quote(value)}{exists} {unread}")
                return
            try:
                found = full.exists()
            except OSError as exc:  # a name too long, a folder without permission
                self.error(
                    path,
                    f"{what} {quote(value)} cannot be looked up: {exc.strerror} "
                    f"(looked for {full.as_posix()})",
                )
                return
            if not found:
                self.error(
                    path,
                    f"{what} not found: {quote(value)} (looked for {full.as_posix()})",
                )
            elif file and os.path.isdir(full):
                self.error(
                    path,
                    f"{what} {quote(value)} is a folder; allowed: {IMAGE_FILE} "
                    f"(looked for {full.as_posix()})",
                )

    def layer_references(self, items: list[Any], path: str) -> None:
        """Ids and track mattes across the layers, read from the raw data so they are
        reported even when a layer has other problems."""
        ids = [
            item.get("id")
            if isinstance(item, dict) and isinstance(item.get("id"), str)
            else None
            for item in items
        ]
        targets = [
            item["track_matte"].get("layer")
            if isinstance(item, dict)
            and isinstance(item.get("track_matte"), dict)
            and isinstance(item["track_matte"].get("layer"), str)
            else None
            for item in items
        ]
        for problem in duplicate_id_problems(ids):
            self.error(problem.path, problem.message)
        problems, valid = matte_target_problems(ids, targets)
        for problem in problems:
            self.error(problem.path, problem.message)
        if not problems:
            self.matte_switches(items, path, ids, set(valid.values()))
        for problem in matte_cycle_problems(ids, valid):
            self.error(problem.path, problem.message)

    def matte_switches(
        self, items: list[Any], path: str, ids: list[str | None], mattes: set[str]
    ) -> None:
        """Warn where a spec expects a matte layer to render, or not to be one."""
        for i, item in enumerate(items):
            if not isinstance(item, dict) or ids[i] is None:
                continue
            if ids[i] in mattes and item.get("enabled") is True:
                self.warn(
                    f"{path}[{i}].enabled",
                    f"layer '{ids[i]}' is another layer's track matte: its video is "
                    "switched off in After Effects (and the preview never draws it), "
                    "whatever enabled says",
                )
            elif ids[i] not in mattes and item.get("role") == Role.MATTE.value:
                self.warn(
                    f"{path}[{i}].role",
                    f"layer '{ids[i]}' has role 'matte' but no layer uses it as its "
                    "track_matte, so it renders as an ordinary layer",
                )

    def light_backdrop(self, spec: CompSpec) -> None:
        """Warn where a layer keeps its light under alpha 0 with nothing drawn below
        it: its additive copy is opaque over the layer's whole frame."""
        for i, layer in enumerate(spec.layers):
            if (
                layer.light_under_alpha is LightUnderAlpha.ADD
                and spec.draws(layer)
                and not any(spec.draws(below) for below in spec.layers[:i])
            ):
                self.warn(
                    f"layers[{i}].light_under_alpha",
                    f"layer '{layer.id}' keeps its light with 'add' but no layer is "
                    "drawn below it: the additive copy is opaque, so the layer's "
                    "whole frame hides the comp background (alpha 1, in After "
                    "Effects and in the preview); 'add' is meant for a layer above "
                    "an opaque plate",
                )

    def timing(
        self,
        path: str,
        comp: Comp,
        source: LayerSource | ExrSequence | None,
        start: int | None,
        in_frame: int | None,
        out_frame: int | None,
        stretch: float | None,
    ) -> None:
        """A layer's in and out frames against its footage and the comp."""
        first = comp.start_frame if start is None else start
        self.layer_times(path, comp, source, start, in_frame, out_frame, stretch)
        shown_in: int | None = first if in_frame is None else in_frame
        if in_frame is None and stretch is not None and stretch < 0:
            # A reversed layer ends at its start: it comes in one (stretched) footage
            # length earlier, unknown until the source is converted.
            shown_in = (
                shown_frames(*footage_span(first, source.frame_count, stretch))[0]
                if isinstance(source, ExrSequence)
                else None
            )
        if isinstance(source, ExrSequence) and stretch is not None and stretch != 0:
            for problem in footage_problems(
                path,
                start=first,
                in_frame=in_frame,
                out_frame=out_frame,
                stretch=stretch,
                frame_count=source.frame_count,
            ):
                self.error(problem.path, problem.message)
        elif (
            in_frame is not None
            and stretch is not None
            and stretch > 0
            and in_frame < first
        ):
            self.error(
                f"{path}.in_frame",
                f"{in_frame} is before the layer's start {first} (its source frame 0); "
                f"allowed: {first} or later",
            )
        if shown_in is not None and out_frame is not None and out_frame <= shown_in:
            self.error(
                f"{path}.out_frame",
                f"{out_frame} is not after the in frame {shown_in}; allowed: "
                f"{shown_in + 1} or later (out_frame is exclusive)",
            )
            return
        if shown_in is not None and shown_in > comp.last_frame:
            self.error(
                f"{path}.in_frame" if in_frame is not None else f"{path}.start",
                f"frame {shown_in} is after the comp's last frame {comp.last_frame}; "
                "the layer would never be seen",
            )
        if out_frame is not None and out_frame <= comp.start_frame:
            self.error(
                f"{path}.out_frame",
                f"{out_frame} is not after the comp's first frame {comp.start_frame}; "
                "the layer would never be seen",
            )

    def layer_times(
        self,
        path: str,
        comp: Comp,
        source: LayerSource | ExrSequence | None,
        start: int | None,
        in_frame: int | None,
        out_frame: int | None,
        stretch: float | None,
    ) -> None:
        """After Effects keeps a layer's start, in and out points within 10800 s of
        the comp's start (scripting guide, Layer.startTime, .inPoint, .outPoint)."""
        first = comp.start_frame if start is None else start
        frames: list[tuple[str, Fraction]] = [("start", Fraction(first))]
        if isinstance(source, ExrSequence) and stretch:
            bounds = layer_bounds(
                start=first,
                frame_count=source.frame_count,
                stretch=stretch,
                in_frame=in_frame,
                out_frame=out_frame,
            )
            frames += [("in_frame", bounds[0]), ("out_frame", bounds[1])]
        else:
            frames += [
                (key, Fraction(value))
                for key, value in (("in_frame", in_frame), ("out_frame", out_frame))
                if value is not None
            ]
        for key, frame in frames:
            seconds = (frame - comp.start_frame) / comp.rate
            if abs(seconds) > MAX_SECONDS:
                limit = math.floor(MAX_SECONDS * comp.rate)
                lo, hi = comp.start_frame - limit, comp.start_frame + limit
                self.error(
                    f"{path}.{key}",
                    f"frame {num_text(float(frame))} is {float(seconds):.6g} s from "
                    f"the comp's first frame; allowed: within {MAX_SECONDS} s of it "
                    f"(frames {lo} to {hi}), as After Effects keeps layer times",
                )

    def source_fit(
        self, path: str, comp: Comp, source: LayerSource | ExrSequence
    ) -> None:
        """A layer's rate and size against the comp's (``rate_policy``)."""
        rate = source.rate
        if rate is not None and rate != comp.rate:
            message = (
                f"{format_rate(rate)} fps differs from the comp's "
                f"{format_rate(comp.rate)} fps"
            )
            if self.rate_policy == "refuse":
                self.error(
                    f"{path}.source.rate",
                    f"{message}; conform it or build with rate_policy 'conform'",
                )
            else:
                self.warn(
                    f"{path}.source.rate",
                    f"{message}; After Effects conforms it to {format_rate(comp.rate)} "
                    "fps (frame for frame, so its duration changes)",
                )
        if isinstance(source, ExrSequence) and (source.width, source.height) != (
            comp.width,
            comp.height,
        ):
            self.warn(
                f"{path}.source",
                f"{source.width}x{source.height} differs from the comp's "
                f"{comp.width}x{comp.height}; the layer is placed by its transform "
                "(centred by default)",
            )


def footage_problems(
    path: str,
    *,
    start: int,
    in_frame: int | None,
    out_frame: int | None,
    stretch: float,
    frame_count: int,
) -> list[Problem]:
    """Problems with a layer's in and out frames against the footage it shows.

    After Effects cannot trim a footage layer beyond its footage: an in frame at or
    past its end (or an out frame past it) would abort the build script.

    Args:
        path: the layer's spec path (``layers[2]``).
        start: the layer's start frame.
        in_frame: its in frame, or None for the footage's first frame.
        out_frame: its exclusive out frame, or None for the footage's end.
        stretch: its time stretch in percent (at least 1 either side of 0).
        frame_count: frames in its source.

    Returns:
        One problem per offending field (empty when the trim fits the footage).
    """
    lo, hi = shown_frames(*footage_span(start, frame_count, stretch))
    shown = (
        f"{frame_count} frames played backwards, ending at frame {start}"
        if stretch < 0
        else f"{frame_count} frames from frame {start}"
    )
    problems: list[Problem] = []
    if in_frame is not None and not lo <= in_frame < hi:
        problems.append(
            Problem(
                path=f"{path}.in_frame",
                message=f"{in_frame} is outside the source ({shown}); allowed: "
                f"{lo} to {hi - 1}",
            )
        )
    if out_frame is not None and out_frame > hi:
        problems.append(
            Problem(
                path=f"{path}.out_frame",
                message=f"{out_frame} is past the end of the source ({shown}); "
                f"allowed: up to {hi}",
            )
        )
    return problems
