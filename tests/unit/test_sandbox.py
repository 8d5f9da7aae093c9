"""The reading sandbox: walks beneath its roots only, whatever links say, checked at
the moment of reading; without an active sandbox the hooks change nothing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from aebridge import sandbox
from aebridge.errors import SourceError
from aebridge.sandbox import PathOutsideRootsError, Sandbox, sandbox_for


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Sandbox, Path, Path]:
    """root/{a/b/f.txt, links...} and outside/secret.txt."""
    root = (tmp_path / "root").resolve()
    outside = (tmp_path / "outside").resolve()
    (root / "a" / "b").mkdir(parents=True)
    outside.mkdir()
    (root / "a" / "b" / "f.txt").write_text("inside")
    (outside / "secret.txt").write_text("SECRET")
    os.symlink("b", root / "a" / "rel_in")
    os.symlink(root / "a" / "b" / "f.txt", root / "abs_in")
    os.symlink(outside, root / "a" / "abs_out")
    os.symlink("../../outside/secret.txt", root / "rel_out")
    os.symlink("loop", root / "loop")
    return sandbox_for([root]), root, outside


def read(box: Sandbox, path: Path) -> bytes:
    fd = box.open(path)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "relative",
    [
        "a/b/f.txt",
        "a/rel_in/f.txt",
        "abs_in",
        "a/./b/../b/f.txt",
        "a/rel_in/../b/f.txt",
    ],
)
def test_paths_and_links_that_stay_inside_are_read(
    tree: tuple[Sandbox, Path, Path], relative: str
) -> None:
    box, root, _ = tree
    assert read(box, Path(f"{root}/{relative}")) == b"inside"


@pytest.mark.parametrize(
    ("relative", "why"),
    [
        ("a/abs_out/secret.txt", "leads through the link 'abs_out' outside"),
        ("rel_out", "leads through the link 'rel_out' outside"),
        ("../outside/secret.txt", "climbs out of its root with '..'"),
        ("a/b/../../../outside/secret.txt", "climbs out of its root with '..'"),
    ],
)
def test_paths_and_links_leading_outside_are_refused(
    tree: tuple[Sandbox, Path, Path], relative: str, why: str
) -> None:
    box, root, _ = tree
    with pytest.raises(PathOutsideRootsError, match=why) as info:
        read(box, Path(f"{root}/{relative}"))
    assert info.value.code == "path_not_allowed"
    # The message shows the path inside the root, never the server's layout.
    assert str(root) not in str(info.value)


def test_an_absolute_path_outside_every_root_is_refused_by_name_only(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, _root, outside = tree
    for name in ("secret.txt", "does-not-exist.txt"):  # no existence oracle
        with pytest.raises(PathOutsideRootsError, match="is outside the input roots"):
            box.check(outside / name)


def test_loops_fifos_folders_and_missing_files_are_source_errors(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, root, _ = tree
    os.mkfifo(root / "fifo")
    cases = {
        "loop": "too many levels of symbolic links",
        "fifo": "is not a regular file",  # and the reader did not hang
        "a/b": "is not a regular file",
        "nope.txt": "No such file",
        "a/b/f.txt/x": "Not a directory",
    }
    for relative, message in cases.items():
        with pytest.raises(SourceError, match=message) as info:
            read(box, root / relative)
        assert not isinstance(info.value, PathOutsideRootsError)


def test_check_gives_the_real_path_and_listdir_follows_inside_links(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, root, _ = tree
    assert box.check(root / "a" / "rel_in") == str(root / "a" / "b")
    assert box.check(root / "abs_in") == str(root / "a" / "b" / "f.txt")
    assert box.listdir(root / "a" / "rel_in") == ["f.txt"]
    with pytest.raises(PathOutsideRootsError):
        box.listdir(root / "a" / "abs_out")


def test_a_folder_swapped_for_an_outside_link_after_a_check_is_refused_at_reading(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, root, outside = tree
    frame = root / "a" / "b" / "f.txt"
    assert box.check(frame)
    (root / "a" / "b").rename(root / "a" / "b_old")
    os.symlink(outside, root / "a" / "b")
    (outside / "f.txt").write_text("OUTSIDE")
    with pytest.raises(PathOutsideRootsError):
        read(box, frame)


def test_messages_show_paths_relative_to_their_root(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, root, outside = tree
    assert box.show(str(root / "a" / "b" / "f.txt")) == "a/b/f.txt"
    assert box.show(str(root)) == "."
    assert box.show(str(outside / "secret.txt")) == "secret.txt"
    assert box.show("relative/x.png") == "relative/x.png"


def test_roots_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        Sandbox(("relative",))


def test_without_a_sandbox_the_hooks_are_the_plain_calls(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    _box, root, _outside = tree
    assert sandbox.current() is None
    link = root / "a" / "abs_out" / "secret.txt"
    with sandbox.readable(link) as name:
        assert name == str(link)  # the command line reads what it is given
    with sandbox.open_binary(link) as handle:
        assert handle.read() == b"SECRET"
    assert sandbox.listdir(root / "a" / "abs_out") == ["secret.txt"]


def test_an_active_sandbox_applies_to_the_hooks_and_ends_with_the_block(
    tree: tuple[Sandbox, Path, Path],
) -> None:
    box, root, _outside = tree
    link = root / "a" / "abs_out" / "secret.txt"
    with sandbox.active(box):
        assert sandbox.current() is box
        with sandbox.readable(root / "abs_in") as name:
            assert name.startswith(("/proc/self/fd/", "/dev/fd/"))
            assert Path(name).read_text() == "inside"
        for hook in (sandbox.open_binary, sandbox.listdir):
            with pytest.raises(PathOutsideRootsError):
                hook(link if hook is sandbox.open_binary else link.parent)
        with pytest.raises(PathOutsideRootsError), sandbox.readable(link):
            pass
        with sandbox.active(None):  # "no sandbox" carried by work keeps the caller's
            assert sandbox.current() is box
    assert sandbox.current() is None


def test_image_and_movie_libraries_keep_the_file_they_opened(tmp_path: Path) -> None:
    """The descriptor behind /proc/self/fd/N is closed after the library opened it:
    the library must hold its own, not reopen the name (which may then be another
    file)."""
    import av
    import OpenImageIO as oiio

    from aebridge.synthetic import write_movie

    box = sandbox_for([tmp_path])
    formats = (("exr", "half"), ("tif", "uint16"), ("jpg", "uint8"), ("png", "uint8"))
    for ext, fmt in formats:
        for name, value in (("a", 0.2), ("b", 0.9)):
            buf = oiio.ImageBuf(oiio.ImageSpec(8, 8, 3, fmt))
            oiio.ImageBufAlgo.fill(buf, (value, value, value))
            assert buf.write(str(tmp_path / f"{name}.{ext}"))
        with sandbox.active(box), sandbox.readable(tmp_path / f"a.{ext}") as path:
            inp = oiio.ImageInput.open(path)
            assert inp is not None
            number = int(path.rsplit("/", 1)[1])
        # Another file now sits behind the same descriptor number.
        other = os.open(tmp_path / f"b.{ext}", os.O_RDONLY)
        if other != number:
            os.dup2(other, number)
            os.close(other)
        try:
            pixels = inp.read_image(0, 0, 0, 3, "float")
            inp.close()
        finally:
            os.close(number)
        assert np.allclose(pixels, 0.2, atol=0.01), ext
    write_movie(tmp_path / "m.mp4", frames=6)
    with sandbox.active(box), sandbox.readable(tmp_path / "m.mp4") as path:
        container = av.open(path)
    try:
        assert sum(1 for _ in container.decode(video=0)) == 6
    finally:
        container.close()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_conversion_under_a_sandbox_checks_every_read_in_its_workers(
    tmp_path: Path, jobs: int
) -> None:
    """The folder is swapped for an outside link after the probe read every header:
    the pixel reads (in worker processes with jobs=2) refuse it, no frame is made
    from outside bytes."""
    from aebridge.convert import convert
    from aebridge.synthetic import write_png_sequence

    root = (tmp_path / "root").resolve()
    outside = (tmp_path / "outside").resolve()
    write_png_sequence(root / "fg", "fg", frames=4, pattern="gradient")
    write_png_sequence(outside, "fg", frames=4, pattern="solid")
    out = tmp_path / "out"

    def swap(done: int, total: int) -> None:
        if done == 0 and not (root / "fg").is_symlink():
            (root / "fg").rename(root / "fg_old")
            os.symlink(outside, root / "fg")

    with sandbox.active(sandbox_for([root])), pytest.raises(PathOutsideRootsError):
        convert(
            root / "fg" / "fg.####.png",
            out,
            name="fg",
            alpha="straight",
            fps=24,
            jobs=jobs,
            progress=swap,
        )
    assert sorted((out / "fg").glob("*.exr")) == []


def test_a_movie_swapped_after_its_probe_is_refused_in_the_worker(
    tmp_path: Path,
) -> None:
    from aebridge.convert import convert
    from aebridge.synthetic import write_movie

    root = (tmp_path / "root").resolve()
    root.mkdir()
    outside = (tmp_path / "outside.mp4").resolve()
    write_movie(root / "bg.mp4", frames=6)
    write_movie(outside, frames=6, pattern="solid")

    def swap(done: int, total: int) -> None:
        if done == 0 and not (root / "bg.mp4").is_symlink():
            (root / "bg.mp4").unlink()
            os.symlink(outside, root / "bg.mp4")

    with sandbox.active(sandbox_for([root])), pytest.raises(PathOutsideRootsError):
        convert(root / "bg.mp4", tmp_path / "out", name="bg", jobs=2, progress=swap)
