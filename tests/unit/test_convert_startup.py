"""Start-up of a conversion: what it loads before its first frame.

A movie's conversion is timed from the process start (a generated clip is a few
seconds of frames), so it loads only what it uses: no comp model classes, no
sequence-pattern parser, no process pool for a movie converted in one chunk, no
other command. Checked in a fresh process, through ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aebridge import synthetic


def _loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{code}\nimport json, sys\nprint(json.dumps(list(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def movie_and_matte(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("startup")
    fgr = synthetic.write_movie(folder / "fgr.mp4", frames=4, pattern="disc")
    pha = synthetic.write_movie(folder / "pha.mp4", frames=4, pattern="disc")
    return fgr, pha


# Loaded by a comp spec's build, its check and ``init``, never by a conversion.
UNUSED_BY_A_CONVERSION = {
    "fileseq",  # image-sequence patterns and folders
    "aebridge.model.rules",  # the comp spec's classes and their rules
    "aebridge.model.layer",
    "aebridge.model.comp",
    "aebridge.animation",
    "multiprocessing",  # a process pool: a movie that makes one chunk runs inline
    "concurrent.futures.process",
}


def test_a_movie_and_matte_conversion_loads_no_spec_or_pattern_code(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    fgr, pha = movie_and_matte
    loaded = _loaded_by(
        "from aebridge.convert import convert\n"
        f"result = convert({fgr!r}, {str(tmp_path)!r}, name='fg', matte={pha!r})\n"
        "assert result.frames_written == 4\n"
    )
    assert "av" in loaded  # the conversion ran
    unused = sorted(loaded & UNUSED_BY_A_CONVERSION)
    assert unused == []


def test_the_spec_classes_load_when_first_named() -> None:
    loaded = _loaded_by(
        "from aebridge.model import AlphaMode\n"
        "from aebridge.model import CompSpec, Ease, expand_conditioning\n"
        "import aebridge.model as model\n"
        "assert all(getattr(model, name) for name in model.__all__)\n"
    )
    assert {"aebridge.model.comp", "aebridge.animation"} <= loaded


def test_the_convert_command_loads_no_other_command(
    movie_and_matte: tuple[str, str], tmp_path: Path
) -> None:
    fgr, pha = movie_and_matte
    args = ["convert", fgr, "--matte", pha, "-o", str(tmp_path), "--name", "fg"]
    loaded = _loaded_by(
        f"from aebridge.cli import main\nmain({args!r}, standalone_mode=False)\n"
    )
    assert (tmp_path / "fg" / "fg.1004.exr").is_file()  # the command ran
    others = {
        "aebridge.cli.build",  # and the spec reader it names its choices from
        "aebridge.cli.init",
        "aebridge.cli.otio",
        "aebridge.cli.preview",  # and the compositor
        "aebridge.cli.serve",  # and the service
        "aebridge.spec",
        "aebridge.preview",
        "aebridge.service",
    }
    unused = sorted(loaded & (others | UNUSED_BY_A_CONVERSION))
    assert unused == []
