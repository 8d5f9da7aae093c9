"""Display transforms for previews: scene-linear comp pixels to 8-bit display RGB."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..colour import color_config
from ..errors import OptionError

__all__ = [
    "DEFAULT_DISPLAY",
    "DEFAULT_WORKING_SPACE",
    "DisplayTransform",
    "display_choices",
    "display_views",
    "is_colour_space",
]

DEFAULT_DISPLAY = "sRGB"
# The EXRs aebridge writes are scene-linear Rec.709 primaries unless the spec says
# otherwise; the comp is blended in that space (AE: 32 bpc, linear working space).
DEFAULT_WORKING_SPACE = "lin_rec709"


def display_choices() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The colour-space names and the display names the OCIO config offers."""
    cfg = color_config()
    return tuple(cfg.getColorSpaceNames()), tuple(cfg.getDisplayNames())


def is_colour_space(name: str) -> bool:
    """Whether the OCIO config knows a colour space by this name or alias."""
    cfg = color_config()
    return bool(cfg.getColorSpaceIndex(cfg.resolve(name)) >= 0)


def display_views(display: str) -> tuple[str, ...]:
    """The views of an OCIO display, its default view first."""
    cfg = color_config()
    default = cfg.getDefaultViewName(display)
    views = [v for v in cfg.getViewNames(display) if v != default]
    return (default, *views)


class DisplayTransform:
    """Turns premultiplied linear RGBA into 8-bit display RGB.

    ``name`` is one of:

    - an OCIO display, rendered through its default view: ``sRGB - Display`` (with the
      built-in config, the ACES 2.0 tone-mapping view);
    - ``DISPLAY/VIEW`` for another view: ``sRGB - Display/Un-tone-mapped``;
    - an OCIO colour space or alias to convert to: ``sRGB`` (the plain sRGB encoding,
      what AE shows for a linear sRGB project; the default), ``g24_rec709``.

    Display names win over colour spaces of the same name (the built-in config has
    both an ``sRGB - Display`` display and colour space): asking for a display means
    its view.

    Args:
        name: the target colour space or display.
        working_space: the colour space the comp was blended in.
        background: linear RGB the frame is laid over before display (the comp's
            background colour), so transparent areas show it as AE's viewer does.

    Raises:
        OptionError: ``name`` (option ``--display``) or ``working_space`` is unknown;
            the message lists the choices.
    """

    def __init__(
        self,
        name: str = DEFAULT_DISPLAY,
        *,
        working_space: str = DEFAULT_WORKING_SPACE,
        background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        cfg = color_config()
        spaces, displays = display_choices()
        working = cfg.resolve(working_space)
        if cfg.getColorSpaceIndex(working) < 0:
            raise OptionError("working space", working_space, spaces)
        self.name = name
        self.working_space = working
        self.background = np.asarray(background, dtype=np.float32)
        display, _, view = name.partition("/")
        if display in displays and (not view or view in cfg.getViewNames(display)):
            self.kind = "display"
            self.target = display
            self.view = view or cfg.getDefaultViewName(display)
        elif cfg.getColorSpaceIndex(cfg.resolve(name)) >= 0:
            self.kind = "colorspace"
            self.target = cfg.resolve(name)
            self.view = ""
        else:
            views = (
                "; views of " + display + ": " + ", ".join(cfg.getViewNames(display))
                if display in displays
                else ""
            )
            raise OptionError(
                "--display",
                name,
                "an OCIO colour space ("
                + ", ".join(spaces)
                + "), a display ("
                + ", ".join(displays)
                + ") or DISPLAY/VIEW"
                + views,
            )

    def __repr__(self) -> str:
        return f"DisplayTransform({self.name!r} -> {self.kind} {self.target!r})"

    def linear_rgb(self, rgba: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The frame laid over the background colour, linear RGB float32."""
        alpha = rgba[..., 3:4]
        out: npt.NDArray[np.float32] = rgba[..., :3] + self.background * (1.0 - alpha)
        return out

    def __call__(self, rgba: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        """Apply the transform.

        Args:
            rgba: H x W x 4 premultiplied linear float32.

        Returns:
            H x W x 3 uint8, display-encoded.
        """
        import OpenImageIO as oiio

        rgb = np.ascontiguousarray(self.linear_rgb(rgba), dtype=np.float32)
        buf = oiio.ImageBuf(rgb)
        if self.kind == "colorspace":
            res = oiio.ImageBufAlgo.colorconvert(buf, self.working_space, self.target)
        else:
            res = oiio.ImageBufAlgo.ociodisplay(
                buf, self.target, self.view, fromspace=self.working_space
            )
        if res.has_error:
            # The names were validated above, so this is OCIO failing on a valid
            # transform (a broken $OCIO config): say which one.
            raise OptionError(
                "--display", self.name, f"a working transform ({res.geterror()})"
            )
        shown = np.asarray(res.get_pixels(oiio.FLOAT), dtype=np.float32)
        return to_uint8(shown.reshape(rgb.shape))


def to_uint8(rgb: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise display-encoded 0..1 values to 8 bits (clip, round half up)."""
    scaled = np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5
    return scaled.astype(np.uint8)
