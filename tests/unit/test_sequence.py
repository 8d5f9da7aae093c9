"""Frame-sequence naming: every pattern spelling, folders, gaps, padding and negative
frame numbers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aebridge.errors import SourceError
from aebridge.sequence import (
    FoundSequences,
    SequencePattern,
    find_sequence,
    format_frame_ranges,
    group_numbered,
    is_sequence_pattern,
    takes_frame,
)


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


@pytest.fixture
def seq(tmp_path: Path) -> Path:
    """A scenario folder: fg.1001-1004 (4 digits), bg.1-3 (unpadded), a stray file."""
    touch(tmp_path, *(f"fg.{n:04d}.png" for n in range(1001, 1005)))
    touch(tmp_path / "bg", *(f"bg.{n}.exr" for n in range(1, 4)))
    touch(tmp_path, "notes.txt")
    return tmp_path


@pytest.mark.parametrize(
    ("pattern", "numbers"),
    [
        ("fg.####.png", (1001, 1002, 1003, 1004)),
        ("fg.%04d.png", (1001, 1002, 1003, 1004)),
        ("fg.@@@@.png", (1001, 1002, 1003, 1004)),
        ("fg.1001-1004#.png", (1001, 1002, 1003, 1004)),
        ("fg.1002-1003#.png", (1002, 1003)),
        ("fg.1002-1003####.png", (1002, 1003)),
    ],
)
def test_every_pattern_spelling_finds_the_frames(
    seq: Path, pattern: str, numbers: tuple[int, ...]
) -> None:
    found = find_sequence(str(seq / pattern))
    assert found.frame_numbers == numbers
    assert found.frame_files == tuple(str(seq / f"fg.{n}.png") for n in numbers)
    assert found.padding == 4
    assert found.pattern == str(seq / "fg.####.png")
    assert (found.first, found.last) == (numbers[0], numbers[-1])


def test_an_unpadded_sequence_reads_with_a_one_digit_pattern(seq: Path) -> None:
    assert find_sequence(str(seq / "bg" / "bg.@.exr")).frame_numbers == (1, 2, 3)
    with pytest.raises(SourceError, match="no file matches"):
        find_sequence(str(seq / "bg" / "bg.#.exr"))  # a lone '#' is four digits


def test_a_lone_hash_means_four_digits(seq: Path) -> None:
    assert find_sequence(str(seq / "fg.#.png")).frame_numbers == (
        1001,
        1002,
        1003,
        1004,
    )


def test_numbers_with_the_wrong_padding_are_not_frames(tmp_path: Path) -> None:
    touch(tmp_path, "a.0001.png", "a.0002.png", "a.03.png", "a.00003.png")
    assert find_sequence(str(tmp_path / "a.####.png")).frame_numbers == (1, 2)


def test_frames_past_the_padding_width_are_found(tmp_path: Path) -> None:
    touch(tmp_path, "a.9999.png", "a.10000.png")
    assert find_sequence(str(tmp_path / "a.####.png")).frame_numbers == (9999, 10000)


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


def test_a_folder_with_one_sequence_is_that_sequence(seq: Path) -> None:
    found = find_sequence(str(seq / "bg"))
    assert found.frame_numbers == (1, 2, 3)
    assert found.frame_files[0] == str(seq / "bg" / "bg.1.exr")


def test_a_folder_with_several_sequences_lists_them(seq: Path) -> None:
    touch(seq, "mask.0001.png", "mask.0002.png")
    with pytest.raises(SourceError) as caught:
        find_sequence(str(seq))
    message = str(caught.value)
    assert "2 image sequences" in message
    assert "fg.####.png (1001-1004); mask.####.png (1-2)" in message
    assert caught.value.path == str(seq)


def test_a_folder_without_images_says_what_it_looked_for(tmp_path: Path) -> None:
    touch(tmp_path, "readme.txt", "data.0001.json")
    with pytest.raises(SourceError, match=r"no numbered image sequence.*\.png"):
        find_sequence(str(tmp_path))


def test_a_gap_names_the_missing_frames(tmp_path: Path) -> None:
    touch(tmp_path, *(f"g.{n:04d}.png" for n in (1, 2, 5, 6, 9)))
    with pytest.raises(SourceError) as caught:
        find_sequence(str(tmp_path / "g.####.png"))
    assert "missing frame(s) 3-4, 7-8 between 1 and 9" in str(caught.value)
    assert caught.value.frame == 3
    assert caught.value.path == str(tmp_path / "g.####.png")


def test_a_range_beyond_the_files_names_the_missing_frames(seq: Path) -> None:
    with pytest.raises(SourceError, match=r"missing frame\(s\) 1005-1006 in the range"):
        find_sequence(str(seq / "fg.1001-1006#.png"))


@pytest.mark.parametrize(
    ("range_", "skipped", "contiguous"),
    [
        ("1001,1003", "1002", "1001-1003"),
        ("1001-1004x2", "1002", "1001-1003"),
        ("1001-1004y2", "1003", "1002-1004"),
        ("1001,1004", "1002-1003", "1001-1004"),
        ("1003-1001", "", "1001-1003"),
        ("1003,1001-1002", "", "1001-1003"),
        ("1001-1004:2", "", "1001-1004"),
    ],
)
def test_a_range_that_skips_or_reorders_frames_is_refused(
    seq: Path, range_: str, skipped: str, contiguous: str
) -> None:
    # Every named frame exists, but the frames would be read as one run: 1001, 1003
    # converted to consecutive frames plays the shot twice as fast. A sequence has
    # no holes, whether the files skip a number or the pattern does.
    path = str(seq / f"fg.{range_}#.png")
    with pytest.raises(SourceError) as caught:
        find_sequence(path)
    message = str(caught.value)
    assert caught.value.path == path
    assert "\n" not in message
    assert f"the frame range {range_} " in message
    if skipped:
        assert f"skips frame(s) {skipped}" in message
    else:
        assert "is not in ascending order" in message
    assert f"allowed: one ascending run first-last (fg.{contiguous}#.png)" in message
    assert "or every frame (fg.####.png)" in message


@pytest.mark.parametrize("range_", ["1001-1003x1", "1001-1002,1003", "1002"])
def test_a_range_spelled_as_one_run_is_read(seq: Path, range_: str) -> None:
    found = find_sequence(seq / f"fg.{range_}#.png")
    first, last = (1002, 1002) if range_ == "1002" else (1001, 1003)
    assert found.frame_numbers == tuple(range(first, last + 1))


def test_a_range_with_no_files_says_so(seq: Path) -> None:
    with pytest.raises(SourceError, match="no frame of the range 1-3 exists"):
        find_sequence(str(seq / "fg.1-3#.png"))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nothing.####.png", "no file matches the pattern"),
        ("missing_dir/a.####.png", "does not exist"),
        ("plain.png", "not a sequence pattern or folder"),
        # fileseq reads no frame field in these (its name runs past the field).
        ("logo@2x.png", "no such file, and cannot read the frame field '@'"),
        ("take#3.png", "no such file, and cannot read the frame field '#'"),
    ],
)
def test_bad_paths_name_the_path(tmp_path: Path, path: str, message: str) -> None:
    full = os.path.join(str(tmp_path), path)
    with pytest.raises(SourceError, match=message) as caught:
        find_sequence(full)
    assert str(caught.value).startswith(full)


@pytest.mark.parametrize("name", ["logo@2x.png", "take#3.png", "fg_%d.png"])
def test_a_file_named_like_a_pattern_is_that_file(tmp_path: Path, name: str) -> None:
    touch(tmp_path, name)
    found = find_sequence(tmp_path / name)
    assert (found.frame_files, found.frame_numbers) == ((str(tmp_path / name),), (0,))


def test_a_file_named_as_a_pattern_of_existing_frames_is_refused(seq: Path) -> None:
    # The file fg.####.png beside fg.1001.png..: the frames were read and the file
    # ignored; which one is meant is not for aebridge to guess.
    touch(seq, "fg.####.png")
    with pytest.raises(SourceError) as caught:
        find_sequence(seq / "fg.####.png")
    assert str(caught.value) == (
        f"{seq / 'fg.####.png'}: names an image file and also frames 1001-1004 of "
        "fg.####.png: rename the file, or write the pattern fg.%04d.png to read the "
        "frames"
    )
    assert find_sequence(seq / "fg.%04d.png").frame_numbers == (1001, 1002, 1003, 1004)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/fg.####.png", True),
        ("fg.%04d.exr", True),
        ("fg.1-9#.png", True),
        ("fg.@@.png", True),
        ("a#b/fg.0001.png", False),
        ("fg.0001.png", False),
        ("folder", False),
        # A movie is never a sequence, whatever its name holds.
        ("Tom's plate #2 50%.mp4", False),
        ("clip.%04d.mov", False),
        ("take @home #3.webm", False),
        ("fg #2.####.png", True),
    ],
)
def test_pattern_detection_looks_at_the_file_name(path: str, expected: bool) -> None:
    assert is_sequence_pattern(path) is expected


@pytest.mark.parametrize(
    ("numbers", "text"),
    [([], ""), ([7], "7"), ([3, 4, 5, 9], "3-5, 9"), ([9, 3, 4, 3], "3-4, 9")],
)
def test_frame_ranges_are_spelled_compactly(numbers: list[int], text: str) -> None:
    assert format_frame_ranges(numbers) == text


@settings(max_examples=40, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=99990),
    count=st.integers(min_value=1, max_value=6),
    padding=st.integers(min_value=1, max_value=6),
    spelling=st.sampled_from(["hash", "printf", "at"]),
)
def test_any_contiguous_run_is_found_in_order(
    tmp_path_factory: pytest.TempPathFactory,
    first: int,
    count: int,
    padding: int,
    spelling: str,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    numbers = list(range(first, first + count))
    touch(folder, *(f"p.{n:0{padding}d}.tif" for n in numbers))
    field = {
        "hash": "@" if padding == 1 else "#" * padding,
        "printf": f"%0{padding}d",
        "at": "@" * padding,
    }[spelling]
    found = find_sequence(str(folder / f"p.{field}.tif"))
    assert found.frame_numbers == tuple(numbers)
    assert found.frame_files == tuple(
        str(folder / f"p.{n:0{padding}d}.tif") for n in numbers
    )
    assert find_sequence(str(folder)).frame_numbers == tuple(numbers)


# ------------------------------------------------------------- fileseq's strict padding


def _fileseq_strict(text: str, padding: int) -> bool:
    """fileseq's own strictPadding filter (what findSequenceOnDisk applies)."""
    from fileseq.filesequence import FileSequence

    name = f"p.{text}.png"
    kept = FileSequence._filterByPaddingNum([name], padding, get_frame=lambda n: text)
    return list(kept) == [name]


