"""Webhooks signed as Standard Webhooks do, delivered from the outbox with retries.

Every message carries three headers: ``webhook-id`` (the outbox id, the same on every
attempt, so receivers can drop duplicates), ``webhook-timestamp`` (seconds since the
epoch of this attempt) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of
``"{id}.{timestamp}.{body}"`` keyed with the secret's bytes; the secret is written
``whsec_<base64>``). Delivery is at least once: a message leaves the outbox only after
a 2xx answer, failed attempts are retried with exponential backoff and full jitter, and
the outbox lives in the job database, so a restart loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import random
import re
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import AebridgeError, MissingExtraError, OptionError
from .loop import LoopThread
from .outbox import Outbox, OutboxMessage

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FAILURES",
    "METADATA_ADDRESSES",
    "DeliveryRefusedError",
    "Dispatcher",
    "WebhookVerificationError",
    "address_refusal",
    "check_url",
    "decode_secret",
    "new_secret",
    "parse_networks",
    "resolve_host",
    "retry_delay",
    "sign",
    "verify",
]

_log = logging.getLogger("aebridge.service.webhooks")

#: Receivers reject messages whose timestamp is further than this from their clock.
TOLERANCE_SECONDS = 300


class WebhookVerificationError(AebridgeError):
    """A webhook message's signature or timestamp does not check out."""

    code = "webhook_verification_failed"


