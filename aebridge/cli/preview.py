"""``aebridge preview``: render a built comp to a movie, PNG frames, a contact sheet."""

from __future__ import annotations

import click

from ..preview.display import DEFAULT_DISPLAY, display_choices, display_views
from ..preview.render import PreviewProgress, render_preview
from .convert import progress_reporter


@click.command("preview")
@click.argument("build_json", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="preview.mp4 (H.264 at the comp's exact rate), preview.####.png (one PNG per "
    "comp frame, also %04d or @@@@; --frames chooses which), or still.png with "
    "--frame.",
)
@click.option("--frame", type=int, help="Render only this comp frame (e.g. 1048).")
@click.option(
    "--frames",
    help="Comp frames to render: 1001-1048, 1001-1048x4 (every 4th), 1010 or a comma "
    "list. Default: the whole comp.",
)
@click.option(
    "--contact-sheet",
    type=click.Path(dir_okay=False),
    help="Also write a PNG grid of up to 16 of the frames, labelled with their number.",
)
@click.option(
    "--display",
    default=DEFAULT_DISPLAY,
    show_default=True,
    help="View the linear comp through an OCIO colour space (sRGB, g24_rec709, ...), a "
    "display with its default view ('sRGB - Display') or DISPLAY/VIEW "
    "('sRGB - Display/Un-tone-mapped'). --list-displays shows them all.",
)
@click.option(
    "--list-displays",
    is_flag=True,
    help="List the colour spaces and displays --display accepts, then exit.",
)
def preview_cmd(
    build_json: str,
    out: str | None,
    frame: int | None,
    frames: str | None,
    contact_sheet: str | None,
    display: str,
    list_displays: bool,
) -> None:
    """Render the comp a build describes, without After Effects.

    BUILD_JSON is the build.json that `aebridge build` writes beside the script. Layers
    are composited as the script asks After Effects to: premultiplied in linear light,
    with blend modes, opacity, track mattes, transforms and their keyframes, layer
    timing and the camera for 3D layers.

    \b
    Examples:
      aebridge preview out/sh010/build.json -o sh010_preview.mp4
      aebridge preview out/sh010/build.json -o frames/sh010.####.png --frames 1001-1012
      aebridge preview out/sh010/build.json -o still.png --frame 1048
      aebridge preview out/sh010/build.json --contact-sheet sheet.png
      aebridge preview out/sh010/build.json -o review.mp4 --display "sRGB - Display"
    """
    if list_displays:
        spaces, displays = display_choices()
        click.echo("colour spaces:\n  " + "\n  ".join(spaces))
        click.echo("displays (use DISPLAY or DISPLAY/VIEW; default view first):")
        for display in displays:
            click.echo(f"  {display}: " + ", ".join(display_views(display)))
        return
    if out is None and contact_sheet is None:
        raise click.UsageError("give -o/--out, --contact-sheet, or both")
    with progress_reporter("preview") as update:

        def report(p: PreviewProgress) -> None:
            update(p.frames_done, p.frames_total)

        written = render_preview(
            build_json,
            out,
            frames=frames,
            frame=frame,
            contact_sheet=contact_sheet,
            display=display,
            progress=report,
        )
    click.echo(str(written))
    if out is not None and contact_sheet is not None:
        click.echo(contact_sheet)
