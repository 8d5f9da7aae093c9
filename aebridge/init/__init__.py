"""``aebridge init``: a comp spec from a folder of generator downloads.

:func:`init_folder` looks at a folder (:mod:`.discover`), reads the generator records
beside the media (:mod:`.records`), pairs mattes by the naming conventions
(:mod:`.naming`, :mod:`.mattes`), decides plate, layers, provenance, keyframes and,
on request, a camera (:mod:`.assemble` over :mod:`.layers`, :mod:`.provenance` and
:mod:`.controls`; what they share is in :mod:`.decisions`), and checks that the
spec it made validates and reads back equal. :func:`init_spec` returns just the
spec; the CLI and the service print or return the decisions too. ``docs/init.md``
lists the conventions and the records read.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import OptionError, Problem, SourceError
from ..model import Comp, CompSpec, Style
from ..model.rules import Rate, Text
from ..model.table import spec_fields
from ..spec import format_spec, load_spec, resolve_paths, spec_to_dict
from ..timing import parse_rate
from ..whitespace import is_blank
from .assemble import assemble, start_frame_error
from .decisions import Guess, InitOptions, LayerRow
from .discover import scan
from .spelling import COMMAND_LINE, Spelling

__all__ = [
    "Guess",
    "InitOptions",
    "InitResult",
    "LayerRow",
    "init_folder",
    "init_spec",
    "option_errors",
]

_COLUMNS = ("layer", "source", "role", "alpha", "matte", "frames", "rate")
_WIDTH = 88


def _item(text: str) -> str:
    """A list item wrapped to the width (file names and options never broken)."""
    return textwrap.fill(
        text,
        _WIDTH,
        initial_indent="  - ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class InitResult:
    """A spec made from a folder, and what was decided on the way.

    Attributes:
        spec: the comp spec; its paths are relative to ``base_dir``.
        folder: the folder looked at.
        base_dir: the folder the spec's paths start from (where it is written).
        layers: one decision-table row per layer, bottom to top.
        guesses: every choice made by convention or guess, with its override.
        warnings: what the user should know (conformed rates, short layers, ...).
        left_out: files not used, with the reason.
    """

    spec: CompSpec
    folder: Path
    base_dir: Path
    layers: tuple[LayerRow, ...]
    guesses: tuple[Guess, ...]
    warnings: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]

    def table(self) -> str:
        """The decision table: layer, source, role, alpha, matte, frames, rate."""
        rows = [_COLUMNS] + [
            (r.id, r.source, r.role, r.alpha, r.matte, r.frames, r.rate)
            for r in self.layers
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
        return "\n".join(
            "  ".join(
                cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
            for row in rows
        )

    def report(self) -> str:
        """The table, the guesses with their overrides and the files left out."""
        lines = [self.table()]
        if self.guesses:
            lines += ["", "guesses (and how to change them):"]
            lines += [_item(f"{g.what}; {g.override}") for g in self.guesses]
        if self.left_out:
            lines += ["", "left out:"]
            lines += [_item(f"{path}: {why}") for path, why in self.left_out]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the spec (as written) and every decision."""
        return {
            "spec": json.loads(format_spec(self.spec)),
            "layers": [
                {
                    "id": r.id,
                    "source": r.source,
                    "role": r.role,
                    "alpha": r.alpha,
                    "matte": r.matte,
                    "frames": r.frames,
                    "rate": r.rate,
                }
                for r in self.layers
            ],
            "guesses": [{"what": g.what, "override": g.override} for g in self.guesses],
            "warnings": list(self.warnings),
            "left_out": [{"path": p, "why": w} for p, w in self.left_out],
        }


def _pairs(
    value: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(a), str(b)) for a, b in items)


def _style(value: Style | str | None, spelling: Spelling) -> Style | None:
    if value is None or isinstance(value, Style):
        return value
    style_id, _, name = value.partition("=")
    if is_blank(style_id):
        raise OptionError(
            spelling.option("style"), value, "ID or ID=NAME, e.g. noir-01=Noir"
        )
    return Style(id=style_id.strip(), name=name.strip())


