"""aebridge init: generator records as their APIs document them, and camera controls.

The JSON here follows each generator's documented request and answer fields (see
docs/init.md for the sources); the values are made up.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import pytest

from aebridge.init.controls import camera_moves
from aebridge.init.readers import read_record
from aebridge.init.records import CameraControl, KeyImage, merge
from aebridge.model import MoveKind

RUNWAY_REQUEST: dict[str, Any] = {
    "model": "gen4_turbo",
    "promptImage": "https://assets.example.com/sh040/first_frame.png",
    "promptText": "slow push in on a rain-soaked street at dusk",
    "ratio": "1280:720",
    "duration": 5,
    "seed": 4040,
}
RUNWAY_TASK: dict[str, Any] = {
    "id": "17f20503-6c24-4c16-946b-35dbbce2af2f",
    "status": "SUCCEEDED",
    "createdAt": "2025-06-17T10:04:12.000Z",
    "output": [
        "https://dnznrvs05pmza.cloudfront.net/"
        "2d4f3c1e-5b6a-4c7d-8e9f-0a1b2c3d4e5f.mp4?_jwt=eyJhbGciOiJIUzI1NiJ9.e30.x"
    ],
}
KLING_REQUEST: dict[str, Any] = {
    "model_name": "kling-v1",
    "mode": "std",
    "duration": "5",
    "image": "https://assets.example.com/hero_start.png",
    "prompt": "a courier in a yellow raincoat turns to camera",
    "negative_prompt": "blurry",
    "cfg_scale": 0.5,
    "camera_control": {
        "type": "simple",
        "config": {
            "horizontal": 0,
            "vertical": 0,
            "pan": 0,
            "tilt": 0,
            "roll": 0,
            "zoom": 5,
        },
    },
}
KLING_RESULT: dict[str, Any] = {
    "code": 0,
    "message": "SUCCEED",
    "request_id": "CjikY2dnFUcAAAAAAByvxw",
    "data": {
        "task_id": "CjikY2dnFUcAAAAAAByvxw",
        "task_status": "succeed",
        "task_status_msg": "",
        "task_info": {"external_task_id": "sh040-hero"},
        "task_result": {
            "videos": [
                {
                    "id": "a1b7f3b2-0c3b-4e7e-9d59-3f7f2f0c1a11",
                    "url": "https://p1.a.kwimgs.com/bs2/upload-ylab-stunt/special-"
                    "effect/output/HB1_PROD_ai_web_46554461/-2878350957757294165/"
                    "output.mp4",
                    "duration": "5.1",
                }
            ]
        },
        "created_at": 1722769557708,
        "updated_at": 1722769618345,
    },
}
LUMA_GENERATION: dict[str, Any] = {
    "id": "d1968551-6113-4b46-b567-09210c2e79b0",
    "generation_type": "video",
    "state": "completed",
    "failure_reason": None,
    "created_at": "2025-03-04T18:12:33.000Z",
    "assets": {
        "video": "https://storage.cdn-luma.com/dream_machine/d1968551/video_0_d1968551.mp4",
        "image": "https://storage.cdn-luma.com/dream_machine/d1968551/video_0_thumb.jpg",
    },
    "model": "ray-2",
    "request": {
        "generation_type": "video",
        "prompt": "a lighthouse in a storm, waves breaking",
        "model": "ray-2",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": "5s",
        "loop": False,
        "keyframes": {
            "frame0": {"type": "image", "url": "https://example.com/kf/start.jpg"},
            "frame1": {"type": "generation", "id": "0f1d2c3b-aaaa-bbbb-cccc-1234"},
        },
        "concepts": [{"key": "dolly_zoom"}],
    },
}
VIDU_REQUEST: dict[str, Any] = {
    "model": "viduq1",
    "style": "anime",
    "prompt": "paper lanterns drifting over a river",
    "duration": 5,
    "seed": 0,
    "aspect_ratio": "16:9",
    "resolution": "1080p",
    "movement_amplitude": "auto",
}
VIDU_RESULT: dict[str, Any] = {
    "id": "8a7c1e55",
    "state": "success",
    "err_code": "",
    "creations": [
        {
            "id": "c-1",
            "url": "https://prod-ss-vidu.s3.amazonaws.com/infer/tasks/8a7c1e55.mp4"
            "?X-Amz-Signature=abc",
            "cover_url": "https://prod-ss-vidu.s3.amazonaws.com/cover.jpeg",
        }
    ],
}
REPLICATE_PREDICTION: dict[str, Any] = {
    "id": "gm3qorzdhgbfurvjtvhg6dckhu",
    "model": "wan-video/wan-2.2-i2v-fast",
    "version": "hidden",
    "input": {"prompt": "a fox runs through snow", "image": "https://x/fox.png"},
    "output": "https://replicate.delivery/xezq/fox_run.mp4",
    "status": "succeeded",
}


def test_a_runway_request_keeps_prompt_seed_model_and_the_first_image() -> None:
    record = read_record(RUNWAY_REQUEST, "request.json")
    assert record is not None
    assert (record.generator, record.kind, record.model) == (
        "runway",
        "request",
        "gen4_turbo",
    )
    assert record.prompt == RUNWAY_REQUEST["promptText"]
    assert record.seed == 4040
    assert record.size == (1280, 720)
    assert record.duration_s == 5
    assert record.keyframes == (
        KeyImage(
            position="first",
            uri="https://assets.example.com/sh040/first_frame.png",
            name="first_frame.png",
        ),
    )


def test_runway_prompt_images_with_positions_first_and_last() -> None:
    data = {
        **RUNWAY_REQUEST,
        "model": "gen3a_turbo",
        "ratio": "1280:768",
        "promptImage": [
            {"uri": "https://example.com/a.png", "position": "first"},
            {"uri": "https://example.com/b.png", "position": "last"},
        ],
    }
    record = read_record(data, "r.json")
    assert record is not None
    assert [(k.position, k.name) for k in record.keyframes] == [
        ("first", "a.png"),
        ("last", "b.png"),
    ]
    assert record.size == (1280, 768)


def test_a_runway_task_names_its_output_without_the_token() -> None:
    record = read_record(RUNWAY_TASK, "task.json")
    assert record is not None
    assert record.kind == "result"
    assert record.outputs == ("2d4f3c1e-5b6a-4c7d-8e9f-0a1b2c3d4e5f.mp4",)
    assert "_jwt" not in repr(record)
    merged = merge(read_record(RUNWAY_REQUEST, "request.json"), record)  # type: ignore[arg-type]
    assert merged.kind == "generation"
    assert merged.files == ("request.json", "task.json")
    assert merged.seed == 4040 and merged.outputs == record.outputs
    assert dict(merged.extra)["runway.task_id"] == RUNWAY_TASK["id"]


def test_an_inline_image_is_hashed_never_copied() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    data = {
        **RUNWAY_REQUEST,
        "promptImage": "data:image/png;base64," + base64.b64encode(png).decode(),
    }
    record = read_record(data, "r.json")
    assert record is not None
    (key,) = record.keyframes
    assert key.digest == hashlib.sha256(png).hexdigest()
    assert key.uri == f"data:image/png ({len(png)} bytes)"
    assert base64.b64encode(png).decode()[:40] not in repr(record)
    # Kling takes bare base64, without the data: prefix.
    kling = read_record(
        {**KLING_REQUEST, "image": base64.b64encode(png).decode()}, "k.json"
    )
    assert kling is not None
    assert kling.keyframes[0].digest == hashlib.sha256(png).hexdigest()


def test_a_kling_request_keeps_its_camera_control_as_given() -> None:
    record = read_record(KLING_REQUEST, "kling_request.json")
    assert record is not None
    assert (record.generator, record.model) == ("kling", "kling-v1")
    assert record.negative_prompt == "blurry"
    assert record.camera == CameraControl(
        generator="kling", type="simple", config=(("zoom", 5.0),)
    )
    assert record.camera.describe() == (
        "kling camera_control simple: zoom 5 (unitless, -10..10)"
    )
    assert [k.position for k in record.keyframes] == ["first"]


def test_a_kling_answer_names_its_video_and_ids() -> None:
    record = read_record(KLING_RESULT, "kling_task.json")
    assert record is not None
    assert record.outputs == ("output.mp4",)
    assert set(record.ids) == {
        "CjikY2dnFUcAAAAAAByvxw",
        "a1b7f3b2-0c3b-4e7e-9d59-3f7f2f0c1a11",
    }
    assert dict(record.extra)["kling.external_task_id"] == "sh040-hero"


def test_a_luma_generation_holds_its_request_and_keyframes() -> None:
    record = read_record(LUMA_GENERATION, "gen.json")
    assert record is not None
    assert (record.generator, record.kind, record.model) == (
        "luma",
        "generation",
        "ray-2",
    )
    assert record.prompt == "a lighthouse in a storm, waves breaking"
    assert record.outputs == ("video_0_d1968551.mp4",)
    assert record.duration_s == 5
    # frame0 is an image; frame1 another generation, kept as its id only.
    assert [(k.position, k.name) for k in record.keyframes] == [("first", "start.jpg")]
    extra = dict(record.extra)
    assert extra["luma.keyframes.frame1"] == "generation 0f1d2c3b-aaaa-bbbb-cccc-1234"
    assert extra["luma.concepts"] == "dolly_zoom"


def test_vidu_records_carry_a_style() -> None:
    request = read_record(VIDU_REQUEST, "vidu.json")
    result = read_record(VIDU_RESULT, "vidu_task.json")
    assert request is not None and result is not None
    assert request.style == "anime"
    assert request.seed is None  # Vidu: 0 means "pick one"
    assert result.outputs == ("8a7c1e55.mp4",)


def test_a_replicate_prediction() -> None:
    record = read_record(REPLICATE_PREDICTION, "pred.json")
    assert record is not None
    assert record.model == "wan-video/wan-2.2-i2v-fast"
    assert record.outputs == ("fox_run.mp4",)
    assert record.keyframes[0].name == "fox.png"


@pytest.mark.parametrize(
    "data",
    [
        {"schema": "aebridge.comp/1", "comp": {}},
        {"prompt": "no generator says it wrote this"},
        ["a", "list"],
        {"status": "SUCCEEDED"},
    ],
)
def test_json_no_reader_knows_is_not_a_record(data: Any) -> None:
    assert read_record(data, "x.json") is None


# -- the camera heuristic ----------------------------------------------------------


def test_kling_axes_map_to_moves_by_the_documented_directions() -> None:
    control = CameraControl(
        generator="kling",
        type="simple",
        config=(("horizontal", 10.0), ("tilt", -2.0), ("zoom", 5.0)),
    )
    moves, said = camera_moves(control, start=1001, end=1120, width=1280)
    kinds = {m.kind: m for m in moves}
    assert kinds[MoveKind.TRUCK].amount == pytest.approx(0.5 * 1280)
    assert kinds[MoveKind.TILT].amount == pytest.approx(-6.0)
    # Kling: positive zoom is a shorter focal length (wider), so the factor is < 1.
    assert kinds[MoveKind.ZOOM].amount == pytest.approx(math.sqrt(0.5))
    assert all((m.start, m.end) == (1001, 1120) for m in moves)
    assert "zoom 5 -> zoom by a factor 2^(-units/10)" in said


def test_a_kling_preset_turns_then_moves_forward() -> None:
    control = CameraControl(generator="kling", type="right_turn_forward")
    moves, said = camera_moves(control, start=1001, end=1021, width=1000)
    assert [(m.kind, m.start, m.end) for m in moves] == [
        (MoveKind.PAN, 1001, 1011),
        (MoveKind.DOLLY, 1011, 1021),
    ]
    assert moves[0].amount == pytest.approx(15.0)
    assert moves[1].amount == pytest.approx(250.0)
    assert said.startswith("preset right_turn_forward")


def test_a_control_of_one_frame_or_unknown_type_gives_no_move() -> None:
    control = CameraControl(generator="kling", type="simple", config=(("pan", 1.0),))
    assert camera_moves(control, start=1001, end=1001, width=100) == ((), "")
    odd = CameraControl(generator="kling", type="spiral")
    assert camera_moves(odd, start=1001, end=1010, width=100) == ((), "")
