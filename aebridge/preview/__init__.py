"""Reference compositor for previews: numpy maths (composite), rendering and writers."""

from __future__ import annotations
