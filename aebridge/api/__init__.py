"""build(): the one function that runs the whole chain for a comp spec.

It validates the spec, converts every layer to an EXR sequence under
``out/<comp>/layers/<layer id>/``, writes the After Effects script
``out/<comp>/<comp>.jsx`` and ``out/<comp>/build.json`` (the spec as built: every layer
source replaced by its EXR sequence, paths relative to the comp folder, plus the build
id, spec hash, aebridge version, per-layer source hashes and warnings), and optionally
renders a preview movie. Everything it writes is deterministic, so a re-run on the same
inputs rewrites the same bytes (and convert skips the frames that are up to date).

Modules: ``chain`` (:func:`build`, its progress and result), ``layers`` (one layer:
its conversion options, its conversion, its build.json entry), ``sources`` (reading
the spec; :func:`check_sources`, what only the media can tell).
"""

from __future__ import annotations

from ..build_io import BUILD_SCHEMA
from .chain import STAGES, BuildProgress, BuildResult, build
from .layers import BuiltLayer
from .sources import check_sources

__all__ = [
    "BUILD_SCHEMA",
    "STAGES",
    "BuildProgress",
    "BuildResult",
    "BuiltLayer",
    "build",
    "check_sources",
]
