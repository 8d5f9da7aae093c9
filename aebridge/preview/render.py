"""Render a built comp without After Effects: frame by frame, to PNG, MP4 or a sheet.

:func:`render_frame` composites one comp frame (premultiplied scene-linear float32);
:func:`render_preview` streams a range of frames through a display transform into
PNG frames, an H.264 MP4 and/or a contact sheet, holding one frame at a time (plus the
last-read frame of each layer), so memory stays flat over long comps.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..build_io import load_build
from ..errors import OptionError, SourceError
from . import composite
from .display import DEFAULT_DISPLAY, DisplayTransform
from .fromspec import plan_from_spec
from .plan import (
    CompPlan,
    LayerPlan,
    LayerState,
)
from .writers import ContactSheet, FrameSink, open_sink

if TYPE_CHECKING:
    from ..model import CompSpec

__all__ = [
    "PreviewProgress",
    "Renderer",
    "parse_frames",
    "plan_from_spec",
    "render_frame",
    "render_preview",
]

Image = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewProgress:
    """Progress of :func:`render_preview`: frames done of total, the frame just done."""

    frames_done: int
    frames_total: int
    frame: int


# --- rendering ---------------------------------------------------------------------


def _read_exr(path: Path, *, frame: int, layer: LayerPlan) -> Image:
    """One EXR frame as display-window float32 RGBA (premultiplied, as written)."""
    from ..exr import read_pixels

    where = f"{layer.spec_path} ({layer.id}), comp frame {frame}"
    if not path.is_file():
        raise SourceError(f"{where}: the frame file is missing", path=str(path))
    try:
        return read_pixels(path)
    except SourceError as exc:
        # Of its kind: a read the sandbox refused stays path_not_allowed.
        raise type(exc)(f"{where}: {exc.message}", path=str(path)) from exc


class Renderer:
    """Composites comp frames from a plan, one at a time.

    Keeps only the most recently read source frame of each layer, so a held frame (a
    still, a stretched layer) is read once while memory stays flat. With
    :meth:`prefetch`, the next frame's EXRs are read by two background threads while
    the current one is composited (EXR decoding releases the GIL), at the cost of at
    most one more source frame per layer in memory. Use it as a context manager, or
    call :meth:`close`, to stop the threads.

    Args:
        plan: what to render.
    """

    def __init__(self, plan: CompPlan) -> None:
        self.plan = plan
        self._cache: dict[int, tuple[int, Image]] = {}
        self._pending: dict[tuple[int, int], Future[Image]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: set[tuple[int, int]] = set()

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the prefetch threads and drop frames read ahead."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def _load(self, index: int, src_index: int, frame: int) -> Image:
        layer = self.plan.layers[index]
        pixels = _read_exr(layer.source.path(src_index), frame=frame, layer=layer)
        if layer.alpha_ignored:
            # AlphaMode.IGNORE: the stored (premultiplied) colour as opaque colour.
            pixels[..., 3] = 1.0
        else:
            # After Effects unpremultiplies premultiplied footage: colour where alpha
            # is 0 (light under alpha 0) contributes nothing there, so not here.
            np.copyto(pixels[..., :3], np.float32(0.0), where=pixels[..., 3:4] == 0)
        if layer.source.colorspace != self.plan.working_space:
            pixels = _convert_space(
                pixels, layer.source.colorspace, self.plan.working_space
            )
        return pixels

    def _wanted(self, frame: int) -> list[tuple[int, int]]:
        """(layer index, source frame) of every layer and matte a frame may draw."""
        wanted: list[tuple[int, int]] = []
        for index, layer in enumerate(self.plan.layers):
            if not (layer.visible or layer.is_matte) or not layer.active(frame):
                continue
            src_index = layer.source_index(frame)
            if src_index is not None:
                wanted.append((index, src_index))
        return wanted

    def prefetch(self, frame: int) -> None:
        """Start reading the source frames ``frame`` needs, in the background.

        Args:
            frame: a comp frame that :meth:`render` will be asked for next.
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="aebridge-preview")
        wanted = self._wanted(frame)
        # Keep memory bounded: drop reads that neither this frame nor the one
        # prefetched before it (usually the frame being rendered now) will use.
        keep = set(wanted) | self._ahead
        for key in set(self._pending) - keep:
            self._pending.pop(key).cancel()
        self._ahead = set(wanted)
        for index, src_index in wanted:
            cached = self._cache.get(index)
            if (cached is not None and cached[0] == src_index) or (
                (index, src_index) in self._pending
            ):
                continue
            # In this thread's context: a sandbox active for the build (a service
            # job) applies to the reads made ahead too.
            self._pending[(index, src_index)] = self._pool.submit(
                contextvars.copy_context().run, self._load, index, src_index, frame
            )

    def _source(self, index: int, frame: int) -> Image | None:
        layer = self.plan.layers[index]
        if not layer.active(frame):
            return None
        src_index = layer.source_index(frame)
        if src_index is None:
            return None
        cached = self._cache.get(index)
        if cached is not None and cached[0] == src_index:
            return cached[1]
        future = self._pending.pop((index, src_index), None)
        pixels = (
            future.result()
            if future is not None
            else self._load(index, src_index, frame)
        )
        self._cache[index] = (src_index, pixels)
        return pixels

    def _matrix(self, layer: LayerPlan, state: LayerState, frame: int) -> Matrix:
        if not layer.three_d:
            return composite.layer_to_comp_2d(
                state.anchor[:2], state.position[:2], state.scale, state.rotation
            )
        cam_pos, poi, zoom, roll = self.plan.camera_at(frame)
        view = composite.camera_view(cam_pos, poi, roll=roll)
        return composite.layer_to_screen_3d(
            anchor=state.anchor,
            position=state.position,
            scale=state.scale,
            rotation=state.rotation,
            view=view,
            zoom=zoom,
            width=self.plan.width,
            height=self.plan.height,
        )

    def _layer_pixels(self, index: int, frame: int) -> Image | None:
        """The layer in comp space with its opacity, or None when it shows nothing."""
        layer = self.plan.layers[index]
        image = self._source(index, frame)
        if image is None:
            return None
        state = self.plan.layer_state(index, frame)
        if state.opacity == 0.0:
            return None
        warped = composite.warp(
            image, self._matrix(layer, state, frame), self.plan.height, self.plan.width
        )
        if state.opacity != 100.0:
            warped = warped * np.float32(state.opacity / 100.0)
        return warped

    def _depth(self, index: int, frame: int) -> float:
        """Camera-space depth of a 3D layer's position (for AE's back-to-front sort)."""
        point = np.array([*self.plan.layer_state(index, frame).position, 1.0])
        cam_pos, poi, _zoom, roll = self.plan.camera_at(frame)
        return float((composite.camera_view(cam_pos, poi, roll=roll) @ point)[2])

    def _draw_order(self, frame: int) -> list[int]:
        order = [i for i, layer in enumerate(self.plan.layers) if layer.renders(frame)]
        # AE sorts each run of adjacent 3D layers back to front by distance from the
        # camera; 2D layers keep their stacking order and split the runs.
        result: list[int] = []
        run: list[int] = []
        for i in [*order, -1]:
            if i >= 0 and self.plan.layers[i].three_d:
                run.append(i)
                continue
            if run:
                result.extend(sorted(run, key=lambda j: -self._depth(j, frame)))
                run = []
            if i >= 0:
                result.append(i)
        return result

    def render(self, frame: int) -> Image:
        """Composite one comp frame.

        Args:
            frame: a comp frame number (the comp runs from its ``start_frame``).

        Returns:
            H x W x 4 premultiplied scene-linear float32 (transparent where no layer
            covers; the background colour is added by the display transform).

        Raises:
            SourceError: a layer's EXR frame is missing or unreadable.
        """
        plan = self.plan
        canvas: Image | None = None
        for index in self._draw_order(frame):
            layer = plan.layers[index]
            pixels = self._layer_pixels(index, frame)
            if pixels is None:
                continue
            if layer.matte is not None:
                matte = self._layer_pixels(layer.matte[0], frame)
                if matte is None:
                    matte = np.zeros_like(pixels)
                pixels = composite.apply_matte(pixels, matte, layer.matte[1])
            if canvas is None:
                # Any colour mode over nothing is the layer itself (the general
                # formula with ab = 0), so the bottom layer costs no blend; a
                # silhouette over nothing cuts nothing.
                if layer.blend != composite.SILHOUETTE_ALPHA:
                    canvas = pixels
                continue
            canvas = composite.blend(canvas, pixels, layer.blend)
        if canvas is None:
            return np.zeros((plan.height, plan.width, 4), dtype=np.float32)
        if any(canvas is cached for _, cached in self._cache.values()):
            # An untransformed bottom layer alone: hand out a copy, never the cache.
            return canvas.copy()
        return canvas