@settings(max_examples=300, deadline=None)
@given(
    number=st.integers(min_value=-120000, max_value=120000),
    width=st.integers(min_value=0, max_value=7),
    padding=st.integers(min_value=1, max_value=6),
)
def test_frames_are_taken_by_fileseqs_strict_padding(
    number: int, width: int, padding: int
) -> None:
    text = f"{number:0{width}d}"
    if number >= 0:
        assert takes_frame(text, padding) == _fileseq_strict(text, padding)
    elif _fileseq_strict(text, padding):
        # Negative frames: fileseq's (sign inside the width) and the sign outside.
        assert takes_frame(text, padding)


@pytest.mark.parametrize(
    ("text", "padding", "taken"),
    [
        ("0001", 4, True),
        ("001", 4, False),
        ("00001", 4, False),
        ("10000", 4, True),
        ("-002", 4, True),
        ("-0002", 4, True),
        ("-02", 4, False),
        ("-1", 1, True),
        ("--1", 1, False),
        ("1a", 1, False),
        ("", 1, False),
    ],
)
def test_frame_fields_follow_the_padding_rule(
    text: str, padding: int, taken: bool
) -> None:
    assert takes_frame(text, padding) is taken


@pytest.mark.parametrize(
    ("pattern", "prefix", "suffix", "padding"),
    [
        ("fg.####.png", "fg.", ".png", 4),
        ("fg.#.png", "fg.", ".png", 4),
        ("fg.##.png", "fg.", ".png", 2),
        ("fg.@.png", "fg.", ".png", 1),
        ("fg.%04d.png", "fg.", ".png", 4),
        ("fg.%d.png", "fg.", ".png", 1),
        ("fg.$F4.png", "fg.", ".png", 4),
        ("fg.1001-1004#.png", "fg.", ".png", 4),
        ("fg.####_final.png", "fg.", "_final.png", 4),
        # '#', '@' and '%' before the frame field are part of the name.
        ("fg #2.####.png", "fg #2.", ".png", 4),
        ("it's 50% #.####.png", "it's 50% #.", ".png", 4),
        ("x%d.%04d.png", "x%d.", ".png", 4),
        ("me@home.@@.png", "me@home.", ".png", 2),
        ("a#b.1001-1004#.png", "a#b.", ".png", 4),
        ("v$F2.$F4.png", "v$F2.", ".png", 4),
    ],
)
def test_the_pattern_grammar_is_translated_once(
    pattern: str, prefix: str, suffix: str, padding: int
) -> None:
    parsed = SequencePattern.parse(os.path.join("shots", pattern))
    assert (parsed.directory, parsed.prefix, parsed.suffix, parsed.padding) == (
        "shots",
        prefix,
        suffix,
        padding,
    )
    assert parsed.name == prefix + ("@" if padding == 1 else "#" * padding) + suffix


