"""Golden files: ``pytest --update-golden`` rewrites them from the code."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the golden files should be rewritten instead of compared.

    ``AEBRIDGE_UPDATE_GOLDEN=1`` does the same where the option cannot be passed.
    The option itself is registered in ``tests/conftest.py``.
    """
    option = bool(request.config.getoption("--update-golden", default=False))
    return option or os.environ.get("AEBRIDGE_UPDATE_GOLDEN") == "1"
