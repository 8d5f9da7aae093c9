"""``aebridge validate`` and ``aebridge build``: comp specs from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import Problem
from ..spec.crossfield import RATE_POLICIES

if TYPE_CHECKING:
    from ..api import BuildProgress

__all__ = ["build_cmd", "progress_line", "validate_cmd"]


def progress_line(event: BuildProgress) -> str:
    """What a terminal shows while a layer converts: its frames and, once the sources
    are probed, the whole build's (``  12/48 frames (25%); build 60/240 (25%)``)."""
    line = (
        f"  {event.frames_done}/{event.frames_total} frames "
        f"({100 * event.frames_done // max(event.frames_total, 1)}%)"
    )
    if event.build_frames_total:
        done, total = event.build_frames_done, event.build_frames_total
        line += f"; build {done}/{total} ({100 * done // total}%)"
    return line


def _problem_dict(problem: Problem) -> dict[str, str]:
    return {
        "path": problem.path,
        "message": problem.message,
        "severity": problem.severity,
    }


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to here when it is below here."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


# Shared by validate and build, so both read a layer's rate the same way.
_rate_policy_option = click.option(
    "--rate-policy",
    type=click.Choice(RATE_POLICIES),
    default=RATE_POLICIES[0],
    show_default=True,
    help="A layer rate that differs from the comp's: conform it (a warning) or "
    "refuse it (an error).",
)


@click.command("validate")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@_rate_policy_option
@click.option(
    "--sources",
    is_flag=True,
    help="Also open every source (without converting) to check its rate, size and "
    "length against the comp.",
)
def validate_cmd(spec: Path, as_json: bool, rate_policy: str, sources: bool) -> None:
    """Check a comp spec and report every problem at once, with its spec path.

    Exits 1 when there is at least one error; warnings alone exit 0.

    \b
    Examples:
      aebridge validate shots/sh010/comp.json
      aebridge validate shots/sh010/comp.json --json
      aebridge validate shots/sh020/comp.json --sources --rate-policy refuse
    """
    from ..spec import validate

    problems = validate(spec, rate_policy=rate_policy)
    if sources and not any(p.severity == "error" for p in problems):
        from ..api import check_sources

        problems = problems + check_sources(spec, rate_policy=rate_policy)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        document = {
            "spec": spec.as_posix(),
            "valid": not errors,
            "problems": [_problem_dict(p) for p in problems],
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for problem in problems:
            # A problem of the file as a whole (not found, not JSON) names the file.
            where = problem if problem.path else f"{spec.as_posix()}: {problem}"
            click.echo(f"{problem.severity}: {where}", err=problem.severity == "error")
        if errors:
            noun = "error" if len(errors) == 1 else "errors"
            click.echo(f"{spec.as_posix()}: {len(errors)} {noun}", err=True)
        else:
            click.echo(f"{spec.as_posix()}: valid")
    if errors:
        sys.exit(1)


@click.command("build")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output root; the comp goes to OUT/<comp id, or a slug of its name>/.",
)
@click.option("--preview", is_flag=True, help="Also render OUT/<comp>/preview.mp4.")
@click.option(
    "--aep",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Make the script save the After Effects project at this path.",
)
@click.option(
    "--engine",
    default="local",
    show_default=True,
    help="Where frames are converted: local, or dask://host:port.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel processes for the local engine (default: all cores).",
)
@click.option("--force", is_flag=True, help="Rewrite frames even when up to date.")
@_rate_policy_option
def build_cmd(
    spec: Path,
    out_dir: Path,
    preview: bool,
    aep: Path | None,
    engine: str,
    jobs: int | None,
    force: bool,
    rate_policy: str,
) -> None:
    """Convert every layer of a comp spec and write its After Effects script.

    Writes OUT/<comp>/layers/<layer>/<layer>.####.exr, OUT/<comp>/<comp>.jsx and
    OUT/<comp>/build.json. In After Effects, File > Scripts > Run Script File on the
    .jsx builds the comp; the folder can be copied to another machine first. A
    re-run skips frames that are up to date.

    \b
    Examples:
      aebridge build samples/sh010/comp.json -o out
      aebridge build shot/comp.json -o out --preview --aep out/shot.aep
      aebridge build shot/comp.json -o out --engine dask://farm:8786
    """
    from ..api import build

    current: dict[str, object] = {"key": None}
    tty = sys.stderr.isatty()

    def progress(event: BuildProgress) -> None:
        # One line per stage and layer, plus a percentage on a terminal.
        key = (event.stage, event.layer)
        if key != current["key"]:
            current["key"] = key
            what = f"{event.stage} {event.layer}" if event.layer else event.stage
            click.echo(what, err=True)
        elif tty and event.frames_total:
            click.echo(
                f"\r{progress_line(event)}",
                err=True,
                nl=event.frames_done >= event.frames_total,
            )

    result = build(
        spec,
        out_dir,
        preview=preview,
        engine=engine,
        jobs=jobs,
        force=force,
        aep=aep,
        progress=progress,
        rate_policy=rate_policy,
    )
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    click.echo(f"script:     {_shown(result.script)}")
    click.echo(f"build.json: {_shown(result.build_json)}")
    if result.preview is not None:
        click.echo(f"preview:    {_shown(result.preview)}")
    written = sum(layer.frames_written for layer in result.layers)
    skipped = sum(layer.frames_skipped for layer in result.layers)
    click.echo(
        f"{len(result.layers)} layers, {written} frames written, {skipped} up to date"
    )
