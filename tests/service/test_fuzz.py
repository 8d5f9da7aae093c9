"""A property-based fuzz of the whole API from its OpenAPI document (schemathesis).

Every operation in ``docs/openapi.json`` (the document a test keeps equal to the
served one) gets generated requests, valid and invalid, against a real server; each
answer must not be a 5xx and must match the document: status code, content type,
headers and body schema. The run is bounded (``FUZZ_EXAMPLES`` per operation,
derandomised so CI is repeatable; set ``AEBRIDGE_FUZZ_EXAMPLES`` and
``AEBRIDGE_FUZZ_SEED`` to search further) and takes well under a minute here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakebuild
import pytest
from servicekit import Running

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow  # bounded: FUZZ_EXAMPLES per operation
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aebridge.service.config import ServiceConfig  # noqa: E402
from aebridge.service.runtime import Service  # noqa: E402
from aebridge.service.server import ServerThread  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fuzz-token"
FUZZ_EXAMPLES = int(os.environ.get("AEBRIDGE_FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("AEBRIDGE_FUZZ_SEED")

schema = schemathesis.openapi.from_dict(
    json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, png_frames: Path) -> Iterator[Any]:
    """One server for the whole run (with a token: the document declares it)."""
    import shutil

    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(png_frames, root / "inputs")
    service = Service(
        ServiceConfig(
            data_dir=root / "data",
            input_roots=(root / "inputs",),
            token=TOKEN,
            webhook_timeout=1.0,
        ),
        build=fakebuild.build,
    )
    server = ServerThread(service).start()
    running = Running(service, server)
    yield running
    running.stop()


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_generated_request_gets_a_documented_answer(
    case: Any, fuzzed: Running
) -> None:
    case.call_and_validate(
        base_url=fuzzed.url,
        headers={"authorization": f"Bearer {TOKEN}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
        timeout=10,
    )
