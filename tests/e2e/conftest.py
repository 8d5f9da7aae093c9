"""Fixtures the end-to-end tests share: the samples' media and their builds."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aebridge.api import BuildResult, build

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SHOTS = ("sh010", "sh020", "sh030")


def make_media(shot: str) -> None:
    """Make a sample's media with samples/make_samples.py (a no-op when present)."""
    spec = importlib.util.spec_from_file_location(
        "make_samples", SAMPLES / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SHOTS[shot](False)


@pytest.fixture(scope="session")
def sample_media() -> Callable[[str], None]:
    """:func:`make_media`, for tests that need a sample's media on disk."""
    return make_media


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BuildResult]]:
    """Every sample built once per test session (``aebridge build``, 2 jobs)."""
    out = tmp_path_factory.mktemp("out")
    results: dict[str, BuildResult] = {}
    for shot in SHOTS:
        make_media(shot)
        results[shot] = build(SAMPLES / shot / "comp.json", out, jobs=2)
    yield results