def new_secret() -> str:
    """A fresh ``whsec_<base64>`` secret (24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def decode_secret(secret: str, *, option: str = "webhook.secret") -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret.

    Args:
        secret: the secret text.
        option: the option or request field it came from, for the error message.

    Raises:
        OptionError: it is not ``whsec_`` followed by base64 of 16 to 64 bytes.
    """
    allowed = "'whsec_' followed by base64 of 16 to 64 random bytes"
    if not secret.startswith("whsec_"):
        raise OptionError(option, "<hidden>", allowed)
    try:
        key = base64.b64decode(secret[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OptionError(option, "<hidden>", allowed) from exc
    if not 16 <= len(key) <= 64:
        raise OptionError(option, "<hidden>", allowed)
    return key


# -- where webhooks may go -------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never a webhook target, whatever --webhook-allow says: cloud metadata services
#: (169.254.169.254 and AWS's fd00:ec2::254, Alibaba's 100.100.100.200) answer there.
METADATA_ADDRESSES: frozenset[Address] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)

_BROADCAST = ipaddress.IPv4Address("255.255.255.255")

#: What a failed delivery reports (``last_error``); never the socket's own words.
FAILURES = (
    "address_not_allowed",
    "name_not_resolved",
    "connect_failed",
    "timeout",
    "tls_failed",
    "protocol_error",
    "http_status",
    "internal_error",
)


#: IPv4-mapped addresses (RFC 4291 2.5.5.2): IPv4 addresses written as IPv6 ones.
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: Ranges whose addresses lead on to IPv4 addresses they carry (NAT64, 6to4, Teredo).
_TUNNELS = (
    _NAT64,
    ipaddress.IPv6Network("2002::/16"),
    ipaddress.IPv6Network("2001::/32"),
)


def parse_networks(texts: Sequence[str], *, option: str) -> tuple[Network, ...]:
    """``--webhook-allow`` values as networks.

    An IPv4-mapped network (``::ffff:10.0.0.0/104``) is its IPv4 network
    (``10.0.0.0/8``): a mapped address is an IPv4 address in IPv6 spelling, the same
    host on the same wire, so it is allowed in either spelling, as an IPv4 network
    allows the mapped spelling of its addresses.

    Raises:
        OptionError: a value is not an address or a CIDR network.
    """
    networks: list[Network] = []
    for text in texts:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise OptionError(
                option, text, "an address or network, e.g. 10.20.0.0/16 or ::1"
            ) from exc
        if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
            network = ipaddress.IPv4Network(
                (int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96)
            )
        networks.append(network)
    return tuple(networks)


def _carried(address: Address) -> tuple[Address, ...]:
    """The IPv4 addresses a packet to ``address`` goes on to: the one inside an
    IPv4-mapped, NAT64 or 6to4 (2002::/16) address, a Teredo (2001::/32) address's
    server and client; else the address itself.

    Python's ipaddress judges such an IPv6 address by its own range (6to4 is
    global to it), never by the IPv4 address it carries, which is where it leads.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return (address.ipv4_mapped,)
        if address in _NAT64:
            return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
        if address.sixtofour is not None:
            return (address.sixtofour,)
        if address.teredo is not None:
            return address.teredo
    return (address,)


def _never_allowed(address: Address) -> bool:
    return (
        address in METADATA_ADDRESSES
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or (address.is_reserved and not address.is_loopback)  # ::1 sits in ::/8
        or (isinstance(address, ipaddress.IPv4Address) and address == _BROADCAST)
    )


def address_refusal(address: Address, allow: Sequence[Network]) -> str | None:
    """Why a webhook may not go to ``address``, or None when it may.

    Link-local, multicast, unspecified, reserved and cloud metadata addresses are
    always refused; private, loopback and other non-global ones (10/8, 127/8,
    192.168/16, 100.64/10, fc00::/7, ...) unless a ``--webhook-allow`` network holds
    them. An IPv6 address that carries IPv4 addresses (IPv4-mapped, NAT64, 6to4,
    Teredo) is judged by every one of them.

    What an operator expects of an allow-list is that each entry allows exactly the
    addresses it names, and that no spelling of an address gets past a refusal:

    - The refusals come first and see through every spelling: 2002:a9fe:a9fe:: (6to4
      of the metadata service) is refused whatever is allowed.
    - An IPv4 network names IPv4 hosts, which a mapped, NAT64, 6to4 or Teredo address
      leads to: ``10.0.0.0/8`` allows ``::ffff:10.1.2.3`` and ``2002:a01:203::``.
      A mapped network is its IPv4 network (:func:`parse_networks`).
    - An IPv6 network inside one of the carrying ranges (``64:ff9b::/96``,
      ``2002::/16``, ``2001::/32``) names carrying addresses, so it allows the
      addresses in it: ``2002:a00::/24`` allows 6to4 to 10/8 (not 2002:7f00:1::, not
      10.1.2.3 itself, which it does not name); ``2002::/16`` every 6to4 address.
    - Any other IPv6 network (``::/0``, ``2000::/3``) names IPv6 receivers, not the
      IPv4 addresses a tunnel carries: it does not let 2002:7f00:1:: reach 127.0.0.1.
    """
    carried = _carried(address)
    if address in METADATA_ADDRESSES or any(_never_allowed(a) for a in carried):
        return "a link-local, metadata, multicast or reserved address, never allowed"
    named = any(
        isinstance(net, ipaddress.IPv6Network)
        and address in net
        and any(net.subnet_of(tunnel) for tunnel in _TUNNELS)
        for net in allow
    )
    for plain in carried:
        if not plain.is_global and not named and not any(plain in net for net in allow):
            return (
                "a private or loopback address; the service's operator can allow "
                "its network with --webhook-allow"
            )
    return None


def _named_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def check_url(
    url: str, *, option: str = "webhook.url", allow: Sequence[Network] = ()
) -> str:
    """Check a webhook URL: absolute http(s), no credentials, an allowed address.

    An address written in the URL is checked here; a name is resolved and checked
    when each delivery is made (the address it has then is the one connected to).

    Raises:
        OptionError: another scheme, no host, credentials in the URL, or an address
            :func:`address_refusal` refuses (``localhost`` counts as loopback).
    """
    allowed = "an absolute http:// or https:// URL"
    # urlsplit drops tabs and line breaks that the stored URL would keep; a space
    # in the host is sent percent-encoded, as a name no resolver has.
    if re.search(r"[\x00-\x20\x7f]", url):
        raise OptionError(
            option, url, f"{allowed}, without spaces or control characters"
        )
    parts = urlsplit(url)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 (a port out of range raises here)
        _sendable(url)
    except ValueError as exc:
        raise OptionError(option, url, allowed) from exc
    if parts.scheme not in ("http", "https") or not host:
        raise OptionError(option, url, allowed)
    if parts.username or parts.password:
        raise OptionError(option, url, "a URL without user name or password")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = ipaddress.ip_address("127.0.0.1") if _named_loopback(host) else None
    if literal is not None:
        why = address_refusal(literal, allow)
        if why is not None:
            raise OptionError(option, url, f"a public address ({host} is {why})")
    return url


def _sendable(url: str) -> None:
    """Build the URL as a delivery does (httpx: IDNA host names and all).

    Raises:
        ValueError: httpx cannot send to it (``http://xn--/``: no IDNA label; its
            UnicodeError is a ValueError).
    """
    import httpx

    try:
        httpx.URL(url).host  # noqa: B018 (the host is decoded here)
    except httpx.InvalidURL as exc:
        raise ValueError(str(exc)) from exc


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (the seam tests replace to fake DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DeliveryRefusedError(Exception):
    """A delivery not attempted or failed; ``category`` is one of FAILURES."""

    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def _checked_transport(allow: Sequence[Network]) -> httpx.BaseTransport:
    """An httpx transport that connects only to addresses the policy allows.

    The URL's host is resolved once per request; every address it has is checked
    (a name with any forbidden address is refused), and the request is sent to the
    first one by address, with the name kept in the ``Host`` header and as the TLS
    server name. So nothing can rebind the name between the check and the connect.
    """
    import httpx

    class _Transport(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            host = request.url.host
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            try:
                found = resolve_host(host, port)
            except (OSError, UnicodeError):
                raise DeliveryRefusedError("name_not_resolved") from None
            if not found:
                raise DeliveryRefusedError("name_not_resolved")
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
            if any(address_refusal(a, allow) for a in addresses):
                raise DeliveryRefusedError("address_not_allowed")
            request.url = request.url.copy_with(host=str(addresses[0]))
            request.extensions = {**request.extensions, "sni_hostname": host}
            return super().handle_request(request)

    return _Transport()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt.

    Args:
        secret: the endpoint's ``whsec_...`` secret.
        message_id: the ``webhook-id``.
        timestamp: the ``webhook-timestamp`` (integer seconds).
        body: the exact request body.

    Returns:
        ``v1,<base64 HMAC-SHA256>``.
    """
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> str:
    """Check a received webhook (what a receiver does; the tests use it too).

    Args:
        secret: the endpoint's ``whsec_...`` secret.
        headers: the request headers (names in lower case).
        body: the exact request body.
        now: the receiver's clock (default: now).
        tolerance: largest accepted clock difference in seconds.

    Returns:
        The message id, to drop duplicates with.

    Raises:
        WebhookVerificationError: a header is missing, the timestamp is too old or too
            new, or no signature matches.
    """
    try:
        message_id = headers["webhook-id"]
        stamp_text = headers["webhook-timestamp"]
        signatures = headers["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from exc
    try:
        stamp = int(stamp_text)
    except ValueError as exc:
        raise WebhookVerificationError(
            f"webhook-timestamp {stamp_text!r} is not an integer"
        ) from exc
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp {stamp} is more than {tolerance:g} s from now"
        )
    expected = sign(secret, message_id, stamp, body)
    # The header may hold several space-separated signatures (key rotation).
    if not any(hmac.compare_digest(expected, s) for s in signatures.split()):
        raise WebhookVerificationError("no webhook-signature matches the secret")
    return message_id


def retry_delay(
    attempt: int, *, base: float, cap: float, rand: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    Exponential backoff with full jitter: uniform in ``[d/2, d]`` with
    ``d = min(cap, base * 2 ** (attempt - 1))``, so retries of many messages failing
    together spread out instead of arriving in waves, yet never come sooner than half
    the backoff.
    """
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return (rand or random).uniform(delay / 2, delay)


class Dispatcher:
    """A thread that delivers due outbox messages until stopped.

    Args:
        outbox: the webhook outbox of the job database.
        timeout: seconds to wait for a receiver.
        max_attempts: attempts before a message is given up.
        backoff: the first retry delay in seconds.
        backoff_cap: the longest retry delay.
        interval: seconds between looks at the outbox when it is empty.
        parallel: deliveries under way at once.
        allow: networks of private or loopback addresses webhooks may reach
            (``--webhook-allow``); see :func:`address_refusal`.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        timeout: float,
        max_attempts: int,
        backoff: float,
        backoff_cap: float,
        interval: float = 0.2,
        parallel: int = 4,
        allow: Sequence[Network] = (),
    ) -> None:
        self._outbox = outbox
        self._allow = tuple(allow)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._cap = backoff_cap
        self._interval = interval
        self._parallel = parallel
        # Several deliveries run at once, so one slow or unreachable receiver (up to
        # ``timeout`` per attempt) does not hold up every other job's webhooks.
        self._in_flight: set[Future[None]] = set()
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._loop = LoopThread(
            self._round,
            name="aebridge-webhooks",
            interval=interval,
            log=_log,
            failure="the webhook dispatcher's round failed",
            finish=self._close,
        )

    def start(self) -> None:
        """Start delivering.

        Raises:
            MissingExtraError: httpx (the ``service`` extra) is not installed.
        """
        try:
            import httpx
        except ImportError as exc:
            raise MissingExtraError("service", exc.name or "httpx") from exc

        self._http = httpx.Client(
            transport=_checked_transport(self._allow),
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._pool = ThreadPoolExecutor(self._parallel, "aebridge-webhook")
        self._loop.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the attempt under way; undelivered messages stay queued."""
        self._loop.stop(timeout)

    def _round(self) -> bool:
        """Claim due messages while there is room and hand them to the pool; True
        when deliveries are under way (this round waited on them already)."""
        assert self._http is not None and self._pool is not None
        room = self._parallel - len(self._in_flight)
        batch: list[OutboxMessage] = []
        if room > 0:
            try:
                batch = self._outbox.claim_messages(
                    limit=room, claim_seconds=self._timeout + 30
                )
            except Exception:  # the database is busy or gone: try later
                _log.exception("reading the webhook outbox failed")
        for message in batch:
            self._in_flight.add(self._pool.submit(self._deliver, self._http, message))
        if not self._in_flight:
            return False
        _done, pending = wait(
            self._in_flight, timeout=self._interval, return_when=FIRST_COMPLETED
        )
        self._in_flight = set(pending)
        return True

    def _close(self) -> None:
        """After the last round: let the deliveries under way end, then close."""
        wait(self._in_flight, timeout=self._timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._http is not None:
            self._http.close()

    def _deliver(self, http: httpx.Client, message: OutboxMessage) -> None:
        """One attempt and its record: a failure of any kind counts as an attempt,
        so every message is delivered or given up after ``max_attempts``."""
        bug: Exception | None = None
        try:
            error, status = self._attempt(http, message)
        except Exception as exc:  # a bug: counted like any failure, so it ends
            error, status, bug = "internal_error", None, exc
        try:
            self._record(message, error, status, bug)
        except Exception:  # the database is busy or gone: the claim runs out
            _log.exception("recording the delivery of webhook %s failed", message.id)

    def _attempt(
        self, http: httpx.Client, message: OutboxMessage
    ) -> tuple[str | None, int | None]:
        """Send the message once.

        Returns:
            The failure category (one of FAILURES; None when delivered) and the
            receiver's HTTP status when it answered.
        """
        import httpx

        body = message.payload.encode()
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "aebridge-webhooks",
            "webhook-id": message.id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(message.secret, message.id, stamp, body),
        }
        status: int | None = None
        try:
            response = http.post(message.url, content=body, headers=headers)
            status = response.status_code
            error = None if 200 <= status < 300 else "http_status"
        except DeliveryRefusedError as exc:
            error = exc.category
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.ConnectError as exc:
            error = "tls_failed" if _is_tls(exc) else "connect_failed"
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError):
            # UnicodeError: an IDNA host httpx cannot encode (stored before the
            # submission check refused such URLs); counted like any failure.
            error = "protocol_error"
        return error, status

    def _record(
        self,
        message: OutboxMessage,
        error: str | None,
        status: int | None,
        bug: Exception | None = None,
    ) -> None:
        """Record an attempt: delivered, or failed and retried later or given up.

        The record holds the category alone; the log line adds the receiver's
        status, or a bug's exception in one line (its traceback follows it).
        """
        if error is None:
            self._outbox.delivered(message.id)
            return
        attempt = message.attempts + 1
        retry_at = None
        if attempt < self._max_attempts:
            retry_at = time.time() + retry_delay(
                attempt, base=self._backoff, cap=self._cap
            )
        detail = f" {status}" if status is not None else ""
        if bug is not None:
            lines = str(bug).strip().splitlines() or [""]
            detail = f" ({type(bug).__name__}: {lines[0]})"
        _log.warning(
            "webhook %s to %s failed (attempt %d): %s%s%s",
            message.id,
            message.url,
            attempt,
            error,
            detail,
            "" if retry_at else "; giving up",
            exc_info=bug,
        )
        self._outbox.delivery_failed(
            message.id, error=error, retry_at=retry_at, status=status
        )


def _is_tls(exc: BaseException) -> bool:
    import ssl

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
