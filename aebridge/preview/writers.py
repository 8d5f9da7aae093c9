"""Preview writers: PNG frames, an H.264 MP4 (PyAV) and a labelled contact sheet."""

from __future__ import annotations

import contextlib
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..errors import OptionError, OutputError, SourceError
from ..fileio import atomic_path, temporary_path
from ..sequence import SequencePattern, is_sequence_pattern

__all__ = [
    "ContactSheet",
    "FrameSink",
    "Mp4Sink",
    "PngSink",
    "open_sink",
    "write_png",
]

RGB8 = npt.NDArray[np.uint8]


# H.264 colour tags (ITU-T H.273 code points) for the display encodings a preview uses;
# anything else is left "unspecified" rather than mislabelled.
_TRC_TAGS = {
    "sRGB Encoded Rec.709 (sRGB)": 13,  # IEC 61966-2-1
    "sRGB - Display": 13,
    "Gamma 2.4 Encoded Rec.709": 1,  # BT.709 / BT.1886 family
    "Rec.1886 Rec.709 - Display": 1,
}


class FrameSink(Protocol):
    """Where rendered display frames go, one at a time (so memory stays flat)."""

    def write(self, frame: int, rgb: RGB8) -> None:
        """Store one H x W x 3 uint8 frame numbered ``frame`` (a comp frame)."""

    def close(self) -> None:
        """Finish the output; after this the file(s) are complete."""

    def abort(self) -> None:
        """Stop after a failure or an interrupt, leaving no half-written file."""


