"""The generated scripts for the sample shots, compared byte for byte.

A difference means the library, the plan or the script layout changed: review the diff,
then regenerate with the command in the failure message.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "js"))

import aejsx

from aebridge.emit import build_plan, render_script

GOLDEN = Path(__file__).resolve().parent
FIX = "pytest tests/golden --update-golden"


def generate(name: str) -> str:
    """The sample's script with fixed hash, version and build id (stable across
    releases and spec-format changes)."""
    spec = aejsx.load(aejsx.sample_data()[name])
    plan = build_plan(
        spec,
        {},
        script_dir=GOLDEN,
        build_id=f"golden-{name}",
        spec_hash="golden",
        generator="aebridge golden",
    )
    return render_script(plan, spec_hash="golden", version="golden")


@pytest.mark.parametrize("name", sorted(aejsx.sample_data()))
def test_sample_script_matches_its_golden_file(name: str, update_golden: bool) -> None:
    path = GOLDEN / f"{name}.jsx"
    text = generate(name)
    if update_golden:
        path.write_text(text, encoding="ascii", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with: {FIX}")
    expected = path.read_text(encoding="ascii")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"golden/{name}.jsx",
                    tofile="generated",
                )
            )[:60]
        )
        pytest.fail(
            f"{name}.jsx differs from its golden file; if the change is intended, "
            f"regenerate with: {FIX}\n{diff}"
        )


@pytest.mark.parametrize("name", sorted(aejsx.sample_data()))
def test_golden_files_are_es3(name: str) -> None:
    assert aejsx.es3_problems(GOLDEN / f"{name}.jsx") == []
