"""What init finds in a downloads folder: its sequences are the sequence grammar's
(one grouping, :func:`aebridge.sequence.group_numbered`), and what it cannot read is
listed with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aebridge import synthetic
from aebridge.init.discover import scan


def _pngs(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        pixels = np.full((4, 6, 3), 20 * i % 256, dtype=np.uint8)
        synthetic.write_image(folder / name, pixels)


@pytest.mark.parametrize(
    ("names", "pattern", "first"),
    [
        # Was 'fg#####.png', frames -3..-1: the clip backwards.
        (("fg-0001.png", "fg-0002.png", "fg-0003.png"), "fg-####.png", "fg-0001.png"),
        # Were four stills (fileseq made two groups of two).
        (
            ("fg.-0002.png", "fg.-0001.png", "fg.0000.png", "fg.0001.png"),
            "fg.####.png",
            "fg.-0002.png",
        ),
        # Was 'take#####.png', which lists no file: left out.
        (
            ("take#1001.png", "take#1002.png", "take#1003.png"),
            "take#%04d.png",
            "take#1001.png",
        ),
        (
            ("it's #2.0007.png", "it's #2.0008.png", "it's #2.0009.png"),
            "it's #2.####.png",
            "it's #2.0007.png",
        ),
        # Were left out: no pattern could name a name ending in '2-'.
        (
            ("fg_v2-1001.png", "fg_v2-1002.png", "fg_v2-1003.png"),
            "fg_v2-####.png",
            "fg_v2-1001.png",
        ),
        (
            ("shot010_v002.1001.png", "shot010_v002.1002.png", "shot010_v002.1003.png"),
            "shot010_v002.####.png",
            "shot010_v002.1001.png",
        ),
        (
            ("fg-v3_0001.png", "fg-v3_0002.png", "fg-v3_0003.png"),
            "fg-v3_####.png",
            "fg-v3_0001.png",
        ),
        # Unpadded numbers after a '.' and letters: these were frames 10-12 and nine
        # stills (fileseq read '.f1' as an extension and the version as the frame),
        # and no clip at all ('.a1' an extension, no number).
        (
            tuple(f"fg_v2.f{n}.png" for n in range(1, 13)),
            "fg_v2.f@.png",
            "fg_v2.f1.png",
        ),
        (("fg.a1.png", "fg.a2.png", "fg.a3.png"), "fg.a@.png", "fg.a1.png"),
    ],
)
def test_sequences_are_grouped_as_their_patterns_list_them(
    tmp_path: Path, names: tuple[str, ...], pattern: str, first: str
) -> None:
    _pngs(tmp_path / "sub", *names)
    found = scan(tmp_path)
    assert [(c.path, c.kind, c.frame_count) for c in found.clips] == [
        (f"sub/{pattern}", "sequence", len(names))
    ]
    assert found.clips[0].files[0] == f"sub/{first}"
    assert found.stills == () and found.left_out == ()


def test_files_init_does_not_read_are_listed_saying_what_it_reads(
    tmp_path: Path,
) -> None:
    # A .tga sequence was a line per frame, and no line said what init reads.
    _pngs(tmp_path, "fg.0001.png", "fg.0002.png", "fg.0003.png")
    for n in range(1, 6):
        (tmp_path / f"x.{n:04d}.tga").write_bytes(b"")
    (tmp_path / "x.0001.txt").write_text("notes")
    (tmp_path / "README").write_text("notes")
    allowed = (
        "allowed: images (.exr, .jpeg, .jpg, .png, .tif, .tiff) and movies (.avi, "
        ".m4v, .mkv, .mov, .mp4, .mxf, .webm)"
    )
    no_kind = "not a movie, an image or a generator record"
    assert scan(tmp_path).left_out == (
        ("README", f"{no_kind}: the name has no extension; {allowed}"),
        (
            "x.####.tga",
            f"5 numbered files, {no_kind}: aebridge does not read .tga "
            f"files; {allowed}",
        ),
        ("x.0001.txt", f"{no_kind}: aebridge does not read .txt files; {allowed}"),
    )
