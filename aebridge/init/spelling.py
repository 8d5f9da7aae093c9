"""init's options by name: one table of each option's command-line flag and request
field, and how init's messages name an option as its caller sets it.

``aebridge init`` is told ``--plate bg.mp4``; ``POST /v1/specs/init`` is sent
``{"options": {"plate": "bg.mp4"}}``. Every refusal, guess and warning that points at
an option (``--plate FILE picks another``, ``excluded (--exclude)``) names it through
a :class:`Spelling`: :data:`COMMAND_LINE` says the flag, :data:`REQUEST` the field,
so a service client is told what it can send, not a flag it has no way to give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

__all__ = ["COMMAND_LINE", "OPTIONS", "REQUEST", "InitOption", "Spelling"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InitOption:
    """One of init's options.

    Attributes:
        flag: its command-line flag (``--pair``); its key in :data:`OPTIONS` is the
            :class:`~aebridge.init.decisions.InitOptions` field and the request's
            ``options`` field (``pairs``).
        kind: what it holds: text, a rate, a frame number, a switch, ``CLIP=MATTE``
            pairs (an object over HTTP) or a list of globs.
    """

    flag: str
    kind: Literal["text", "rate", "frame", "switch", "pairs", "globs"]


#: Every option of init, by its field name.
OPTIONS: dict[str, InitOption] = {
    "name": InitOption(flag="--name", kind="text"),
    "plate": InitOption(flag="--plate", kind="text"),
    "pairs": InitOption(flag="--pair", kind="pairs"),
    "track_mattes": InitOption(flag="--track-matte", kind="pairs"),
    "guides": InitOption(flag="--guides", kind="switch"),
    "camera": InitOption(flag="--camera", kind="switch"),
    "style": InitOption(flag="--style", kind="text"),
    "rate": InitOption(flag="--rate", kind="rate"),
    "start_frame": InitOption(flag="--start-frame", kind="frame"),
    "exclude": InitOption(flag="--exclude", kind="globs"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Spelling:
    """How init's messages name its options: as the command line's flags or as the
    service request's fields.

    Attributes:
        request: True for the request's fields (``options.plate``), False for the
            flags (``--plate``).
    """

    request: bool

    def option(self, key: str, metavar: str = "") -> str:
        """An option, with ``metavar`` standing for its value on the command line
        (``--plate FILE``; a field is named alone: ``options.plate``).

        Args:
            key: the option's field name (a key of :data:`OPTIONS`).
            metavar: what its value is, as a flag's help says it (``FILE``).
        """
        if self.request:
            return f"options.{key}"
        return f"{OPTIONS[key].flag} {metavar}".rstrip()

    def setting(self, key: str, *values: str) -> str:
        """An option given a value, as the caller writes it: ``--plate bg.mp4``,
        ``--pair fg.mp4=pha.mp4``, ``--exclude x.png``, ``--camera`` on the command
        line; ``options.plate = "bg.mp4"``, ``options.camera = true``, and one item
        more in a request's list or object: ``"x.png" in options.exclude``,
        ``{"fg.mp4": "pha.mp4"} in options.pairs``.

        Args:
            key: the option's field name (a key of :data:`OPTIONS`).
            values: its value (a pair's clip and matte; none for a switch).
        """
        kind = OPTIONS[key].kind
        if not self.request:
            flag = OPTIONS[key].flag
            return flag if kind == "switch" else f"{flag} {'='.join(values)}"
        if kind == "pairs":
            return f"{_json({values[0]: values[1]})} in options.{key}"
        if kind == "globs":
            (glob,) = values
            return f"{_json(glob)} in options.{key}"
        return f"options.{key} = {_json(True if kind == 'switch' else values[0])}"

    def key_of(self, name: str) -> str | None:
        """The option a name says (``--plate`` or ``options.plate``: ``plate``), or
        None for a name that is no option of init's in this spelling."""
        for key in OPTIONS:
            if self.option(key) == name:
                return key
        return None


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


#: The command line's flags (and the default for the Python API).
COMMAND_LINE = Spelling(request=False)
#: The fields of ``POST /v1/specs/init``'s ``options``.
REQUEST = Spelling(request=True)
