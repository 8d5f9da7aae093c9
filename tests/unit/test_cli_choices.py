"""The command line offers exactly the spec's enum values (and the spec's rate
policies), taken from the enums themselves."""

from __future__ import annotations

from enum import StrEnum

import click
import pytest

from aebridge.cli import main
from aebridge.model import AlphaMode, FieldMode, Orientation, Role, VfrPolicy
from aebridge.spec import RATE_POLICIES


def _choice(command: str, option: str) -> click.Choice:
    found = main.get_command(click.Context(main), command)
    assert found is not None, command
    param = next(p for p in found.params if p.name == option)
    assert isinstance(param.type, click.Choice)
    return param.type


@pytest.mark.parametrize(
    ("command", "option", "enum"),
    [
        ("convert", "alpha", AlphaMode),
        ("convert", "role", Role),
        ("convert", "vfr", VfrPolicy),
        ("convert", "orientation", Orientation),
        ("convert", "fields", FieldMode),
    ],
)
def test_spec_enum_choices_come_from_the_enum(
    command: str, option: str, enum: type[StrEnum]
) -> None:
    assert list(_choice(command, option).choices) == [m.value for m in enum]


@pytest.mark.parametrize("command", ["validate", "build"])
def test_rate_policy_choices_are_the_specs(command: str) -> None:
    assert tuple(_choice(command, "rate_policy").choices) == RATE_POLICIES
