"""Webhooks end to end: a receiver on 127.0.0.1 verifies signatures, counts
deliveries, and fails at first to get retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from servicekit import Receiver, Running, spec_for

from aebridge.service.webhooks import new_secret, verify


def test_every_event_arrives_signed_with_the_secret_returned_once(
    server: Running, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    webhook = {
        "url": hook.url,
        "events": ["job.queued", "job.started", "job.succeeded"],
    }
    job = server.client.submit(spec_for(), idempotency_key="k", webhook=webhook)
    secret = job["webhook_secret"]
    assert secret.startswith("whsec_")
    assert job["webhook"] == {"url": hook.url, "events": webhook["events"]}
    again = server.client.submit(spec_for(), idempotency_key="k", webhook=webhook)
    assert again["id"] == job["id"] and again["webhook_secret"] == secret
    server.client.wait(job["id"], 20, 0.05)
    received = hook.wait_for(3)
    assert len(received) == 3
    ids = [verify(secret, headers, body) for headers, body in received]
    assert len(set(ids)) == 3 and all(i.startswith("msg_") for i in ids)
    assert sorted(hook.events()) == sorted(webhook["events"])
    messages = [json.loads(body) for _h, body in received]
    final = next(m for m in messages if m["type"] == "job.succeeded")
    assert final["data"]["id"] == job["id"] and final["data"]["status"] == "succeeded"
    assert final["data"]["result"]["script"] == "shot/shot.jsx"


def test_default_events_are_the_outcome_only(
    server: Running, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    job = server.client.submit(spec_for(), webhook={"url": hook.url})
    server.client.wait(job["id"], 20, 0.05)
    hook.wait_for(1)
    time.sleep(0.5)  # give a wrong extra delivery the time to show up
    assert hook.events() == ["job.succeeded"]


def test_a_failing_receiver_gets_retries_with_the_same_message_id(
    server: Running, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver(fail_first=2)
    secret = new_secret()
    job = server.client.submit(spec_for(), webhook={"url": hook.url, "secret": secret})
    assert "webhook_secret" not in job  # the client chose it
    server.client.wait(job["id"], 20, 0.05)
    received = hook.wait_for(3)
    assert len(received) == 3
    ids = {verify(secret, headers, body) for headers, body in received}
    assert len(ids) == 1  # one message, three attempts
    stamps = [int(h["webhook-timestamp"]) for h, _b in received]
    assert stamps == sorted(stamps)
    deadline = time.monotonic() + 5
    while (
        state := server.client._request("GET", f"/v1/jobs/{job['id']}/webhooks").json()[
            "messages"
        ][0]
    )["delivered_at"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state["attempts"] == 3 and state["given_up"] is False


def test_undelivered_messages_survive_a_restart(
    start_server: Callable[..., Running],
    receiver: Callable[..., Receiver],
    tmp_path: Path,
) -> None:
    hook = receiver(fail_first=10**6)
    first = start_server(webhook_backoff=0.1, webhook_backoff_cap=0.2)
    job = first.client.submit(spec_for(), webhook={"url": hook.url})
    first.client.wait(job["id"], 20, 0.05)
    hook.wait_for(2)  # at least one failed attempt happened before the restart
    first.stop()
    failed_attempts = len(hook.requests)
    hook.fail_first = 0
    second = start_server(webhook_backoff=0.1)
    received = hook.wait_for(failed_attempts + 1)
    secret_holder = second.service.store.get(job["id"]).webhook
    assert secret_holder is not None
    ids = {verify(secret_holder.secret, h, b) for h, b in received}
    assert len(ids) == 1 and hook.events()[-1] == "job.succeeded"


def test_a_configured_secret_signs_every_job_and_is_never_returned(
    start_server: Callable[..., Running], receiver: Callable[..., Receiver]
) -> None:
    secret = new_secret()
    running = start_server(webhook_secret=secret)
    hook = receiver()
    job = running.client.submit(spec_for(), webhook={"url": hook.url})
    assert "webhook_secret" not in job
    running.client.wait(job["id"], 20, 0.05)
    ((headers, body),) = hook.wait_for(1)
    assert verify(secret, headers, body).startswith("msg_")


def test_a_slow_receiver_does_not_hold_up_other_webhooks(
    server: Running, receiver: Callable[..., Receiver]
) -> None:
    slow_hook = receiver(delay=2.5)
    fast_hook = receiver()
    slow_job = server.client.submit(spec_for("a"), webhook={"url": slow_hook.url})
    server.client.wait(slow_job["id"], 20, 0.05)
    slow_hook.wait_for(1, timeout=2)  # the slow receiver has the request now
    started = time.monotonic()
    fast_job = server.client.submit(spec_for("b"), webhook={"url": fast_hook.url})
    server.client.wait(fast_job["id"], 20, 0.05)
    assert fast_hook.wait_for(1, timeout=5)
    assert time.monotonic() - started < 1.2
