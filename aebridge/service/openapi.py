"""Write the OpenAPI document the service serves, for ``docs/openapi.json``; the comp
spec's part of it.

Run ``python -m aebridge.service.openapi docs/openapi.json`` after changing the API
(or the spec models: the comp spec's component schemas are derived from their field
rules, :func:`aebridge.spec.schema.openapi_schemas`); a test fails while the file in
the repository differs from what the app serves.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..spec.schema import openapi_schemas
from .config import ServiceConfig

__all__ = ["COMP_SPEC_REF", "comp_spec_schemas", "document", "main", "render"]

#: Where a request or an answer holding a comp spec points.
COMP_SPEC_REF = "#/components/schemas/CompSpec"


def comp_spec_schemas() -> dict[str, Any]:
    """The comp spec's component schemas (``CompSpec``, ``Layer``, ...), derived from
    the spec models, for the document's ``components.schemas``."""
    return openapi_schemas("#/components/schemas/")


def document() -> dict[str, Any]:
    """The OpenAPI document of the current API (independent of any configuration)."""
    from .app import openapi_document
    from .runtime import Service

    with tempfile.TemporaryDirectory() as tmp:
        service = Service(
            ServiceConfig(data_dir=Path(tmp), input_roots=(Path(tmp),)),
            build=lambda *args, **kwargs: None,
        )
        try:
            return openapi_document(service)
        finally:
            service.store.close()


def render() -> str:
    """The document as the repository keeps it: sorted keys, two-space indent."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document to the path given (default: standard output)."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
