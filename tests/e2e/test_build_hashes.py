"""What a build reads, and how often: each source is probed once (the source check's
probe is the conversion's), a layer's source hash in build.json comes from the
hashes the conversion makes anyway (a movie read for it once, a sequence's frames
hashed once each), and the spec as built is hashed once."""

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
from aebridge.api import build


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
    from aebridge import ingest

    synthetic.write_movie(tmp_path / "fg.mp4", frames=4, width=64, height=36)
    synthetic.write_png_sequence(
        tmp_path / "media", "bg", frames=4, width=64, height=36
    )
    probed: Counter[str] = Counter()
    real = ingest.probe

    def counting(path: Any, **options: Any) -> Any:
        probed[Path(path).name] += 1
        return real(path, **options)

    monkeypatch.setattr(ingest, "probe", counting)
    spec = _spec("fg.mp4")
    spec["layers"].insert(0, {"id": "bg", "source": "media/bg.####.png"})
    build(spec, tmp_path / "out", base_dir=tmp_path, jobs=1)
    assert probed == {"fg.mp4": 1, "bg.####.png": 1}