def make_folder(folder: Path, option: str = "-o/--output") -> None:
    """Create an output folder, as an OutputError when that is impossible."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the folder for {option}: {exc.strerror or exc}",
            path=str(folder),
        ) from exc


def write_png(path: Path, rgb: RGB8) -> None:
    """Write an 8-bit RGB PNG atomically (temporary name beside it, then rename).

    Raises:
        OutputError: the file cannot be written.
    """
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(np.ascontiguousarray(rgb))
    with atomic_path(path, what="the PNG") as tmp:
        if not buf.write(str(tmp), oiio.UINT8):
            raise OutputError(f"cannot write PNG: {buf.geterror()}", path=str(path))


def output_pattern(text: str) -> SequencePattern | None:
    """The frame pattern of a PNG output name (``out.####.png``, ``out.%04d.png``,
    ``out.@@@@.png``: the pattern grammar of sources, :mod:`aebridge.sequence`), None
    for a plain file name.

    An output names where each rendered frame goes, not which frames: a range, list
    or step (``out.1-3#.png``, ``out.1,3#.png``) is refused, pointing at ``--frames``,
    rather than written under the comp's frame numbers.

    Raises:
        OptionError: the frame field cannot be read, or it holds frame numbers.
    """
    if not is_sequence_pattern(text):
        return None
    try:
        pattern = SequencePattern.parse(text)
    except SourceError as exc:
        raise OptionError(
            "-o/--output", text, _plain_fields("out.", 4, ".png")
        ) from exc
    if pattern.frames is not None:
        raise OptionError(
            "-o/--output",
            text,
            f"{_plain_fields(pattern.prefix, pattern.padding, pattern.suffix)}; "
            f"choose the frames with --frames {pattern.frames}",
        )
    return pattern


def _plain_fields(prefix: str, padding: int, suffix: str) -> str:
    """The frame fields an output name may hold, spelled for one name."""
    fields = ("#" * padding, f"%0{padding}d", "@" * padding)
    return "a plain frame field ({})".format(
        ", ".join(f"{prefix}{field}{suffix}" for field in fields)
    )


def frame_path(pattern: str, frame: int) -> Path:
    """Expand ``out.####.png`` or ``out.%04d.png`` for one frame number (see
    :func:`output_pattern`); any other path is itself.

    Raises:
        OptionError: as :func:`output_pattern`.
    """
    parsed = output_pattern(pattern)
    return Path(pattern) if parsed is None else Path(parsed.frame_file(frame))


class PngSink:
    """PNG frames: a numbered sequence, or one file when a single frame is rendered."""

    def __init__(self, pattern: str, *, frame_count: int) -> None:
        if frame_count > 1 and not is_sequence_pattern(pattern):
            raise OptionError(
                "-o/--output",
                pattern,
                "a numbered pattern such as out.####.png when more than one frame is "
                "rendered (or --frame N for one picture)",
            )
        self.pattern = output_pattern(pattern)
        self.path = Path(pattern)
        make_folder(self.path.parent)

    def write(self, frame: int, rgb: RGB8) -> None:
        path = self.path if self.pattern is None else self.pattern.frame_file(frame)
        write_png(Path(path), rgb)

    def close(self) -> None:
        return None

    def abort(self) -> None:
        # Every PNG is written atomically: the finished frames are whole; keep them.
        return None


class Mp4Sink:
    """An H.264 MP4 at the comp's exact rate, yuv420p, BT.709 matrix.

    yuv420p needs even dimensions: an odd width or height is padded by repeating the
    last column or row, so no comp pixel is lost or resampled.
    """

    def __init__(self, path: Path, *, rate: Fraction, display_space: str = "") -> None:
        import av

        make_folder(path.parent)
        self.path = path
        self._tmp = temporary_path(path)
        try:
            # PyAV opens the file only when the first packet is muxed, after frames
            # have been rendered: create it now, so an unwritable place fails first.
            self._tmp.touch(exist_ok=False)
            self._container = av.open(str(self._tmp), "w")
        except OSError as exc:
            self._tmp.unlink(missing_ok=True)
            raise self._failed(exc) from exc
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.options = {"crf": "16", "preset": "medium"}
        ctx = self._stream.codec_context
        ctx.color_primaries = 1  # BT.709
        ctx.colorspace = 1  # BT.709 matrix, matching reformat(dst_colorspace) below
        ctx.color_trc = _TRC_TAGS.get(display_space, 2)
        self._count = 0

    def write(self, frame: int, rgb: RGB8) -> None:
        import av

        h, w = rgb.shape[:2]
        if h % 2 or w % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self._count == 0:
            self._stream.height, self._stream.width = rgb.shape[:2]
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        vf = vf.reformat(format="yuv420p", dst_colorspace="ITU709")
        vf.pts = self._count
        self._count += 1
        self._mux(self._stream.encode(vf))

    def _mux(self, packets: list[Any]) -> None:
        try:
            for packet in packets:
                self._container.mux(packet)
        except OSError as exc:  # PyAV's errors from writing (a full disk) are OSErrors
            raise self._failed(exc) from exc

    def close(self) -> None:
        self._mux(self._stream.encode())
        try:
            # A small movie is written out only now (PyAV buffers it): a full disk
            # shows here as often as in _mux.
            self._container.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: OSError) -> OutputError:
        # The reason alone: OSError's text adds an errno and the temporary's name.
        return OutputError(
            f"cannot write the movie: {exc.strerror or exc}", path=str(self.path)
        )

    def abort(self) -> None:
        # A movie cut short is not a preview: drop the temporary file.
        # Closing may fail again for the reason we are aborting: the unlink matters.
        with contextlib.suppress(Exception):
            self._container.close()
        self._tmp.unlink(missing_ok=True)


def open_sink(
    out: str | os.PathLike[str], *, rate: Fraction, frame_count: int, display_space: str
) -> FrameSink:
    """The writer for an output path, chosen by its extension (.mp4, .png).

    Raises:
        OptionError: another extension, or several frames to a single PNG name.
    """
    text = os.fspath(out)
    suffix = Path(text).suffix.lower()
    if suffix == ".mp4":
        return Mp4Sink(Path(text), rate=rate, display_space=display_space)
    if suffix == ".png":
        return PngSink(text, frame_count=frame_count)
    raise OptionError("-o/--output", text, "a .mp4 movie or .png frames (out.####.png)")


# A 3x5 bitmap for digits and a few signs: used for labels when OpenImageIO cannot find
# a font (render_text returns False), so a contact sheet is always labelled.
_GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    "-": "000000111000000",
}


def _bitmap_text(
    canvas: npt.NDArray[np.float32], x: int, y: int, text: str, px: int
) -> None:
    for i, ch in enumerate(text):
        bits = _GLYPHS.get(ch)
        if bits is None:
            continue
        for k, bit in enumerate(bits):
            if bit == "1":
                r, c = divmod(k, 3)
                y0, x0 = y + r * px, x + (i * 4 + c) * px
                canvas[y0 : y0 + px, x0 : x0 + px] = 1.0


class ContactSheet:
    """A grid of thumbnails, each labelled with its comp frame number.

    Thumbnails are made as frames arrive (box-filtered down to ``thumb_width``), so only
    the small pictures are held in memory.

    Args:
        path: the PNG to write.
        frames: the comp frames that belong on the sheet, in order.
        width: comp width; height: comp height.
        thumb_width: thumbnail width in pixels (never wider than the comp).
        columns: grid columns (default: about square).
    """

    LABEL_GAP = 4

    def __init__(
        self,
        path: Path,
        *,
        frames: tuple[int, ...],
        width: int,
        height: int,
        thumb_width: int = 320,
        columns: int | None = None,
    ) -> None:
        if path.suffix.lower() != ".png":
            raise OptionError("--contact-sheet", str(path), "a .png file name")
        self.path = path
        self.frames = frames
        self.factor = max(1, math.ceil(width / thumb_width))
        self.tw = width // self.factor
        self.th = height // self.factor
        self.columns = columns or max(1, math.ceil(math.sqrt(len(frames))))
        self.rows = max(1, math.ceil(len(frames) / self.columns))
        self.label_h = max(12, self.th // 6)
        self._thumbs: dict[int, RGB8] = {}

    def wants(self, frame: int) -> bool:
        return frame in self.frames

    def write(self, frame: int, rgb: RGB8) -> None:
        f = self.factor
        crop = rgb[: self.th * f, : self.tw * f].astype(np.float32)
        small = crop.reshape(self.th, f, self.tw, f, 3).mean(axis=(1, 3))
        self._thumbs[frame] = (small + 0.5).astype(np.uint8)

    def close(self) -> None:
        import OpenImageIO as oiio

        gap = self.LABEL_GAP
        cell_w, cell_h = self.tw + gap, self.th + self.label_h + gap
        sheet = np.full(
            (self.rows * cell_h + gap, self.columns * cell_w + gap, 3), 24, np.uint8
        )
        for index, frame in enumerate(self.frames):
            thumb = self._thumbs.get(frame)
            if thumb is None:
                continue
            r, c = divmod(index, self.columns)
            y, x = gap + r * cell_h, gap + c * cell_w
            sheet[y : y + self.th, x : x + self.tw] = thumb
            label = np.zeros((self.label_h, self.tw, 3), np.float32)
            size = max(8, self.label_h - 4)
            buf = oiio.ImageBuf(label)
            drawn = oiio.ImageBufAlgo.render_text(
                buf, 2, self.label_h - 3, str(frame), size, "", (1.0, 1.0, 1.0)
            )
            if drawn:
                label = np.asarray(buf.get_pixels(oiio.FLOAT), np.float32)
            else:
                _bitmap_text(label, 2, 2, str(frame), max(1, (self.label_h - 4) // 5))
            lab8 = (np.clip(label, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            sheet[y + self.th : y + self.th + self.label_h, x : x + self.tw] = lab8
        make_folder(self.path.parent, "--contact-sheet")
        write_png(self.path, sheet)

    def abort(self) -> None:
        # The sheet is only written by close(): nothing to remove.
        self._thumbs.clear()
