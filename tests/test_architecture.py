"""The architecture holds: import contracts, typing, documented commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_command_has_help_and_examples() -> None:
    from aebridge.cli import main

    # Contexts made as click makes them (make_context applies context_settings such
    # as the -h help name); a bare Context made click cache a help option without
    # -h on each command, and later invocations in the same process refused -h.
    ctx = main.make_context("aebridge", [], resilient_parsing=True)
    missing = []
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None, name
        sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
        text = command.get_help(sub)
        if "Examples:" not in text or not (command.help or "").strip():
            missing.append(name)
    assert not missing, f"commands without help and examples: {missing}"


def test_version_and_short_help_flag() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "aebridge", "-V"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "aebridge" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "aebridge", "-h"], capture_output=True, text=True
    )
    assert run.returncode == 0 and "convert" in run.stdout


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "aebridge").rglob("__init__.py")
    }
    assert found | {"aebridge.jsx"} == listed


def test_a_wheel_carries_the_extendscript_library(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("aebridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "aebridge/jsx/aebridge.jsx" in names
    assert "aebridge/schema/comp-1.schema.json" in names


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _section(title: str) -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_drawn_layers_are_the_import_contract() -> None:
    import tomllib

    block = _section("Layers").split("```layers\n", 1)[1].split("```", 1)[0]
    drawn = [
        " | ".join(p.strip() for p in line.split("|")) for line in block.split("\n")
    ]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "importlinter"
    ]["contracts"]
    (layers,) = [c for c in contracts if c["type"] == "layers"]
    assert layers["containers"] == ["aebridge"] and layers["exhaustive"]
    assert [line for line in drawn if line] == layers["layers"]


def _ideas() -> list[tuple[str, str, str]]:
    """(idea, module, name) for every name in the table of ideas."""
    rows = []
    for line in _section("One definition of each idea").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`aebridge"):
            continue
        modules = [m.strip(" `") for m in cells[1].split("/")]
        groups = [g.split(",") for g in cells[2].split("/")]
        assert len(modules) == len(groups), line
        for module, names in zip(modules, groups, strict=True):
            rows.extend((cells[0], module, n.strip(" `")) for n in names)
    return rows


def _top_level_definitions() -> dict[str, set[str]]:
    """Name -> the aebridge modules that define it at module level (not import it)."""
    import ast

    found: dict[str, set[str]] = {}
    for path in (ROOT / "aebridge").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            for name in names:
                found.setdefault(name, set()).add(module)
    return found


def test_each_idea_has_one_definition_in_the_module_the_table_names() -> None:
    import importlib

    ideas = _ideas()
    assert len(ideas) >= 40, "the table of ideas was not found or lost rows"
    defined = _top_level_definitions()
    wrong = []
    for idea, module, name in ideas:
        if not hasattr(importlib.import_module(module), name):
            wrong.append(f"{idea}: {module} has no {name}")
        elif defined.get(name, set()) != {module}:
            places = sorted(defined.get(name, set()))
            wrong.append(f"{idea}: {name} is defined in {places}, not only {module}")
    assert not wrong, "\n".join(wrong)
