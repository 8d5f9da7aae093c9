"""Golden files: ``pytest tests/golden --update-golden`` rewrites them from the code."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files in tests/golden from the current code",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the golden files should be rewritten instead of compared.

    ``AEBRIDGE_UPDATE_GOLDEN=1`` does the same where the option cannot be passed (a
    run from the repo root loads this conftest only after parsing options).
    """
    option = bool(request.config.getoption("--update-golden", default=False))
    return option or os.environ.get("AEBRIDGE_UPDATE_GOLDEN") == "1"
