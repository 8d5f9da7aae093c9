"""Reading generator records: the JSON a generator's API takes or answers, read into
one :class:`~aebridge.init.records.Record`.

A record is recognised by its fields, never by its file name. :data:`READERS` maps a
record kind to its reader, tried in order; each returns a :class:`Record` or None when
the JSON is not of its kind. The shapes come from each generator's documentation
(``docs/init.md`` lists the sources):

- Runway: the ``POST /v1/image_to_video`` body (``model``, ``promptImage`` as a URI
  or a list of ``{uri, position: first|last}``, ``promptText``, ``seed``, ``ratio``
  such as ``"1280:720"``, ``duration``) and the task from ``GET /v1/tasks/{id}``
  (``id``, ``status``, ``createdAt``, ``output``: URLs of the result).
- Kling: the ``POST /v1/videos/image2video`` (or ``text2video``) body
  (``model_name``, ``prompt``, ``negative_prompt``, ``image``, ``image_tail``,
  ``camera_control`` ``{type, config: {horizontal, vertical, pan, tilt, roll,
  zoom}}`` in -10..10, ``cfg_scale``, ``mode``, ``duration``) and the task answer
  (``data.task_id``, ``data.task_status``, ``data.task_result.videos[].url``).
- Luma Dream Machine: the generation object (``id``, ``state``, ``model``,
  ``assets.video``, ``request``) and its request (``prompt``, ``model``,
  ``keyframes.frame0``/``frame1`` as ``{type: image, url}`` or ``{type: generation,
  id}``, ``aspect_ratio``, ``resolution``, ``duration``, ``loop``, ``concepts``).
- Vidu: the request (``model``, ``style``, ``prompt``, ``images``, ``seed``,
  ``duration``, ``aspect_ratio``, ``resolution``, ``movement_amplitude``) and the
  task's ``creations`` answer (``id``, ``state``, ``creations[].url``).
- Replicate: a prediction (``id``, ``model``, ``version``, ``input``, ``output``).

URLs are kept without their query (which holds signatures and ``_jwt`` tokens);
inline images (data URIs, Kling's bare base64) are never copied, only hashed so the
image can be found in the folder by its bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit

from .records import KLING_AXES, CameraControl, KeyImage, Record

__all__ = ["READERS", "read_record"]

_RUNWAY_STATES = frozenset(
    {"PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"}
)
_KLING_STATES = frozenset({"submitted", "processing", "succeed", "failed"})
_LUMA_STATES = frozenset({"queued", "dreaming", "completed", "failed"})
_VIDU_STATES = frozenset({"created", "queueing", "processing", "success", "failed"})
_RATIO = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]+={0,2}$")


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _seconds(value: object) -> float | None:
    """``5``, ``"5"``, ``"5s"`` -> 5.0."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower().removesuffix("s").strip()
        try:
            seconds = float(text)
        except ValueError:
            return None
        return seconds if seconds > 0 else None
    return None


def _public(url: str) -> str:
    """A URL without its query and fragment (signatures, ``_jwt`` tokens)."""
    parts = urlsplit(url)
    if not parts.scheme:
        return url
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _url_name(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "file", "runway", "s3", "gs"):
        return None
    name = posixpath.basename(unquote(parts.path))
    return name or None


def _image(position: str, value: object) -> KeyImage | None:
    """A KeyImage from a URL, a data URI or bare base64 (Kling accepts it)."""
    text = _text(value)
    if text is None:
        return None
    if text.startswith("data:"):
        head, _, payload = text.partition(",")
        mime = head[5:].split(";")[0] or "application/octet-stream"
        data = _decode(payload) if ";base64" in head else unquote(payload).encode()
        if data is None:
            return KeyImage(position=position, uri=f"data:{mime} (unreadable)")
        return KeyImage(
            position=position,
            uri=f"data:{mime} ({len(data)} bytes)",
            digest=hashlib.sha256(data).hexdigest(),
        )
    name = _url_name(text)
    if name is not None:
        return KeyImage(position=position, uri=_public(text), name=name)
    if len(text) > 64 and _BASE64.match(text):
        data = _decode(text)
        if data is not None:
            return KeyImage(
                position=position,
                uri=f"base64 image ({len(data)} bytes)",
                digest=hashlib.sha256(data).hexdigest(),
            )
    # A bare file name or relative path (a hand-written record).
    return KeyImage(position=position, uri=text, name=posixpath.basename(text))


