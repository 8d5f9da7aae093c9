"""What one conversion is asked to do: :class:`ConvertOptions`, checked once.

A :class:`ConvertOptions` cannot exist with a value ``convert`` would refuse: its
constructor checks every option against what is allowed (raising the same
:class:`~aebridge.errors.OptionError` the command line shows, named by the option)
and normalises what has aliases (a compression, a colour space, a rate), so nothing
downstream checks them again. The command line and :func:`aebridge.convert` build
one from keywords; a build makes one from each layer's spec source
(:meth:`ConvertOptions.from_source`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import OptionError, SourceError
from ..model import (
    DEFAULT_COLORSPACE,
    AlphaMode,
    FieldMode,
    Orientation,
    Role,
    VfrPolicy,
    YuvMatrix,
)
from ..model.names import ID_ALLOWED, is_id
from ..timing import parse_rate

if TYPE_CHECKING:
    from ..model import LayerSource

__all__ = [
    "ALPHA_MODES",
    "DEFAULT_OUTPUT_COLORSPACE",
    "ROLES",
    "VFR_POLICIES",
    "ConvertOptions",
    "is_layer_name",
    "load_provenance",
]

#: The values of the model's enums, for callers that list them.
ALPHA_MODES: tuple[str, ...] = tuple(m.value for m in AlphaMode)
ROLES: tuple[str, ...] = tuple(m.value for m in Role)
VFR_POLICIES: tuple[str, ...] = tuple(m.value for m in VfrPolicy)
DEFAULT_OUTPUT_COLORSPACE = DEFAULT_COLORSPACE

E = TypeVar("E", bound=StrEnum)


def _choice(option: str, value: object, enum: type[E]) -> E:
    """``value`` as a member of ``enum``, or the OptionError naming ``option``."""
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    raise OptionError(option, value, [m.value for m in enum])


def is_layer_name(name: object) -> bool:
    """Whether ``name`` can name a layer's folder and files (``--name``): it is an
    id, as a spec's layer id is (:data:`aebridge.model.names.ID_PATTERN`)."""
    return is_id(name)


