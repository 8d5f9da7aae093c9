"""Exact frame rates and SMPTE timecode: time is integer frames plus a rational rate."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import OptionError
from .whitespace import SPACE

__all__ = [
    "MAX_RATE",
    "MIN_RATE",
    "NTSC_RATES",
    "RATE_ALLOWED",
    "RATE_RANGE",
    "RATIO_TEXT",
    "exact_rate",
    "format_rate",
    "frame_to_timecode",
    "has_timecode",
    "in_rate_range",
    "pack_timecode",
    "parse_rate",
    "ratio_from_text",
    "timecode_rate",
]

# Decimal spellings that mean an NTSC rate. 23.976 is never 23976/1000 in practice.
NTSC_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001),
    "47.952": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001),
    "119.88": Fraction(120000, 1001),
}

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"

#: Rates and ratios written as text (``"24"``, ``"23.976"``, ``"24000/1001"``,
#: ``"10/11"``): a decimal, or two with ``/`` between, white space around them; no
#: sign and no exponent, so a short text never stands for a huge exact number
#: (``Fraction("1e100000000")`` takes minutes to make). The JSON Schema's pattern for
#: them, too, so Python and ECMA-262 read it alike: digits are spelled ``[0-9]``
#: (Python's ``\d``, and ``Fraction``, also take other Unicode digits, fullwidth
#: ``"\uff12\uff14"``), and white space is :data:`~aebridge.whitespace.SPACE`, the
#: characters both languages' ``\s`` match (a tab, a no-break space; not U+0085,
#: U+001C-U+001F or U+FEFF). Its groups are the two numbers (the second None
#: without ``/``).
RATIO_TEXT = rf"^{SPACE}*{_NUMBER}{SPACE}*(?:/{SPACE}*{_NUMBER})?{SPACE}*$"
_RATIO_RE = re.compile(RATIO_TEXT)

#: What rate text may be, as messages refusing one say it.
RATE_ALLOWED = "a number or ratio such as 24, 25, 23.976, 29.97, 24000/1001"
#: The rates any rate may be, frames per second.
MIN_RATE, MAX_RATE = 1, 1000
#: :data:`MIN_RATE` to :data:`MAX_RATE`, as messages allowing them say it.
RATE_RANGE = (
    f"{MIN_RATE} to {MAX_RATE} frames per second, such as 24, 25, 23.976, 24000/1001"
)


def in_rate_range(rate: Fraction) -> bool:
    """Whether ``rate`` is one any rate may be (:data:`RATE_RANGE`)."""
    return MIN_RATE <= rate <= MAX_RATE


def exact_rate(value: object) -> Fraction | None:
    """The exact value of a rate as written, whatever its size; None when it is not
    written as a rate.

    Args:
        value: ``24``, ``"24"``, ``"23.976"`` (read as 24000/1001), ``"24000/1001"``,
            a :class:`~fractions.Fraction`, or a ``[num, den]`` pair.

    Returns:
        The value (possibly 0, negative or huge), or None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        return NTSC_RATES.get(text.rstrip("0").rstrip("."), Fraction(text))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        num, den = value
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (num, den)):
            return None
        return None if den == 0 else Fraction(num, den)
    if isinstance(value, str):
        match = _RATIO_RE.fullmatch(value)
        if match is None:
            return None
        num, den = match.groups()
        return (NTSC_RATES.get(num) if den is None else None) or _ratio(num, den)
    return None


def parse_rate(value: object, *, option: str = "rate") -> Fraction:
    """Parse a frame rate exactly.

    Args:
        value: as :func:`exact_rate` reads it.
        option: the option or spec path named in the error.

    Returns:
        The rate as a Fraction (:data:`MIN_RATE` to :data:`MAX_RATE` frames per
        second).

    Raises:
        OptionError: the value is not a rate, or one out of that range (the message
            says which).
    """
    rate = exact_rate(value)
    if rate is None:
        raise OptionError(option, value, RATE_ALLOWED)
    if not in_rate_range(rate):
        raise OptionError(option, value, RATE_RANGE)
    return rate