def _decode(payload: str) -> bytes | None:
    try:
        return base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _extra(
    generator: str, data: Mapping[str, Any], keys: Iterable[str]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key in keys:
        value = data.get(key)
        if value is None or value == "" or value == [] or value == {}:
            continue
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, sort_keys=True, ensure_ascii=False)
        )
        out.append((f"{generator}.{key}", _public(text) if "://" in text else text))
    return out


def _ratio_size(value: object) -> tuple[int, int] | None:
    """Runway's ``ratio`` is the output size in pixels (``"1280:720"``)."""
    if not isinstance(value, str):
        return None
    m = _RATIO.match(value)
    if m is None:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    # Aspect ratios such as "16:9" (Kling, Luma) are no size.
    return (w, h) if w >= 100 and h >= 100 else None


# -- Runway ------------------------------------------------------------------------


def _runway_request(data: Mapping[str, Any], file: str) -> Record | None:
    model = _text(data.get("model"))
    looks = "promptImage" in data or (
        model is not None
        and model.startswith(("gen3", "gen4", "veo", "act_"))
        and ("promptText" in data or "ratio" in data)
    )
    if not looks:
        return None
    keys: list[KeyImage] = []
    prompt_image = data.get("promptImage")
    if isinstance(prompt_image, str):
        key = _image("first", prompt_image)
        keys.extend([key] if key else [])
    elif isinstance(prompt_image, list):
        for item in prompt_image:
            if isinstance(item, Mapping):
                position = item.get("position", "first")
                if position in ("first", "last"):
                    key = _image(str(position), item.get("uri"))
                    keys.extend([key] if key else [])
    return Record(
        files=(file,),
        generator="runway",
        kind="request",
        model=model,
        prompt=_text(data.get("promptText")),
        seed=_int(data.get("seed")),
        keyframes=tuple(keys),
        duration_s=_seconds(data.get("duration")),
        size=_ratio_size(data.get("ratio")),
        extra=tuple(_extra("runway", data, ("ratio", "duration", "contentModeration"))),
    )


def _runway_task(data: Mapping[str, Any], file: str) -> Record | None:
    if not (
        data.get("status") in _RUNWAY_STATES and "id" in data and "createdAt" in data
    ):
        return None
    output = data.get("output")
    outputs: list[Any] = output if isinstance(output, list) else []
    names = [n for n in (_url_name(u) for u in outputs if isinstance(u, str)) if n]
    extra = [
        ("runway.task_id", str(data["id"])),
        ("runway.status", str(data["status"])),
    ]
    extra += _extra("runway", data, ("createdAt", "failure", "failureCode"))
    return Record(
        files=(file,),
        generator="runway",
        kind="result",
        outputs=tuple(names),
        ids=(str(data["id"]),),
        extra=tuple(extra),
    )


# -- Kling -------------------------------------------------------------------------


def _kling_camera(value: object) -> CameraControl | None:
    if not isinstance(value, Mapping):
        return None
    kind = _text(value.get("type")) or "simple"
    config = value.get("config")
    axes: list[tuple[str, float]] = []
    if isinstance(config, Mapping):
        for axis in KLING_AXES:
            amount = config.get(axis)
            if (
                isinstance(amount, (int, float))
                and not isinstance(amount, bool)
                and amount != 0
            ):
                axes.append((axis, float(amount)))
    if kind == "simple" and not axes:
        return None
    return CameraControl(generator="kling", type=kind, config=tuple(axes))


