"""The settings of one service instance, checked once at start-up."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import OptionError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServiceConfig"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """Everything a service instance needs; paths are made absolute by :meth:`resolved`.

    Attributes:
        data_dir: holds ``aebridge.db`` (SQLite, WAL) and, by default, the outputs.
        host, port: where uvicorn listens (``127.0.0.1:8765`` by default).
        input_roots: jobs may read sources only under these folders (default: the
            current folder when none is given).
        output_root: every job writes to ``output_root/<job id>/`` (default
            ``data_dir/output``).
        token: the bearer token every request must carry (required off loopback).
        workers: jobs run at the same time.
        build_jobs: processes each build uses for conversion (``None``: all cores).
        engine: where builds convert frames: ``local`` or ``dask://host:port``.
        lease_seconds: how long a running job's lease lasts without a heartbeat; a job
            whose lease expired (its server was killed) is queued again.
        max_attempts: a job started this many times (it keeps killing its server)
            fails.
        max_body_bytes: largest request body accepted (larger gives 413).
        max_layers: most layers a submitted spec may have.
        webhook_timeout: seconds to wait for a webhook receiver.
        webhook_max_attempts: deliveries tried before a message is given up.
        webhook_backoff: first retry delay in seconds; doubles on each attempt.
        webhook_backoff_cap: the longest retry delay.
        webhook_secret: a fixed ``whsec_...`` secret for every job's webhook (default:
            a new secret per job, returned once when the job is created).
        watch_dirs: hot folders whose specs become jobs.
        poll: hot folders are network shares: wait until a file's size is stable.
        watch_interval: seconds between hot-folder scans.
        header_timeout: seconds a request's headers may take to arrive.
        body_timeout: seconds a request's body may take to arrive after its headers.
        allowed_hosts: ``Host`` names the server answers to besides its own address
            and the loopback names (``*``: any; for a server behind a proxy).
        cors_origins: web origins (``https://tool.example``) whose pages may call
            the API; any other page's requests are refused.
        webhook_allow: networks (CIDR) of private or loopback addresses webhooks may
            reach; link-local and metadata addresses are refused whatever it says.
        retention_days: finished jobs and their outputs are deleted this many days
            after they ended (0: kept until deleted).
    """

    data_dir: Path = Path("aebridge-data")
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    input_roots: tuple[Path, ...] = ()
    output_root: Path | None = None
    token: str | None = None
    workers: int = 1
    build_jobs: int | None = None
    engine: str = "local"
    lease_seconds: float = 30.0
    max_attempts: int = 5
    max_body_bytes: int = 1 << 20
    max_layers: int = 256
    webhook_timeout: float = 10.0
    webhook_max_attempts: int = 12
    webhook_backoff: float = 2.0
    webhook_backoff_cap: float = 3600.0
    webhook_secret: str | None = None
    watch_dirs: tuple[Path, ...] = ()
    poll: bool = False
    watch_interval: float = 0.5
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    webhook_allow: tuple[str, ...] = ()
    retention_days: float = 30.0

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "aebridge.db"

    @property
    def outputs(self) -> Path:
        """The folder every job's output folder lives in."""
        if self.output_root is not None:
            return self.output_root
        return self.data_dir / "output"

    @property
    def webhook_networks(
        self,
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``webhook_allow`` as networks."""
        from .webhooks import parse_networks

        return parse_networks(self.webhook_allow, option="--webhook-allow")

    def resolved(self) -> ServiceConfig:
        """Check every value and make every path absolute (symlinks resolved).

        Returns:
            A copy with absolute paths, the watch folders added to the input roots,
            and the current folder as input root when none was given.

        Raises:
            OptionError: a value is out of range or an input root does not exist.
        """
        from .security import check_bind, check_origin, host_name

        check_bind(self.host, self.token)
        if not 0 <= self.port < 65536:
            raise OptionError("--port", self.port, "0..65535 (0 picks a free port)")
        if self.workers < 1:
            raise OptionError("--workers", self.workers, "1 or more")
        if self.lease_seconds <= 0:
            raise OptionError("lease_seconds", self.lease_seconds, "more than 0")
        from ..engine import parse_engine

        parse_engine(self.engine)
        for name in ("header_timeout", "body_timeout"):
            if not getattr(self, name) > 0:
                option = "--" + name.replace("_", "-")
                raise OptionError(option, getattr(self, name), "more than 0 seconds")
        for origin in self.cors_origins:
            check_origin(origin)
        for host in self.allowed_hosts:
            if host != "*" and host_name(host) is None:
                raise OptionError(
                    "--allowed-host", host, "a host name or address, or '*'"
                )
        if self.max_body_bytes < 1024:
            raise OptionError("max_body_bytes", self.max_body_bytes, "1024 or more")
        from .webhooks import decode_secret, parse_networks

        if self.webhook_secret is not None:
            decode_secret(self.webhook_secret, option="--webhook-secret")
        parse_networks(self.webhook_allow, option="--webhook-allow")
        if not self.retention_days >= 0:
            raise OptionError(
                "--retention-days", self.retention_days, "0 (keep) or more days"
            )
        roots = list(self.input_roots) or [Path.cwd()]
        roots.extend(self.watch_dirs)
        absolute_roots: list[Path] = []
        for root in roots:
            if not Path(root).is_dir():
                raise OptionError("--input-root", str(root), "an existing folder")
            real = Path(root).resolve()
            if real not in absolute_roots:
                absolute_roots.append(real)
        data_dir = Path(self.data_dir).resolve()
        outputs = Path(self.outputs).resolve()
        return replace(
            self,
            data_dir=data_dir,
            output_root=outputs,
            input_roots=tuple(absolute_roots),
            watch_dirs=tuple(Path(d).resolve() for d in self.watch_dirs),
        )
