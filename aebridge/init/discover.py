"""What a downloads folder holds: clips (movies, image sequences), stills, records.

The folder and its immediate subfolders are looked at (RVM's ``png_sequence`` output
is a folder of ``0000.png`` frames). Hidden files are skipped. A numbered run of at
least :data:`MIN_SEQUENCE` images is a sequence, anything else an image is a still;
``.json`` files are read as generator records. Every clip is probed with
:func:`aebridge.ingest.probe` and described by :class:`Media` through
:func:`media_from_probe`, the one place that reads :class:`~aebridge.ingest.SourceInfo`
(sizes are as shown: probing has already applied a phone movie's display rotation or
an image's EXIF orientation).
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import sandbox
from ..errors import SourceError
from ..formats import IMAGE_EXTENSIONS, MOVIE_EXTENSIONS, unread_extension
from ..ingest import SourceInfo, probe, read_frames
from ..naming import source_stem
from ..sandbox import PathOutsideRootsError
from ..sequence import (
    find_sequence,
    group_numbered,
    is_sequence_pattern,
    names_all,
    unnamed_sequence,
)
from .readers import read_record
from .records import Record
from .spelling import COMMAND_LINE, Spelling

__all__ = [
    "MIN_SEQUENCE",
    "Media",
    "Scan",
    "alpha_is_opaque",
    "is_grey",
    "media_from_probe",
    "scan",
]

#: Fewest numbered images read as a sequence; one or two are stills (keyframe
#: images are often saved as ``frame0.png``/``frame1.png``).
MIN_SEQUENCE = 3
#: Largest JSON file read as a record (a request with inline images can be large).
MAX_RECORD_BYTES = 64 << 20
_REFUSED = "refused: it leads outside the input roots"
# A still can only be a keyframe image, which is one image: its field refuses a name
# with a frame field ('first@2x.png'), a sequence pattern's.
_PATTERN_STILL = (
    "a still whose name holds a frame field (#, @, %d, $F), which names an image "
    "sequence, not one image: rename it to use it as a keyframe image"
)
# Mean channel spread (of full scale) under which a picture counts as grey.
_GREY_SPREAD = 0.02


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """One clip or still found in the folder, as init needs to know it.

    Attributes:
        path: relative to the folder, ``/``-separated: a movie or still file, or a
            sequence pattern (``fg.####.png``, ``pha/####.png``).
        kind: ``movie``, ``sequence`` or ``still``.
        stem: the name conventions are read from: a file's name without extension,
            a sequence's name before its frame number, or its folder's name.
        files: every file it reads, relative to the folder.
        width, height: the size the picture is shown at, after the orientation the
            file declares (0 for a still, which is not probed).
        frame_count: frames (1 for a still).
        rate: a movie's exact rate; None for images.
        has_alpha: the source has an alpha channel.
        variable_rate: a movie with irregular timestamps (resampled when built).
        pixel_aspect: the pixel aspect ratio.
        codec: a movie's codec (``h264``, ``prores``, ``vp9``).
        info: the probe result, for reading a frame.
    """

    path: str
    kind: str
    stem: str
    files: tuple[str, ...]
    width: int = 0
    height: int = 0
    frame_count: int = 1
    rate: Fraction | None = None
    has_alpha: bool = False
    variable_rate: bool = False
    pixel_aspect: Fraction = Fraction(1)
    codec: str = ""
    info: SourceInfo | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height as shown."""
        return self.width, self.height

    @property
    def area(self) -> int:
        """Pixels per frame."""
        return self.width * self.height

    @property
    def is_clip(self) -> bool:
        """A movie or an image sequence (a still is not a clip)."""
        return self.kind != "still"


def media_from_probe(
    info: SourceInfo, *, path: str, kind: str, stem: str, files: tuple[str, ...]
) -> Media:
    """Describe a probed clip: the adapter between ingest and init.

    Args:
        info: what :func:`aebridge.ingest.probe` returned.
        path: the clip's path relative to the folder.
        kind: ``movie`` or ``sequence``.
        stem: its name for the conventions.
        files: the files it reads, relative to the folder.

    Returns:
        The clip as init sees it.
    """
    return Media(
        path=path,
        kind=kind,
        stem=stem,
        files=files,
        width=int(info.width),
        height=int(info.height),
        frame_count=int(info.frame_count),
        rate=info.rate,
        has_alpha=bool(info.has_alpha),
        variable_rate=bool(info.variable_rate),
        pixel_aspect=Fraction(info.pixel_aspect),
        codec=str(info.codec),
        info=info,
    )


def _first_frame(media: Media) -> Any:
    if media.info is None:
        raise SourceError("not probed", path=media.path)
    for _index, pixels in read_frames(media.info, 0, 1):
        return pixels
    raise SourceError("the source has no frames", path=media.path)


def _scale(pixels: Any) -> float:
    kind = str(pixels.dtype)
    return {"uint8": 255.0, "uint16": 65535.0}.get(kind, 1.0)


def is_grey(media: Media) -> bool:
    """Whether a clip's first frame is grey (as a matte is), not a colour picture.

    Raises:
        SourceError: the frame cannot be read.
    """
    pixels = _first_frame(media)
    if pixels.ndim < 3 or pixels.shape[2] < 3:
        return True
    sample = pixels[::4, ::4, :3].astype("float32") / _scale(pixels)
    spread = max(
        float(abs(sample[..., 0] - sample[..., 1]).mean()),
        float(abs(sample[..., 1] - sample[..., 2]).mean()),
    )
    return spread <= _GREY_SPREAD


def alpha_is_opaque(media: Media) -> bool:
    """Whether a clip with an alpha channel has alpha 1 everywhere in its first frame.

    Raises:
        SourceError: the frame cannot be read.
    """
    pixels = _first_frame(media)
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    if channels not in (2, 4):
        return True
    return float(pixels[..., -1].min()) >= _scale(pixels) * (1.0 - 1e-6)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """What :func:`scan` found.

    Attributes:
        clips: movies and sequences, probed, sorted by path.
        stills: single images (not probed), sorted by path.
        records: generator records, sorted by file.
        left_out: ``(path, why)`` for everything else that is not hidden.
    """

    clips: tuple[Media, ...]
    stills: tuple[Media, ...]
    records: tuple[Record, ...]
    left_out: tuple[tuple[str, str], ...]


def _rel(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _list(directory: Path) -> list[Path]:
    # Through the read sandbox (a service request's input roots), like every read.
    try:
        names = sandbox.listdir(directory)
    except PathOutsideRootsError:
        raise
    except OSError as exc:
        raise SourceError(
            f"cannot list the folder: {exc.strerror or exc}", path=directory.as_posix()
        ) from exc
    return sorted(directory / name for name in names if not name.startswith("."))


def _sequences(
    images: list[Path], folder: Path
) -> tuple[list[tuple[str, str, tuple[str, ...]]], list[Path], list[tuple[str, str]]]:
    """Group numbered images into sequences as the sequence grammar reads them
    (:func:`aebridge.sequence.group_numbered`): ([(pattern, stem, files)], stills,
    left out)."""
    groups: dict[str, list[Path]] = {}
    for image in images:
        groups.setdefault(image.parent.as_posix(), []).append(image)
    found: list[tuple[str, str, tuple[str, ...]]] = []
    stills: list[Path] = []
    left_out: list[tuple[str, str]] = []
    for directory, files in sorted(groups.items()):
        taken: set[str] = set()
        for group in group_numbered("", [f.name for f in files]):
            if len(group.names) < MIN_SEQUENCE:
                continue
            members = tuple(_rel(Path(directory) / n, folder) for n in group.names)
            taken.update(group.names)
            if not group.pattern.reads_back():
                left_out.append((members[0], unnamed_sequence(group)))
                continue
            pattern = _rel(Path(directory) / group.pattern.name, folder)
            stem = source_stem(pattern) or Path(directory).name
            found.append((pattern, stem, members))
        stills.extend(f for f in files if f.name not in taken)
    return found, stills, left_out


def _unread(
    paths: list[Path],
    folder: Path,
    is_excluded: Callable[[str, tuple[str, ...]], bool],
    excluded: str,
) -> list[tuple[str, str]]:
    """Left-out entries for files of no kind init reads, what convert would say of
    them: a numbered run of :data:`MIN_SEQUENCE` or more (a ``.tga`` or ``.dpx``
    sequence) is one entry, its pattern, ``excluded`` when an exclude names it."""
    no_kind = "not a movie, an image or a generator record"
    by_folder: dict[Path, list[str]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, []).append(path.name)
    entries: list[tuple[str, str]] = []
    for directory, names in by_folder.items():
        alone = set(names)
        for group in group_numbered("", names):
            if len(group.names) >= MIN_SEQUENCE and group.pattern.reads_back():
                alone.difference_update(group.names)
                pattern = _rel(directory / group.pattern.name, folder)
                members = tuple(_rel(directory / n, folder) for n in group.names)
                why = unread_extension(group.names[0]) or ""
                entries.append(
                    (
                        pattern,
                        excluded
                        if is_excluded(pattern, members)
                        else f"{len(group.names)} numbered files, {no_kind}: {why}",
                    )
                )
        entries.extend(
            (
                _rel(directory / name, folder),
                f"{no_kind}: {unread_extension(name)}",
            )
            for name in sorted(alone)
        )
    return entries


def scan(
    folder: Path,
    *,
    exclude: Iterable[str] = (),
    ignore: Iterable[Path] = (),
    admit: Callable[[Path], bool] | None = None,
    spelling: Spelling = COMMAND_LINE,
) -> Scan:
    """Find the clips, stills and generator records of a downloads folder.

    Args:
        folder: the folder (its immediate subfolders are looked at too).
        exclude: glob patterns of paths (relative to the folder) to leave out: a
            file one matches is left out, and so is a sequence (or a numbered run
            of files init does not read, ``x.####.tga``) one matches as it is
            listed (``seq/el.####.png``, the path init names it by) or names in any
            spelling of the sequence grammar (``seq/el.%04d.png``,
            ``seq/el.@@@@.png``: :func:`aebridge.sequence.names_all`).
        ignore: files to skip silently (the spec being written).
        admit: a check every file must pass to be read (the service's input-root
            sandbox); a file it refuses is left out, never opened.
        spelling: how the reason a file is left out names ``exclude``.

    Returns:
        What was found; clips are probed.

    Raises:
        SourceError: the folder cannot be listed.
    """
    ignored = {Path(os.path.abspath(p)) for p in ignore}
    globs = tuple(exclude)
    excluded = f"excluded ({spelling.option('exclude')})"

    def is_excluded(rel: str, files: tuple[str, ...] = ()) -> bool:
        # A file by its name; a sequence (its files given) also by its frames.
        return any(
            fnmatch.fnmatch(rel, glob) or (bool(files) and names_all(glob, files))
            for glob in globs
        )

    left_out: list[tuple[str, str]] = []
    files: list[Path] = []
    for entry in _list(folder):
        if admit is not None and not admit(entry):
            # Checked before it is even looked at: a subfolder that leads outside.
            left_out.append((_rel(entry, folder), _REFUSED))
        elif entry.is_dir():
            files.extend(p for p in _list(entry) if not p.is_dir())
        else:
            files.append(entry)
    movies: list[Path] = []
    images: list[Path] = []
    jsons: list[Path] = []
    others: list[Path] = []
    for path in files:
        rel = _rel(path, folder)
        if Path(os.path.abspath(path)) in ignored:
            continue
        if is_excluded(rel):
            left_out.append((rel, excluded))
            continue
        if admit is not None and not admit(path):
            left_out.append((rel, _REFUSED))
            continue
        ext = path.suffix.lower()
        if ext in MOVIE_EXTENSIONS:
            movies.append(path)
        elif ext in IMAGE_EXTENSIONS:
            images.append(path)
        elif ext == ".json":
            jsons.append(path)
        else:
            others.append(path)
    left_out.extend(_unread(others, folder, is_excluded, excluded))
    clips: list[Media] = []
    for path in movies:
        rel = _rel(path, folder)
        try:
            info = probe(path, vfr="resample")
        except SourceError as exc:
            left_out.append((rel, f"cannot be read: {exc.message}"))
            continue
        clips.append(
            media_from_probe(
                info, path=rel, kind="movie", stem=source_stem(rel), files=(rel,)
            )
        )
    found, still_paths, unnamed = _sequences(images, folder)
    left_out.extend(unnamed)
    for pattern, stem, members in found:
        if is_excluded(pattern, members):
            # Named as init lists it (and as its hints spell it: '--exclude
            # seq/el.####.png leaves it out'), or in another spelling of its
            # frames (seq/el.%04d.png), where no frame's name matches.
            left_out.append((pattern, excluded))
            continue
        try:
            find_sequence(folder / pattern)
            info = probe(folder / pattern)
        except SourceError as exc:
            left_out.append((pattern, f"cannot be read: {exc.message}"))
            continue
        clips.append(
            media_from_probe(
                info, path=pattern, kind="sequence", stem=stem, files=members
            )
        )
    stills: list[Media] = []
    for p in still_paths:
        rel = _rel(p, folder)
        if is_sequence_pattern(rel):
            left_out.append((rel, _PATTERN_STILL))
        else:
            stills.append(
                Media(path=rel, kind="still", stem=source_stem(rel), files=(rel,))
            )
    records: list[Record] = []
    for path in jsons:
        rel = _rel(path, folder)
        record, why = _record(path, rel)
        if record is None:
            left_out.append((rel, why))
        else:
            records.append(record)
    return Scan(
        clips=tuple(sorted(clips, key=lambda m: m.path)),
        stills=tuple(sorted(stills, key=lambda m: m.path)),
        records=tuple(sorted(records, key=lambda r: r.files)),
        left_out=tuple(sorted(left_out)),
    )


def _record(path: Path, rel: str) -> tuple[Record | None, str]:
    try:
        with sandbox.open_binary(path) as stream:
            raw = stream.read(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES:
            return None, f"a JSON file over {MAX_RECORD_BYTES >> 20} MiB"
        data = json.loads(raw.decode("utf-8"))
    except PathOutsideRootsError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not readable JSON ({exc})"
    if isinstance(data, dict) and str(data.get("schema", "")).startswith("aebridge."):
        return None, "an aebridge file, not a generator record"
    record = read_record(data, rel)
    if record is None:
        return None, (
            "JSON that no record reader recognises (Runway, Kling, Luma, Vidu, "
            "Replicate; see docs/init.md)"
        )
    return record, ""
