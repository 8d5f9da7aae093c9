"""What probing returns: one info class per kind of source, each answering every
attribute (the other kind's as empty), hashable and picklable for workers."""

from __future__ import annotations

import dataclasses
import pickle
from fractions import Fraction
from pathlib import Path

import pytest

from aebridge import synthetic
from aebridge.ingest import ImageSequenceInfo, MovieInfo, Tags, probe

pytest.importorskip("av")

#: Every attribute a SourceInfo had before it was split by kind.
ATTRIBUTES = [
    "path",
    "kind",
    "width",
    "height",
    "frame_count",
    "channels",
    "has_alpha",
    "dtype",
    "rate",
    "colorspace",
    "colour_decision",
    "colour_tags",
    "variable_rate",
    "frame_files",
    "frame_numbers",
    "pixel_aspect",
    "codec",
    "decoder",
    "stream_index",
    "time_base",
    "frame_pts",
    "keyframe_pts",
    "pixel_format",
    "matrix",
    "color_range",
    "notes",
    "alpha_associated",
    "encoding",
    "orientation",
    "exr",
    "fields",
    "field_mode",
]


def test_an_image_sequence_is_an_image_sequence_info(tmp_path: Path) -> None:
    synthetic.write_png_sequence(tmp_path, "fg", frames=3)
    info = probe(tmp_path / "fg.####.png")
    assert type(info) is ImageSequenceInfo and info.kind == "images"
    assert info.frame_numbers == (1001, 1002, 1003)
    # A movie's attributes read as empty: no rate (the spec gives it), no tags.
    assert (info.rate, info.colour_tags, info.variable_rate) == (None, Tags(), False)
    assert (info.codec, info.frame_pts, info.time_base, info.field_mode) == (
        "",
        (),
        None,
        "keep",
    )
    assert "rate" not in {f.name for f in dataclasses.fields(info)}


def test_a_movie_is_a_movie_info(tmp_path: Path) -> None:
    path = synthetic.write_movie(tmp_path / "bg.mp4", frames=4)
    info = probe(path)
    assert type(info) is MovieInfo and info.kind == "movie"
    assert info.rate == Fraction(24) and info.codec == "h264"
    assert len(info.frame_pts) == 4
    # An image sequence's attributes read as empty.
    assert (info.frame_files, info.frame_numbers, info.exr) == ((), (), None)
    assert info.alpha_associated is False
    assert "frame_files" not in {f.name for f in dataclasses.fields(info)}


@pytest.mark.parametrize("kind", ["images", "movie"])
def test_every_kind_answers_every_attribute_hashes_and_pickles(
    tmp_path: Path, kind: str
) -> None:
    if kind == "images":
        synthetic.write_png_sequence(tmp_path, "fg", frames=2)
        info = probe(tmp_path / "fg.####.png")
    else:
        info = probe(synthetic.write_movie(tmp_path / "bg.mp4", frames=2))
    for name in ATTRIBUTES:
        getattr(info, name)
    assert pickle.loads(pickle.dumps(info)) == info
    assert hash(pickle.loads(pickle.dumps(info))) == hash(info)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 1  # type: ignore[misc]
