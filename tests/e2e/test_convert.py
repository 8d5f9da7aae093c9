"""aebridge convert end to end: sources in, premultiplied scene-linear EXR out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from aebridge import synthetic
from aebridge.cli import main
from aebridge.convert import convert, read_sidecar
from aebridge.errors import OptionError, OutputError, SourceError
from aebridge.exr import read_header, read_pixels

W, H = 48, 32


@pytest.fixture()
def fg_png(tmp_path: Path) -> Path:
    synthetic.write_png_sequence(
        tmp_path / "src",
        "fg",
        frames=5,
        width=W,
        height=H,
        alpha="straight",
        pattern="disc",
    )
    return tmp_path / "src" / "fg.####.png"


def _frames(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".exr")


def test_png_sequence_becomes_a_contiguous_exr_sequence_from_1001(
    fg_png: Path, tmp_path: Path
) -> None:
    result = convert(fg_png, tmp_path / "out", name="fg", fps="24", jobs=1)
    assert _frames(tmp_path / "out" / "fg") == [
        f"fg.{n}.exr" for n in range(1001, 1006)
    ]
    assert (result.first, result.last, result.padding) == (1001, 1005, 4)
    assert result.rate == Fraction(24)
    assert (result.width, result.height) == (W, H)
    assert result.frames_written == 5 and result.frames_skipped == 0


def test_headers_carry_rate_timecode_colour_and_provenance(
    fg_png: Path, tmp_path: Path
) -> None:
    convert(
        fg_png,
        tmp_path / "out",
        name="fg",
        fps="23.976",
        role="foreground",
        provenance={
            "generator": "gen-x",
            "prompt": 'a fox\'s "tail"',
            "seed": 7,
            "keyframes": [{"frame": 1001, "image": "k1.png"}],
        },
        owner="studio",
        comments="take 3",
        jobs=1,
    )
    h = read_header(tmp_path / "out" / "fg" / "fg.1003.exr")
    assert h["framesPerSecond"] == Fraction(24000, 1001)
    assert h["aebridge/layer"] == "fg"
    assert h["aebridge/role"] == "foreground"
    assert h["aebridge/frame"] == "1003"
    assert h["aebridge/sourceFrame"] == "1003"
    assert h["aebridge/sourceAlpha"] == "straight"
    assert h["aebridge/inputColorspace"] == "sRGB Encoded Rec.709 (sRGB)"
    assert h["aebridge/outputColorspace"] == "Linear Rec.709 (sRGB)"
    assert h["aebridge/provenance/prompt"] == 'a fox\'s "tail"'
    assert h["aebridge/provenance/seed"] == "7"
    assert json.loads(str(h["aebridge/provenance/keyframes"])) == [
        {"frame": 1001, "image": "k1.png"}
    ]
    assert h["colorInteropID"] == "lin_rec709_scene"
    assert h["owner"] == "studio" and h["comments"] == "take 3"
    assert len(h["aebridge/sourceSha256"]) == 64
    src = tmp_path / "src" / "fg.1003.png"
    import hashlib

    assert h["aebridge/sourceSha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_straight_alpha_is_premultiplied_in_linear_light_and_alpha_zero_is_black(
    fg_png: Path, tmp_path: Path
) -> None:
    convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1)
    px = read_pixels(tmp_path / "out" / "fg" / "fg.1001.exr")
    src = synthetic.frame_pixels(0, W, H, pattern="disc", alpha="straight")
    alpha = src[..., 3] / 255.0
    assert np.allclose(px[..., 3], alpha, atol=1e-3)
    zero = alpha == 0
    assert zero.any() and np.all(px[zero][:, :3] == 0)
    opaque = alpha == 1
    enc = src[opaque][:, :3] / 255.0
    lin = np.where(enc <= 0.04045, enc / 12.92, ((enc + 0.055) / 1.055) ** 2.4)
    assert np.allclose(px[opaque][:, :3], lin, rtol=2e-3, atol=1e-4)
    part = (alpha > 0) & (alpha < 1)
    enc = src[part][:, :3] / 255.0
    lin = np.where(enc <= 0.04045, enc / 12.92, ((enc + 0.055) / 1.055) ** 2.4)
    assert np.allclose(
        px[part][:, :3], lin * alpha[part][:, None], rtol=2e-3, atol=1e-4
    )


def test_sidecar_describes_the_sequence(fg_png: Path, tmp_path: Path) -> None:
    convert(
        fg_png,
        tmp_path / "out",
        name="fg",
        fps="24000/1001",
        jobs=1,
        provenance={"style_id": "s-42"},
    )
    data = read_sidecar(tmp_path / "out" / "fg")
    assert data["pattern"] == "fg.####.exr"
    assert (data["first"], data["last"], data["rate"]) == (1001, 1005, "24000/1001")
    assert data["provenance"] == {"style_id": "s-42"}
    assert data["alpha"] == "premultiplied"


def test_rerun_skips_up_to_date_frames_and_redoes_changed_ones(
    fg_png: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    again = convert(fg_png, out, name="fg", fps=24, jobs=1)
    assert (again.frames_written, again.frames_skipped) == (0, 5)
    # A changed source frame is redone, and only that one.
    changed = synthetic.frame_pixels(4, W, H, pattern="gradient", alpha="straight")
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(changed)
    assert buf.write(str(tmp_path / "src" / "fg.1002.png"))
    third = convert(fg_png, out, name="fg", fps=24, jobs=1)
    assert (third.frames_written, third.frames_skipped) == (1, 4)
    # Other settings redo everything; --force too.
    assert convert(fg_png, out, name="fg", fps=25, jobs=1).frames_written == 5
    assert (
        convert(fg_png, out, name="fg", fps=25, jobs=1, force=True).frames_written == 5
    )


def test_a_truncated_frame_and_stale_temporaries_are_redone(
    fg_png: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    frame = out / "fg" / "fg.1003.exr"
    frame.write_bytes(frame.read_bytes()[:200])
    (out / "fg" / ".fg.1004.exr.tmp-99999").write_bytes(b"partial")
    result = convert(fg_png, out, name="fg", fps=24, jobs=1)
    assert result.frames_written == 1
    assert read_pixels(frame).shape == (H, W, 4)
    assert not [p for p in (out / "fg").iterdir() if ".tmp" in p.name]


def _dead_pid() -> int:
    import subprocess
    import sys

    code = "import os; print(os.getpid())"
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(child.stdout)  # that process has ended


def test_temporaries_of_the_atomic_writer_left_by_a_dead_run_are_removed(
    fg_png: Path, tmp_path: Path
) -> None:
    from aebridge import fileio

    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    folder = out / "fg"
    dead = _dead_pid()
    left = [
        # a frame of this run, written through aebridge.fileio by a run that died
        folder / f".fg.1004.{dead}-0123abcd.tmp.exr",
        # the sidecar's temporary, from the same run
        folder / f".fg.aebridge.{dead}-0123abcd.tmp.json",
    ]
    long_ago = time.time() - fileio.STALE_AFTER - 60
    for path in left:
        path.write_bytes(b"partial")
        os.utime(path, (long_ago, long_ago))
    result = convert(fg_png, out, name="fg", fps=24, jobs=1)
    assert result.frames_skipped == 5
    assert [p.name for p in folder.iterdir() if fileio.is_temporary(p.name)] == []


def test_another_hosts_live_temporaries_in_a_shared_folder_are_kept(
    fg_png: Path, tmp_path: Path
) -> None:
    # Farm hosts write chunks of one layer into one shared folder: a writer on
    # another host has a pid that means nothing here (not running here), and its
    # temporaries, written just now, must survive this host's run of other frames.
    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    folder = out / "fg"
    theirs = _dead_pid()
    frame = folder / f".fg.1004.{theirs}-0123abcd.tmp.exr"
    sidecar = folder / f".fg.aebridge.{theirs}-89abcdef.tmp.json"
    for path in (frame, sidecar):
        path.write_bytes(b"being written on another host")
    convert(fg_png, out, name="fg", fps=24, jobs=1, frames=[1001, 1002])
    assert frame.exists() and sidecar.exists()


def test_a_live_writers_temporary_of_a_frame_not_in_this_run_is_kept(
    fg_png: Path, tmp_path: Path
) -> None:
    # Farm chunks of one layer run at once: one chunk must not remove what another,
    # still running, is writing.
    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    other = out / "fg" / f".fg.1005.{os.getppid()}-0123abcd.tmp.exr"
    other.write_bytes(b"being written")
    convert(fg_png, out, name="fg", fps=24, jobs=1, frames=[1001, 1002])
    assert other.exists()


def test_a_sidecar_that_cannot_be_written_is_named_and_leaves_no_temporary(
    fg_png: Path, tmp_path: Path
) -> None:
    from aebridge import fileio
    from aebridge.errors import OutputError

    blocked = tmp_path / "out" / "fg" / "fg.aebridge.json"
    blocked.mkdir(parents=True)  # a folder where the sidecar goes
    with pytest.raises(OutputError, match="cannot write the sidecar") as caught:
        convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1)
    assert caught.value.path == str(blocked)
    assert not [p for p in blocked.parent.iterdir() if fileio.is_temporary(p.name)]


def test_a_shorter_rerun_removes_the_stale_tail(fg_png: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert(fg_png, out, name="fg", fps=24, jobs=1)
    (tmp_path / "src" / "fg.1005.png").unlink()
    result = convert(fg_png, out, name="fg", fps=24, jobs=1)
    assert _frames(out / "fg") == [f"fg.{n}.exr" for n in range(1001, 1005)]
    assert any("removed 1 frame" in w for w in result.warnings)


def test_frames_converts_only_a_farm_chunk(fg_png: Path, tmp_path: Path) -> None:
    result = convert(
        fg_png, tmp_path / "out", name="fg", fps=24, jobs=1, frames=[1002, 1003]
    )
    assert _frames(tmp_path / "out" / "fg") == ["fg.1002.exr", "fg.1003.exr"]
    assert result.frames_written == 2
    with pytest.raises(OptionError, match=r"--frames: 1009 .*1001-1005"):
        convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1, frames=[1009])


def test_two_processes_write_the_same_bytes_as_one(
    fg_png: Path, tmp_path: Path
) -> None:
    convert(fg_png, tmp_path / "a", name="fg", fps=24, jobs=1)
    convert(fg_png, tmp_path / "b", name="fg", fps=24, jobs=2)
    for name in _frames(tmp_path / "a" / "fg"):
        assert (tmp_path / "a" / "fg" / name).read_bytes() == (
            tmp_path / "b" / "fg" / name
        ).read_bytes()


def test_movie_keeps_its_exact_rate(tmp_path: Path) -> None:
    movie = synthetic.write_movie(
        tmp_path / "bg.mp4",
        codec="h264",
        frames=6,
        width=W,
        height=H,
        rate=Fraction(24000, 1001),
    )
    result = convert(movie, tmp_path / "out", name="bg", jobs=1)
    assert result.rate == Fraction(24000, 1001)
    assert result.frame_count == 6
    h = read_header(tmp_path / "out" / "bg" / "bg.1001.exr")
    assert h["framesPerSecond"] == Fraction(24000, 1001)
    assert h["aebridge/sourceAlpha"] == "none"
    assert np.all(read_pixels(tmp_path / "out" / "bg" / "bg.1006.exr")[..., 3] == 1)


@pytest.mark.parametrize(("codec", "ext"), [("prores4444", "mov"), ("vp9", "webm")])
def test_movie_alpha_survives(codec: str, ext: str, tmp_path: Path) -> None:
    movie = synthetic.write_movie(
        tmp_path / f"fg.{ext}",
        codec=codec,
        frames=4,
        width=W,
        height=H,
        alpha=True,
        pattern="disc",
    )
    convert(movie, tmp_path / "out", name="fg", jobs=1)
    px = read_pixels(tmp_path / "out" / "fg" / "fg.1002.exr")
    expected = synthetic.frame_pixels(1, W, H, pattern="disc")[..., 3] / 255.0
    assert np.abs(px[..., 3] - expected).mean() < 0.02
    assert np.all(px[..., :3][px[..., 3] == 0] == 0)


def test_separate_matte_becomes_the_alpha(tmp_path: Path) -> None:
    rgb = synthetic.write_movie(
        tmp_path / "fg_rgb.mp4",
        codec="h264",
        frames=4,
        width=W,
        height=H,
        pattern="disc",
    )
    synthetic.write_matte_sequence(tmp_path / "m", "matte", frames=4, width=W, height=H)
    result = convert(
        rgb,
        tmp_path / "out",
        name="fg",
        matte=tmp_path / "m" / "matte.####.png",
        jobs=1,
    )
    assert result.alpha_mode == "straight"
    px = read_pixels(tmp_path / "out" / "fg" / "fg.1001.exr")
    expected = synthetic.frame_pixels(0, W, H, pattern="disc")[..., 3] / 255.0
    assert np.allclose(px[..., 3], expected, atol=1e-3)
    h = read_header(tmp_path / "out" / "fg" / "fg.1001.exr")
    assert "+" in str(h["aebridge/sourceSha256"])


def test_a_matte_movie_at_another_rate_is_said(tmp_path: Path) -> None:
    # Matte frame N goes with source frame N: at another rate (a matte made from
    # frames by a tool's default 25 fps, or a different clip) the pairing is said.
    rgb = synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=W, height=H)
    matte = synthetic.write_movie(
        tmp_path / "pha.mp4", frames=4, width=W, height=H, rate=Fraction(30)
    )
    result = convert(rgb, tmp_path / "out", name="fg", matte=matte, jobs=1)
    assert result.warnings == (
        "the matte runs at 30 fps, the source at 24 fps; matte frame N is used "
        "with source frame N",
    )


# ------------------------------------------------------------------ errors


def test_a_gap_in_the_sequence_names_the_missing_frame(
    fg_png: Path, tmp_path: Path
) -> None:
    (tmp_path / "src" / "fg.1003.png").unlink()
    with pytest.raises(SourceError, match="1003"):
        convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1)


def test_a_range_pattern_that_skips_frames_is_refused_before_anything_is_written(
    fg_png: Path, tmp_path: Path
) -> None:
    # fg.1001-1005x2#.png named frames 1001, 1003, 1005, all there, and they were
    # written as 1001-1003: the shot played twice as fast, nothing said.
    source = str(tmp_path / "src" / "fg.1001-1005x2#.png")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", source, "-o", str(out)])
    assert result.exit_code == 1
    assert result.output == (
        f"error: {source}: the frame range 1001-1005x2 skips frame(s) 1002, 1004; "
        "a sequence has no holes; allowed: one ascending run first-last "
        "(fg.1001-1005#.png) or every frame (fg.####.png)\n"
    )
    assert not out.exists()


def test_a_default_name_that_changed_points_at_the_earlier_output(
    tmp_path: Path,
) -> None:
    # Without --name, Hero-FGR.####.png was converted to out/Hero-FGR; the default
    # became init's layer id, hero_fgr, and a re-run (or the next farm chunk) wrote
    # a second folder, nothing said.
    synthetic.write_png_sequence(
        tmp_path / "src", "Hero-FGR", frames=2, width=8, height=8
    )
    source = str(tmp_path / "src" / "Hero-FGR.####.png")
    out = tmp_path / "out"
    convert(source, out, name="Hero-FGR", fps=24, jobs=1)
    args = ["convert", source, "-o", str(out), "--fps", "24", "-j", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    warning = (
        f"warning: {out / 'Hero-FGR'} holds this source's frames under the name "
        f"convert's default gave before, Hero-FGR; writing {out / 'hero_fgr'} "
        "(--name Hero-FGR continues that one)\n"
    )
    assert warning in result.stderr
    # Once the new folder holds them, nothing more is said.
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_a_corrupt_frame_names_file_and_frame_and_leaves_no_partial_frame(
    fg_png: Path, tmp_path: Path
) -> None:
    (tmp_path / "src" / "fg.1004.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(SourceError, match=r"fg\.1004\.png"):
        convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1)
    folder = tmp_path / "out" / "fg"
    if folder.exists():  # the probe may catch it before anything is written
        assert "fg.1004.exr" not in _frames(folder)
        assert not [p for p in folder.iterdir() if ".tmp" in p.name]


def test_a_size_change_names_the_frame(fg_png: Path, tmp_path: Path) -> None:
    synthetic.write_png_sequence(
        tmp_path / "small", "fg", frames=1, width=W // 2, height=H // 2, start=1002
    )
    os.replace(tmp_path / "small" / "fg.1002.png", tmp_path / "src" / "fg.1002.png")
    with pytest.raises(SourceError, match="1002"):
        convert(fg_png, tmp_path / "out", name="fg", fps=24, jobs=1)


def test_an_unreadable_movie_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a movie at all")
    with pytest.raises(SourceError, match=r"bad\.mp4"):
        convert(bad, tmp_path / "out", name="bad", jobs=1)


def test_nan_in_a_float_source_names_the_frame(tmp_path: Path) -> None:
    import OpenImageIO as oiio

    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        px = np.full((H, W, 4), 0.5, np.float32)
        if i == 1:
            px[3, 3, 0] = np.nan
        assert oiio.ImageBuf(px).write(str(src / f"plate.{1001 + i}.exr"))
    with pytest.raises(SourceError, match=r"plate\.1002\.exr.*frame 1002"):
        convert(src / "plate.####.exr", tmp_path / "out", name="plate", fps=24, jobs=1)


def test_an_unwritable_output_is_a_clear_error(fg_png: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="file"):
        convert(fg_png, blocker / "out", name="fg", fps=24, jobs=1)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"compression": "lzma"}, "compression"),
        ({"name": "../evil"}, "--name"),
        ({"alpha": "sideways"}, "--alpha"),
        ({"fps": "fast"}, "--fps"),
        ({"output_colorspace": "ACES2065-1"}, "--output-colorspace"),
        ({"colorspace": "Not A Space"}, "--colorspace"),
    ],
)
def test_bad_options_name_the_option(
    fg_png: Path, tmp_path: Path, kwargs: dict[str, object], pattern: str
) -> None:
    args: dict[str, object] = {"name": "fg", "fps": 24, "jobs": 1}
    args.update(kwargs)
    with pytest.raises(OptionError, match=pattern):
        convert(fg_png, tmp_path / "out", **args)  # type: ignore[arg-type]


# ------------------------------------------------------------------ CLI


def test_cli_converts_and_inspects(fg_png: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    run = runner.invoke(
        main,
        [
            "convert",
            str(fg_png),
            "-o",
            str(tmp_path / "out"),
            "--name",
            "fg",
            "--alpha",
            "straight",
            "--fps",
            "24",
            "-j",
            "1",
            "--meta",
            "prompt=a fox",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "frames 1001-1005" in run.output
    run = runner.invoke(main, ["inspect", str(tmp_path / "out" / "fg"), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert (report["first"], report["last"], report["contiguous"]) == (1001, 1005, True)
    assert report["rate"] == "24"
    assert report["header"]["aebridge/provenance/prompt"] == "a fox"
    run = runner.invoke(main, ["inspect", str(tmp_path / "out" / "fg")])
    assert "display window" in run.output and "aebridge/layer: fg" in run.output


def test_cli_user_error_is_one_line_and_exit_1_without_traceback(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "aebridge",
            "convert",
            str(tmp_path / "none.####.png"),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: ")
    assert "Traceback" not in run.stderr
    assert "none." in run.stderr


def test_htj2k_converts_with_a_warning_that_after_effects_may_not_read_it(
    fg_png: Path, tmp_path: Path
) -> None:
    from aebridge.exr import COMPRESSIONS

    if "htj2k" not in COMPRESSIONS:
        pytest.skip("this OpenEXR cannot write htj2k")
    seen: list[str] = []
    result = convert(
        fg_png,
        tmp_path / "out",
        name="fg",
        fps=24,
        jobs=1,
        compression="htj2k",
        warn=seen.append,
    )
    assert any("After Effects" in w for w in seen)
    assert seen == list(result.warnings)[: len(seen)]
    assert read_header(result.frame_path(1001))["compression"] == "htj2k"


def _glow_sequence(folder: Path, lit: dict[int, int]) -> None:
    """Premultiplied linear EXR frames 1001.. with ``lit[frame]`` pixels of light
    under alpha 0 each (the rest half covered, half transparent black)."""
    import OpenImageIO as oiio

    folder.mkdir(parents=True, exist_ok=True)
    for frame, count in lit.items():
        pixels = np.zeros((H, W, 4), np.float32)
        pixels[:, : W // 2] = (0.2, 0.1, 0.05, 0.5)
        flat = pixels.reshape(-1, 4)
        flat[H * W - count :, :3] = (0.0, 0.8, 0.3)  # light, alpha 0
        spec = oiio.ImageSpec(W, H, 4, "half")
        spec.channelnames = ("R", "G", "B", "A")
        spec.alpha_channel = 3
        path = folder / f"glow.{frame}.exr"
        out = oiio.ImageOutput.create(str(path))
        assert out is not None
        out.open(str(path), spec)
        out.write_image(pixels)
        out.close()


def test_light_under_alpha_zero_is_counted_reported_and_kept_on_resume(
    tmp_path: Path,
) -> None:
    _glow_sequence(tmp_path / "src", {1001: 0, 1002: 7, 1003: 5})
    result = convert(tmp_path / "src", tmp_path / "out", name="glow", jobs=1)
    assert (result.light_pixels, result.light_frames) == (12, (1002, 1003))
    (warning,) = [w for w in result.warnings if "light under alpha 0" in w]
    assert warning.startswith("12 pixel(s) in 2 frame(s) (1002-1003) hold light")
    assert "light_under_alpha 'add'" in warning
    sidecar = read_sidecar(result.folder)
    assert sidecar["light_under_alpha0"] == {"pixels": 12, "frames": "1002-1003"}
    header = read_header(result.frame_path(1002))
    assert header["aebridge/lightUnderAlpha0"] == "7"
    # A resumed run reads the counts from the headers it skips.
    again = convert(tmp_path / "src", tmp_path / "out", name="glow", jobs=1)
    assert again.frames_skipped == 3 and again.light_pixels == 12
    # A frame written before frames recorded the count is made again.
    from aebridge import exr

    path = result.frame_path(1003)
    attrs = {k: v for k, v in read_header(path).items() if k.startswith("aebridge/")}
    del attrs["aebridge/lightUnderAlpha0"]
    exr.write_frame(
        path, read_pixels(path), settings=exr.ExrSettings(), attributes=attrs
    )
    third = convert(tmp_path / "src", tmp_path / "out", name="glow", jobs=1)
    assert (third.frames_written, third.light_pixels) == (1, 12)
    # Straight input has no light under alpha 0 to report.
    straight = convert(
        tmp_path / "src", tmp_path / "out2", name="glow", alpha="straight", jobs=1
    )
    assert (straight.light_pixels, straight.light_frames) == (0, ())
    assert not any("light under alpha 0" in w for w in straight.warnings)


def test_a_probe_of_another_source_is_not_used(tmp_path: Path) -> None:
    # convert_layer trusted a handed probe whose reading options matched without
    # asking whether it was this source's: the frames came from the other movie
    # while the headers named this one (and hashed its bytes).
    from aebridge import ingest
    from aebridge.convert import ConvertOptions, convert_layer

    ours = synthetic.write_movie(tmp_path / "ours.mp4", pattern="gradient")
    theirs = synthetic.write_movie(tmp_path / "theirs.mp4", pattern="disc")
    options = ConvertOptions(source=ours, name="fg")
    handed = ingest.probe(theirs, **options.probe_arguments())
    convert_layer(options, tmp_path / "handed", info=handed, jobs=1)
    convert_layer(options, tmp_path / "probed", jobs=1)
    for frame in (1001, 1008):
        name = f"fg/fg.{frame}.exr"
        np.testing.assert_array_equal(
            read_pixels(tmp_path / "handed" / name),
            read_pixels(tmp_path / "probed" / name),
        )


def test_a_probe_of_a_movie_replaced_since_is_not_used(tmp_path: Path) -> None:
    # A build probes every source first, then converts layer after layer; a movie
    # replaced meanwhile (a longer render of the same shot) was converted to the
    # old probe's length, its last frames silently dropped.
    from aebridge import ingest
    from aebridge.convert import ConvertOptions, convert_layer

    movie = synthetic.write_movie(tmp_path / "fg.mp4", frames=4)
    options = ConvertOptions(source=movie, name="fg")
    early = ingest.probe(movie, **options.probe_arguments())
    assert ingest.is_current(early)
    longer = synthetic.write_movie(tmp_path / "longer.mp4", frames=8)
    Path(longer).replace(movie)
    assert not ingest.is_current(early)
    result = convert_layer(options, tmp_path / "out", info=early, jobs=1)
    assert (result.first, result.last, result.frames_written) == (1001, 1008, 8)


def test_a_movie_replaced_by_one_of_its_size_and_time_is_not_current(
    tmp_path: Path,
) -> None:
    # The stamp was (size, modification time): a copy that keeps the time (rsync
    # -t, cp -p, a download dated by the server) of a render padded to the same
    # size passed as the file probed, and was read with the old probe.
    import os

    from aebridge import ingest

    movie = Path(synthetic.write_movie(tmp_path / "fg.mp4", frames=4))
    longer = Path(synthetic.write_movie(tmp_path / "longer.mp4", frames=8))
    gap = longer.stat().st_size - movie.stat().st_size
    assert gap > 8
    # A 'free' box pads the longer render's twin to the size probed (MP4 allows it).
    with movie.open("ab") as padding:
        padding.write(gap.to_bytes(4, "big") + b"free" + bytes(gap - 8))
    early = ingest.probe(movie)
    status = movie.stat()
    os.utime(longer, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert longer.stat().st_size == status.st_size
    longer.replace(movie)
    assert not ingest.is_current(early)
