"""POST /v1/specs/init: a spec from a folder in an input root, under the job sandbox."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from servicekit import Running, spec_for

from aebridge import synthetic


def _downloads(folder: Path) -> Path:
    """A tiny downloads folder: a plate, an RGB clip and its matte, a Runway task."""
    folder.mkdir(parents=True)
    common = {"frames": 3, "width": 64, "height": 36, "rate": Fraction(24)}
    synthetic.write_movie(folder / "bg_plate.mp4", pattern="gradient", **common)
    synthetic.write_movie(folder / "fg_rgb.mp4", pattern="disc", **common)
    synthetic.write_rvm_outputs(
        folder, frames=3, width=64, height=36, names=("unused", "fg_matte", None)
    )
    (folder / "unused.mp4").unlink()
    (folder / "task.json").write_text(
        json.dumps(
            {
                "id": "17f20503-6c24-4c16-946b-35dbbce2af2f",
                "status": "SUCCEEDED",
                "createdAt": "2025-06-17T10:04:12.000Z",
                "output": ["https://dnznrvs05pmza.cloudfront.net/bg_plate.mp4?_jwt=x"],
            }
        ),
        encoding="utf-8",
    )
    return folder


def test_init_answers_the_spec_and_its_decisions(server: Running, inputs: Path) -> None:
    folder = _downloads(inputs / "downloads" / "sh040")
    before = sorted(folder.iterdir())
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "downloads/sh040", "options": {"name": "sh040x"}},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["base_dir"] == "downloads/sh040"
    spec = answer["spec"]
    assert spec["comp"]["name"] == "sh040x"
    assert [layer["id"] for layer in spec["layers"]] == ["bg_plate", "fg"]
    assert spec["layers"][1]["source"] == {
        "path": "fg_rgb.mp4",
        "alpha": "straight",
        "matte": "fg_matte.mp4",
    }
    assert spec["layers"][0]["provenance"]["generator"] == "runway"
    assert [row["id"] for row in answer["layers"]] == ["bg_plate", "fg"]
    assert any(
        "fg_matte.mp4: the alpha of fg_rgb.mp4" in g["what"] for g in answer["guesses"]
    )
    # The answer is ready to submit as a job with the same base_dir.
    job = server.client.submit(spec, base_dir=answer["base_dir"])
    assert job["status"] in ("queued", "running", "succeeded")
    # Nothing was written on the server.
    assert sorted(folder.iterdir()) == before


def test_an_ambiguous_folder_is_a_422_problem_naming_the_files(
    server: Running, inputs: Path
) -> None:
    folder = inputs / "two"
    folder.mkdir()
    for name in ("bg_plate_v1.mp4", "bg_plate_v2.mp4"):
        synthetic.write_movie(folder / name, frames=2, width=64, height=36)
    response = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "two"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "init_refused"
    assert "bg_plate_v1.mp4 and bg_plate_v2.mp4" in problem["detail"]
    # What the client sends, not the command line's --plate.
    assert problem["detail"].endswith(
        'choose one with options.plate = "bg_plate_v1.mp4"'
    )
    assert "--" not in problem["detail"]
    ok = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "two", "options": {"plate": "bg_plate_v2.mp4"}},
    )
    assert ok.status_code == 200
    assert ok.json()["spec"]["layers"][0]["source"]["path"] == "bg_plate_v2.mp4"


def test_init_names_each_option_by_the_field_a_client_sends(
    server: Running, inputs: Path
) -> None:
    # init's guesses, warnings, files left out and refusals named the command line's
    # options (--plate FILE picks another, --rate RATE sets it, excluded
    # (--exclude)) to a client, who sends options.plate, options.rate, ...
    folder = _downloads(inputs / "sh041")
    synthetic.write_png_sequence(
        folder / "seq", "el", frames=3, width=64, height=36, pattern="solid"
    )
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "sh041", "options": {"camera": True, "exclude": ["task.json"]}},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    overrides = [g["override"] for g in answer["guesses"]]
    assert overrides[:3] == [
        '{"CLIP": "MATTE"} in options.pairs pairs differently, {"fg_rgb.mp4": '
        '"fg_matte.mp4"} in options.track_mattes makes it a track-matte layer',
        '"seq/el.####.png" in options.exclude leaves it out',
        "options.plate picks another",
    ]
    assert answer["warnings"][-2:] == [
        "el: seq/el.####.png is opaque and full-frame, so it would hide the plate; "
        'its layer is switched off ("seq/el.####.png" in options.exclude leaves it '
        'out, options.plate = "seq/el.####.png" makes it the plate)',
        "options.camera: no record in the folder carries a camera control; no "
        "camera is added",
    ]
    assert answer["left_out"] == [
        {"path": "task.json", "why": "excluded (options.exclude)"}
    ]
    said = json.dumps([answer["guesses"], answer["warnings"], answer["left_out"]])
    assert "--" not in said
    # Image sequences alone carry no rate: the guess says which field sets it.
    (inputs / "seqs").mkdir()
    synthetic.write_png_sequence(
        inputs / "seqs", "bg", frames=3, width=64, height=36, pattern="solid"
    )
    answer = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "seqs"}).json()
    assert {
        "what": "rate: 24 fps (image sequences carry none)",
        "override": "options.rate sets it",
    } in answer["guesses"]
    # A plate After Effects cannot hold: the refusal names the fields that settle it.
    (inputs / "tiny").mkdir()
    synthetic.write_movie(inputs / "tiny" / "bg_plate.mp4", frames=3, width=2, height=2)
    refused = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "tiny"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "init_refused"
    assert refused.json()["detail"].endswith(
        "; options.plate picks another clip (options.rate and options.name set those)"
    )


def test_the_command_line_and_the_request_take_the_options_of_one_table() -> None:
    import click

    from aebridge.cli.init import init_cmd
    from aebridge.init.spelling import OPTIONS, REQUEST
    from aebridge.service.initspec import REQUEST_SCHEMA

    flags = {p.name: p.opts for p in init_cmd.params if isinstance(p, click.Option)}
    assert {key: [option.flag] for key, option in OPTIONS.items()} == {
        key: opts for key, opts in flags.items() if key in OPTIONS
    }
    assert set(flags) - set(OPTIONS) == {"spec_path", "force"}
    fields = REQUEST_SCHEMA["properties"]["options"]["properties"]
    assert sorted(fields) == sorted(OPTIONS)
    assert [REQUEST.key_of(f"options.{key}") for key in fields] == list(fields)


@pytest.mark.parametrize(
    "folder",
    [
        "/tmp",
        "../outside",
        "missing",
        # Too long for the file system: is_dir() raised, a 500 internal_error.
        pytest.param("a" * 5000, id="name-too-long"),
    ],
)
def test_the_folder_must_be_a_folder_inside_the_roots(
    server: Running, folder: str
) -> None:
    response = httpx.post(f"{server.url}/v1/specs/init", json={"folder": folder})
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert problem["path"] == "folder"


@pytest.mark.parametrize(
    "value", ["/tmp", "../outside", "missing", "a" * 5000, "", 5], ids=repr
)
def test_a_folder_is_refused_in_the_same_words_by_jobs_and_init(
    server: Running, value: object
) -> None:
    """A job's base_dir and init's folder and base_dir are one idea (a folder
    inside an input root, relative to the first root or absolute) with one check:
    they were two copies whose words differed ("is not a folder" beside "is not a
    folder inside the input roots"; init's outside refusal said relative paths
    start at base_dir, which is wrong for base_dir itself)."""
    job = httpx.post(
        f"{server.url}/v1/jobs", json={"spec": spec_for(), "base_dir": value}
    )
    init = httpx.post(
        f"{server.url}/v1/specs/init", json={"folder": value, "base_dir": value}
    )
    assert job.status_code == init.status_code == 422
    assert job.json()["code"] == init.json()["code"] == "invalid_request"
    (at_base,) = job.json()["problems"]
    assert [p["path"] for p in init.json()["problems"]] == ["folder", "base_dir"]
    assert at_base["path"] == "base_dir"
    for problem in init.json()["problems"]:
        assert problem["message"] == at_base["message"]
    assert len(at_base["message"]) < 300
    if isinstance(value, str) and value:
        assert "relative to the first input root or absolute" in at_base["message"]


def test_a_file_that_leads_outside_the_roots_is_never_read(
    server: Running, inputs: Path, tmp_path: Path
) -> None:
    folder = _downloads(inputs / "sh050")
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    synthetic.write_movie(secret / "bg_plate_secret.mp4", frames=3, width=64, height=36)
    # In a subfolder: init leaves it out unread (the job sandbox's rule, per file).
    (folder / "more").mkdir()
    (folder / "more" / "zz_plate.mp4").symlink_to(secret / "bg_plate_secret.mp4")
    response = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "sh050"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {
        "path": "more/zz_plate.mp4",
        "why": "refused: it leads outside the input roots",
    } in answer["left_out"]
    assert all(
        "zz_plate" not in layer["source"]["path"] for layer in answer["spec"]["layers"]
    )
    # In the folder itself: left out unread the same way.
    (folder / "zz_plate.mp4").symlink_to(secret / "bg_plate_secret.mp4")
    again = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "sh050"})
    assert again.status_code == 200, again.text
    assert {
        "path": "zz_plate.mp4",
        "why": "refused: it leads outside the input roots",
    } in again.json()["left_out"]


def test_request_mistakes_are_reported_with_their_paths(
    server: Running, inputs: Path
) -> None:
    _downloads(inputs / "sh060")
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={
            "folder": "sh060",
            "colour": "yes",
            "options": {"camera": "yes", "pairs": ["a", "b"], "fast": True},
        },
    )
    assert response.status_code == 422
    paths = {p["path"] for p in response.json()["problems"]}
    assert paths == {"colour", "options.camera", "options.pairs", "options.fast"}
    unknown = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "sh060", "options": {"plate": "nope.mp4"}},
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "invalid_request"
    (problem,) = unknown.json()["problems"]
    assert problem["path"] == "options.plate"
    assert problem["message"] == (
        "'nope.mp4' is not allowed; allowed: a clip in the folder: bg_plate.mp4, "
        "fg_matte.mp4, fg_rgb.mp4"
    )


def test_option_values_are_refused_at_their_fields_all_at_once(
    server: Running, inputs: Path
) -> None:
    """A start frame past After Effects' latest start was refused in the command
    line's words (--start-frame: ...), alone: a bad name or rate beside it, or the
    start frame beside a bad name, came one request at a time. Every value the
    request alone tells is wrong is listed, each at its field."""
    _downloads(inputs / "sh065")
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={
            "folder": "sh065",
            "options": {
                "name": "",
                "style": "=Noir",
                "rate": "24",
                "start_frame": 2072137,
                "fast": True,
            },
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_request"
    found = {p["path"]: p["message"] for p in problem["problems"]}
    assert set(found) == {
        "options.fast",
        "options.name",
        "options.style",
        "options.start_frame",
    }
    assert found["options.start_frame"] == (
        "2072137 is not allowed; allowed: 0 to 2072136 (at 24 fps, 86339 s: "
        "23:59:00, the latest start After Effects gives a comp)"
    )
    assert "--" not in problem["detail"]
    assert problem["detail"].startswith("4 problems in the request:\n")
    # A rate no comp has, and a start frame too late at any rate, beside it.
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "sh065", "options": {"rate": "120", "start_frame": 10**9}},
    )
    assert response.status_code == 422
    found = {p["path"]: p["message"] for p in response.json()["problems"]}
    assert found == {
        "options.rate": "'120' is not allowed; allowed: 1 to 99 fps (After "
        "Effects' comp rates)",
        "options.start_frame": "1000000000 is not allowed; allowed: 0 to 8547561 "
        "(at 99 fps, 86339 s: 23:59:00, the latest start After Effects gives a "
        "comp), fewer at a lower rate",
    }


def test_a_start_frame_too_late_at_the_plates_rate_names_the_field(
    server: Running, inputs: Path
) -> None:
    _downloads(inputs / "sh066")
    response = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "sh066", "options": {"start_frame": 2072137}},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    (problem,) = response.json()["problems"]
    assert problem == {
        "path": "options.start_frame",
        "message": "2072137 is not allowed; allowed: 0 to 2072136 (at 24 fps, "
        "86339 s: 23:59:00, the latest start After Effects gives a comp)",
        "severity": "error",
    }
    ok = httpx.post(
        f"{server.url}/v1/specs/init",
        json={"folder": "sh066", "options": {"start_frame": 2072136}},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["spec"]["comp"]["start_frame"] == 2072136


def test_the_client_asks_for_a_spec(server: Running, inputs: Path) -> None:
    from aebridge.client import InvalidRequestError

    _downloads(inputs / "sh070")
    answer = server.client.init_spec("sh070", guides=True, style="noir-01=Noir")
    assert answer["spec"]["comp"]["keyframe_guides"] is True
    assert answer["spec"]["style"] == {"id": "noir-01", "name": "Noir"}
    with pytest.raises(InvalidRequestError) as caught:
        server.client.init_spec("sh070", exclude=["bg_plate.mp4", "fg_rgb.mp4"])
    assert caught.value.code == "init_refused"
    assert "fg_matte.mp4 is a matte" in str(caught.value)


def test_every_read_init_makes_goes_through_the_read_sandbox(tmp_path: Path) -> None:
    # The service runs init under the job sandbox; a record or subfolder that is a
    # link leading outside (swapped in after the per-file checks) must be refused
    # when it is read, not read.
    from aebridge.init.discover import scan
    from aebridge.sandbox import PathOutsideRootsError, active, sandbox_for

    root = tmp_path / "in"
    folder = _downloads(root / "sh080")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"status": "SUCCEEDED"}', encoding="utf-8")
    (folder / "task.json").unlink()
    (folder / "task.json").symlink_to(outside / "secret.json")
    with active(sandbox_for([root])), pytest.raises(PathOutsideRootsError):
        scan(folder)
    (folder / "task.json").unlink()
    (folder / "more").symlink_to(outside, target_is_directory=True)
    with active(sandbox_for([root])), pytest.raises(PathOutsideRootsError):
        scan(folder)


def test_refusals_show_paths_relative_to_the_input_root(
    server: Running, inputs: Path
) -> None:
    (inputs / "empty").mkdir()
    (inputs / "empty" / "notes.txt").write_text("nothing here", encoding="utf-8")
    response = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "empty"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "no movie or image sequence found" in detail
    assert str(inputs) not in detail


def test_a_folder_with_nothing_to_use_lists_what_was_left_out_and_why(
    server: Running, inputs: Path, tmp_path: Path
) -> None:
    # The refusal said only "no movie or image sequence found": the client could
    # not tell a .tga sequence, a .gif and a link outside the roots from nothing.
    folder = inputs / "unusable"
    (folder / "frames").mkdir(parents=True)
    for frame in (1, 2, 3):
        (folder / "frames" / f"sh.{frame:04d}.tga").write_bytes(b"tga")
    (folder / "anim.gif").write_bytes(b"GIF89a")
    synthetic.write_movie(tmp_path / "outside.mp4", frames=3, width=64, height=36)
    (folder / "plate.mp4").symlink_to(tmp_path / "outside.mp4")
    response = httpx.post(f"{server.url}/v1/specs/init", json={"folder": "unusable"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "init_refused"
    unread = (
        "not a movie, an image or a generator record: aebridge does not read {} "
        "files; allowed: images (.exr, .jpeg, .jpg, .png, .tif, .tiff) and movies "
        "(.avi, .m4v, .mkv, .mov, .mp4, .mxf, .webm)"
    )
    assert problem["left_out"] == [
        {"path": "anim.gif", "why": unread.format(".gif")},
        {
            "path": "frames/sh.####.tga",
            "why": "3 numbered files, " + unread.format(".tga"),
        },
        {"path": "plate.mp4", "why": "refused: it leads outside the input roots"},
    ]
    assert problem["detail"] == (
        "unusable: no movie or image sequence found (movies: .mp4, .mov, .webm, ...; "
        "sequences: at least 3 numbered images); left out: "
        + ", ".join(f"{i['path']} ({i['why']})" for i in problem["left_out"])
    )