def _kling_request(data: Mapping[str, Any], file: str) -> Record | None:
    model = _text(data.get("model_name")) or _text(data.get("model"))
    looks = (model is not None and model.startswith("kling")) or (
        "camera_control" in data or "image_tail" in data
    )
    if not looks:
        return None
    keys = [
        key
        for key in (
            _image("first", data.get("image")),
            _image("last", data.get("image_tail")),
        )
        if key is not None
    ]
    extra = _extra(
        "kling",
        data,
        ("mode", "duration", "aspect_ratio", "cfg_scale", "external_task_id"),
    )
    if data.get("static_mask") or data.get("dynamic_masks"):
        extra.append(("kling.motion_brush", "static_mask/dynamic_masks given"))
    camera = _kling_camera(data.get("camera_control"))
    if camera is not None:
        extra += _extra("kling", data, ("camera_control",))
    return Record(
        files=(file,),
        generator="kling",
        kind="request",
        model=model,
        prompt=_text(data.get("prompt")),
        negative_prompt=_text(data.get("negative_prompt")),
        keyframes=tuple(keys),
        camera=camera,
        duration_s=_seconds(data.get("duration")),
        extra=tuple(extra),
    )


def _kling_result(data: Mapping[str, Any], file: str) -> Record | None:
    body = data.get("data") if isinstance(data.get("data"), Mapping) else data
    if not (
        isinstance(body, Mapping)
        and "task_id" in body
        and body.get("task_status") in _KLING_STATES
    ):
        return None
    result = body.get("task_result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    names: list[str] = []
    ids = [str(body["task_id"])]
    duration = None
    for video in videos if isinstance(videos, list) else []:
        if not isinstance(video, Mapping):
            continue
        name = _url_name(str(video.get("url", "")))
        names.extend([name] if name else [])
        if video.get("id") is not None:
            ids.append(str(video["id"]))
        duration = duration or _seconds(video.get("duration"))
    extra = [
        ("kling.task_id", str(body["task_id"])),
        ("kling.task_status", str(body["task_status"])),
    ]
    info = body.get("task_info")
    if isinstance(info, Mapping):
        extra += _extra("kling", info, ("external_task_id",))
    return Record(
        files=(file,),
        generator="kling",
        kind="result",
        outputs=tuple(names),
        ids=tuple(ids),
        duration_s=duration,
        extra=tuple(extra),
    )


# -- Luma --------------------------------------------------------------------------


def _luma_keys(value: object) -> tuple[list[KeyImage], list[tuple[str, str]]]:
    keys: list[KeyImage] = []
    extra: list[tuple[str, str]] = []
    if not isinstance(value, Mapping):
        return keys, extra
    for slot, position in (("frame0", "first"), ("frame1", "last")):
        item = value.get(slot)
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "generation" or "gen_id" in item:
            # Another generation's frame: no image to show, keep its id.
            extra.append(
                (
                    f"luma.keyframes.{slot}",
                    f"generation {item.get('id', item.get('gen_id'))}",
                )
            )
            continue
        key = _image(position, item.get("url", item.get("imageUrl")))
        keys.extend([key] if key else [])
    return keys, extra


def _luma_fields(data: Mapping[str, Any], file: str, kind: str) -> Record:
    """A Luma generation request's fields (the request alone, or inside a
    generation object)."""
    keys, extra = _luma_keys(data.get("keyframes"))
    extra += _extra("luma", data, ("aspect_ratio", "resolution", "duration", "loop"))
    concepts = data.get("concepts")
    if isinstance(concepts, list):
        names = [str(c.get("key")) for c in concepts if isinstance(c, Mapping)]
        if names:
            extra.append(("luma.concepts", ", ".join(names)))
    return Record(
        files=(file,),
        generator="luma",
        kind=kind,
        model=_text(data.get("model")),
        prompt=_text(data.get("prompt")),
        negative_prompt=_text(data.get("negative_prompt")),
        keyframes=tuple(keys),
        duration_s=_seconds(data.get("duration")),
        extra=tuple(extra),
    )


def _luma_request(data: Mapping[str, Any], file: str) -> Record | None:
    model = _text(data.get("model"))
    keyframes = data.get("keyframes")
    looks = (model is not None and model.startswith("ray")) or (
        isinstance(keyframes, Mapping) and ({"frame0", "frame1"} & set(keyframes))
    )
    return _luma_fields(data, file, "request") if looks else None


def _luma_generation(data: Mapping[str, Any], file: str) -> Record | None:
    if not (
        data.get("state") in _LUMA_STATES
        and ("assets" in data or "request" in data or "generation_type" in data)
    ):
        return None
    request = data.get("request")
    inner = _luma_fields(request if isinstance(request, Mapping) else {}, file, "")
    assets = data.get("assets")
    video = assets.get("video") if isinstance(assets, Mapping) else None
    name = _url_name(video) if isinstance(video, str) else None
    extra = [
        *inner.extra,
        ("luma.id", str(data.get("id"))),
        ("luma.state", str(data["state"])),
    ]
    return replace(
        inner,
        kind="generation",
        model=_text(data.get("model")) or inner.model,
        outputs=(name,) if name else (),
        ids=(str(data["id"]),) if data.get("id") else (),
        extra=tuple(extra),
    )


# -- Vidu --------------------------------------------------------------------------


def _vidu_request(data: Mapping[str, Any], file: str) -> Record | None:
    model = _text(data.get("model"))
    if not (model is not None and model.lower().startswith("vidu")):
        return None
    given = data.get("images")
    images: list[Any] = given if isinstance(given, list) else []
    keys = [
        key
        for key in (
            _image(position, image)
            for position, image in zip(("first", "last"), images, strict=False)
        )
        if key is not None
    ]
    return Record(
        files=(file,),
        generator="vidu",
        kind="request",
        model=model,
        prompt=_text(data.get("prompt")),
        seed=_int(data.get("seed")) or None,
        keyframes=tuple(keys),
        style=_text(data.get("style")),
        duration_s=_seconds(data.get("duration")),
        extra=tuple(
            _extra(
                "vidu",
                data,
                ("aspect_ratio", "resolution", "duration", "movement_amplitude"),
            )
        ),
    )


def _vidu_result(data: Mapping[str, Any], file: str) -> Record | None:
    creations = data.get("creations")
    if not (isinstance(creations, list) and data.get("state") in _VIDU_STATES):
        return None
    names: list[str] = []
    ids = [str(data["id"])] if data.get("id") else []
    for item in creations:
        if isinstance(item, Mapping):
            name = _url_name(str(item.get("url", "")))
            names.extend([name] if name else [])
            if item.get("id"):
                ids.append(str(item["id"]))
    return Record(
        files=(file,),
        generator="vidu",
        kind="result",
        outputs=tuple(names),
        ids=tuple(ids),
        extra=(("vidu.state", str(data["state"])),),
    )


# -- Replicate ---------------------------------------------------------------------


def _replicate(data: Mapping[str, Any], file: str) -> Record | None:
    inputs = data.get("input")
    if not (isinstance(inputs, Mapping) and "version" in data and "id" in data):
        return None
    output = data.get("output")
    urls = output if isinstance(output, list) else [output]
    names = [n for n in (_url_name(u) for u in urls if isinstance(u, str)) if n]
    keys = [
        key
        for key in (
            _image("first", inputs.get("image", inputs.get("start_image"))),
            _image("last", inputs.get("end_image", inputs.get("last_image"))),
        )
        if key is not None
    ]
    return Record(
        files=(file,),
        generator="replicate",
        kind="generation",
        model=_text(data.get("model")),
        prompt=_text(inputs.get("prompt")),
        negative_prompt=_text(inputs.get("negative_prompt")),
        seed=_int(inputs.get("seed")),
        keyframes=tuple(keys),
        outputs=tuple(names),
        ids=(str(data["id"]),),
        extra=tuple(
            [
                ("replicate.id", str(data["id"])),
                *_extra("replicate", data, ("version", "status")),
            ]
        ),
    )


Reader = Callable[[Mapping[str, Any], str], "Record | None"]

#: Record kind -> reader, tried in this order (results before requests, since a
#: Luma generation holds its request).
READERS: dict[str, Reader] = {
    "runway task": _runway_task,
    "runway request": _runway_request,
    "kling result": _kling_result,
    "kling request": _kling_request,
    "luma generation": _luma_generation,
    "luma request": _luma_request,
    "vidu result": _vidu_result,
    "vidu request": _vidu_request,
    "replicate prediction": _replicate,
}


def read_record(data: object, file: str) -> Record | None:
    """Read a parsed JSON document as a generator record.

    Args:
        data: the parsed JSON.
        file: its path relative to the folder (kept in the record).

    Returns:
        The record, or None when no reader recognises the JSON.
    """
    if not isinstance(data, Mapping):
        return None
    for reader in READERS.values():
        record = reader(data, file)
        if record is not None:
            return record
    return None
