"""Generator records: what a generator's request or answer says, in one shape.

:class:`Record` holds what aebridge keeps of a record (model, prompt, seed,
conditioning images, camera control, outputs, ids), with :class:`KeyImage` and
:class:`CameraControl`; :func:`merge` joins a request with its result.
:mod:`.readers` reads each generator's documented JSON into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GENERATORS",
    "KLING_AXES",
    "CameraControl",
    "KeyImage",
    "Record",
    "merge",
]

#: Generator id (as written in provenance) -> its name for people.
GENERATORS: dict[str, str] = {
    "runway": "Runway",
    "kling": "Kling",
    "luma": "Luma",
    "vidu": "Vidu",
    "replicate": "Replicate",
}

#: Kling's camera_control.config axes, in its documented order.
KLING_AXES: tuple[str, ...] = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyImage:
    """An image a generation was conditioned on, at its first or last frame.

    Attributes:
        position: ``"first"`` or ``"last"``.
        uri: the image as the record gives it: a URL without its query, or a short
            description of inline data (``"data:image/png (5120 bytes)"``).
        name: the file name a URL ends in, to find the image in the folder.
        digest: SHA-256 of inline image bytes, to find the image by content.
    """

    position: str
    uri: str | None = None
    name: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraControl:
    """A generator's camera control as given: unitless numbers, no easing.

    Attributes:
        generator: whose control it is (``kling``).
        type: the control's type (Kling: ``simple`` or a preset such as
            ``down_back``).
        config: the non-zero axes and their values, in the generator's order.
    """

    generator: str
    type: str
    config: tuple[tuple[str, float], ...] = ()

    def describe(self) -> str:
        """One line for provenance: ``kling camera_control simple: zoom 5 ...``."""
        axes = ", ".join(f"{axis} {_num(value)}" for axis, value in self.config)
        detail = f": {axes}" if axes else ""
        return (
            f"{self.generator} camera_control {self.type}{detail} (unitless, -10..10)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """What one generator record (or a request and its result together) says.

    Attributes:
        files: the JSON file(s) it came from, relative to the folder.
        generator: ``runway``, ``kling``, ``luma``, ``vidu`` or ``replicate``.
        kind: ``request``, ``result`` or ``generation`` (both).
        model: the model asked for.
        prompt: the text prompt.
        negative_prompt: the negative prompt.
        seed: the seed.
        keyframes: conditioning images at the first/last frame.
        camera: a camera control.
        style: a style the generator names (Vidu's ``style``).
        outputs: file names the result's URLs end in (to find the clip).
        ids: task, generation and video ids (to find a clip named after one).
        duration_s: the length asked for, in seconds.
        size: the pixel size asked for (Runway's ``ratio`` is one).
        extra: any other field worth keeping, as ``generator.field`` text pairs.
    """

    files: tuple[str, ...]
    generator: str
    kind: str
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    keyframes: tuple[KeyImage, ...] = ()
    camera: CameraControl | None = None
    style: str | None = None
    outputs: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    duration_s: float | None = None
    size: tuple[int, int] | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def merge(request: Record, result: Record) -> Record:
    """One generation from a request and the result it produced.

    Args:
        request: the request record.
        result: the result (task) record of the same generator.

    Returns:
        A ``generation`` record: the request's fields, the result's outputs, ids and
        any field only the result has.
    """

    def pick(a: Any, b: Any) -> Any:
        return a if a not in (None, ()) else b

    return Record(
        files=request.files + result.files,
        generator=request.generator,
        kind="generation",
        model=pick(request.model, result.model),
        prompt=pick(request.prompt, result.prompt),
        negative_prompt=pick(request.negative_prompt, result.negative_prompt),
        seed=pick(request.seed, result.seed),
        keyframes=pick(request.keyframes, result.keyframes),
        camera=pick(request.camera, result.camera),
        style=pick(request.style, result.style),
        outputs=result.outputs + request.outputs,
        ids=result.ids + request.ids,
        duration_s=pick(request.duration_s, result.duration_s),
        size=pick(request.size, result.size),
        extra=tuple(sorted(dict(request.extra + result.extra).items())),
    )
