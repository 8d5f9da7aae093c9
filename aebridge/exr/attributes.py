"""EXR header attribute values: checked and given their EXR types (rational,
timecode, chromaticities, string, 32-bit int, float), laid out as OpenEXR stores
them, handed to the binding, and a packed SMPTE timecode read back as text."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = [
    "FLOAT32_ATTRIBUTES",
    "PackedTimeCode",
    "binding_value",
    "check_attribute",
    "decode_timecode",
    "encode_attribute",
]


def _bcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0x0F)


@dataclass(frozen=True, slots=True)
class PackedTimeCode:
    """A packed SMPTE timeCode: (time_and_flags, user_data), as stored in the file."""

    time_and_flags: int
    user_data: int


def _binding_timecode(tc: PackedTimeCode) -> Any:
    """The binding's TimeCode for a packed word (it has no such constructor)."""
    import OpenEXR

    packed, user = tc.time_and_flags, tc.user_data
    # Field layout of SMPTE 12M as OpenEXR stores it (TimeCode, TV60 packing).
    fields = (
        _bcd(packed >> 24 & 0x3F),  # hours
        _bcd(packed >> 16 & 0x7F),  # minutes
        _bcd(packed >> 8 & 0x7F),  # seconds
        _bcd(packed & 0x3F),  # frame
        packed >> 6 & 1,  # drop frame
        packed >> 7 & 1,  # colour frame
        packed >> 15 & 1,  # field phase
        packed >> 23 & 1,  # bgf0
        packed >> 30 & 1,  # bgf1
        packed >> 31 & 1,  # bgf2
        *((user >> (4 * i)) & 0x0F for i in range(8)),  # binary groups 1..8
    )
    return OpenEXR.TimeCode(*fields)


_INT32 = range(-(2**31), 2**31)
# Standard attributes whose EXR type is float, whatever number type they arrive as.
_FLOAT_ATTRIBUTES = frozenset({"pixelAspectRatio", "screenWindowWidth"})
FLOAT32_ATTRIBUTES = _FLOAT_ATTRIBUTES | {"chromaticities", "screenWindowCenter"}


def check_attribute(name: str, value: object) -> object:
    """Check one header attribute and give it the Python type of its EXR type.

    Returns a Fraction (rational), PackedTimeCode (timecode), 8-tuple of floats
    (chromaticities), str (string), int (int, 32-bit) or float (float).
    """
    if name == "framesPerSecond":
        if isinstance(value, (tuple, list)) and len(value) == 2:
            value = Fraction(int(value[0]), int(value[1]))
        if isinstance(value, int) and not isinstance(value, bool):
            value = Fraction(value)
        if not isinstance(value, Fraction):
            # A float would be written as a float attribute, which readers ignore.
            raise TypeError(
                f"framesPerSecond must be a Fraction or (num, den), not {value!r}"
            )
        if value.numerator not in _INT32 or value.denominator >= 2**32:
            raise TypeError(f"framesPerSecond {value} does not fit an EXR rational")
        return value
    if name == "timeCode":
        if not (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and all(isinstance(v, int) and 0 <= v < 2**32 for v in value)
        ):
            raise TypeError(
                "timeCode must be (time_and_flags, user_data), two uint32 as "
                f"aebridge.timing.pack_timecode returns, not {value!r}"
            )
        return PackedTimeCode(int(value[0]), int(value[1]))
    if name == "chromaticities":
        values = tuple(float(v) for v in value)  # type: ignore[attr-defined]
        if len(values) != 8:
            raise TypeError(f"chromaticities needs 8 floats, got {len(values)}")
        return values
    if name in _FLOAT_ATTRIBUTES:
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
            raise TypeError(f"{name} must be a number, not {value!r}")
        return float(value)  # a Fraction here would be written as a rational
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if value not in _INT32:
            # The binding would silently store 0; say so instead.
            raise TypeError(
                f"header attribute {name!r}: {value} does not fit an EXR int "
                "(32-bit); write it as a string"
            )
        return value
    if isinstance(value, (Fraction, str, float)):
        return value
    raise TypeError(
        f"header attribute {name!r}: {type(value).__name__} cannot be written; use "
        "str, int, float or Fraction"
    )


def binding_value(value: object) -> object:
    return _binding_timecode(value) if isinstance(value, PackedTimeCode) else value


def encode_attribute(name: str, value: object) -> tuple[str, bytes]:
    """(EXR type name, payload) of one checked attribute, as OpenEXR lays it out."""
    if isinstance(value, Fraction):
        return "rational", struct.pack("<iI", value.numerator, value.denominator)
    if isinstance(value, PackedTimeCode):
        return "timecode", struct.pack("<II", value.time_and_flags, value.user_data)
    if isinstance(value, tuple):
        return "chromaticities", struct.pack("<8f", *value)
    if isinstance(value, str):
        return "string", value.encode("utf-8")
    if isinstance(value, int):
        return "int", struct.pack("<i", value)
    if isinstance(value, float):
        return "float", struct.pack("<f", value)
    raise TypeError(f"header attribute {name!r}: cannot encode {value!r}")


def decode_timecode(time_and_flags: int) -> str:
    """``HH:MM:SS:FF`` (``;`` before FF for drop-frame) from a packed timeCode."""
    hh = _bcd(time_and_flags >> 24 & 0x3F)
    mm = _bcd(time_and_flags >> 16 & 0x7F)
    ss = _bcd(time_and_flags >> 8 & 0x7F)
    ff = _bcd(time_and_flags & 0x3F)
    sep = ";" if time_and_flags >> 6 & 1 else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"
