"""Write the OpenAPI document the service serves, for ``docs/openapi.json``.

Run ``python -m aebridge.service.openapi docs/openapi.json`` after changing the API;
a test fails while the file in the repository differs from what the app serves.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .config import ServiceConfig

__all__ = ["document", "main", "render"]


def document() -> dict[str, Any]:
    """The OpenAPI document of the current API (independent of any configuration)."""
    from .app import openapi_document
    from .runtime import Service

    with tempfile.TemporaryDirectory() as tmp:
        service = Service(
            ServiceConfig(data_dir=Path(tmp), input_roots=(Path(tmp),)),
            build=lambda *args, **kwargs: None,
            load_spec=lambda *args, **kwargs: None,
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
