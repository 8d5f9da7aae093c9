"""build.json is written and read in one place, and its schema label is checked."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from aebridge.build_io import BUILD_SCHEMA, load_build, read_document, write_build
from aebridge.errors import SourceError
from aebridge.model import Comp, CompSpec
from aebridge.spec import spec_to_dict

SPEC = CompSpec(
    comp=Comp(name="sh010", width=8, height=8, rate=Fraction(24), duration=4)
)


def _write(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "sh010" / "build.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_build(path, {"build_id": "ab1", "spec": spec_to_dict(SPEC), **changes})
    return path


def test_build_json_is_labelled_deterministic_and_reads_back(tmp_path: Path) -> None:
    path = _write(tmp_path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["schema"] == BUILD_SCHEMA == "aebridge.build/1"
    assert list(data) == sorted(data) and text.endswith("}\n")
    assert write_build(path, {"build_id": "ab1", "spec": spec_to_dict(SPEC)}) == path
    assert path.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in path.parent.iterdir()) == ["build.json"]
    built = load_build(path)
    assert built.spec == SPEC
    assert built.comp_dir == path.parent
    assert built.document["build_id"] == "ab1"


@pytest.mark.parametrize(
    ("label", "shown"),
    [("aebridge.build/0", "schema 'aebridge.build/0'"), (None, "no schema label")],
)
def test_a_build_json_with_another_label_is_one_clear_line(
    tmp_path: Path, label: str | None, shown: str
) -> None:
    path = _write(tmp_path)
    data = json.loads(path.read_text())
    if label is None:
        del data["schema"]
    else:
        data["schema"] = label
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError) as info:
        read_document(path)
    message = str(info.value)
    assert message == (
        f"{path}: not a build.json written by `aebridge build` ({shown}, expected "
        "'aebridge.build/1'); build the comp again with this version of aebridge"
    )
    assert "\n" not in message


def test_a_comp_spec_given_as_build_json_names_both_labels(tmp_path: Path) -> None:
    path = tmp_path / "comp.json"
    path.write_text(json.dumps(spec_to_dict(SPEC)))
    with pytest.raises(SourceError) as info:
        load_build(path)
    assert str(info.value) == (
        f"{path}: not a build.json written by `aebridge build` (it has no 'spec' "
        "object; schema 'aebridge.comp/1', expected 'aebridge.build/1'); give the "
        "build.json that `aebridge build` writes in the comp's output folder"
    )


def test_preview_and_otio_read_build_json_through_the_label_check(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, schema="aebridge.build/0")
    assert json.loads(path.read_text())["schema"] == BUILD_SCHEMA  # write_build's
    data = json.loads(path.read_text())
    data["schema"] = "aebridge.build/0"
    path.write_text(json.dumps(data))
    from aebridge.preview.render import render_frame

    with pytest.raises(SourceError, match=r"schema 'aebridge.build/0', expected"):
        render_frame(path, 1001)
    pytest.importorskip("opentimelineio")
    from aebridge.otio import to_timeline

    with pytest.raises(SourceError, match=r"schema 'aebridge.build/0', expected"):
        to_timeline(path)
