"""The HTTP API, over a real uvicorn server on 127.0.0.1 (builds are scripted)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fakebuild
import httpx
import pytest
from servicekit import Running, spec_for

from aebridge.client import (
    AuthError,
    ConflictError,
    InvalidRequestError,
    JobNotFoundError,
    PayloadTooLargeError,
    WaitTimeoutError,
)

JSON = {"content-type": "application/json"}


def test_health_answers(server: Running) -> None:
    assert server.client.health()["status"] == "ok"


def test_a_submitted_spec_is_queued_then_built(server: Running) -> None:
    job = server.client.submit(spec_for(frames=3))
    assert job["status"] in ("queued", "running") and job["id"].startswith("job_")
    done = server.client.wait(job["id"], timeout=20, poll=0.05)
    assert done["status"] == "succeeded" and done["failure"] is None
    assert done["progress"] == {"frames_done": 3, "frames_total": 3}
    assert done["result"]["script"] == "shot/shot.jsx"
    assert done["result"]["build_json"] == "shot/build.json"
    assert done["attempts"] == 1 and done["finished_at"] is not None


def test_a_bare_spec_body_is_accepted_as_curl_sends_it(server: Running) -> None:
    response = httpx.post(
        f"{server.url}/v1/jobs",
        content=json.dumps(spec_for()),
        headers={"Idempotency-Key": "k1", "content-type": "application/json"},
    )
    assert response.status_code == 202
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"


def test_same_idempotency_key_and_body_return_the_same_job(server: Running) -> None:
    body = json.dumps({"spec": spec_for()})
    headers = {"Idempotency-Key": "same", **JSON}
    first = httpx.post(f"{server.url}/v1/jobs", content=body, headers=headers)
    again = httpx.post(f"{server.url}/v1/jobs", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"


def test_a_replay_returns_the_job_even_after_its_sources_moved(
    server: Running, inputs: Path
) -> None:
    first = server.client.submit(spec_for(), idempotency_key="moved")
    server.client.wait(first["id"], 20, 0.05)
    (inputs / "fg").rename(inputs / "fg_archived")
    again = server.client.submit(spec_for(), idempotency_key="moved")
    assert again["id"] == first["id"] and again["status"] == "succeeded"


def test_same_idempotency_key_with_another_body_is_refused(server: Running) -> None:
    server.client.submit(spec_for("a"), idempotency_key="k")
    with pytest.raises(ConflictError, match="already used for job") as info:
        server.client.submit(spec_for("b"), idempotency_key="k")
    assert info.value.status == 409 and info.value.code == "idempotency_key_reused"


def test_an_invalid_spec_gives_422_with_the_spec_paths(server: Running) -> None:
    spec = spec_for(layers=2)
    spec["layers"][0]["blend"] = "glow"
    spec["layers"][1]["opacity"] = 250
    response = httpx.post(f"{server.url}/v1/jobs", json=spec)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_spec" and body["retryable"] is False
    paths = {p["path"] for p in body["problems"] if p["severity"] == "error"}
    assert {"layers[0].blend", "layers[1].opacity"} <= paths
    assert server.service.store.counts()["queued"] == 0


def test_a_missing_source_gives_422_at_its_path(server: Running) -> None:
    spec = spec_for()
    spec["layers"][0]["source"]["path"] = "fg/missing.####.png"
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    assert [p.path for p in info.value.problems if p.severity == "error"] == [
        "layers[0].source.path"
    ]


def test_a_folder_source_holding_two_sequences_gives_422_at_its_path(
    server: Running, inputs: Path
) -> None:
    """It was accepted (202) and failed in the build's validate stage: submission
    checks a folder source as validate does, by listing it."""
    for frame in (1001, 1002, 1003, 1004):
        (inputs / "fg" / f"bg.{frame}.png").write_bytes(
            (inputs / "fg" / f"fg.{frame}.png").read_bytes()
        )
    spec = spec_for()
    spec["layers"][0]["source"]["path"] = "fg"
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    assert info.value.status == 422 and info.value.code == "invalid_spec"
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert problem.path == "layers[0].source.path"
    assert "the folder holds 2 image sequences" in problem.message
    assert "bg.####.png (1001-1004); fg.####.png (1001-1004)" in problem.message
    assert str(inputs) not in problem.message
    assert server.service.store.counts()["queued"] == 0
    spec["layers"][0]["source"]["path"] = "fg/fg.####.png"
    assert server.client.submit(spec)["status"] == "queued"


@pytest.mark.parametrize(
    ("path", "why", "allowed"),
    [
        (
            "../outside/fg.####.png",
            "contains '..'",
            "allowed: paths inside the input roots (relative paths start at base_dir)",
        ),
        # Where relative paths start has nothing to do with an absolute path.
        (
            "/etc/passwd",
            "is outside the input roots",
            "allowed: paths inside the input roots",
        ),
    ],
)
def test_paths_outside_the_input_roots_are_refused(
    server: Running, path: str, why: str, allowed: str
) -> None:
    spec = spec_for()
    spec["layers"][0]["source"]["matte"] = path
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    assert info.value.code == "path_not_allowed"
    (problem,) = info.value.problems
    assert problem.path == "layers[0].source.matte" and why in problem.message
    assert problem.message.endswith(allowed)


def test_a_symlink_out_of_the_roots_is_refused(
    server: Running, inputs: Path, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (inputs / "escape").symlink_to(tmp_path / "elsewhere")
    spec = spec_for()
    spec["layers"][0]["source"]["path"] = "escape/fg.####.png"
    with pytest.raises(InvalidRequestError, match="outside the input roots"):
        server.client.submit(spec)


def test_base_dir_must_stay_inside_the_roots(server: Running) -> None:
    response = httpx.post(
        f"{server.url}/v1/jobs", json={"spec": spec_for(), "base_dir": "/tmp"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "base_dir"


def _long_name(body: dict[str, Any]) -> None:
    body["spec"]["layers"][0]["source"]["path"] = "a" * 300


def _long_base_dir(body: dict[str, Any]) -> None:
    body["base_dir"] = "a" * 5000


def _long_rate(body: dict[str, Any]) -> None:
    body["spec"]["comp"]["rate"] = "1" * 5000


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (_long_name, "layers[0].source.path"),
        (_long_base_dir, "base_dir"),
        (_long_rate, "comp.rate"),
    ],
)
def test_names_and_numbers_too_long_for_the_system_are_422_not_500(
    server: Running, mutate: Callable[[dict[str, Any]], None], where: str
) -> None:
    # Each made an OSError or ValueError escape the checks: a 500 internal_error.
    body: dict[str, Any] = {"spec": spec_for()}
    mutate(body)
    response = httpx.post(f"{server.url}/v1/jobs", json=body)
    assert response.status_code == 422, response.text
    assert [p["path"] for p in response.json()["problems"]] == [where]


def test_envelope_mistakes_are_reported_with_their_paths(server: Running) -> None:
    body = {
        "spec": spec_for(),
        "webhook": {"url": "ftp://x/y", "events": ["job.done"]},
        "options": {"preview": "yes", "fast": True},
        "priority": 1,
    }
    response = httpx.post(f"{server.url}/v1/jobs", json=body)
    assert response.status_code == 422
    problems = {p["path"]: p["message"] for p in response.json()["problems"]}
    assert set(problems) == {
        "priority",
        "webhook.url",
        "webhook.events[0]",
        "options.fast",
        "options.preview",
    }
    assert "job.succeeded" in problems["webhook.events[0]"]


def test_bodies_over_the_limit_get_413(start_server: Callable[..., Running]) -> None:
    running = start_server(max_body_bytes=2048)
    spec = spec_for()
    spec["comp"]["name"] = "x" * 4000
    with pytest.raises(PayloadTooLargeError, match="at most 2048"):
        running.client.submit(spec)
    chunked = httpx.post(
        f"{running.url}/v1/jobs",
        content=iter([b"{" + b" " * 3000, b"}"]),
        headers=JSON,
    )
    assert chunked.status_code == 413 and chunked.json()["code"] == "body_too_large"


def test_malformed_json_gives_400(server: Running) -> None:
    response = httpx.post(f"{server.url}/v1/jobs", content=b"{not json", headers=JSON)
    assert response.status_code == 400 and response.json()["code"] == "malformed_body"
    response = httpx.post(f"{server.url}/v1/jobs", content=b"[1, 2]", headers=JSON)
    assert response.status_code == 400 and "JSON object" in response.json()["detail"]


def test_unknown_jobs_and_routes_are_problem_documents(server: Running) -> None:
    with pytest.raises(JobNotFoundError, match="no job with id 'job_nope'"):
        server.client.get("job_nope")
    response = httpx.get(f"{server.url}/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unexpected_error_in_the_api_is_a_500_problem_without_traceback(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(job_id: str) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(server.service.store, "get", broken)
    response = httpx.get(f"{server.url}/v1/jobs/job_x")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error" and body["retryable"] is True
    assert "reference" in body["detail"]
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_a_user_error_in_the_build_is_a_failure_with_code_and_message(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(build=fakebuild.failing_build)
    job = running.client.wait(running.client.submit(spec_for())["id"], 20, 0.05)
    assert job["status"] == "failed"
    assert job["failure"] == {
        "code": "bad_source",
        "message": "fg/fg.1002.png, frame 1002: frame is truncated",
        "retryable": False,
    }


def test_a_bug_in_the_build_never_leaks_its_traceback(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(build=fakebuild.crashing_build)
    job = running.client.wait(running.client.submit(spec_for())["id"], 20, 0.05)
    assert job["failure"]["code"] == "internal_error"
    assert job["failure"]["retryable"] is True
    text = json.dumps(job)
    assert "ZeroDivisionError" not in text and "secret internal detail" not in text
    assert "Traceback" not in text


def test_list_filters_by_status_and_pages(server: Running) -> None:
    ids = [server.client.submit(spec_for(f"s{i}"))["id"] for i in range(5)]
    for job_id in ids:
        server.client.wait(job_id, 20, 0.05)
    jobs, cursor = server.client.list(limit=2)
    assert len(jobs) == 2 and cursor is not None
    assert [j["id"] for j in server.client.iter_jobs(page_size=2)] == ids[::-1]
    assert server.client.list("failed")[0] == []
    response = httpx.get(f"{server.url}/v1/jobs", params={"status": "done"})
    assert response.status_code == 422
    assert "allowed: queued, running, succeeded, failed, canceled" in response.text


def test_a_token_is_required_when_configured(
    start_server: Callable[..., Running],
) -> None:
    running = start_server(token="s3cret")
    assert httpx.get(f"{running.url}/v1/health").status_code == 200
    response = httpx.get(f"{running.url}/v1/jobs")
    assert (
        response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    )
    wrong = httpx.get(f"{running.url}/v1/jobs", headers={"authorization": "Bearer no"})
    assert wrong.status_code == 401
    assert running.client.list()[0] == []  # the client sends the token
    from aebridge.client import Client

    with Client(running.url, token="bad") as anonymous, pytest.raises(AuthError):
        anonymous.submit(spec_for())


def slow(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, str(seconds))


def wait_for_frames(running: Running, job_id: str, frames: int) -> None:
    import time

    deadline = time.monotonic() + 20
    while running.client.get(job_id)["progress"]["frames_done"] < frames:
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.05)


def test_cancel_stops_a_running_job_between_frames(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow(monkeypatch, 0.15)
    job_id = server.client.submit(spec_for(frames=40))["id"]
    wait_for_frames(server, job_id, 2)
    asked = server.client.cancel(job_id)
    assert asked["cancel_requested"] is True
    done = server.client.wait(job_id, 20, 0.05)
    assert done["status"] == "canceled" and done["failure"]["code"] == "canceled"
    folder = Path(server.service.config.outputs) / job_id / "shot" / "layers" / "fg0"
    frames = sorted(folder.iterdir())
    assert 2 <= len(frames) < 40
    assert all(f.suffix == ".frame" and fakebuild.frame_is_whole(f) for f in frames)


def test_cancel_of_a_queued_job_is_immediate_and_of_a_finished_one_refused(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow(monkeypatch, 0.1)
    first = server.client.submit(spec_for("a", frames=20))["id"]
    second = server.client.submit(spec_for("b"))["id"]
    assert server.client.cancel(second)["status"] == "canceled"
    server.client.cancel(first)
    server.client.wait(first, 20, 0.05)
    monkeypatch.setenv(fakebuild.FRAME_DELAY_ENV, "0")
    third = server.client.submit(spec_for("c"))["id"]
    server.client.wait(third, 20, 0.05)
    with pytest.raises(ConflictError, match="already succeeded"):
        server.client.cancel(third)


def read_events(url: str) -> list[tuple[str, str, dict[str, Any]]]:
    events = []
    with httpx.stream("GET", url, timeout=20) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if not line:
                if "data" in fields:
                    events.append(
                        (fields["id"], fields["event"], json.loads(fields["data"]))
                    )
                fields = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
    return events


def test_events_stream_progress_until_the_job_ends(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow(monkeypatch, 0.1)
    job_id = server.client.submit(spec_for(frames=8))["id"]
    events = read_events(f"{server.url}/v1/jobs/{job_id}/events")
    names = [name for _id, name, _data in events]
    assert names[-1] == "succeeded" and events[-1][2]["status"] == "succeeded"
    assert "progress" in names
    ids = [int(i) for i, _name, _data in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    done = [data["progress"]["frames_done"] for _i, _n, data in events]
    assert done == sorted(done) and done[-1] == 8


def test_events_of_a_finished_job_replay_its_states_and_end_at_once(
    server: Running,
) -> None:
    job_id = server.client.submit(spec_for())["id"]
    server.client.wait(job_id, 20, 0.05)
    started = time.monotonic()
    events = read_events(f"{server.url}/v1/jobs/{job_id}/events")
    assert time.monotonic() - started < 2
    names = [name for _i, name, _d in events]
    assert names[0] == "queued" and names[-1] == "succeeded"


def test_artifacts_are_listed_and_served(server: Running) -> None:
    job = server.client.submit(spec_for(), preview=True)
    server.client.wait(job["id"], 20, 0.05)
    listing = server.client.artifacts(job["id"])
    assert [(a["name"], a["kind"]) for a in listing] == [
        ("shot/shot.jsx", "script"),
        ("shot/build.json", "build_json"),
        ("shot/preview/shot.png", "preview"),
    ]
    assert server.client.download(job["id"], "shot/shot.jsx") == (
        b"// generated for shot\n"
    )


@pytest.mark.parametrize(
    "name",
    [
        "../../aebridge.db",
        "..%2F..%2Faebridge.db",
        "shot/layers/fg0/fg0.1001.frame",
        "%2Fetc%2Fpasswd",
    ],
)
def test_artifact_downloads_cannot_escape(server: Running, name: str) -> None:
    job_id = server.client.submit(spec_for())["id"]
    server.client.wait(job_id, 20, 0.05)
    response = httpx.get(f"{server.url}/v1/jobs/{job_id}/artifacts/{name}")
    assert response.status_code == 404
    assert b"SQLite" not in response.content


def test_wait_gives_up_after_its_timeout(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow(monkeypatch, 0.2)
    job_id = server.client.submit(spec_for(frames=30))["id"]
    with pytest.raises(WaitTimeoutError, match=r"still (queued|running) after 0\.3 s"):
        server.client.wait(job_id, timeout=0.3, poll=0.05)
    server.client.cancel(job_id)


def test_a_missing_relative_source_says_where_relative_paths_start(
    server: Running, inputs: Path
) -> None:
    (inputs / "sh010").mkdir()
    (inputs / "fg").rename(inputs / "sh010" / "fg")
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec_for())
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert "relative paths start at base_dir '.'" in problem.message
    assert '"base_dir"' in problem.message and "?base_dir=" in problem.message
    job = server.client.submit(spec_for(), base_dir="sh010")
    assert server.client.wait(job["id"], 20, 0.05)["status"] == "succeeded"


def _two_sequences(inputs: Path) -> str:
    for frame in (1001, 1002, 1003, 1004):
        (inputs / "fg" / f"bg.{frame}.png").write_bytes(
            (inputs / "fg" / f"fg.{frame}.png").read_bytes()
        )
    return "fg"


def _a_gap(inputs: Path) -> str:
    (inputs / "fg" / "fg.1002.png").unlink()
    return "fg/fg.####.png"


def _a_file_named_as_the_pattern(inputs: Path) -> str:
    # Was accepted, the frames read and the file ignored.
    (inputs / "fg" / "fg.####.png").write_bytes(
        (inputs / "fg" / "fg.1001.png").read_bytes()
    )
    return "fg/fg.####.png"


@pytest.mark.parametrize(
    ("given", "hinted"),
    [
        (lambda inputs: "fg/missing.mp4", True),
        (lambda inputs: "fg.####.png", True),  # no such frames where paths start
        (lambda inputs: "shots/fg/fg.####.png", True),  # no such folder
        (lambda inputs: str(inputs / "fg" / "missing.mp4"), False),
        (lambda inputs: str(inputs / "shots" / "fg.####.png"), False),
        (_two_sequences, False),
        (_a_gap, False),
        (_a_file_named_as_the_pattern, False),
        (lambda inputs: "a" * 300, False),  # too long to look up
        # Refused by its kind wherever it is: no base_dir finds it a readable file.
        (lambda inputs: "fg/missing.txt", False),
        (lambda inputs: "fg/g.####.gif", False),
    ],
    ids=[
        "missing",
        "no-frames",
        "no-folder",
        "absolute",
        "absolute-pattern",
        "two-sequences",
        "gap",
        "file-and-frames",
        "too-long",
        "unread-file",
        "unread-pattern",
    ],
)
def test_only_a_relative_path_that_finds_nothing_says_where_relative_paths_start(
    server: Running,
    inputs: Path,
    given: Callable[[Path], str],
    hinted: bool,
) -> None:
    """The hint was added to every refused file: an absolute path (base_dir plays
    no part), a folder holding two sequences or a sequence with a gap (something is
    there: base_dir is right). It belongs where a relative path found nothing."""
    spec = spec_for()
    spec["layers"][0]["source"]["path"] = given(inputs)
    with pytest.raises(InvalidRequestError) as info:
        server.client.submit(spec)
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert problem.path == "layers[0].source.path"
    assert ("relative paths start at base_dir" in problem.message) is hinted


def test_a_spec_file_is_submitted_with_its_folder_as_base_dir(
    server: Running, inputs: Path
) -> None:
    (inputs / "sh010").mkdir()
    (inputs / "fg").rename(inputs / "sh010" / "fg")
    spec_file = inputs / "sh010" / "comp.json"
    spec_file.write_text(json.dumps(spec_for()), encoding="utf-8")
    job = server.client.submit(spec_file)
    assert server.client.wait(job["id"], 20, 0.05)["status"] == "succeeded"
    # The same request as curl sends it: a bare spec with ?base_dir=.
    response = httpx.post(
        f"{server.url}/v1/jobs",
        params={"base_dir": "sh010"},
        content=spec_file.read_bytes(),
        headers=JSON,
    )
    assert response.status_code == 202, response.text
    twice = httpx.post(
        f"{server.url}/v1/jobs",
        params={"base_dir": "sh010"},
        json={"spec": spec_for(), "base_dir": "elsewhere"},
    )
    assert twice.status_code == 422 and "give it once" in twice.text
