"""``aebridge init``: a comp spec from a folder of generator downloads."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import OptionError
from ..timing import format_rate

__all__ = ["init_cmd"]


def _pairs(option: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for value in values:
        clip, sep, matte = value.partition("=")
        if not sep or not clip.strip() or not matte.strip():
            raise OptionError(
                option, value, "CLIP=MATTE, paths in the folder, e.g. fgr.mp4=pha.mp4"
            )
        pairs.append((clip.strip(), matte.strip()))
    return tuple(pairs)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@click.command("init")
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), metavar="FOLDER"
)
@click.option(
    "-o",
    "--out",
    "spec_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The spec file to write; its paths are written relative to its folder.",
)
@click.option("--name", default=None, help="The comp name (default: the folder's).")
@click.option(
    "--plate",
    default=None,
    metavar="FILE",
    help="The clip to use as the plate (size, rate and length of the comp).",
)
@click.option(
    "--pair",
    "pairs",
    multiple=True,
    metavar="CLIP=MATTE",
    help="Make MATTE the alpha of CLIP (source.matte). Repeatable.",
)
@click.option(
    "--track-matte",
    "track_mattes",
    multiple=True,
    metavar="CLIP=MATTE",
    help="Make MATTE a track-matte layer that cuts CLIP. Repeatable.",
)
@click.option(
    "--guides", is_flag=True, help="Also show every keyframe image as a guide layer."
)
@click.option(
    "--camera",
    is_flag=True,
    help="Turn a generator camera control into a camera move. The controls are "
    "unitless, so the amounts are a heuristic (docs/init.md).",
)
@click.option(
    "--style", default=None, metavar="ID[=NAME]", help="The project's locked style."
)
@click.option(
    "--rate", default=None, help="The comp rate (default: the plate's), e.g. 24."
)
@click.option(
    "--start-frame",
    type=int,
    default=1001,
    show_default=True,
    help="The comp's first frame number.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help=(
        "Leave out files matching GLOB (relative to the folder), or an image "
        "sequence matching it as init lists it (seq/el.####.png) or naming its "
        "frames in another spelling (seq/el.%04d.png, seq/el.@@@@.png). Repeatable."
    ),
)
@click.option("--force", is_flag=True, help="Overwrite an existing spec file.")
def init_cmd(
    folder: Path,
    spec_path: Path,
    name: str | None,
    plate: str | None,
    pairs: tuple[str, ...],
    track_mattes: tuple[str, ...],
    guides: bool,
    camera: bool,
    style: str | None,
    rate: str | None,
    start_frame: int,
    exclude: tuple[str, ...],
    force: bool,
) -> None:
    """Write a comp spec from a folder of generator downloads, and say what it
    decided.

    Finds the movies, image sequences and stills in FOLDER (and its subfolders),
    pairs mattes with their clips by name (fg + fg_matte, fg_rgb + fg_matte,
    RVM's fgr + pha), takes size, rate and length from the plate, stacks the
    layers, and reads generator records (Runway, Kling, Luma, Vidu, Replicate
    JSON) into provenance and keyframe markers. Prints a table of the layers and
    every guess with the option that changes it. Two candidate plates, or a matte
    without a partner, are refused with the option that settles them.

    \b
    Examples:
      aebridge init downloads/sh040 -o sh040/comp.json
      aebridge build sh040/comp.json -o out --preview
      aebridge init downloads/sh050 -o sh050/comp.json --plate bg_v2.mp4
      aebridge init downloads/sh060 -o sh060/comp.json --pair hero.mp4=roto.mp4
      aebridge init downloads/sh070 -o sh070/comp.json --camera --guides --force
    """
    from ..init import init_folder
    from ..init.spelling import COMMAND_LINE
    from ..spec import check_spec_target, save_spec

    check_spec_target(spec_path)  # a spec that cannot be written: before any probing
    if os.path.lexists(spec_path) and not force:  # a link to nothing is there too
        # Said before any file is probed, and again (atomically) when writing.
        from ..errors import OutputError

        raise OutputError(
            "the spec file exists already; give --force to overwrite it",
            path=_shown(spec_path),
        )
    result = init_folder(
        folder,
        base_dir=spec_path.parent,
        name=name,
        plate=plate,
        pairs=_pairs(COMMAND_LINE.option("pairs"), pairs),
        track_mattes=_pairs(COMMAND_LINE.option("track_mattes"), track_mattes),
        guides=guides,
        camera=camera,
        style=style,
        rate=rate,
        start_frame=start_frame,
        exclude=exclude,
        ignore=[spec_path],
    )
    click.echo(result.report())
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    written = save_spec(result.spec, spec_path, overwrite=force)
    comp = result.spec.comp
    shown = _shown(written)
    click.echo(
        f"\nwrote {shown}: {len(result.spec.layers)} layers, {comp.width}x"
        f"{comp.height}, {format_rate(comp.rate)} fps, {comp.duration} frames"
    )
    click.echo(f"next:  aebridge build {shown} -o out --preview")
