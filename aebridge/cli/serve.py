"""``aebridge serve`` and ``aebridge watch``: the service and the hot folder."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from ..errors import OptionError
from ..service.config import DEFAULT_HOST, DEFAULT_PORT, ServiceConfig

if TYPE_CHECKING:
    from ..service.worker import BuildFn

__all__ = ["build_function", "serve_cmd", "watch_cmd"]


def build_function(text: str | None) -> BuildFn:
    """The build the service runs: :func:`aebridge.api.build`, or the ``--build``
    override.

    ``--build MODULE:FUNCTION`` stays a documented option rather than a seam only
    tests can reach: the service's crash, stop and attack tests run the real
    ``aebridge serve`` process (its signal handling, its kill -9 recovery, its
    option parsing) with a slowed or paused build, and ``bench/service.py`` measures
    the service's own overhead with a scripted one; a test-only launcher would test
    another process than the one users run. The default is imported here, where a
    type checker and the import contracts see it; only an override is resolved
    from text, and it is checked to be an importable callable (its signature is the
    operator's promise).

    Raises:
        OptionError: the text is not ``module:function``, or does not import a
            callable.
    """
    if text is None:
        from ..api import build

        return build
    module_name, _, attr = text.partition(":")
    if not module_name or not attr:
        raise OptionError("--build", text, "module:function, e.g. aebridge.api:build")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise OptionError(
            "--build", text, f"an importable module:function ({exc})"
        ) from exc
    if not callable(target):
        raise OptionError("--build", text, "a callable")
    return cast("BuildFn", target)


def _shared_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options both commands take (data folder, roots, workers, leases, build)."""
    options = [
        click.option(
            "--data",
            "data_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("aebridge-data"),
            show_default=True,
            help="Folder for the job database (SQLite) and, by default, the outputs.",
        ),
        click.option(
            "--input-root",
            "input_roots",
            multiple=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Jobs may read sources only under this folder (repeatable; default: "
            "the current folder).",
        ),
        click.option(
            "--output-root",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Jobs write to OUTPUT_ROOT/<job id> (default: DATA/output).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Jobs built at the same time.",
        ),
        click.option(
            "--build-jobs",
            type=click.IntRange(min=1),
            default=None,
            help="Conversion processes per job (default: all cores).",
        ),
        click.option(
            "--engine",
            default="local",
            show_default=True,
            help="Where builds convert frames: local (a process pool), "
            "dask://HOST:PORT (a Dask cluster), or dask-local:N.",
        ),
        click.option(
            "--lease-seconds",
            type=click.FloatRange(min=0.5),
            default=30.0,
            show_default=True,
            help="A running job whose server stops answering for this long is "
            "queued again and resumes.",
        ),
        click.option(
            "--webhook-secret",
            envvar="AEBRIDGE_WEBHOOK_SECRET",
            default=None,
            help="Sign every webhook with this whsec_... secret (env "
            "AEBRIDGE_WEBHOOK_SECRET; default: a new secret per job, returned once).",
        ),
        click.option(
            "--webhook-allow",
            "webhook_allow",
            multiple=True,
            metavar="CIDR",
            help="Let webhooks reach this private or loopback network (repeatable, "
            "e.g. 10.20.0.0/16 or 127.0.0.1/32); link-local and cloud metadata "
            "addresses stay refused.",
        ),
        click.option(
            "--retention-days",
            type=click.FloatRange(min=0),
            default=30.0,
            show_default=True,
            help="Delete finished jobs and their outputs this many days after they "
            "ended (0 keeps them until deleted).",
        ),
        click.option(
            "--build",
            "build",
            default=None,
            metavar="MODULE:FUNCTION",
            help="The build function to run (default aebridge.api:build).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@click.command("serve")
@click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Address to bind."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--token",
    envvar="AEBRIDGE_TOKEN",
    default=None,
    help="Bearer token every request must carry (env AEBRIDGE_TOKEN); required "
    "to bind anywhere but loopback.",
)
@click.option(
    "--watch",
    "watch_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also turn every spec dropped into this folder into a job (repeatable).",
)
@click.option(
    "--poll",
    is_flag=True,
    help="Hot folders are network shares: take a file once its size is stable.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests whose Host header is NAME (repeatable; the bound "
    "address and localhost always work; '*' for any, behind a proxy that checks it).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN (https://tool.example) call the API "
    "(repeatable); pages from any other origin are refused.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a request's headers may take to arrive.",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a request's body may take to arrive after its headers.",
)
@_shared_options
def serve_cmd(
    host: str,
    port: int,
    token: str | None,
    watch_dirs: tuple[Path, ...],
    poll: bool,
    allowed_hosts: tuple[str, ...],
    cors_origins: tuple[str, ...],
    header_timeout: float,
    body_timeout: float,
    build: str | None,
    **shared: Any,
) -> None:
    """Run the HTTP service: jobs in SQLite, progress, webhooks, hot folders.

    Jobs are submitted with POST /v1/jobs (a comp spec, or {"spec", "base_dir",
    "webhook", "options"}) as application/json; the API is described at /docs and
    /openapi.json. Jobs read only inside the input roots. Stopping the server
    (Ctrl-C, SIGTERM) puts running jobs back in the queue within seconds; they
    resume on the next start, skipping frames already written. See docs/service.md
    for the security model.

    \b
    Examples:
      aebridge serve
      aebridge serve --input-root shots --output-root builds --workers 2
      AEBRIDGE_TOKEN=s3cret aebridge serve --host 0.0.0.0 --watch dropbox
      curl -X POST 'localhost:8765/v1/jobs?base_dir=sh010' \\
        -H 'Content-Type: application/json' -d @shots/sh010/comp.json
    """
    from ..service.runtime import Service
    from ..service.server import serve

    config = ServiceConfig(
        host=host,
        port=port,
        token=token or None,
        watch_dirs=watch_dirs,
        poll=poll,
        allowed_hosts=allowed_hosts,
        cors_origins=cors_origins,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        **shared,
    )
    _logging()
    service = Service(config, build=build_function(build))
    click.echo(
        f"aebridge service on http://{host}:{port} (data {service.config.data_dir})",
        err=True,
    )
    serve(service)


@click.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--poll",
    is_flag=True,
    help="The folder is a network share: take a file once its size is stable.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=0.5,
    show_default=True,
    help="Seconds between scans of the folder.",
)
@_shared_options
def watch_cmd(
    folder: Path, poll: bool, interval: float, build: str | None, **shared: Any
) -> None:
    """Turn every comp spec dropped into FOLDER into a job, without an HTTP server.

    Write a spec under a temporary name (or starting with '.') and rename it to
    NAME.json when complete. The outcome appears beside it: NAME.result.json when the
    build succeeded, NAME.error.json when the spec was refused or the build failed.
    Relative paths in a spec start at FOLDER. Runs until Ctrl-C.

    \b
    Examples:
      aebridge watch dropbox
      aebridge watch /mnt/share/specs --poll --input-root /mnt/share/renders
    """
    from ..service.runtime import Service

    config = ServiceConfig(
        watch_dirs=(folder,), poll=poll, watch_interval=interval, **shared
    )
    _logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Service(config, build=build_function(build)) as service:
        click.echo(
            f"watching {service.config.watch_dirs[0]} (data "
            f"{service.config.data_dir}); Ctrl-C stops",
            err=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
