"""Frame-sequence discovery, review findings: negative frame numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aebridge.sequence import find_sequence


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


@pytest.mark.parametrize("source", ["n.####.png", "n.%04d.png", "n.-2-1#.png", ""])
def test_negative_frames_padded_like_printf_are_part_of_the_sequence(
    tmp_path: Path, source: str
) -> None:
    # printf ('%04d' % -2 == '-002'), fileseq, Nuke and OpenImageIO count the sign in
    # the padding width; these frames were silently dropped and the layer started at 0.
    touch(tmp_path, *(f"n.{n:04d}.png" for n in range(-2, 2)))
    seq = find_sequence(tmp_path / source if source else tmp_path)
    assert seq.frame_numbers == (-2, -1, 0, 1)
    assert [Path(f).name for f in seq.frame_files] == [
        "n.-002.png",
        "n.-001.png",
        "n.0000.png",
        "n.0001.png",
    ]


def test_negative_frames_with_the_sign_outside_the_padding_still_match(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "n.-0001.png", "n.0000.png", "n.0001.png")
    assert find_sequence(tmp_path / "n.####.png").frame_numbers == (-1, 0, 1)


def test_a_one_digit_pattern_takes_negative_frames(tmp_path: Path) -> None:
    touch(tmp_path, "n.-1.png", "n.0.png", "n.1.png")
    assert find_sequence(tmp_path / "n.@.png").frame_numbers == (-1, 0, 1)