def test_a_suffix_after_the_frame_field_is_kept(tmp_path: Path) -> None:
    # fileseq's on-disk search finds no frame here (its disk pattern wants the digits
    # right before the extension); the listing takes what stands between prefix and
    # suffix.
    touch(tmp_path, "fg.0001_final.png", "fg.0002_final.png", "fg.0003.png")
    found = find_sequence(tmp_path / "fg.####_final.png")
    assert found.frame_numbers == (1, 2)
    assert found.pattern == str(tmp_path / "fg.####_final.png")


@pytest.mark.parametrize(
    "source", ["fg 50% it's #.####.png", "fg 50% it's #.%04d.png", ""]
)
def test_a_name_holding_pattern_characters_is_read(tmp_path: Path, source: str) -> None:
    touch(tmp_path, *(f"fg 50% it's #.{n:04d}.png" for n in (7, 8, 9)))
    found = find_sequence(tmp_path / source if source else tmp_path)
    assert found.frame_numbers == (7, 8, 9)
    assert found.pattern == str(tmp_path / "fg 50% it's #.####.png")


def test_a_build_s_listings_list_each_source_once_under_any_spelling(
    seq: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aebridge import sandbox

    listed: list[str] = []
    real = sandbox.listdir

    def counting(path: str | os.PathLike[str]) -> list[str]:
        listed.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(sandbox, "listdir", counting)
    monkeypatch.chdir(seq)
    found = FoundSequences()
    first = found.find(seq / "fg.####.png")
    assert found.find("fg.####.png") is first
    assert found.find(seq / "bg" / ".." / "fg.####.png") is first
    assert first.frame_numbers == (1001, 1002, 1003, 1004)
    assert listed == [str(seq)]
    # Another build (another FoundSequences) lists again and sees what changed.
    touch(seq, "fg.1005.png")
    assert FoundSequences().find("fg.####.png").last == 1005
    assert found.find("fg.####.png").last == 1004
    assert len(listed) == 2


def test_a_listing_that_failed_is_not_kept(seq: Path) -> None:
    found = FoundSequences()
    with pytest.raises(SourceError, match="no file matches"):
        found.find(seq / "late.####.png")
    touch(seq, "late.0001.png")
    assert found.find(seq / "late.####.png").frame_numbers == (1,)


# A folder's sequences are what their patterns list: the grouping and the grammar are
# one (init's discovery groups through the same function).


@pytest.mark.parametrize(
    ("names", "pattern", "numbers"),
    [
        # A '-' after a letter separates (ffmpeg's frame-%04d.png); these were read as
        # frames -3..-1, the clip backwards.
        (("fg-0001.png", "fg-0002.png", "fg-0003.png"), "fg-####.png", (1, 2, 3)),
        (("frame-8.png", "frame-9.png", "frame-10.png"), "frame-@.png", (8, 9, 10)),
        # After a separator it is a sign, inside or outside the padding (these were
        # two sequences, -2..-1 of five digits and 0..1 of four).
        (("n.-002.png", "n.-001.png", "n.0000.png"), "n.####.png", (-2, -1, 0)),
        (("n.-0002.png", "n.-0001.png", "n.0000.png"), "n.####.png", (-2, -1, 0)),
        (("-0002.png", "-0001.png", "0000.png"), "####.png", (-2, -1, 0)),
        # A name ending in '#' or '@' is spelled so its pattern reads it back (it was
        # 'take#####.png': five digits after 'take').
        (("take#1001.png", "take#1002.png"), "take#%04d.png", (1001, 1002)),
        (("me@1.png", "me@2.png"), "me@%01d.png", (1, 2)),
        (("me@0001.png", "me@0002.png"), "me@####.png", (1, 2)),
        (("take#1.png", "take#2.png"), "take#@.png", (1, 2)),
        # A version before the frame number, after a '-' too (fg_v2-####.png was
        # no pattern: '2-' was read as a frame range, and the folder was refused).
        (("fg_v2-1001.png", "fg_v2-1002.png"), "fg_v2-####.png", (1001, 1002)),
        (("fg2-0001.png", "fg2-0002.png"), "fg2-####.png", (1, 2)),
        (
            ("sh010-v002-998.png", "sh010-v002-999.png"),
            "sh010-v002-###.png",
            (998, 999),
        ),
        (
            ("shot010_v002.1001.png", "shot010_v002.1002.png"),
            "shot010_v002.####.png",
            (1001, 1002),
        ),
        (("fg-v3_0001.png", "fg-v3_0002.png"), "fg-v3_####.png", (1, 2)),
        # The last number before the extension is the frame, after a '.' and letters
        # too: these were ten sequences (fileseq reads '.f1' as an extension part and
        # the version as the frame beside frames 10-12 of 'fg_v2.f'), and none.
        (
            tuple(f"fg_v2.f{n}.png" for n in range(1, 13)),
            "fg_v2.f@.png",
            tuple(range(1, 13)),
        ),
        (("fg.a1.png", "fg.a2.png"), "fg.a@.png", (1, 2)),
        # ..unless the names share that number and differ in an earlier one: a tag
        # ending in a digit after the frame (one sequence before, then three stills).
        (
            ("shot.1001.beauty2.exr", "shot.1002.beauty2.exr"),
            "shot.####.beauty2.exr",
            (1001, 1002),
        ),
        (
            ("fg.0001.v2.png", "fg.0002.v2.png", "fg.0003.v2.png"),
            "fg.####.v2.png",
            (1, 2, 3),
        ),
        # The image extension is the last one (the folder found none here).
        (("fg.1001.tar.png", "fg.1002.tar.png"), "fg.####.tar.png", (1001, 1002)),
        # Pattern characters in the name are the name.
        (
            ("it's #2 50%.0001.png", "it's #2 50%.0002.png"),
            "it's #2 50%.####.png",
            (1, 2),
        ),
    ],
)
def test_a_folder_is_grouped_by_the_pattern_grammar(
    tmp_path: Path, names: tuple[str, ...], pattern: str, numbers: tuple[int, ...]
) -> None:
    touch(tmp_path, *names)
    (group,) = group_numbered(str(tmp_path), names)
    assert group.pattern.name == pattern and group.pattern.reads_back()
    assert group.numbers == numbers
    found = find_sequence(tmp_path)
    assert found.pattern == str(tmp_path / pattern)
    assert found.frame_numbers == numbers
    assert sorted(found.frame_files) == sorted(str(tmp_path / n) for n in names)
    assert find_sequence(tmp_path / pattern).frame_numbers == numbers


def test_names_of_two_paddings_are_two_sequences() -> None:
    groups = group_numbered("", ["fg.001.png", "fg.002.png", "fg.0003.png", "x.png"])
    assert [(g.pattern.name, g.names) for g in groups] == [
        ("fg.####.png", ("fg.0003.png",)),
        ("fg.###.png", ("fg.001.png", "fg.002.png")),
    ]


@pytest.mark.parametrize(
    ("names", "groups"),
    [
        # Split name by name, fg.1002.v2.png went to fg.####.v2.png, a pattern that
        # reads fg.1001.v2.png too, which fg.1001.v@.png held.
        (
            ("fg.1001.v2.png", "fg.1002.v2.png", "fg.1001.v3.png"),
            {
                "fg.1001.v@.png": ("fg.1001.v2.png", "fg.1001.v3.png"),
                "fg.1002.v@.png": ("fg.1002.v2.png",),
            },
        ),
        # Frames of two tags: fileseq's split makes two sequences, not three.
        (
            ("s.1.a1.png", "s.2.a1.png", "s.1.a2.png", "s.2.a2.png", "s.3.a2.png"),
            {
                "s.@.a1.png": ("s.1.a1.png", "s.2.a1.png"),
                "s.@.a2.png": ("s.1.a2.png", "s.2.a2.png", "s.3.a2.png"),
            },
        ),
    ],
)
def test_names_that_share_a_name_in_either_split_are_split_one_way(
    names: tuple[str, ...], groups: dict[str, tuple[str, ...]]
) -> None:
    found = group_numbered("", names)
    assert {g.pattern.name: g.names for g in found} == groups
    for group in found:  # each pattern reads exactly its group's names
        assert {
            n
            for n in names
            if (text := group.pattern.frame_text(n)) is not None
            and takes_frame(text, group.pattern.padding)
        } == set(group.names)


@pytest.mark.parametrize(
    ("pattern", "prefix", "numbers"),
    [
        ("fg_v2-####.png", "fg_v2-", (1001, 1002, 1003)),
        ("fg_v2-%04d.png", "fg_v2-", (1001, 1002, 1003)),
        ("fg_v2-@@@@.png", "fg_v2-", (1001, 1002, 1003)),
        ("fg_v2-$F4.png", "fg_v2-", (1001, 1002, 1003)),
        ("fg_v2-1002-1003#.png", "fg_v2-", (1002, 1003)),
        # A '-' after a letter separates in a range as in a name: these were frames
        # -1001 to 1003 of 'fg' (a range no file of 'fg-1001.png'.. fills).
        ("fg-1001-1003#.png", "fg-", (1001, 1002, 1003)),
        # After '.' it is a sign.
        ("fg.-1-1#.png", "fg.", (-1, 0, 1)),
        # Digits joined to the name before a '-' are the name's, where fileseq reads
        # a range beginning with them: these were frames 2 to 1002 of 'fg_v'.
        ("fg_v2-1002#.png", "fg_v2-", (1002,)),
        ("fg_v2-1002@@@@.png", "fg_v2-", (1002,)),
        ("fg_v2-1002%04d.png", "fg_v2-", (1002,)),
    ],
)
def test_a_name_ending_in_digits_and_a_hyphen_is_the_pattern_s_name(
    tmp_path: Path, pattern: str, prefix: str, numbers: tuple[int, ...]
) -> None:
    touch(tmp_path, *(f"fg_v2-{n}.png" for n in (1001, 1002, 1003)))
    touch(tmp_path, *(f"fg-{n}.png" for n in (1001, 1002, 1003)))
    touch(tmp_path, "fg.-001.png", "fg.0000.png", "fg.0001.png")
    parsed = SequencePattern.parse(tmp_path / pattern)
    assert (parsed.prefix, parsed.padding) == (prefix, 4)
    found = find_sequence(tmp_path / pattern)
    assert found.frame_numbers == numbers
    assert found.frame_files[0] == str(tmp_path / f"{prefix}{numbers[0]:04d}.png")


@pytest.mark.parametrize(
    ("pattern", "prefix", "frames"),
    [
        # A frame range begins after a separator ('.', '_', '-', a space) or at the
        # start: digits joined to the name's letters before a '-' are the name's, as
        # in a file name ('out1-0003.png' is frame 3 of 'out1-'), where fileseq reads
        # a range beginning with them (frames 2-1001 of 'sh010-v', 1-3 of 'out').
        ("sh010-v002-1001#.png", "sh010-v002-", "1001"),
        ("out1-3#.png", "out1-", "3"),
        ("fg_v2-1001,1003#.png", "fg_v2-", "1001,1003"),
        ("fg.v2-1001#.png", "fg.v2-", "1001"),
        ("fg.2-1001#.png", "fg.", "2-1001"),
        ("fg_2-1001#.png", "fg_", "2-1001"),
        ("2-5#.png", "", "2-5"),
        ("out1001#.png", "out", "1001"),
        ("fg.1-9x2#.png", "fg.", "1-9x2"),
    ],
)
def test_a_frame_range_begins_after_a_separator(
    pattern: str, prefix: str, frames: str
) -> None:
    parsed = SequencePattern.parse(pattern)
    assert (parsed.prefix, str(parsed.frames)) == (prefix, frames)


def test_a_range_no_file_fills_names_the_pattern_it_read(tmp_path: Path) -> None:
    # 'out1-3#.png' is frame 3 of 'out1-' (the grammar's reading, which a folder of
    # out1-0001.png.. gives too), so beside out0001.png.. the error says what it
    # looked for.
    touch(tmp_path, "out0001.png", "out0002.png", "out0003.png")
    with pytest.raises(SourceError, match=r"range 3 exists \(looked for out1-####"):
        find_sequence(tmp_path / "out1-3#.png")
    touch(tmp_path, "out1-0001.png", "out1-0002.png", "out1-0003.png")
    found = find_sequence(tmp_path / "out1-3#.png")
    assert found.frame_files == (str(tmp_path / "out1-0003.png"),)
