"""``aebridge convert`` and ``aebridge inspect``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import OptionError
from ..model.enums import (
    AlphaMode,
    FieldMode,
    Orientation,
    Role,
    VfrPolicy,
    YuvMatrix,
)
from ..timing import format_rate


def _parse_meta(values: tuple[str, ...]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise OptionError(
                "--meta", item, "KEY=VALUE, e.g. --meta prompt='a red fox'"
            )
        meta[key.strip()] = value
    return meta


def _parse_frames(text: str | None) -> list[int] | None:
    if text is None:
        return None
    from fileseq import FrameSet, ParseException  # type: ignore[attr-defined]

    try:
        return [int(f) for f in FrameSet(text)]
    except (ParseException, ValueError) as exc:
        raise OptionError(
            "--frames",
            text,
            "a frame range such as 1001-1016, 1001-1100x4 or 1001,1005",
        ) from exc


@contextmanager
def progress_reporter(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback: a bar on a terminal, quiet line-based progress otherwise."""
    if sys.stderr.isatty():
        bar: Any = None

        def update(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = click.progressbar(length=total, label=label, file=sys.stderr)
                bar.__enter__()
            bar.update(done - bar.pos)

        try:
            yield update
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    else:
        last = [-1]

        def update(done: int, total: int) -> None:
            # One line per tenth of the work (and the last), so logs stay short.
            step = max(total // 10, 1)
            if done == total or done // step != last[0] // step:
                click.echo(f"{label}: {done}/{total} frames", err=True)
            last[0] = done

        yield update


def _default_name(source: str) -> str:
    # The id init gives a layer of this file (but for init's colour word and role
    # fallback): one rule, so convert then init on the folder name one folder.
    from ..naming import name_id, source_stem

    path = Path(source)
    folder = path.is_dir() and not source.endswith("/")
    # An existing file is that image even when named like a pattern (logo@2x.png).
    return name_id(source_stem(source + "/" if folder else source, file=path.is_file()))


def _earlier_output(source: str, out_dir: str, layer: str) -> str | None:
    """A folder of ``out_dir`` other than ``layer``'s whose sidecar says it was
    converted from ``source``: its frames under the name convert's default gave
    before it became init's layer id (``Hero-FGR`` of ``Hero-FGR.v2.mp4``, now
    ``hero_fgr_v2``), when ``layer`` has none yet."""
    from ..convert.metadata import read_sidecar
    from ..errors import SourceError

    out = Path(out_dir)
    if (out / layer / f"{layer}.aebridge.json").exists() or not out.is_dir():
        return None
    wanted = os.path.abspath(source)
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and p.name != layer):
        try:
            path = read_sidecar(folder, folder.name).get("source", {}).get("path")
        except (SourceError, AttributeError):
            continue
        if isinstance(path, str) and os.path.abspath(path) == wanted:
            return folder.name
    return None


@click.command("convert")
@click.argument("source")
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder; frames go to OUT/NAME/NAME.####.exr.",
)
@click.option(
    "--name",
    help="Layer name: letters, digits, _ - ., not ending in '.' and not a Windows "
    "device name such as con (default: the id init gives the source's layer, from "
    "its name's words: Hero-FGR.v2.mp4 -> hero_fgr_v2).",
)
@click.option(
    "--alpha",
    type=click.Choice([m.value for m in AlphaMode]),
    default=AlphaMode.AUTO.value,
    show_default=True,
    help="How the source stores alpha. auto: PNG/movie alpha is straight, "
    "EXR alpha premultiplied, TIFF as its ExtraSamples tag says, no alpha channel "
    "means opaque.",
)
@click.option(
    "--matte", help="A separate matte sequence or movie (its alpha, else its luma)."
)
@click.option(
    "--colorspace",
    help="Input colour space (OCIO name), instead of what the file declares (PNG "
    "gAMA/cHRM/sRGB/iCCP/cICP, ICC profiles, EXR chromaticities, movie tags) and of "
    "the defaults (sRGB for integer stills, linear Rec.709 for float, BT.1886 "
    "Rec.709 for untagged movies).",
)
@click.option(
    "--output-colorspace",
    default="Linear Rec.709 (sRGB)",
    show_default=True,
    help="Scene-linear output space: 'Linear Rec.709 (sRGB)' or ACEScg.",
)
@click.option(
    "--fps",
    help="Frame rate: 24, 25, 23.976 (= 24000/1001), 24000/1001. "
    "Default: the movie's own rate, 24 for image sequences.",
)
@click.option(
    "--start-frame",
    type=int,
    default=1001,
    show_default=True,
    help="Number of the first output frame.",
)
@click.option(
    "--frames", help="Convert only these output frames (a farm chunk), e.g. 1001-1016."
)
@click.option(
    "--float", "full_float", is_flag=True, help="Write 32-bit float (default half)."
)
@click.option(
    "--compression",
    default=None,
    help="EXR compression [default: zip: the cheapest to write and to read, about "
    "as small as piz; bench/README.md has the study]. Lossless: none, rle, zips, "
    "zip, piz. Lossy: "
    "pxr24 (lossy on 32-bit float only), b44, b44a, dwaa, dwab. htj2k: lossless, "
    "but After Effects and older readers may not open it (warns).",
)
@click.option(
    "--autocrop",
    is_flag=True,
    help="Crop the data window to the non-zero pixels (alpha, or light under alpha 0) "
    "(display window stays full frame). Off by default: After Effects' handling "
    "of small data windows is not established.",
)
@click.option(
    "--role",
    type=click.Choice([m.value for m in Role]),
    default=Role.ELEMENT.value,
    show_default=True,
)
@click.option(
    "--vfr",
    type=click.Choice([m.value for m in VfrPolicy]),
    default=VfrPolicy.REFUSE.value,
    show_default=True,
    help="Variable-rate movies: refuse, or resample to a constant rate by timestamp.",
)
@click.option(
    "--orientation",
    type=click.Choice([m.value for m in Orientation]),
    default=Orientation.APPLY.value,
    show_default=True,
    help="An orientation the file declares (EXIF in JPEG/TIFF/PNG, a phone movie's "
    "display matrix): apply it, or keep the pixels as stored.",
)
@click.option(
    "--fields",
    type=click.Choice([m.value for m in FieldMode]),
    default=FieldMode.KEEP.value,
    show_default=True,
    help="Interlaced movies: keep the two woven fields of each frame (warns), or "
    "interpolate whole frames from the first field (no motion adaptation).",
)
@click.option(
    "--yuv-matrix",
    type=click.Choice([m.value for m in YuvMatrix]),
    default=None,
    help="YUV movies: the YCbCr matrix to read them with, instead of the tag "
    "[default: as tagged; untagged HD (720 lines or more) as bt709, SD as bt601]. "
    "Robust Video Matting's fgr/pha MP4s are bt601 and untagged at every size. "
    "Refused for image sequences; RGB movies need none.",
)
@click.option(
    "--part",
    help="EXR: the part to read, by name or index (default: the first part with "
    "R, G, B or Y channels for the view; the choice is recorded).",
)
@click.option(
    "--view",
    help="EXR: the view to read (default: the file's default view, the first of "
    "its multiView list).",
)
@click.option(
    "--provenance",
    "provenance_file",
    type=click.Path(dir_okay=False),
    help="JSON file with generator, model, prompt, seed, keyframes, camera_move, "
    "style_id.",
)
@click.option(
    "--meta",
    multiple=True,
    metavar="KEY=VALUE",
    help="Provenance pair (repeatable); overrides --provenance.",
)
@click.option("--owner", help="EXR owner attribute.")
@click.option("--comments", help="EXR comments attribute.")
@click.option(
    "--engine",
    default="local",
    show_default=True,
    help="local (a process pool), dask://HOST:PORT (a Dask cluster), or "
    "dask-local:N (a Dask cluster of N workers started here).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes for the local engine (default: all cores).",
)
@click.option(
    "--force", is_flag=True, help="Rewrite frames that are already up to date."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def convert_cmd(
    source: str,
    out_dir: str,
    name: str | None,
    alpha: str,
    matte: str | None,
    colorspace: str | None,
    output_colorspace: str,
    fps: str | None,
    start_frame: int,
    frames: str | None,
    full_float: bool,
    compression: str | None,
    autocrop: bool,
    role: str,
    vfr: str,
    orientation: str,
    fields: str,
    yuv_matrix: str | None,
    part: str | None,
    view: str | None,
    provenance_file: str | None,
    meta: tuple[str, ...],
    owner: str | None,
    comments: str | None,
    engine: str,
    jobs: int | None,
    force: bool,
    as_json: bool,
) -> None:
    """Convert a layer to a premultiplied, scene-linear, half-float EXR sequence.

    SOURCE is an image sequence (name.####.ext, name.%04d.ext, name.1001-1120#.ext,
    or a folder) or a movie (MP4, MOV, WebM).

    \b
    Examples:
      aebridge convert runs/fg.####.png -o out --name fg --alpha straight --fps 24
      aebridge convert runs/bg_plate.mp4 -o out --name bg
      aebridge convert runs/fg_rgb.mp4 --matte runs/fg_matte.mp4 -o out --name fg
      aebridge convert rvm/fgr.mp4 --matte rvm/pha.mp4 --yuv-matrix bt601 -o out
      aebridge convert runs/fg.####.png -o out --frames 1001-1016   # one farm chunk
    """
    from ..convert import convert, load_provenance

    layer = _default_name(source) if name is None else name
    provenance = load_provenance(provenance_file, _parse_meta(meta))

    def warn(text: str) -> None:
        click.echo(f"warning: {text}", err=True)

    earlier = None if name is not None else _earlier_output(source, out_dir, layer)
    if earlier is not None:
        warn(
            f"{Path(out_dir) / earlier} holds this source's frames under the name "
            f"convert's default gave before, {earlier}; writing "
            f"{Path(out_dir) / layer} (--name {earlier} continues that one)"
        )

    with progress_reporter(f"converting {layer}") as progress:
        result = convert(
            source,
            out_dir,
            name=layer,
            alpha=alpha,
            matte=matte,
            colorspace=colorspace,
            output_colorspace=output_colorspace,
            fps=fps,
            start_frame=start_frame,
            half=not full_float,
            compression=compression,
            autocrop=autocrop,
            role=role,
            vfr=vfr,
            orientation=orientation,
            fields=fields,
            yuv_matrix=yuv_matrix,
            part=part,
            view=view,
            frames=_parse_frames(frames),
            provenance=provenance,
            owner=owner,
            comments=comments,
            engine=engine,
            jobs=jobs,
            force=force,
            progress=progress,
            warn=warn,
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "folder": str(result.folder),
                    "pattern": result.pattern,
                    "first": result.first,
                    "last": result.last,
                    "rate": format_rate(result.rate),
                    "width": result.width,
                    "height": result.height,
                    "frames_written": result.frames_written,
                    "frames_skipped": result.frames_skipped,
                    "warnings": list(result.warnings),
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        click.echo(
            f"{result.folder / result.pattern}: frames {result.first}-{result.last} "
            f"at {format_rate(result.rate)} fps, {result.width}x{result.height}; "
            f"{result.frames_written} written, {result.frames_skipped} up to date"
        )


@click.command("inspect")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--frame", type=int, help="Show this frame's header (default: the first)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect_cmd(path: str, frame: int | None, as_json: bool) -> None:
    """Show an EXR sequence: frame range, rate, data windows, every header attribute.

    PATH is a converted layer folder (out/fg) or one EXR file.

    \b
    Examples:
      aebridge inspect out/fg
      aebridge inspect out/fg --frame 1048 --json
    """
    from ..inspect import inspect_sequence

    report = inspect_sequence(path, frame=frame)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True, default=str))
        return
    click.echo(f"sequence:        {report['pattern']}")
    gaps = "contiguous" if report["contiguous"] else f"GAPS: {report['gaps']}"
    if report["first"] is None:
        click.echo("frames:          one file (no frame number)")
    else:
        click.echo(
            f"frames:          {report['first']}-{report['last']} "
            f"({report['count']} frames, {gaps})"
        )
    click.echo(f"rate:            {report['rate']}")
    click.echo(f"display window:  {report['display_window']}")
    windows = report["data_windows"]
    if len(windows) == 1:
        click.echo(f"data window:     {next(iter(windows))} (every frame)")
    else:
        click.echo(f"data windows:    {len(windows)} distinct")
        for window, frames in sorted(windows.items()):
            click.echo(f"  {window}: {frames}")
    if report["decisions"]:
        click.echo("decisions:")
        for decision in report["decisions"]:
            click.echo(f"  - {decision}")
    if report["header_frame"] is None:
        click.echo("header:")
    else:
        click.echo(f"header of frame {report['header_frame']}:")
    for key, value in sorted(report["header"].items()):
        click.echo(f"  {key}: {value}")
