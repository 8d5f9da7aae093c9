"""Convert one layer: a frame source (plus an optional matte) to an EXR sequence.

The output is ``out_dir/<name>/<name>.<frame>.exr``, numbered from ``start_frame``
(1001) with padding 4 and no gaps, premultiplied, scene-linear, half float by default,
with the metadata described in ``docs/exr-metadata.md``, plus a sidecar
``<name>.aebridge.json`` that describes the sequence (After Effects shows no custom EXR
header attributes, so provenance is kept beside the frames as well).

Frames are converted in chunks on an engine (a local process pool by default, Dask on
request). A movie's chunks start at keyframes, since a chunk decodes from the keyframe
before it; a movie that makes a single chunk (a generated clip often has one keyframe)
runs in this process. A chunk with cores to spare overlaps its stages on threads:
each source decodes on its own thread, frames are converted and written by a small
pool. Each frame is written under a temporary name and renamed, so an interrupted run
never leaves a truncated file that looks complete, and a re-run skips every frame
whose header already records the same source hash and settings.

Modules, one concern each: ``options`` (:class:`ConvertOptions`, checked once),
``run`` (:func:`convert_layer` and its keyword form :func:`convert`: probe, decide,
run the chunks), ``chunks`` (the chunk worker), ``metadata`` (settings, header
attributes, the sidecar), ``resume`` (which frames are current; cleaning the output
folder), ``result`` (:class:`ConvertResult`).
"""

from __future__ import annotations

import sys
import types

from .metadata import (
    EXR_METADATA_SCHEMA,
    PIPELINE_VERSION,
    PROVENANCE_KEYS,
    SIDECAR_SCHEMA,
    read_sidecar,
)
from .options import (
    ALPHA_MODES,
    DEFAULT_OUTPUT_COLORSPACE,
    ROLES,
    VFR_POLICIES,
    ConvertOptions,
    is_layer_name,
    load_provenance,
)
from .result import ConvertResult, light_report, light_warning
from .run import ProgressCallback, check_matte, convert, convert_layer

__all__ = [
    "ALPHA_MODES",
    "DEFAULT_OUTPUT_COLORSPACE",
    "EXR_METADATA_SCHEMA",
    "PIPELINE_VERSION",
    "PROVENANCE_KEYS",
    "ROLES",
    "SIDECAR_SCHEMA",
    "VFR_POLICIES",
    "ConvertOptions",
    "ConvertResult",
    "ProgressCallback",
    "check_matte",
    "convert",
    "convert_layer",
    "is_layer_name",
    "light_report",
    "light_warning",
    "load_provenance",
    "read_sidecar",
]


class _ConvertModule(types.ModuleType):
    """This package, callable as :func:`convert`.

    ``aebridge.convert`` is both this package and, as the README shows, the
    function (``aebridge.convert("fg.####.png", "out", name="fg")``). Once the
    package is imported, Python binds the name ``aebridge.convert`` to the package,
    so a second call, or a first one after a build imported the package, called a
    module. Calling the package calls the function.
    """

    # The function itself (not a wrapper taking *args), so type checkers check a
    # call of the package against convert()'s own parameters.
    __call__ = staticmethod(convert)


sys.modules[__name__].__class__ = _ConvertModule
