"""The comp spec's reading and writing functions under the name users import.

``from aebridge.spec_io import load_spec`` is what docs/comp-spec.md shows and what
the service names as its default spec loader; the functions live in
:mod:`aebridge.spec` (read by the models' field rules, written deterministically,
upgraded by label). This module only re-exports them.
"""

from __future__ import annotations

from .spec import (
    RATE_POLICIES,
    UPGRADES,
    Upgrade,
    dump_spec,
    footage_problems,
    format_spec,
    load_spec,
    register_upgrade,
    resolve_paths,
    save_spec,
    spec_hash,
    spec_to_dict,
    validate,
)

__all__ = [
    "RATE_POLICIES",
    "UPGRADES",
    "Upgrade",
    "dump_spec",
    "footage_problems",
    "format_spec",
    "load_spec",
    "register_upgrade",
    "resolve_paths",
    "save_spec",
    "spec_hash",
    "spec_to_dict",
    "validate",
]