def ratio_from_text(text: str) -> Fraction | None:
    """The exact value of rate or ratio text written as :data:`RATIO_TEXT` says.

    Returns:
        The value, or None for other text, a zero denominator, or a number of more
        digits than Python turns into an integer (4300).
    """
    match = _RATIO_RE.fullmatch(text)
    return None if match is None else _ratio(*match.groups())


def _ratio(num: str, den: str | None) -> Fraction | None:
    """``num / den`` (``den`` 1 when None), None for a zero denominator or a number
    of more digits than Python turns into an integer (4300)."""
    try:
        return Fraction(num) / Fraction(den or 1)
    except (ValueError, ZeroDivisionError):
        return None


def format_rate(rate: Fraction) -> str:
    """``24`` for whole rates, ``24000/1001`` otherwise."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{rate.numerator}/{rate.denominator}"


def timecode_rate(rate: Fraction) -> tuple[int, bool]:
    """The nominal integer timecode rate and whether drop-frame applies.

    29.97 and 59.94 use drop-frame timecode (SMPTE 12M); 23.976 does not.
    """
    nominal = round(rate)
    drop = rate.denominator == 1001 and nominal in (30, 60)
    return max(nominal, 1), drop


def frame_to_timecode(frame: int, rate: Fraction) -> tuple[int, int, int, int, bool]:
    """A frame count since 00:00:00:00 as (hours, minutes, seconds, frames, drop).

    Hours wrap at 24. Drop-frame counting skips frame numbers 0 and 1 (0-3 at 60) at the
    start of every minute except every tenth, as SMPTE 12M specifies.
    """
    nominal, drop = timecode_rate(rate)
    if frame < 0:
        raise ValueError(f"timecode needs a frame >= 0, got {frame}")
    if drop:
        dropped = 2 * (nominal // 30)
        per_10min = nominal * 600 - dropped * 9
        per_min = nominal * 60 - dropped
        tens, rem = divmod(frame, per_10min)
        extra = 0 if rem < dropped else dropped * ((rem - dropped) // per_min)
        frame = frame + dropped * 9 * tens + extra
    ff = frame % nominal
    total_s = frame // nominal
    return (total_s // 3600) % 24, (total_s // 60) % 60, total_s % 60, ff, drop


def has_timecode(rate: Fraction) -> bool:
    """Whether SMPTE 12M timecode (the EXR ``timeCode``) can count frames at ``rate``.

    Up to 30 fps it counts frames, up to 60 frame pairs; the frames field holds at
    most 39, so faster rates have none.
    """
    return timecode_rate(rate)[0] <= 60


def _bcd(n: int) -> int:
    return ((n // 10) << 4) | (n % 10)


def pack_timecode(frame: int, rate: Fraction) -> tuple[int, int]:
    """Pack a frame count as the EXR ``timeCode`` attribute (SMPTE 12M BCD).

    Returns ``(time_and_flags, user_data)`` as OpenEXR's ``TimeCode`` stores them.
    Above 30 fps SMPTE 12M counts frame pairs: the frames field holds ``frame // 2`` and
    the field-phase bit (bit 15 in OpenEXR's TV60 packing, ``TimeCode.fieldPhase``)
    marks the second frame of a pair. Bit 7 is the colour-frame flag: never set here.

    Raises:
        ValueError: the rate is above 60 fps: the frames field (two BCD digits, tens
            at most 3) cannot count its frame pairs; see :func:`has_timecode`.
    """
    if not has_timecode(rate):
        raise ValueError(
            f"SMPTE 12M timecode counts at most 60 frames per second, not {rate}"
        )
    hh, mm, ss, ff, drop = frame_to_timecode(frame, rate)
    nominal, _ = timecode_rate(rate)
    field_phase = False
    if nominal > 30:
        field_phase = bool(ff % 2)
        ff //= 2
    value = _bcd(ff) & 0x3F
    if drop:
        value |= 1 << 6
    if field_phase:
        value |= 1 << 15
    value |= (_bcd(ss) & 0x7F) << 8
    value |= (_bcd(mm) & 0x7F) << 16
    value |= (_bcd(hh) & 0x3F) << 24
    return value, 0
