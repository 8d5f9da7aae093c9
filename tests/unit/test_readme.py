"""The README's examples are real: its comp spec loads, its commands exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from aebridge.cli import main
from aebridge.spec_io import load_spec

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_comp_spec_example_is_a_valid_spec() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block is not None
    data = json.loads(block.group(1).replace('"..."', '"x"'))
    spec = load_spec(data, check_files=False)
    assert [layer.id for layer in spec.layers] == ["bg", "fg"]


def test_every_command_in_the_table_exists() -> None:
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"`aebridge (\w+)", text))
    commands = set(main.list_commands(click.Context(main)))
    assert named <= commands, named - commands
