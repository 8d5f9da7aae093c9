"""Every example in docs/ runs as written (docs/service.md's have their own test in
tests/service/test_docs_examples.py).

Shell examples run through the CLI in a workspace laid out as the docs assume
(``shot/comp.json``, ``shots/sh010/comp.json``, ``downloads/sh040``, ``runs/``), in the
order each page gives them; Python examples run in the same workspace; JSON fragments
of the comp spec are put into a spec and validated. What cannot run here is listed in
:data:`NOT_RUN` with the reason, so a new example is either run or said not to be.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aebridge import synthetic
from aebridge.cli import main
from aebridge.spec_io import validate

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

#: Examples that name tools or machines this test cannot have, by page and the text
#: that marks them: each is shown as documentation of another system's interface.
NOT_RUN = {
    "farm.md": (
        "deadlinecommand",  # Thinkbox Deadline's submitter
        "from outline import",  # OpenCue's Python API
        "import tractor",  # Pixar Tractor's Python API
        "pip install",  # an install line
        "dask scheduler",  # starts cluster processes
        "--engine dask://scheduler",  # needs that cluster
        "--frames 1001-1016",  # option syntax, not a command
    ),
    "otio.md": ("pip install",),
    "comp-spec.md": ('"schema": "aebridge.build/1"',),  # annotated with // comments
}


def blocks(page: str, lang: str = "") -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def skipped(page: str, block: str) -> bool:
    return any(mark in block for mark in NOT_RUN.get(page, ()))


def commands(page: str) -> list[list[str]]:
    """The ``aebridge`` command lines of a page's plain code blocks, comments off."""
    found = []
    for block in blocks(page):
        if skipped(page, block):
            continue
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line.startswith("$ "):
                continue  # a transcript, checked with its output below
            if line.startswith("aebridge "):
                found.append(shlex.split(line)[1:])
    return found


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory, sample_media: Callable[[str], None]
) -> Path:
    """The folders the docs' examples name."""
    root = tmp_path_factory.mktemp("docs")
    sample_media("sh010")
    sample_media("sh040")
    samples = REPO / "samples"
    shutil.copytree(samples / "sh010", root / "shot")
    shutil.copytree(samples / "sh010", root / "shots" / "sh010")
    shutil.copytree(samples / "downloads" / "sh040", root / "downloads" / "sh040")
    runs = root / "runs"
    runs.mkdir()
    for i in range(48):  # farm.md's 48-frame foreground, numbered from 1001
        pixels = synthetic.frame_pixels(i, 64, 36, alpha="straight")
        synthetic.write_image(runs / f"fg.{1001 + i:04d}.png", pixels)
    return root


@pytest.fixture
def inside(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The workspace as the current folder, with the comp the pages build first
    (``out/sh010``) already built, so each page's examples run on their own."""
    monkeypatch.chdir(workspace)
    assert run(["build", "shot/comp.json", "-o", "out"]).exit_code == 0
    yield workspace


def run(args: list[str]) -> Any:
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.mark.parametrize("page", ["comp-spec.md", "init.md", "otio.md", "preview.md"])
def test_the_commands_of_a_page_run(page: str, inside: Path) -> None:
    lines = commands(page)
    assert lines, f"{page} shows no aebridge command"
    for args in lines:
        if args[0] == "init" and (inside / args[args.index("-o") + 1]).exists():
            args = [*args, "--force"]  # the page's command, run a second time
        result = run(args)
        assert result.exit_code == 0, f"{page}: aebridge {shlex.join(args)}\n" + (
            result.output
        )


def test_the_farm_pages_commands_run(inside: Path) -> None:
    for args in commands("farm.md"):
        result = run(args)
        assert result.exit_code == 0, shlex.join(args) + "\n" + result.output


def test_the_farm_pages_error_transcript_is_what_aebridge_prints(
    inside: Path,
) -> None:
    (block,) = [b for b in blocks("farm.md") if b.startswith("$ aebridge")]
    command, *expected = block.strip().splitlines()
    result = CliRunner().invoke(main, shlex.split(command[2:])[1:])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == expected


@pytest.mark.parametrize("page", ["comp-spec.md", "init.md", "otio.md", "preview.md"])
def test_the_python_examples_of_a_page_run(page: str, inside: Path) -> None:
    # init.md's Python writes sh040/comp.json itself (as if its command had not run).
    (inside / "sh040").mkdir(exist_ok=True)
    (inside / "sh040" / "comp.json").unlink(missing_ok=True)
    examples = [b for b in blocks(page, "python") if not skipped(page, b)]
    assert examples, f"{page} shows no Python example"
    for code in examples:
        exec(compile(code, f"docs/{page}", "exec"), {"__name__": "docs_example"})


def _base_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(
        (REPO / "samples" / "sh010" / "comp.json").read_text(encoding="utf-8")
    )
    return spec


def _fragments() -> list[str]:
    return [b for b in blocks("comp-spec.md", "json") if not skipped("comp-spec.md", b)]


def test_every_comp_spec_fragment_is_valid_where_it_belongs() -> None:
    placed = 0
    for fragment in _fragments():
        text = fragment.strip()
        value = json.loads(text if text.startswith("{") else "{" + text + "}")
        spec = copy.deepcopy(_base_spec())
        layer = spec["layers"][-1]
        if "frame" in value and "kind" in value:  # a marker
            spec["markers"] = [value]
        else:
            ((key, body),) = value.items()
            if key == "camera":
                spec["camera"] = body
            else:
                layer[key] = body
        problems = [
            p
            for p in validate(
                spec, base_dir=REPO / "samples" / "sh010", check_files=False
            )
            if p.severity == "error"
        ]
        assert not problems, f"{text}\n" + "\n".join(map(str, problems))
        placed += 1
    assert placed >= 6
