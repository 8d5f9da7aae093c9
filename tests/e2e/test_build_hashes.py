"""What a build reads, and how often: each source is probed once (the source check's
probe is the conversion's), each image sequence listed once (the spec check's listing
is the probes'), a layer's source hash in build.json comes from the hashes the
conversion makes anyway (a movie read for it once, a sequence's frames hashed once
each), and the spec as built is hashed once. Frames that vanish after the listing are
still named, and the next build lists again."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from aebridge import sandbox, synthetic
from aebridge.api import BuildProgress, build
from aebridge.errors import SourceError, SpecError


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spec(source: str) -> dict[str, Any]:
    return {
        "schema": "aebridge.comp/1",
        "comp": {
            "name": "hashes",
            "width": 64,
            "height": 36,
            "rate": 24,
            "duration": 4,
        },
        "layers": [{"id": "fg", "source": source}],
    }


@contextmanager
def _reads_for_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    # sandbox.open_binary is how aebridge opens a file to hash it.
    opened: Counter[str] = Counter()
    real = sandbox.open_binary

    def counting(path: Any) -> BinaryIO:
        opened[str(Path(path).resolve())] += 1
        return real(path)

    monkeypatch.setattr(sandbox, "open_binary", counting)
    yield opened


@contextmanager
def _counting_probes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    # Probes by file name, and YUV matrix when one is given.
    from aebridge import ingest

    probed: Counter[str] = Counter()
    real = ingest.probe

    def counting(path: Any, **options: Any) -> Any:
        matrix = options.get("yuv_matrix")
        probed[Path(path).name + (f" {matrix}" if matrix else "")] += 1
        return real(path, **options)

    monkeypatch.setattr(ingest, "probe", counting)
    yield probed


def test_a_movie_is_read_for_its_hash_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    movie = Path(
        synthetic.write_movie(
            tmp_path / "fg.mp4", frames=4, width=64, height=36, rate=Fraction(24)
        )
    ).resolve()
    with _reads_for_hashing(monkeypatch) as opened:
        result = build(_spec("fg.mp4"), tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert opened[str(movie)] == 1
    (layer,) = result.layers
    assert layer.source_sha256 == _sha256(movie)
    document = json.loads(result.build_json.read_text())
    assert document["layers"]["fg"]["source_sha256"] == _sha256(movie)


def test_a_sequence_hash_is_made_from_its_frames_hashes(tmp_path: Path) -> None:
    files = synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=64, height=36
    )
    result = build(
        _spec("media/fg.####.png"), tmp_path / "out", base_dir=tmp_path, jobs=1
    )
    digests = "".join(f"{_sha256(Path(f))}\n" for f in sorted(files))
    expected = hashlib.sha256(digests.encode("ascii")).hexdigest()
    (layer,) = result.layers
    assert layer.source_sha256 == expected
    document = json.loads(result.build_json.read_text())
    assert document["layers"]["fg"]["source_sha256"] == expected


def test_the_spec_as_built_is_hashed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aebridge.api.chain
    import aebridge.spec

    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=64, height=36
    )
    hashed: list[str] = []
    real = aebridge.spec.spec_hash

    def counting(spec: Any) -> str:
        digest = real(spec)
        hashed.append(digest)
        return digest

    monkeypatch.setattr(aebridge.spec, "spec_hash", counting)
    monkeypatch.setattr(aebridge.api.chain, "spec_hash", counting)
    result = build(
        _spec("media/fg.####.png"), tmp_path / "out", base_dir=tmp_path, jobs=1
    )
    document = json.loads(result.build_json.read_text())
    # The spec as written once (source_spec_hash), the spec as built once.
    assert sorted(hashed) == sorted(
        [document["source_spec_hash"], document["spec_hash"]]
    )


def test_each_source_is_probed_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=36)
    synthetic.write_png_sequence(
        tmp_path / "media", "bg", frames=4, width=64, height=36
    )
    spec = _spec("fg.mp4")
    spec["layers"].insert(0, {"id": "bg", "source": "media/bg.####.png"})
    with _counting_probes(monkeypatch) as probed:
        build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert probed == {"fg.mp4": 1, "bg.####.png": 1}


def test_each_sequence_source_is_listed_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aebridge.ingest import movie

    synthetic.write_png_sequence(
        tmp_path / "media" / "bg", "bg", frames=4, width=64, height=36
    )
    synthetic.write_matte_sequence(
        tmp_path / "media" / "matte", "matte", frames=4, width=64, height=36
    )
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=36)
    # sandbox.listdir is how aebridge lists a folder (find_sequence's one listing).
    listed: Counter[str] = Counter()
    real_listdir = sandbox.listdir

    def counting_listdir(path: Any) -> list[str]:
        listed[Path(path).resolve().relative_to(tmp_path.resolve()).as_posix()] += 1
        return real_listdir(path)

    probed: Counter[str] = Counter()
    real_probe = movie.probe_movie

    def counting_probe(path: Any, **options: Any) -> Any:
        probed[Path(path).name] += 1
        return real_probe(path, **options)

    monkeypatch.setattr(sandbox, "listdir", counting_listdir)
    monkeypatch.setattr(movie, "probe_movie", counting_probe)
    spec = _spec("fg.mp4")
    spec["layers"] = [
        {"id": "bg", "source": "media/bg/bg.####.png"},
        {
            "id": "fg",
            "source": {
                "path": "fg.mp4",
                "matte": "media/matte/matte.####.png",
                "alpha": "straight",
            },
        },
    ]
    result = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert [layer.sequence.frame_count for layer in result.layers] == [4, 4]
    # The spec check lists each sequence (the source and the matte); the preflight
    # probe, the conversion and the matte's probe use that listing.
    assert listed == {"media/bg": 1, "media/matte": 1}
    assert probed == {"fg.mp4": 1}


@pytest.mark.parametrize("gone", [1002, 1004], ids=["a middle frame", "the last"])
def test_a_frame_gone_after_the_listing_is_refused_before_converting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gone: int
) -> None:
    import aebridge.api.chain

    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=64, height=36
    )
    real = aebridge.api.chain.source_problems

    def after_the_spec_check(*args: Any, **kwargs: Any) -> Any:
        (tmp_path / "media" / f"fg.{gone}.png").unlink()
        return real(*args, **kwargs)

    monkeypatch.setattr(aebridge.api.chain, "source_problems", after_the_spec_check)
    with pytest.raises(SpecError) as caught:
        build(_spec("media/fg.####.png"), tmp_path / "out", base_dir=tmp_path, jobs=1)
    (problem,) = caught.value.problems
    assert problem.path == "layers[0].source.path"
    assert f"fg.{gone}.png, frame {gone}: the frame file is missing" in problem.message
    assert not list((tmp_path / "out").rglob("*.exr"))


def test_a_frame_gone_before_it_is_read_is_named(tmp_path: Path) -> None:
    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=64, height=36
    )

    def on_progress(update: BuildProgress) -> None:
        if update.stage == "convert" and update.frames_total == 0:
            (tmp_path / "media" / "fg.1003.png").unlink(missing_ok=True)

    with pytest.raises(SourceError) as caught:
        build(
            _spec("media/fg.####.png"),
            tmp_path / "out",
            base_dir=tmp_path,
            jobs=1,
            progress=on_progress,
        )
    assert caught.value.frame == 1003
    assert caught.value.path is not None
    assert Path(caught.value.path).name == "fg.1003.png"


def test_the_next_build_lists_the_sequence_again(tmp_path: Path) -> None:
    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=4, width=64, height=36
    )
    spec = _spec("media/fg.####.png")
    first = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    synthetic.write_png_sequence(
        tmp_path / "media", "fg", frames=5, width=64, height=36
    )
    second = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert [r.layers[0].sequence.frame_count for r in (first, second)] == [4, 5]


def test_a_movie_two_layers_read_alike_is_probed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plate used twice (say, once more in screen mode) was probed per layer; a
    # layer reading it another way (here its YUV matrix) still gets its own probe.
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=36)
    spec = _spec("fg.mp4")
    spec["layers"].append({"id": "again", "source": "fg.mp4", "blend": "screen"})
    spec["layers"].append(
        {"id": "other", "source": {"path": "fg.mp4", "yuv_matrix": "bt601"}}
    )
    with _counting_probes(monkeypatch) as probed:
        result = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert probed == {"fg.mp4": 1, "fg.mp4 bt601": 1}
    assert [layer.sequence.last for layer in result.layers] == [1004, 1004, 1004]


def test_a_matte_is_probed_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The source check probes the matte (to check it fits); the conversion probed
    # it again, since only the source's probe was handed over.
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=36)
    synthetic.write_movie(tmp_path / "pha.mp4", frames=4, width=64, height=36)
    spec = _spec("fg.mp4")
    spec["layers"][0]["source"] = {"path": "fg.mp4", "matte": "pha.mp4"}
    with _counting_probes(monkeypatch) as probed:
        result = build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert probed == {"fg.mp4": 1, "pha.mp4": 1}
    assert result.layers[0].frames_written == 4


def test_a_movie_replaced_after_the_source_check_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The conversion probes a movie replaced since the source check again, but the
    # build did not hold the new probe to the comp: a 30 fps render landing while
    # the layers before it converted was built under rate_policy 'refuse', at 30
    # fps and without a word.
    from aebridge.api import chain

    synthetic.write_movie(tmp_path / "bg.mp4", frames=4)
    synthetic.write_movie(tmp_path / "fg.mp4", frames=4)
    real = chain.source_problems
    checks: list[int] = []

    def then_replaced(*args: Any, **kwargs: Any) -> Any:
        problems = real(*args, **kwargs)
        checks.append(1)
        if len(checks) == 1:
            synthetic.write_movie(tmp_path / "new.mp4", frames=4, rate=Fraction(30))
            (tmp_path / "new.mp4").replace(tmp_path / "fg.mp4")
        return problems

    monkeypatch.setattr(chain, "source_problems", then_replaced)
    spec = _spec("fg.mp4")
    spec["layers"].insert(0, {"id": "bg", "source": "bg.mp4"})
    with pytest.raises(SpecError) as caught:
        build(spec, tmp_path / "out", base_dir=tmp_path, rate_policy="refuse", jobs=1)
    assert [str(p) for p in caught.value.problems] == [
        "layers[1].source: the source runs at 30 fps, the comp at 24 fps; allowed "
        "with rate_policy 'conform' or a source rate equal to the comp's"
    ]
