"""Comp spec JSON: read with full validation, write deterministically, upgrade labels,
derive the JSON Schema.

A spec file is JSON with a versioned label, ``"schema": "aebridge.comp/1"``. Loading
reports every problem at once, each with its spec path (``layers[2].blend``) and what
is allowed, as a :class:`~aebridge.errors.SpecError`; warnings (layers of another size,
rates that After Effects will conform) go to a callback. Specs written for an older
label are lifted to the current one by the functions in :data:`UPGRADES`, one step at
a time, before validation.

Relative paths in a spec (sources, mattes, EXR folders, keyframe images) are relative
to the spec file's folder; :func:`resolve_paths` makes them absolute.

What each field allows is defined once, by the models (:mod:`aebridge.model.rules`);
this package reads by those rules and derives from them. Modules, in dependency
order: ``reader`` (JSON read by the field rules), ``crossfield`` (the rules that span
fields, written by hand), ``load`` (files, labels, upgrades, :func:`load_spec`,
:func:`validate`), ``write`` (:func:`dump_spec`, :func:`format_spec`,
:func:`save_spec`, :func:`spec_hash`, :func:`resolve_paths`), ``schema`` (the JSON
Schema file and the OpenAPI schemas, derived).
"""

from __future__ import annotations

from .crossfield import RATE_POLICIES, footage_problems
from .load import UPGRADES, Upgrade, load_spec, register_upgrade, validate
from .write import (
    check_spec_target,
    dump_spec,
    format_spec,
    resolve_paths,
    save_spec,
    spec_hash,
    spec_to_dict,
)

__all__ = [
    "RATE_POLICIES",
    "UPGRADES",
    "Upgrade",
    "check_spec_target",
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
