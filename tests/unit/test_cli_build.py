"""The build command's terminal output."""

from __future__ import annotations

from aebridge.api import BuildProgress
from aebridge.cli.build import progress_line


def test_a_layers_progress_line_carries_the_builds_once_its_total_is_known() -> None:
    early = BuildProgress(stage="convert", layer="fg", frames_done=12, frames_total=48)
    assert progress_line(early) == "  12/48 frames (25%)"
    known = BuildProgress(
        stage="convert",
        layer="fg",
        frames_done=12,
        frames_total=48,
        build_frames_done=60,
        build_frames_total=240,
    )
    assert progress_line(known) == "  12/48 frames (25%); build 60/240 (25%)"
    done = BuildProgress(
        stage="convert",
        layer="bg",
        frames_done=7,
        frames_total=7,
        build_frames_done=239,
        build_frames_total=240,
    )
    assert progress_line(done) == "  7/7 frames (100%); build 239/240 (99%)"
