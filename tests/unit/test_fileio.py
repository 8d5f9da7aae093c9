"""Writing files whole: one temporary pattern, one rename, no umask games."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aebridge.errors import OutputError
from aebridge.fileio import (
    STALE_AFTER,
    atomic_path,
    is_temporary,
    stale_temporaries,
    temporary_path,
    write_bytes,
    write_text,
)


def test_a_file_is_written_whole_and_no_temporary_is_left(tmp_path: Path) -> None:
    target = tmp_path / "build.json"
    assert write_text(target, "{}\n") == target
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.json"]
    write_text(target, "[]\n")  # replaces
    assert target.read_text(encoding="utf-8") == "[]\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sh010.jsx"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sh010.jsx"]


def test_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "comp.json"
    write_text(target, "mine", exclusive=True)
    with pytest.raises(OutputError, match="the spec exists already"):
        write_text(target, "theirs", exclusive=True, what="the spec")
    assert target.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comp.json"]


def test_a_folder_replaces_a_folder(tmp_path: Path) -> None:
    # An .otiod bundle is a folder: the new one takes the old one's place whole.
    target = tmp_path / "cut.otiod"
    for content in ("first", "second"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "content.otio").write_text(content, encoding="utf-8")
    assert (target / "content.otio").read_text(encoding="utf-8") == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.otiod"]


def test_temporaries_are_hidden_keep_the_suffix_and_never_collide(
    tmp_path: Path,
) -> None:
    target = tmp_path / "fg.1001.exr"
    names = {temporary_path(target).name for _ in range(200)}
    assert len(names) == 200
    for name in names:
        assert name.startswith(".fg.1001.") and name.endswith(".tmp.exr")
        assert is_temporary(name) and is_temporary(name, "fg.1001.exr")
        assert not is_temporary(name, "fg.1002.exr")
    assert not is_temporary("fg.1001.exr")


def test_threads_writing_one_file_each_leave_one_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    texts = [f"{i}" * 1000 for i in range(8)]
    threads = [
        threading.Thread(target=write_text, args=(target, text)) for text in texts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text(encoding="utf-8") in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_usual_permissions_under_the_umask(
    tmp_path: Path, umask: int
) -> None:
    # Created by the kernel with 0o666 less the umask; the process umask is never
    # read or changed (a service's other threads would race it).
    target = tmp_path / f"script_{umask:o}.jsx"
    code = (
        "import os, sys; os.umask(int(sys.argv[2], 8));"
        "from aebridge.fileio import write_text;"
        "write_text(sys.argv[1], 'x');"
        "assert os.umask(0) == int(sys.argv[2], 8)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(target), f"{umask:o}"],
        check=True,
        env=os.environ,
    )
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_stale_temporaries_are_those_of_dead_writers(tmp_path: Path) -> None:
    target = tmp_path / "fg.1001.exr"
    mine = temporary_path(target)
    mine.write_bytes(b"")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(dead.stdout)
    theirs = tmp_path / f".fg.1001.{pid}-0123abcd.tmp.exr"
    theirs.write_bytes(b"")
    hour_ago = time.time() - STALE_AFTER - 60
    os.utime(theirs, (hour_ago, hour_ago))
    # Written just now by a pid not running here: maybe a live writer on another
    # host sharing the folder (a farm), so not stale yet.
    recent = tmp_path / f".fg.1002.{pid}-4567cdef.tmp.exr"
    recent.write_bytes(b"")
    assert stale_temporaries(tmp_path) == [theirs]
    assert stale_temporaries(tmp_path, older_than=-1.0) == [theirs, recent]
    assert stale_temporaries(tmp_path / "missing") == []


def test_text_that_cannot_be_encoded_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write the script: not ascii text"):
        write_text(tmp_path / "a.jsx", "caf\u00e9", what="the script", encoding="ascii")
    assert list(tmp_path.iterdir()) == []
    assert write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