def init_folder(
    folder: str | os.PathLike[str],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    plate: str | None = None,
    pairs: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    track_mattes: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    guides: bool = False,
    camera: bool = False,
    style: Style | str | None = None,
    rate: Fraction | str | int | None = None,
    start_frame: int = 1001,
    exclude: Iterable[str] = (),
    ignore: Iterable[str | os.PathLike[str]] = (),
    admit: Callable[[Path], bool] | None = None,
    spelling: Spelling = COMMAND_LINE,
) -> InitResult:
    """Make a comp spec from a folder of generator downloads, with its decisions.

    Args:
        folder: the downloads folder (its immediate subfolders are read too).
        base_dir: the folder the spec's paths are written relative to: where the
            spec file will be (default: ``folder``).
        name: the comp name (default: the folder's name).
        plate: the clip to use as the plate (path relative to the folder).
        pairs: clip -> matte: the matte becomes the clip's alpha.
        track_mattes: clip -> matte: the matte becomes a track-matte layer.
        guides: keyframe images also become guide layers.
        camera: a generator camera control becomes a camera move (a heuristic:
            the controls are unitless).
        style: the project's locked style, a :class:`Style` or ``"ID=NAME"``.
        rate: the comp rate (default: the plate's).
        start_frame: the comp's first frame.
        exclude: glob patterns (relative to the folder) of files, or of image
            sequences as init lists them (``seq/el.####.png``) or as the sequence
            grammar names their frames (``seq/el.%04d.png``), to leave out.
        ignore: files to skip silently (the spec file being written).
        admit: a check each file must pass before it is opened (the service's
            input-root sandbox); refused files are left out unread.
        spelling: how messages name the options: the command line's flags
            (``--plate FILE picks another``, the default) or, for the service, the
            request's fields (``options.plate picks another``).

    Returns:
        The spec (valid, and equal to itself read back from :func:`format_spec`)
        and the decision table, guesses, warnings and files left out.

    Raises:
        InitError: the folder is ambiguous (two candidate plates, a matte with no
            partner) or holds no clip; the message names the files and the option
            that settles it.
        OptionError: an option is malformed or names no clip in the folder.
        SourceError: the folder does not exist or cannot be read.
    """
    root = Path(folder)
    if not root.is_dir():
        raise SourceError(
            "not a folder (init reads a folder of downloads)", path=root.as_posix()
        )
    errors = option_errors(
        name=name, style=style, rate=rate, start_frame=start_frame, spelling=spelling
    )
    if errors:
        raise errors[0]
    options = InitOptions(
        name=name,
        plate=plate,
        pairs=_pairs(pairs),
        track_mattes=_pairs(track_mattes),
        guides=guides,
        camera=camera,
        style=_style(style, spelling),
        rate=None if rate is None else parse_rate(rate, option=spelling.option("rate")),
        start_frame=start_frame,
        exclude=tuple(exclude),
        spelling=spelling,
    )
    base = Path(base_dir) if base_dir is not None else root
    found = scan(
        root,
        exclude=options.exclude,
        ignore=[Path(p) for p in ignore],
        admit=admit,
        spelling=spelling,
    )
    plan = assemble(found, root.resolve(), base.resolve(), options)
    problems: list[Problem] = []
    # What is written must load back as the same spec...
    written = json.loads(format_spec(plan.spec))
    again = load_spec(written, base_dir=base, check_files=False, warn=problems.append)
    if again != plan.spec:  # pragma: no cover - a bug in format_spec
        raise AssertionError(
            "init made a spec that does not read back equal: "
            + json.dumps(spec_to_dict(plan.spec), sort_keys=True)
        )
    # ... and every file it names must be found from where it is written (which may
    # not exist yet, so the paths are joined, not looked up through it).
    load_spec(spec_to_dict(resolve_paths(plan.spec, base)), check_files=True)
    warnings = list(plan.warnings)
    warnings += [str(p) for p in problems if str(p) not in warnings]
    return InitResult(
        spec=plan.spec,
        folder=root,
        base_dir=base,
        layers=plan.rows,
        guesses=plan.guesses,
        warnings=tuple(warnings),
        left_out=plan.left_out,
    )


