"""Reference compositor for previews: numpy maths (composite), rendering and writers.

``render_frame`` and ``render_preview`` load lazily so that importing the package
(``aebridge.api`` does, for ``build --preview``) pulls in neither numpy nor OpenImageIO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["render_frame", "render_preview"]

if TYPE_CHECKING:
    from .render import render_frame, render_preview


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import render

        return getattr(render, name)
    raise AttributeError(f"module 'aebridge.preview' has no attribute {name!r}")
