"""``aebridge otio``: a built comp as an OpenTimelineIO timeline (``otio`` extra)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["otio_cmd"]


@click.command("otio")
@click.argument("build_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="The timeline file; OTIO picks the format from the extension (.otio, "
    ".otioz, .otiod or an installed adapter's). Default: <comp>.otio beside the "
    "build.json.",
)
@click.option(
    "--relative",
    is_flag=True,
    help="Point at the EXR sequences with URLs relative to the timeline file's "
    "folder (an .otiod bundle itself; not with .otioz) instead of absolute file:// "
    "URLs, so both can move together.",
)
def otio_cmd(build_json: Path, out: Path | None, relative: bool) -> None:
    """Export a built comp as an OpenTimelineIO timeline for editorial tools.

    BUILD_JSON is the build.json that `aebridge build` writes beside the script. Each
    layer becomes a video track (bottom to top) holding its EXR sequence as an image
    sequence clip at the comp frames where it shows; comp markers become timeline
    markers; blend mode, opacity, track matte, role, provenance, exact rates, build id
    and spec hash are kept under the "aebridge" metadata key. Needs the optional extra:
    pip install 'aebridge[otio]'.

    \b
    Examples:
      aebridge otio out/sh010/build.json
      aebridge otio out/sh010/build.json -o editorial/sh010.otio
      aebridge otio out/sh010/build.json -o out/sh010/sh010.otio --relative
    """
    from ..otio import write_otio

    if out is None:
        # build.json sits in out/<comp>/, so the folder's name is the comp's.
        out = build_json.parent / f"{build_json.resolve().parent.name}.otio"
    click.echo(str(write_otio(build_json, out, relative=relative)))
