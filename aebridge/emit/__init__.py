"""The Python side of the ExtendScript: the build plan (data) and the script text.

:func:`build_plan` turns a comp spec and its converted EXR sequences into the one data
literal ``jsx/aebridge.jsx`` reads (``jsx/PLAN.md``); :func:`render_script` wraps the
library, the literal and one call into a self-contained script; :func:`write_script`
does both and writes the file; :mod:`aebridge.emit.plan_schema` derives the plan's
JSON Schema. Nothing here imports numpy, OpenImageIO or PyAV.
"""

from __future__ import annotations

from .plan import PLAN_SCHEMA, build_plan, default_build_id
from .script import library_path, library_source, render_script, write_script

__all__ = [
    "PLAN_SCHEMA",
    "build_plan",
    "default_build_id",
    "library_path",
    "library_source",
    "render_script",
    "write_script",
]
