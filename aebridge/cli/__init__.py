"""The ``aebridge`` command: a thin click layer over the library.

Each command lives in its own module in this package; this module only assembles the
group and turns :class:`~aebridge.errors.AebridgeError` into a message and exit code 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .._version import __version__
from ..errors import AebridgeError, SpecError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """Turns user mistakes (AebridgeError) into one clear message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except AebridgeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo(
                "interrupted; finished frames are kept, re-run to resume", err=True
            )
            sys.exit(130)


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="aebridge")
def main() -> None:
    """Turn generated video layers into premultiplied scene-linear EXR sequences and
    an After Effects comp script.

    \b
    Examples:
      aebridge convert runs/fg.####.png -o out --name fg --alpha straight --fps 24
      aebridge inspect out/fg
      aebridge init downloads/sh040 -o sh040/comp.json
      aebridge validate shot/comp.json
      aebridge build shot/comp.json -o out --preview
      aebridge preview out/sh010/build.json --contact-sheet sheet.png
      aebridge serve
    """


def _register() -> None:
    from . import convert as _convert

    main.add_command(_convert.convert_cmd)
    main.add_command(_convert.inspect_cmd)

    from . import preview as _preview

    main.add_command(_preview.preview_cmd)

    from . import build as _build

    main.add_command(_build.validate_cmd)
    main.add_command(_build.build_cmd)

    from . import init as _init

    main.add_command(_init.init_cmd)

    from . import serve as _serve

    main.add_command(_serve.serve_cmd)
    main.add_command(_serve.watch_cmd)

    from . import otio as _otio

    main.add_command(_otio.otio_cmd)


_register()