def _check_name(name: str) -> str:
    if not is_layer_name(name):
        raise OptionError(
            "--name", name, f"{ID_ALLOWED} (it becomes a folder and file name)"
        )
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertOptions:
    """One layer's conversion: the source, how to read it and what to write.

    Attributes:
        source: an image sequence (``fg.####.png``, ``fg.%04d.png``,
            ``fg.1001-1120#.png``, or a folder) or a movie (MP4, MOV, WebM).
        name: the layer name (an id: letters, digits, ``_ - .``, not ending in
            ``.``); frames go to ``<out>/<name>/<name>.<frame>.exr``.
        alpha: how the source stores alpha (``auto`` decides from the format).
        matte: a separate matte source (its alpha, or its luma when it has none).
        colorspace: the input colour space (OCIO name), instead of what the file
            declares; normalised to the config's name.
        output_colorspace: ``Linear Rec.709 (sRGB)`` (default) or ``ACEScg``.
        rate: the rate; None means the movie's own, or 24 for image sequences.
        start_frame: the number of the first output frame.
        padding: digits in frame numbers, 1 to 10.
        half: half float (default) or 32-bit float.
        compression: EXR compression (``aebridge.exr.COMPRESSIONS``); None means
            ``aebridge.exr.DEFAULT_COMPRESSION``, which it is set to.
        autocrop: crop the data window to the alpha bounding box.
        role: what the layer is for (recorded in headers and the sidecar).
        vfr: variable-rate movies: refuse, or resample to a constant rate.
        orientation: apply the orientation the file declares, or keep the pixels.
        part: EXR sources: the part (name or index) to read.
        view: EXR sources: the view to read.
        fields: interlaced movies: keep the woven fields or interpolate frames.
        yuv_matrix: YUV movies: the matrix to read them with instead of the tag
            (None: as tagged; untagged HD as BT.709, SD as BT.601).
        provenance: generator, model, prompt, seed, keyframes, camera_move, ...
        owner: the EXR ``owner`` attribute.
        comments: the EXR ``comments`` attribute.
        pixel_aspect: instead of the source's pixel aspect ratio.

    Raises:
        OptionError: an option has a value that is not allowed (named as on the
            command line, ``--alpha``).
    """

    source: str
    name: str
    alpha: AlphaMode = AlphaMode.AUTO
    matte: str | None = None
    colorspace: str | None = None
    output_colorspace: str = DEFAULT_OUTPUT_COLORSPACE
    rate: Fraction | None = None
    start_frame: int = 1001
    padding: int = 4
    half: bool = True
    compression: str | None = None
    autocrop: bool = False
    role: Role = Role.ELEMENT
    vfr: VfrPolicy = VfrPolicy.REFUSE
    orientation: Orientation = Orientation.APPLY
    part: str | None = None
    view: str | None = None
    fields: FieldMode = FieldMode.KEEP
    yuv_matrix: YuvMatrix | None = None
    provenance: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    owner: str | None = None
    comments: str | None = None
    pixel_aspect: Fraction | None = None

    def __post_init__(self) -> None:
        from .. import colour, exr

        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("source", os.fspath(self.source))
        _check_name(self.name)
        put("alpha", _choice("--alpha", self.alpha, AlphaMode))
        put("role", _choice("--role", self.role, Role))
        put("vfr", _choice("--vfr", self.vfr, VfrPolicy))
        put(
            "compression",
            exr.validate_compression(
                exr.DEFAULT_COMPRESSION
                if self.compression is None
                else self.compression
            ),
        )
        output = colour.validate_colorspace(
            self.output_colorspace, option="--output-colorspace"
        )
        if output not in colour.OUTPUT_COLORSPACES:
            raise OptionError("--output-colorspace", output, colour.OUTPUT_COLORSPACES)
        put("output_colorspace", output)
        if not 1 <= self.padding <= 10:
            raise OptionError("--padding", self.padding, "1 to 10")
        if self.start_frame < 0:
            raise OptionError("--start-frame", self.start_frame, "0 or more")
        if self.matte is not None:
            put("matte", os.fspath(self.matte))
            if self.alpha not in (AlphaMode.AUTO, AlphaMode.STRAIGHT):
                raise OptionError(
                    "--alpha",
                    self.alpha.value,
                    "auto or straight with --matte (the matte becomes the alpha; "
                    "colour is treated as straight)",
                )
        if self.rate is not None:
            put("rate", parse_rate(self.rate, option="--fps"))
        if self.colorspace is not None:
            put(
                "colorspace",
                colour.validate_colorspace(self.colorspace, option="--colorspace"),
            )
        put("orientation", _choice("--orientation", self.orientation, Orientation))
        put("fields", _choice("--fields", self.fields, FieldMode))
        if self.yuv_matrix is not None:
            put("yuv_matrix", _choice("--yuv-matrix", self.yuv_matrix, YuvMatrix))
        if self.pixel_aspect is not None:
            put("pixel_aspect", Fraction(self.pixel_aspect))
        put("provenance", MappingProxyType(dict(self.provenance)))

    def probe_arguments(self) -> dict[str, Any]:
        """How :func:`aebridge.ingest.probe` must read the source for these options
        (its keyword arguments, the matte's aside)."""
        return {
            "vfr": self.vfr.value,
            "rate": self.rate,
            "colorspace": self.colorspace,
            "orientation": self.orientation.value,
            "part": self.part,
            "view": self.view,
            "fields": self.fields.value,
            "yuv_matrix": None if self.yuv_matrix is None else self.yuv_matrix.value,
        }

    def matte_probe_arguments(self) -> dict[str, Any]:
        """How :func:`aebridge.ingest.probe` must read the separate matte.

        Its colour space does not matter (its values become alpha), so its transfer
        is never a reason to refuse it. Its frames line up with the source's: the
        same rate, orientation and field handling (an interlaced matte kept woven
        would comb the alpha of interpolated frames).
        """
        return {
            "vfr": self.vfr.value,
            "rate": self.rate,
            "colorspace": "Raw",
            "orientation": self.orientation.value,
            "fields": self.fields.value,
            "matte": True,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only provenance (a mappingproxy) does not pickle: the fields go
        # with the provenance as a dict, and the constructor checks and wraps them
        # again, so options travel to process pools and Dask workers.
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["provenance"] = dict(self.provenance)
        return (_from_fields, (values,))

    @classmethod
    def from_source(
        cls,
        source: LayerSource,
        *,
        name: str,
        rate: Fraction | None,
        start_frame: int,
        role: Role,
        provenance: Mapping[str, Any],
        comments: str | None,
    ) -> ConvertOptions:
        """The options a comp spec's layer source asks for.

        Args:
            source: the layer's source, paths resolved.
            name: the layer id.
            rate: the rate to convert at (the source's, or the comp's for an image
                sequence that gives none); None for a movie's own rate.
            start_frame: the comp's first frame.
            role: the layer's role.
            provenance: the provenance written into the headers.
            comments: the EXR ``comments`` attribute (the layer's comment).
        """
        return cls(
            source=source.path,
            name=name,
            alpha=source.alpha,
            matte=source.matte,
            colorspace=source.colorspace,
            rate=rate,
            start_frame=start_frame,
            role=role,
            vfr=source.vfr,
            provenance=provenance,
            comments=comments,
            pixel_aspect=source.pixel_aspect,
            orientation=source.orientation or Orientation.APPLY,
            fields=source.fields or FieldMode.KEEP,
            part=source.part,
            view=source.view,
            yuv_matrix=source.yuv_matrix,
        )


def _from_fields(values: dict[str, Any]) -> ConvertOptions:
    """ConvertOptions from its fields (unpickling)."""
    return ConvertOptions(**values)


def load_provenance(
    sidecar: str | os.PathLike[str] | None, meta: Mapping[str, str] | None
) -> dict[str, Any]:
    """Merge provenance from a JSON sidecar file and ``--meta key=value`` pairs.

    Args:
        sidecar: a JSON object file (``generator``, ``model``, ``prompt``, ``seed``,
            ``keyframes``, ``camera_move``, ``style_id``, anything else is kept too).
        meta: key/value pairs that override the sidecar's.

    Returns:
        The merged mapping, keys sorted.

    Raises:
        SourceError: the sidecar is missing, not JSON, or not an object.
    """
    merged: dict[str, Any] = {}
    if sidecar is not None:
        path = Path(sidecar)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SourceError("provenance file not found", path=str(path)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"cannot read provenance file: {exc}", path=str(path)
            ) from exc
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"provenance file is not valid JSON (line {exc.lineno}, column "
                f"{exc.colno}: {exc.msg})",
                path=str(path),
            ) from exc
        if not isinstance(data, dict):
            raise SourceError(
                "provenance file must hold a JSON object such as "
                '{"generator": "...", "prompt": "...", "seed": 7}',
                path=str(path),
            )
        merged.update(data)
    for key, value in (meta or {}).items():
        if not key or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise OptionError(
                "--meta", f"{key}={value}", "KEY=VALUE with KEY like prompt"
            )
        merged[key] = value
    return dict(sorted(merged.items()))