def _convert_space(pixels: Image, src: str, dst: str) -> Image:
    """Convert a layer's linear RGB between colour spaces (alpha untouched)."""
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(np.ascontiguousarray(pixels))
    out = oiio.ImageBufAlgo.colorconvert(buf, src, dst, unpremult=False)
    if out.has_error:
        raise OptionError("colorspace", src, f"an OCIO colour space ({out.geterror()})")
    converted = np.asarray(out.get_pixels(oiio.FLOAT), dtype=np.float32)
    return converted.reshape(pixels.shape)


def _as_plan(
    source: CompPlan | CompSpec | str | os.PathLike[str],
    base_dir: str | os.PathLike[str] | None = None,
) -> CompPlan:
    from ..model import CompSpec

    if isinstance(source, CompPlan):
        return source
    if isinstance(source, CompSpec):
        return plan_from_spec(source, Path.cwd() if base_dir is None else base_dir)
    if isinstance(source, (str, os.PathLike)):
        built = load_build(source)
        return plan_from_spec(built.spec, built.comp_dir)
    raise OptionError(
        "build",
        type(source).__name__,
        "a build.json path, a CompSpec whose layers are EXR sequences, or a CompPlan",
    )


def render_frame(
    build: CompPlan | CompSpec | str | os.PathLike[str],
    frame: int,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> Image:
    """Composite one comp frame of a build.

    Args:
        build: a ``build.json`` path, a spec whose layers are EXR sequences, or a plan
            from :func:`plan_from_spec`.
        frame: the comp frame number.
        base_dir: for a spec, the folder its sequence folders are relative to
            (default: the current folder).

    Returns:
        H x W x 4 premultiplied scene-linear float32.

    Raises:
        OptionError: the frame is outside the comp.
        SpecError: the build cannot be previewed (see :func:`plan_from_spec`).
        SourceError: a frame file is missing or unreadable.
    """
    plan = _as_plan(build, base_dir)
    _check_frames([frame], plan, "--frame")
    return Renderer(plan).render(frame)


def parse_frames(text: str, plan: CompPlan) -> tuple[int, ...]:
    """Parse ``--frames``: ``1001-1048``, ``1010``, ``1001-1048x4`` (every 4th), or a
    comma-separated list of those, in comp frame numbers.

    Raises:
        OptionError: not a range, or frames outside the comp.
    """
    allowed = (
        f"comp frames {plan.start_frame}-{plan.start_frame + plan.duration - 1} "
        "as A-B, A-BxSTEP or N, comma separated"
    )
    frames: list[int] = []
    for part in text.split(","):
        item = part.strip()
        step = 1
        if "x" in item:
            item, _, step_text = item.partition("x")
            if not step_text.isdigit() or int(step_text) < 1:
                raise OptionError("--frames", text, allowed)
            step = int(step_text)
        a, sep, b = item.partition("-") if not item.startswith("-") else ("", "", "")
        try:
            first = int(a)
            last = int(b) if sep else first
        except ValueError as exc:
            raise OptionError("--frames", text, allowed) from exc
        if last < first:
            raise OptionError("--frames", text, allowed)
        frames.extend(range(first, last + 1, step))
    _check_frames(frames, plan, "--frames", text=text)
    return tuple(frames)


def _check_frames(
    frames: Iterable[int], plan: CompPlan, option: str, *, text: str | None = None
) -> None:
    lo, hi = plan.start_frame, plan.start_frame + plan.duration - 1
    for f in frames:
        if not lo <= f <= hi:
            raise OptionError(
                option, text if text is not None else f, f"comp frames {lo}-{hi}"
            )


def _sheet_frames(frames: tuple[int, ...], count: int = 16) -> tuple[int, ...]:
    """At most ``count`` frames spread evenly over ``frames``, first and last kept."""
    if len(frames) <= count:
        return frames
    step = (len(frames) - 1) / (count - 1)
    return tuple(frames[round(i * step)] for i in range(count))


def render_preview(
    build_json_path: str | os.PathLike[str] | CompPlan | CompSpec,
    out: str | os.PathLike[str] | None,
    *,
    frames: str | Iterable[int] | None = None,
    frame: int | None = None,
    contact_sheet: str | os.PathLike[str] | None = None,
    display: str = DEFAULT_DISPLAY,
    progress: Callable[[PreviewProgress], None] | None = None,
) -> Path:
    """Render a build's preview, one frame at a time.

    Args:
        build_json_path: ``out/<comp>/build.json`` (or a spec whose layers are EXR
            sequences with paths relative to the current folder, or a plan).
        out: ``preview.mp4`` (H.264, yuv420p, the comp's exact rate),
            ``preview.####.png`` (one PNG per frame, numbered by comp frame) or, with
            ``frame``, ``still.png``; None to write only a contact sheet.
        frames: comp frames to render (``"1001-1048"``, ``"1001-1048x4"`` or numbers);
            default the whole comp.
        frame: render only this comp frame.
        contact_sheet: also write a labelled grid of (up to 16 of) the frames here.
        display: OCIO colour space or display the frames are shown through.
        progress: called after every frame.

    Returns:
        The path of ``out``, or of the contact sheet when ``out`` is None.

    Raises:
        OptionError: bad frames, display, output name or extension.
        SpecError: the build cannot be previewed.
        SourceError: a frame file is missing or unreadable.
        OutputError: an output cannot be written.
    """
    if out is None and contact_sheet is None:
        raise OptionError(
            "-o/--output", None, "an output file, a contact sheet, or both"
        )
    if frame is not None and frames is not None:
        raise OptionError("--frame", frame, "either --frame or --frames, not both")
    plan = _as_plan(build_json_path)
    transform = DisplayTransform(
        display, working_space=plan.working_space, background=plan.background
    )
    if frame is not None:
        _check_frames([frame], plan, "--frame")
        todo: tuple[int, ...] = (frame,)
    elif frames is None:
        todo = tuple(plan.frames)
    elif isinstance(frames, str):
        todo = parse_frames(frames, plan)
    else:
        todo = tuple(frames)
        _check_frames(todo, plan, "--frames")
    sinks: list[FrameSink] = []
    sheet: ContactSheet | None = None
    # The sheet first: it only checks its name, so a bad one leaves no movie file open.
    if contact_sheet is not None:
        sheet = ContactSheet(
            Path(contact_sheet),
            frames=_sheet_frames(todo),
            width=plan.width,
            height=plan.height,
        )
    if out is not None:
        sinks.append(
            open_sink(
                out,
                rate=plan.rate,
                frame_count=len(todo),
                display_space=transform.target,
            )
        )
    outputs: list[FrameSink] = [*sinks, *([sheet] if sheet is not None else [])]
    try:
        with Renderer(plan) as renderer:
            _render_all(renderer, todo, transform, sinks, sheet, progress)
        for output in outputs:
            output.close()
    except BaseException:
        # Interrupted or failed: leave no half-written movie behind.
        for output in outputs:
            output.abort()
        raise
    target = out if out is not None else contact_sheet
    if target is None:  # refused at the top; keeps the type checker informed
        raise OptionError("-o/--output", None, "an output file or a contact sheet")
    return Path(target)


def _render_all(
    renderer: Renderer,
    todo: tuple[int, ...],
    transform: DisplayTransform,
    sinks: list[FrameSink],
    sheet: ContactSheet | None,
    progress: Callable[[PreviewProgress], None] | None,
) -> None:
    """Render, display and write every frame, reading one frame ahead."""
    for done, number in enumerate(todo, start=1):
        if done < len(todo):
            renderer.prefetch(todo[done])
        shown = transform(renderer.render(number))
        for sink in sinks:
            sink.write(number, shown)
        if sheet is not None and sheet.wants(number):
            sheet.write(number, shown)
        if progress is not None:
            progress(
                PreviewProgress(frames_done=done, frames_total=len(todo), frame=number)
            )
