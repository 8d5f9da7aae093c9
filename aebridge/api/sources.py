"""Reading a build's spec and checking its sources against the comp before anything
is converted: what only the media can tell (rates, sizes, lengths)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import OptionError, Problem, SourceError
from ..model import CompSpec, LayerSource, expand_conditioning
from ..sandbox import PathOutsideRootsError
from ..sequence import FoundSequences
from ..spec import RATE_POLICIES, footage_problems, load_spec, resolve_paths
from ..timing import format_rate

__all__ = ["check_sources", "load", "source_problems"]


def load(
    spec: CompSpec | str | os.PathLike[str] | Mapping[str, Any],
    base_dir: str | os.PathLike[str] | None,
    rate_policy: str,
    warn: Callable[[Problem], None],
    sequences: FoundSequences,
) -> tuple[CompSpec, Path]:
    """The validated spec and the folder its relative paths are relative to; the
    sequence sources the spec check lists go into ``sequences``."""
    if isinstance(spec, CompSpec):
        return spec, Path(base_dir) if base_dir is not None else Path.cwd()
    if base_dir is not None:
        base = Path(base_dir)
    elif isinstance(spec, Mapping):
        base = Path.cwd()
    else:
        base = Path(spec).resolve().parent
    loaded = load_spec(
        spec, base_dir=base, rate_policy=rate_policy, warn=warn, sequences=sequences
    )
    return loaded, base


def check_sources(
    spec: CompSpec | str | os.PathLike[str] | Mapping[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    rate_policy: str = "conform",
) -> tuple[Problem, ...]:
    """Open every layer source, without converting, and check it against the comp.

    What only the media can tell: a movie that cannot be read, a rate that differs
    from the comp's (a warning, or an error under ``refuse``), a size that differs
    (a warning), an ``out_frame`` past the end of the source (an error), a matte of
    another size or with fewer frames (an error; more frames, a warning).

    Args:
        spec: a spec file, a spec mapping, or a loaded spec.
        base_dir: see :func:`build`.
        rate_policy: ``conform`` or ``refuse``.

    Returns:
        The problems, errors and warnings, each with its spec path.

    Raises:
        SpecError: the spec itself has errors (see :func:`aebridge.spec.load_spec`).
        OptionError: ``rate_policy`` is not allowed.
    """
    if rate_policy not in RATE_POLICIES:
        raise OptionError("rate_policy", rate_policy, RATE_POLICIES)
    sequences = FoundSequences()
    loaded, base = load(spec, base_dir, rate_policy, lambda _problem: None, sequences)
    resolved = resolve_paths(expand_conditioning(loaded), base)
    return tuple(source_problems(resolved, rate_policy, sequences=sequences))


def source_problems(
    spec: CompSpec,
    rate_policy: str,
    probed: dict[str, tuple[Any, Any | None]] | None = None,
    *,
    sequences: FoundSequences | None = None,
    only: str | None = None,
) -> list[Problem]:
    """Probe every source to convert and compare rate, size and length with the comp.

    Each source (and separate matte) is probed as its conversion will read it, and
    the probes are put in ``probed`` by layer id as (source, matte or None), so the
    conversion need not read them again; an image sequence the spec check listed
    into ``sequences`` is not listed again. ``only`` names the one layer to check
    (a source replaced since the build's check).
    """
    from .. import ingest
    from ..convert import check_matte
    from .layers import layer_options

    comp = spec.comp
    problems: list[Problem] = []
    # A file two layers read the same way (a plate used twice) is probed once.
    read: dict[tuple[str, tuple[tuple[str, object], ...]], ingest.SourceInfo] = {}

    def probe_once(path: str, reading: dict[str, Any]) -> ingest.SourceInfo:
        key = (path, ingest.reading_key(**reading))
        if key not in read:
            read[key] = ingest.probe(path, sequences=sequences, **reading)
        return read[key]

    for index, layer in enumerate(spec.layers):
        source = layer.source
        if not isinstance(source, LayerSource) or only not in (None, layer.id):
            continue
        path = f"layers[{index}].source"
        try:
            # Read as the conversion will: the orientation turns the picture, the
            # part and view choose it, so all of them decide its size. The options
            # name a colour space by the config's name (srgb, linear are aliases);
            # one the config does not have is their only OptionError.
            options = layer_options(spec, layer)
            info = probe_once(options.source, options.probe_arguments())
        except OptionError as exc:
            problems.append(
                Problem(
                    path=f"{path}.colorspace",
                    message=f"{exc.value!r} is not allowed; allowed: {exc.allowed}",
                )
            )
            continue
        except PathOutsideRootsError:
            raise  # a read the sandbox refused is not a spec problem: it fails as such
        except SourceError as exc:
            # At the option given for a file it does not apply to, else the path.
            field = exc.field or "path"
            problems.append(Problem(path=f"{path}.{field}", message=str(exc)))
            continue
        if probed is not None:
            probed[layer.id] = (info, None)
        if options.matte is not None:
            # A matte that does not fit its source failed in the conversion, after
            # the layers before it were converted: it is checked here with the rest.
            try:
                matte_info = probe_once(options.matte, options.matte_probe_arguments())
                extra = check_matte(info, matte_info)
            except PathOutsideRootsError:
                raise
            except SourceError as exc:
                problems.append(Problem(path=f"{path}.matte", message=str(exc)))
            else:
                if probed is not None:
                    probed[layer.id] = (info, matte_info)
                if extra:
                    problems.append(
                        Problem(path=f"{path}.matte", message=extra, severity="warning")
                    )
        # Image sequences carry no rate and play at the comp's unless one is given.
        rate = source.rate or info.rate or comp.rate
        if rate != comp.rate and source.rate is None:
            # A declared rate was already checked when the spec was loaded.
            message = (
                f"the source runs at {format_rate(rate)} fps, the comp at "
                f"{format_rate(comp.rate)} fps"
            )
            if rate_policy == "refuse":
                problems.append(
                    Problem(
                        path=path,
                        message=f"{message}; allowed with rate_policy 'conform' or a "
                        "source rate equal to the comp's",
                    )
                )
            else:
                problems.append(
                    Problem(
                        path=path,
                        message=f"{message}; After Effects conforms it to "
                        f"{format_rate(comp.rate)} fps (frame for frame)",
                        severity="warning",
                    )
                )
        if (info.width, info.height) != (comp.width, comp.height):
            problems.append(
                Problem(
                    path=path,
                    message=f"{info.width}x{info.height} differs from the comp's "
                    f"{comp.width}x{comp.height}; the layer is placed by its "
                    "transform (centred by default)",
                    severity="warning",
                )
            )
        # Only now is the source's length known: check the trim against it.
        problems.extend(
            footage_problems(
                f"layers[{index}]",
                start=spec.layer_start(layer),
                in_frame=layer.in_frame,
                out_frame=layer.out_frame,
                stretch=layer.stretch,
                frame_count=info.frame_count,
            )
        )
    return problems
