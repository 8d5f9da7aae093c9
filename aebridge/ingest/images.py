"""Image-sequence frames (PNG, TIFF, JPEG, EXR) read with OpenImageIO.

Alpha is read exactly as stored: the config hint ``oiio:UnassociatedAlpha=1`` stops
OpenImageIO from premultiplying straight-alpha PNG/TIFF on read (it would do so on the
display-encoded values, which is wrong before linearising). EXR frames with a data
window smaller than the display window are placed into the full display window.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import sandbox
from ..encoding import ColourIn, Encoding
from ..errors import SourceError
from ..formats import unread_file
from ..sequence import (
    FoundSequences,
    FrameSequence,
    find_sequence,
    is_sequence_pattern,
    one_image,
)
from . import ImageSequenceInfo, png
from .exrparts import ExrChoice, ExrRefusal, choose, refuse_selection, to_picture
from .imagecolour import LINEAR, SRGB, declared_colour
from .metadata import (
    ORIENTATIONS,
    UnsupportedColour,
    decide_orientation,
    exif_orientation,
    orient,
    oriented_size,
    read_png_chunks,
)

if TYPE_CHECKING:
    import OpenImageIO as oiio

__all__ = ["probe_images", "read_image_frames"]

# OpenImageIO pixel type -> the numpy dtype name yielded. Anything else (int8, uint32,
# double, ...) is read converted to float32.
_DTYPES = {"uint8": "uint8", "uint16": "uint16", "half": "float16", "float": "float32"}
_OIIO_TYPE = {v: k for k, v in _DTYPES.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    width: int
    height: int
    channels: int
    dtype: str
    has_alpha: bool
    pixel_aspect: Fraction
    file_colorspace: str
    file_format: str
    associated: bool = False
    orientation: int = 1
    declared: ColourIn | None = None
    declared_why: str = ""


def _config() -> oiio.ImageSpec:
    import OpenImageIO as oiio

    config = oiio.ImageSpec()
    config.attribute("oiio:UnassociatedAlpha", 1)
    return config


def _open(path: str, number: int) -> oiio.ImageInput:
    import OpenImageIO as oiio

    if not os.path.isfile(path):
        raise SourceError("the frame file is missing", path=path, frame=number)
    # Through the sandbox when one is active: the file is opened at this moment,
    # beneath the allowed roots, whatever happened to its folders since the probe.
    with sandbox.readable(path) as name:
        inp = oiio.ImageInput.open(name, _config())
    if inp is None:
        reason = oiio.geterror() or "unknown reason"
        raise SourceError(
            f"cannot open the image (corrupt or not an image?): {reason}",
            path=path,
            frame=number,
        )
    return inp


def _header(
    inp: oiio.ImageInput, path: str, number: int, exr: ExrChoice | None = None
) -> _Header:
    if exr is not None and not inp.seek_subimage(exr.part, 0):
        raise SourceError(
            f"cannot read EXR part {exr.part}: {_one_line(inp.geterror())}",
            path=path,
            frame=number,
        )
    spec = inp.spec()
    nch = int(spec.nchannels)
    if nch < 1:
        raise SourceError("the image has no channels", path=path, frame=number)
    channels = min(nch, 4)
    alpha_index = int(spec.alpha_channel)
    if nch == 2 and alpha_index < 0:
        # Grey + alpha files whose second channel is not named A are still Y, A.
        alpha_index = 1
    has_alpha = 0 <= alpha_index < channels and channels in (2, 4)
    if exr is not None:
        # Channels by name (exrparts), never by position.
        channels = exr.channels
        has_alpha = channels in (2, 4)
    aspect = float(spec.get_float_attribute("PixelAspectRatio", 1.0) or 1.0)
    file_format = str(inp.format_name())
    # TIFF says how its alpha is stored (ExtraSamples: 1 associated, 2 unassociated).
    # With the UnassociatedAlpha hint OpenImageIO reads both as stored and reports
    # only the unassociated kind, so a TIFF alpha without that report is associated.
    associated = (
        has_alpha
        and file_format == "tiff"
        and spec.get_int_attribute("oiio:UnassociatedAlpha", 0) != 1
    )
    orientation = int(spec.get_int_attribute("Orientation", 1) or 1)
    if file_format == "png":
        orientation = 1  # PNG's is read from its eXIf chunk, with its colour chunks
    return _Header(
        width=int(spec.full_width) or int(spec.width),
        height=int(spec.full_height) or int(spec.height),
        orientation=orientation if orientation in ORIENTATIONS else 1,
        channels=channels,
        dtype="float32"
        if exr is not None and exr.deep
        else _DTYPES.get(str(spec.format), "float32"),
        has_alpha=has_alpha,
        pixel_aspect=Fraction(aspect).limit_denominator(1000),
        file_colorspace=str(spec.get_string_attribute("oiio:ColorSpace", "")),
        file_format=file_format,
        associated=associated,
    )


def _resolve(path: str, sequences: FoundSequences | None) -> FrameSequence:
    """A pattern, a folder, or a single existing image as a one-frame sequence."""
    if os.path.isdir(path) or is_sequence_pattern(path):
        return find_sequence(path) if sequences is None else sequences.find(path)
    unread = unread_file(path)
    if unread is not None:
        # Before asking whether it exists: such a file would not be read either.
        raise SourceError(unread, path=path)
    if os.path.isfile(path):
        return one_image(path)
    raise SourceError(
        "no such file, folder or sequence pattern (patterns look like "
        "name.####.ext, name.%04d.ext or name.1001-1120#.ext)",
        path=path,
    )


def _mismatch(first: _Header, other: _Header) -> str | None:
    if (other.width, other.height) != (first.width, first.height):
        return (
            f"the size changes to {other.width}x{other.height} "
            f"(the first frame is {first.width}x{first.height})"
        )
    if other.channels != first.channels or other.has_alpha != first.has_alpha:
        return (
            f"the channels change to {other.channels} "
            f"(the first frame has {first.channels})"
        )
    if other.dtype != first.dtype:
        return (
            f"the pixel type changes to {other.dtype} "
            f"(the first frame is {first.dtype})"
        )
    return None


def _png_orientation(path: str) -> int:
    chunks = read_png_chunks(path)
    return 1 if chunks.exif is None else exif_orientation(chunks.exif)


def _exr_choice(
    path: str, number: int, part: str | None, view: str | None
) -> ExrChoice | None:
    if os.path.splitext(path)[1].lower() != ".exr" or not os.path.isfile(path):
        return None
    try:
        return choose(path, part=part, view=view)
    except ExrRefusal as exc:
        raise SourceError(str(exc), path=path, frame=number) from exc
    except OSError as exc:
        raise SourceError(
            f"cannot read the EXR header: {_one_line(exc)}", path=path, frame=number
        ) from exc


def probe_images(
    path: str,
    *,
    colorspace: str | None = None,
    orientation: str = "apply",
    part: str | None = None,
    view: str | None = None,
    sequences: FoundSequences | None = None,
) -> ImageSequenceInfo:
    """Describe an image sequence, checking every frame's header.

    Args:
        path: a pattern, a folder holding one sequence, or a single image.
        colorspace: an OCIO name overriding the colour the files declare (PNG
            gAMA/cHRM/sRGB/iCCP/cICP, an ICC profile, EXR colorInteropID or
            chromaticities) and the default (sRGB for integer files, linear Rec.709
            for float ones).
        orientation: ``"apply"`` the EXIF orientation (JPEG, TIFF, PNG eXIf) or
            ``"keep"`` the stored one.
        part: EXR: the part (name or index) to read.
        view: EXR: the view to read (default the file's default view).
        sequences: the build's listings (a sequence it has listed is not listed
            again); default listed here. Either way every frame is opened below, so
            a frame that vanished since the listing is named with its file.

    Returns:
        The sequence's ImageSequenceInfo (``kind="images"``).

    Raises:
        SourceError: nothing matches, frames are missing, a frame cannot be opened,
            a frame's size, channels, pixel type, declared colour or orientation
            differ from the first frame's, or a declared colour cannot be read.
    """
    seq = _resolve(path, sequences)
    ext = os.path.splitext(seq.frame_files[0])[1].lower()
    if ext != ".exr":
        kind = {".tif": "TIFF", ".jpg": "JPEG"}.get(ext, ext.lstrip(".").upper())
        refuse_selection(part, view, kind=kind, path=path)
    first: _Header | None = None
    first_exr: ExrChoice | None = None
    for file, number in zip(seq.frame_files, seq.frame_numbers, strict=True):
        exr = _exr_choice(file, number, part, view)
        if first is not None and exr != first_exr:
            raise SourceError(
                "the EXR part or channels change to "
                + (exr.note if exr else "none")
                + " (the first frame: "
                + (first_exr.note if first_exr else "none")
                + ")",
                path=file,
                frame=number,
            )
        first_exr = exr if first is None else first_exr
        inp = _open(file, number)
        try:
            header = _header(inp, file, number, exr)
            declared, why = declared_colour(
                inp,
                file_format=header.file_format,
                file_colorspace=header.file_colorspace,
                path=file,
                number=number,
                strict=colorspace is None,
            )
        finally:
            inp.close()
        if header.file_format == "png":
            try:
                header = replace(header, orientation=_png_orientation(file))
            except (OSError, UnsupportedColour) as exc:
                raise SourceError(
                    f"cannot read the EXIF chunk: {exc}", path=file, frame=number
                ) from exc
        header = replace(header, declared=declared, declared_why=why)
        if first is None:
            first = header
            continue
        problem = _mismatch(first, header) or _declaration_mismatch(first, header)
        if problem is not None:
            raise SourceError(problem, path=file, frame=number)
    assert first is not None  # find_sequence never returns an empty sequence
    is_float = first.dtype in ("float16", "float32") or first.file_format == "openexr"
    default = LINEAR if is_float else SRGB
    kind_text = (
        f"{first.dtype} {first.file_format} frames"
        if is_float
        else f"{8 if first.dtype == 'uint8' else 16}-bit {first.file_format} frames"
    )
    declared = first.declared
    declared_text = (
        (
            f"the file declares {first.declared_why}"
            if declared is None
            else f"the file declares {first.declared_why}: "
            + (declared.label if isinstance(declared, Encoding) else repr(declared))
        )
        if first.declared_why
        else ""
    )
    encoding: Encoding | None = None
    if colorspace is not None:
        chosen = colorspace
        instead = declared_text or f"the default {default!r}"
        decision = f"{kind_text}: using {colorspace!r} as given, instead of {instead}."
    elif declared is not None:
        if isinstance(declared, Encoding):
            encoding = declared
            chosen = declared.label
        else:
            chosen = declared
        decision = f"{kind_text}: {declared_text}; read as declared."
    else:
        chosen = default
        rule = "scene-linear" if is_float else "sRGB-encoded"
        tag = (
            f" (OpenImageIO reports {first.file_colorspace!r})"
            if first.file_colorspace
            else ""
        )
        decision = (
            f"{kind_text}{tag}: no colour declared, so assumed {rule}, the default "
            f"for {'float' if is_float else 'integer'} images: {default!r}."
        )
    notes: list[str] = [first_exr.note] if first_exr is not None else []
    applied, width, height, turned = decide_orientation(
        first.orientation,
        f"EXIF orientation {first.orientation}",
        orientation,
        first.width,
        first.height,
    )
    if turned:
        notes.append(turned)
    return ImageSequenceInfo(
        path=path,
        width=width,
        height=height,
        frame_count=len(seq.frame_files),
        channels=first.channels,
        has_alpha=first.has_alpha,
        dtype=first.dtype,
        colorspace=chosen,
        colour_decision=decision,
        frame_files=seq.frame_files,
        frame_numbers=seq.frame_numbers,
        pixel_aspect=first.pixel_aspect,
        notes=tuple(notes),
        alpha_associated=first.associated,
        encoding=encoding,
        orientation=applied,
        exr=first_exr,
    )


def _declaration_mismatch(first: _Header, other: _Header) -> str | None:
    if other.declared != first.declared:

        def say(h: _Header) -> str:
            return h.declared_why or "no colour"

        return (
            f"the declared colour changes to {say(other)} (the first frame declares "
            f"{say(first)})"
        )
    if other.orientation != first.orientation:
        return (
            f"the EXIF orientation changes to {other.orientation} (the first frame "
            f"has {first.orientation})"
        )
    return None


def _one_line(message: object) -> str:
    """An OpenImageIO error (often several lines) as one line."""
    return "; ".join(
        line.strip() for line in str(message).splitlines() if line.strip()
    ) or ("unknown reason")


def _read_exr(
    inp: oiio.ImageInput, exr: ExrChoice, dtype: str, path: str, number: int
) -> npt.NDArray[Any] | None:
    """The chosen channels of an EXR part as the picture (None when reading failed).

    Deep parts are flattened by OpenImageIO (samples composited front to back)."""
    import OpenImageIO as oiio
    from OpenImageIO import ImageBufAlgo

    if exr.deep:
        buf = ImageBufAlgo.flatten(oiio.ImageBuf(path, exr.part, 0))
        if buf.has_error:
            raise SourceError(
                f"cannot flatten the deep EXR part: {_one_line(buf.geterror())}",
                path=path,
                frame=number,
            )
        names = [str(n) for n in buf.spec().channelnames]
        data = np.asarray(buf.get_pixels(oiio.FLOAT))
    else:
        spec = inp.spec(exr.part, 0)
        names = [str(n) for n in spec.channelnames]
        raw = inp.read_image(exr.part, 0, 0, len(names), _OIIO_TYPE[dtype])
        if raw is None:
            return None
        data = np.asarray(raw)
    if data.ndim == 2:
        data = data[:, :, None]
    missing = [n for n in exr.names if n not in names]
    if missing:
        raise SourceError(
            f"the EXR channels {', '.join(missing)} are missing here (channels: "
            f"{', '.join(names)})",
            path=path,
            frame=number,
        )
    planes = [data[..., names.index(n)] for n in exr.names]
    return to_picture(planes, exr)


def _read_pixels(
    inp: oiio.ImageInput,
    info: ImageSequenceInfo,
    path: str,
    number: int,
    width: int,
    height: int,
) -> npt.NDArray[np.generic]:
    """The stored pixels of a frame in its display window (``width`` x ``height``)."""
    import OpenImageIO as oiio

    spec = inp.spec()
    if info.exr is not None:
        data = _read_exr(inp, info.exr, info.dtype, path, number)
    else:
        data = inp.read_image(0, 0, 0, info.channels, _OIIO_TYPE[info.dtype])
    if data is None:
        reason = _one_line(inp.geterror() or oiio.geterror())
        raise SourceError(
            f"cannot read the pixels (truncated or corrupt?): {reason}",
            path=path,
            frame=number,
        )
    # A decoder that hits missing data may still return a picture, padded (libjpeg
    # fills a truncated JPEG with grey and calls it a warning): any message it left
    # means the pixels are not the file's.
    if inp.has_error:
        reason = _one_line(inp.geterror())
        raise SourceError(
            f"the decoder reports missing or corrupt data: {reason}",
            path=path,
            frame=number,
        )
    pixels = np.asarray(data)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    x0, y0 = int(spec.x) - int(spec.full_x), int(spec.y) - int(spec.full_y)
    h, w = pixels.shape[:2]
    if (x0, y0, w, h) == (0, 0, width, height):
        return pixels
    # A data window other than the display window (EXR): place it into the display
    # window; pixels outside the data window are zero, as EXR defines them.
    full = np.zeros((height, width, info.channels), pixels.dtype)
    dx0, dy0 = max(x0, 0), max(y0, 0)
    dx1, dy1 = min(x0 + w, width), min(y0 + h, height)
    if dx1 > dx0 and dy1 > dy0:
        full[dy0:dy1, dx0:dx1] = pixels[dy0 - y0 : dy1 - y0, dx0 - x0 : dx1 - x0]
    return full


def read_image_frames(
    info: ImageSequenceInfo, start: int, stop: int
) -> Iterator[tuple[int, npt.NDArray[np.generic]]]:
    """Stream frames ``start`` .. ``stop - 1`` of a probed image sequence.

    Args:
        info: from :func:`probe_images`.
        start: first 0-based index.
        stop: one past the last index.

    Returns:
        An iterator of ``(index, H x W x C array)`` in the native dtype.

    Raises:
        SourceError: a frame is missing, corrupt, or differs from the probed size,
            channels or pixel type (names the file and frame number).
    """
    stored_w, stored_h = oriented_size(info.width, info.height, info.orientation)
    expected = _Header(
        width=stored_w,
        height=stored_h,
        channels=info.channels,
        dtype=info.dtype,
        has_alpha=info.has_alpha,
        pixel_aspect=info.pixel_aspect,
        file_colorspace="",
        file_format="",
    )
    for index in range(start, stop):
        path, number = info.frame_files[index], info.frame_numbers[index]
        inp = _open(path, number)
        try:
            header = _header(inp, path, number, info.exr)
            problem = _mismatch(expected, header)
            if problem is not None:
                raise SourceError(problem, path=path, frame=number)
            pixels = None
            if header.file_format == "png":
                # Wuffs where it covers the file (exact, faster); else OpenImageIO.
                pixels = png.decode(path, info.channels, info.dtype)
            if pixels is None:
                pixels = _read_pixels(inp, info, path, number, stored_w, stored_h)
        finally:
            inp.close()
        yield index, orient(pixels, info.orientation)
