"""The conversion side and the preview take the spec's enums, not copies of them."""

from __future__ import annotations

from aebridge import imaging, ingest, model
from aebridge.preview import composite


def test_the_preview_matte_types_are_the_models() -> None:
    assert composite.MatteType is model.MatteType


def test_pixel_alpha_modes_are_the_models_without_auto() -> None:
    # convert decides 'auto' from the format before it builds a pixel pipeline.
    assert (
        tuple(m.value for m in model.AlphaMode if m is not model.AlphaMode.AUTO)
        == imaging.ALPHA_MODES
    )


def test_movie_vfr_modes_are_the_models_policies() -> None:
    assert tuple(p.value for p in model.VfrPolicy) == ingest.VFR_MODES
