"""aebridge: generated video layers to scene-linear EXR and an After Effects comp.

The package imports in dependency order: errors and timing first, then the comp model,
then the pixel pipeline, then the assembly and the front ends (CLI, service). Heavy
modules (OpenImageIO, PyAV) load only when a function that needs them is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    AebridgeError,
    CanceledError,
    EngineError,
    InitError,
    MissingExtraError,
    OptionError,
    OutputError,
    Problem,
    SourceError,
    SpecError,
)

__all__ = [
    "AebridgeError",
    "CanceledError",
    "EngineError",
    "InitError",
    "MissingExtraError",
    "OptionError",
    "OutputError",
    "Problem",
    "SourceError",
    "SpecError",
    "__version__",
    "convert",
    "init_spec",
]

if TYPE_CHECKING:
    from . import convert as _convert_package
    from .init import init_spec

    # The package, callable as its convert() function (see __getattr__).
    convert: _convert_package._ConvertModule


def __getattr__(name: str) -> Any:
    # Lazy so that `import aebridge` (and JSX emission) does not load OpenImageIO.
    if name == "convert":
        # The package, which is callable as its convert() function: importing it
        # binds this name to the package, so handing back the function would make
        # aebridge.convert one object on first access and another after.
        import importlib

        return importlib.import_module(".convert", __name__)
    if name == "init_spec":
        from .init import init_spec

        return init_spec
    raise AttributeError(f"module 'aebridge' has no attribute {name!r}")