def option_errors(
    *,
    name: str | None = None,
    style: Style | str | None = None,
    rate: Fraction | str | int | None = None,
    start_frame: int = 1001,
    spelling: Spelling = COMMAND_LINE,
) -> list[OptionError]:
    """Every refusal of an option that needs no look at the folder, each naming its
    option as ``spelling`` does (``--rate``, ``options.rate``): :func:`init_folder`
    raises the first, the service lists them all at their request fields.

    --name, --rate and --start-frame are held to the comp model's own rules, in its
    words, so what the user chose is not blamed on the plate. The start frame is held
    to the rate given here, else to the highest comp rate (at the plate's rate it is
    checked once the plate is known).

    Args:
        name: the comp name (None: the folder's name, not checked here).
        style: ``ID`` or ``ID=NAME``.
        rate: the comp rate (None: the plate's).
        start_frame: the comp's first frame.
        spelling: how the refusals name the options.
    """
    errors: list[OptionError] = []
    fields = spec_fields(Comp)
    rule = fields["name"].rule
    if name is not None and rule.check(name) is not None:
        # An unset shell variable gives --name '': refused, not the folder's name.
        allowed = rule.allowed if isinstance(rule, Text) else rule.doc
        errors.append(OptionError(spelling.option("name"), name, allowed))
    try:
        _style(style, spelling)
    except OptionError as exc:
        errors.append(exc)
    parsed: Fraction | None = None
    if rate is not None:
        try:
            parsed = parse_rate(rate, option=spelling.option("rate"))
        except OptionError as exc:
            errors.append(exc)
    refused = None if parsed is None else fields["rate"].rule.check(parsed)
    if refused is not None:
        # A rate, but not a comp's (1 to 99 fps): the rule's words for what is.
        allowed = refused.partition("allowed: ")[2]
        errors.append(OptionError(spelling.option("rate"), rate, allowed))
        parsed = None
    if start_frame < 0:
        errors.append(
            OptionError(spelling.option("start_frame"), start_frame, "0 or more")
        )
    elif parsed is not None:
        late = start_frame_error(start_frame, parsed, spelling)
        if late is not None:
            errors.append(late)
    else:
        # Too late at the highest comp rate is too late at any: said now, with the
        # rest, not once the plate's rate is known (or a rate given right).
        top = fields["rate"].rule
        fastest = (
            Fraction(top.hi) if isinstance(top, Rate) and top.hi is not None else None
        )
        late = (
            None
            if fastest is None
            else start_frame_error(start_frame, fastest, spelling)
        )
        if late is not None:
            errors.append(
                OptionError(
                    late.option,
                    start_frame,
                    f"{late.allowed}, fewer at a lower rate",
                )
            )
    return errors


def init_spec(
    folder: str | os.PathLike[str],
    **options: Any,
) -> CompSpec:
    """Make a comp spec from a folder of generator downloads.

    Args:
        folder: the downloads folder.
        **options: as for :func:`init_folder` (``base_dir``, ``plate``,
            ``pairs``, ``track_mattes``, ``guides``, ``camera``, ``style``,
            ``rate``, ``start_frame``, ``exclude``, ``name``).

    Returns:
        The spec, valid; its paths are relative to ``base_dir`` (default the
        folder). :func:`aebridge.spec.save_spec` writes it for people.

    Raises:
        InitError: the folder is ambiguous or holds no clip.
        OptionError: an option is malformed or names no clip in the folder.
        SourceError: the folder cannot be read.
    """
    return init_folder(folder, **options).spec
