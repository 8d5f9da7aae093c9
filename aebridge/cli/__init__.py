"""The ``aebridge`` command: a thin click layer over the library.

Each command lives in its own module in this package; this module only assembles the
group and turns :class:`~aebridge.errors.AebridgeError` into a message and exit code 1.
A command's module is imported when that command is looked up (run, or listed by
``--help``), so ``aebridge convert`` does not load the spec reader, the previewer or
the service.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .._version import __version__
from ..errors import AebridgeError, SpecError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


#: Each command's name, and the module of this package and the name it is defined by.
_COMMANDS: dict[str, tuple[str, str]] = {
    "convert": ("convert", "convert_cmd"),
    "inspect": ("convert", "inspect_cmd"),
    "preview": ("preview", "preview_cmd"),
    "validate": ("build", "validate_cmd"),
    "build": ("build", "build_cmd"),
    "init": ("init", "init_cmd"),
    "serve": ("serve", "serve_cmd"),
    "watch": ("serve", "watch_cmd"),
    "otio": ("otio", "otio_cmd"),
}


class _Group(click.Group):
    """Loads each command with its module when it is looked up, and turns user
    mistakes (AebridgeError) into one clear message, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            # A name that is no command loads them all: click suggests the nearest
            # of the commands it has ("Did you mean 'convert'?").
            for name in [cmd_name] if cmd_name in _COMMANDS else list(_COMMANDS):
                if name not in self.commands:
                    where, attribute = _COMMANDS[name]
                    module = importlib.import_module(f".{where}", __name__)
                    self.add_command(getattr(module, attribute), name)
        return self.commands.get(cmd_name)

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
