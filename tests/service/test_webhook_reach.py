"""Webhooks are not a port scanner: where a webhook may point, that the address
checked is the address connected to, and what a failed delivery says."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from servicekit import Receiver, Running, spec_for

from aebridge.client import InvalidRequestError


def messages(running: Running, job_id: str, until: Callable[[dict[str, Any]], bool]):
    deadline = time.monotonic() + 15
    while True:
        data = running.client._request("GET", f"/v1/jobs/{job_id}/webhooks").json()
        if data["messages"] and until(data["messages"][0]):
            return data["messages"]
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://100.100.100.200/hook",
        "http://0.0.0.0:8080/hook",
        "http://224.0.0.1/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[2002:a9fe:a9fe::]/hook",  # 6to4 of 169.254.169.254
        "http://[2001:0:808:808:0:ffff:5601:5601]/hook",  # Teredo, client 169.254...
    ],
)
def test_link_local_and_metadata_addresses_are_always_refused(
    start_server: Callable[..., Running], url: str
) -> None:
    running = start_server(webhook_allow=("0.0.0.0/0", "::/0"))
    with pytest.raises(InvalidRequestError) as info:
        running.client.submit(spec_for(), webhook={"url": url})
    (problem,) = info.value.problems
    assert problem.path == "webhook.url"
    assert "link-local, metadata" in problem.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.20/hook",
        "http://[::1]:9/hook",
        "http://[fc00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[2001:0:808:808:0:ffff:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    ],
)
def test_private_and_loopback_addresses_need_webhook_allow(
    start_server: Callable[..., Running], url: str
) -> None:
    running = start_server(webhook_allow=())
    with pytest.raises(InvalidRequestError) as info:
        running.client.submit(spec_for(), webhook={"url": url})
    (problem,) = info.value.problems
    assert "private or loopback" in problem.message
    assert "--webhook-allow" in problem.message


@pytest.mark.parametrize(
    ("address", "allow", "refused"),
    [
        # 6to4 (2002::/16) carries an IPv4 address in bits 16-48, Teredo (2001::/32)
        # its server's and (inverted) its client's; Python's ipaddress calls 6to4
        # global, so these passed. Each carried address gets the IPv4 rule.
        ("2002:7f00:1::", (), "private or loopback"),
        ("2002:a00:1::", (), "private or loopback"),
        ("2002:a9fe:a9fe::", ("::/0", "0.0.0.0/0"), "link-local, metadata"),
        ("2002:7f00:1::", ("127.0.0.0/8",), None),
        ("2002:7f00:1::", ("::/0",), "private or loopback"),
        ("2002:808:808::", (), None),
        ("2001:0:808:808:0:ffff:80ff:fffe", ("::/0",), "private or loopback"),
        ("2001:0:7f00:1:0:ffff:f7f7:f7f7", ("::/0",), "private or loopback"),
        ("2001:0:808:808:0:ffff:5601:5601", ("::/0",), "link-local, metadata"),
        ("2001:0:808:808:0:ffff:fefe:fefe", (), None),
        ("::ffff:127.0.0.1", (), "private or loopback"),
        ("::ffff:10.0.0.1", ("10.0.0.0/8",), None),
        ("64:ff9b::a9fe:a9fe", ("::/0", "0.0.0.0/0"), "link-local, metadata"),
        # An entry allows exactly what it names. IPv6 entries of carried addresses
        # matched nothing: the carried IPv4 address was looked up in them.
        ("::ffff:10.0.0.1", ("::ffff:10.0.0.0/104",), None),
        ("10.0.0.1", ("::ffff:10.0.0.0/104",), None),  # one host, two spellings
        ("2002:a00:1::", ("::ffff:10.0.0.0/104",), None),  # as 10.0.0.0/8 does
        ("127.0.0.1", ("::ffff:10.0.0.0/104",), "private or loopback"),
        ("::ffff:127.0.0.1", ("::ffff:10.0.0.0/104",), "private or loopback"),
        ("::ffff:169.254.169.254", ("::ffff:0:0/96",), "link-local, metadata"),
        ("2002:a00:1::", ("2002:a00::/24",), None),
        ("2002:7f00:1::", ("2002::/16",), None),
        ("2002:7f00:1::", ("2002:a00::/24",), "private or loopback"),
        ("10.0.0.1", ("2002:a00::/24",), "private or loopback"),  # not named
        ("2002:7f00:1::", ("2000::/3",), "private or loopback"),  # any IPv6 receiver
        ("2002:a9fe:a9fe::", ("2002::/16",), "link-local, metadata"),
        ("64:ff9b::a00:1", ("64:ff9b::a00:0/104",), None),
        ("64:ff9b::7f00:1", ("64:ff9b::a00:0/104",), "private or loopback"),
        ("2001:0:808:808:0:ffff:80ff:fffe", ("2001::/32",), None),
        ("2001:0:808:808:0:ffff:80ff:fffe", ("2001:0:a00::/40",), "private or"),
        ("2001:0:808:808:0:ffff:5601:5601", ("2001::/32",), "link-local, metadata"),
    ],
)
def test_ipv4_addresses_carried_in_ipv6_ones_get_the_ipv4_rule(
    address: str, allow: tuple[str, ...], refused: str | None
) -> None:
    import ipaddress

    from aebridge.service.webhooks import address_refusal, parse_networks

    why = address_refusal(
        ipaddress.ip_address(address), parse_networks(allow, option="allow")
    )
    if refused is None:
        assert why is None
    else:
        assert why is not None and refused in why


def test_an_ipv4_mapped_network_allows_its_hosts_in_either_spelling() -> None:
    from aebridge.errors import OptionError
    from aebridge.service.webhooks import check_url, parse_networks

    allow = parse_networks(["::ffff:10.0.0.0/104"], option="--webhook-allow")
    for url in ("http://[::ffff:10.1.2.3]/hook", "http://10.1.2.3/hook"):
        assert check_url(url, allow=allow) == url
    with pytest.raises(OptionError, match="private or loopback"):
        check_url("http://[::ffff:127.0.0.1]/hook", allow=allow)


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--/hook",  # no IDNA label: httpx raised from inside the dispatcher
        "http://ex ample.com/hook",
        "http://exa\u200bmple.com/hook",
        "http://hooks\texample.com/hook",
    ],
)
def test_a_host_no_request_can_be_sent_to_is_refused_at_submission(
    start_server: Callable[..., Running], url: str
) -> None:
    running = start_server()
    with pytest.raises(InvalidRequestError) as info:
        running.client.submit(spec_for(), webhook={"url": url})
    (problem,) = info.value.problems
    assert problem.path == "webhook.url"
    assert "an absolute http:// or https:// URL" in problem.message


def _deliver_until_given_up(tmp_path: Path, url: str) -> dict[str, Any]:
    """One job.canceled message to ``url``, delivered by a Dispatcher with two
    attempts and no backoff until it is given up; its delivery state then."""
    from aebridge.service.job import WebhookTarget
    from aebridge.service.store import Store
    from aebridge.service.webhooks import Dispatcher, new_secret

    store = Store(tmp_path / "aebridge.db")
    hook = WebhookTarget(url=url, events=("job.canceled",), secret=new_secret())
    job, _ = store.create(
        request=json.dumps({"spec": {}, "options": {}}),
        body_hash="b",
        idempotency_key=None,
        base_dir=tmp_path,
        output_root=tmp_path / "out",
        webhook=hook,
    )
    store.cancel(job.id)
    dispatcher = Dispatcher(
        store.outbox,
        timeout=1.0,
        max_attempts=2,
        backoff=0.01,
        backoff_cap=0.01,
        interval=0.01,
    )
    dispatcher.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            (state,) = store.outbox.messages(job.id)
            if state["given_up"]:
                return state
            assert time.monotonic() < deadline, state
            time.sleep(0.02)
    finally:
        dispatcher.stop()
        store.close()


def test_a_message_whose_url_cannot_be_sent_counts_its_attempts_and_ends(
    tmp_path: Path,
) -> None:
    """An IDNA error building the request escaped every category: the message was
    never marked failed, so it was claimed again every 40 s, with a traceback,
    forever (a URL stored before the submission check, or by an older version)."""
    state = _deliver_until_given_up(tmp_path, "http://xn--/hook")
    assert state["attempts"] == 2 and state["last_error"] == "protocol_error"


def test_a_bug_in_a_delivery_counts_as_a_failed_attempt(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception no failure category expects (a bug in the dispatcher, here in
    signing) was only logged: the message stayed claimed and was tried again when
    the claim ran out, forever. It is a counted ``internal_error`` attempt, the
    exception's one line in the log and never in the record."""
    from aebridge.service import webhooks

    def broken(*_args: Any) -> str:
        raise RuntimeError("signer exploded\nsecond line")

    monkeypatch.setattr(webhooks, "sign", broken)
    with caplog.at_level("WARNING", logger="aebridge.service.webhooks"):
        state = _deliver_until_given_up(tmp_path, "http://127.0.0.1:9/hook")
    assert state["attempts"] == 2 and state["last_error"] == "internal_error"
    assert state["last_status"] is None
    logged = [r.getMessage() for r in caplog.records]
    assert any(
        "internal_error" in m and "RuntimeError: signer exploded" in m for m in logged
    ), logged
    assert any("giving up" in m for m in logged), logged


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Fake DNS for *.test names: each lookup takes the next answer (the last
    repeats); every lookup is recorded."""
    from aebridge.service import webhooks

    answers: dict[str, list[str]] = {}
    asked: list[str] = []
    real = webhooks.resolve_host

    def resolve(host: str, port: int) -> list[str]:
        if not host.endswith(".test"):
            return real(host, port)
        asked.append(host)
        queue = answers[host]
        return [queue.pop(0) if len(queue) > 1 else queue[0]]

    monkeypatch.setattr(webhooks, "resolve_host", resolve)
    answers["__asked__"] = asked  # type: ignore[assignment]
    return answers


def test_a_name_that_resolves_to_a_private_address_is_not_contacted(
    start_server: Callable[..., Running],
    receiver: Callable[..., Receiver],
    names: dict[str, list[str]],
) -> None:
    hook = receiver()
    port = hook.url.split(":")[2].split("/")[0]
    names["inside.test"] = ["127.0.0.1"]
    running = start_server(webhook_allow=())
    job = running.client.submit(
        spec_for(), webhook={"url": f"http://inside.test:{port}/hook"}
    )
    (state,) = messages(running, job["id"], lambda m: m["attempts"] >= 1)
    assert state["last_error"] == "address_not_allowed"
    assert hook.requests == []


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::", "2001:0:808:808:0:ffff:80ff:fffe"],  # 6to4, Teredo: 127.0.0.1
)
def test_a_name_that_resolves_to_a_private_address_inside_ipv6_is_not_contacted(
    start_server: Callable[..., Running],
    names: dict[str, list[str]],
    address: str,
) -> None:
    names["tunnel.test"] = [address]
    running = start_server(webhook_allow=("::/0",))
    job = running.client.submit(spec_for(), webhook={"url": "http://tunnel.test/hook"})
    (state,) = messages(running, job["id"], lambda m: m["attempts"] >= 1)
    assert state["last_error"] == "address_not_allowed"


def test_the_address_checked_is_the_address_connected_to(
    start_server: Callable[..., Running],
    receiver: Callable[..., Receiver],
    names: dict[str, list[str]],
) -> None:
    """DNS rebinding: the name answers an allowed address to the check and a
    forbidden one afterwards; the delivery goes to the checked address, and the
    name is looked up once per attempt."""
    hook = receiver()
    port = hook.url.split(":")[2].split("/")[0]
    names["rebind.test"] = ["127.0.0.1", "169.254.169.254"]
    running = start_server(webhook_allow=("127.0.0.0/8",))
    job = running.client.submit(
        spec_for(), webhook={"url": f"http://rebind.test:{port}/hook"}
    )
    ((headers, _body),) = hook.wait_for(1)
    assert headers["host"] == f"rebind.test:{port}"
    messages(running, job["id"], lambda m: m["delivered_at"] is not None)
    assert names["__asked__"] == ["rebind.test"]


def test_delivery_failures_are_reported_as_categories(
    start_server: Callable[..., Running], receiver: Callable[..., Receiver]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    running = start_server(webhook_backoff=30)
    refused = running.client.submit(
        spec_for("a"), webhook={"url": f"http://127.0.0.1:{closed}/hook"}
    )
    (state,) = messages(running, refused["id"], lambda m: m["attempts"] >= 1)
    assert state["last_error"] == "connect_failed" and state["last_status"] is None
    failing = receiver(fail_first=10)
    rejected = running.client.submit(spec_for("b"), webhook={"url": failing.url})
    (state,) = messages(running, rejected["id"], lambda m: m["attempts"] >= 1)
    assert state["last_error"] == "http_status" and state["last_status"] == 503
