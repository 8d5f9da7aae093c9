"""Chunk and frame ranges: how a sequence is split for the workers, and the farm
frame-range syntax (``--frames 1001-1016``; see ``docs/farm.md``).
"""

from __future__ import annotations

from ..errors import OptionError

__all__ = ["chunk_ranges", "parse_frame_range"]

# Chunks per worker that chunk_ranges aims for: with about four chunks each, the
# workers that finish early pick up the last chunks, so the tail where only some
# workers are busy is at most about a quarter of one worker's share.
_CHUNKS_PER_WORKER = 4


def chunk_ranges(
    total: int, *, workers: int, min_chunk: int = 1, max_chunk: int = 16
) -> list[range]:
    """Split ``range(total)`` into contiguous chunks for ``workers`` parallel slots.

    Chunks are long enough that scheduling costs little against the work (at least
    ``min_chunk`` items) and short enough that every worker gets about four of them,
    so workers stay balanced to the end and a lost chunk costs little (at most
    ``max_chunk`` items). Chunk lengths differ by at most one.

    Args:
        total: the number of items (frames), 0 or more.
        workers: parallel slots, 1 or more.
        min_chunk: the shortest chunk wanted, 1 or more.
        max_chunk: the longest chunk allowed, at least ``min_chunk``.

    Returns:
        Ranges that cover ``0 .. total - 1`` in order without overlap (empty list for
        ``total == 0``).

    Raises:
        ValueError: an argument is out of range.
    """
    if total < 0:
        raise ValueError(f"total: {total} is not allowed; allowed: 0 or more")
    if workers < 1:
        raise ValueError(f"workers: {workers} is not allowed; allowed: 1 or more")
    if min_chunk < 1:
        raise ValueError(f"min_chunk: {min_chunk} is not allowed; allowed: 1 or more")
    if max_chunk < min_chunk:
        raise ValueError(
            f"max_chunk: {max_chunk} is not allowed; allowed: at least min_chunk "
            f"({min_chunk})"
        )
    if total == 0:
        return []
    target = -(-total // (workers * _CHUNKS_PER_WORKER))  # ceil division
    size = min(max(target, min_chunk), max_chunk)
    count = -(-total // size)
    # Even spreading must keep every chunk within the bounds: no more chunks than
    # ``min_chunk`` allows, and never fewer than ``max_chunk`` needs (max_chunk wins
    # when both cannot hold, e.g. 5 items with chunks of 3 to 4: it bounds memory).
    count = min(count, max(1, total // min_chunk))
    count = max(count, -(-total // max_chunk))
    # Spread the items evenly over ``count`` chunks rather than leaving a short tail.
    base, extra = divmod(total, count)
    ranges: list[range] = []
    start = 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        ranges.append(range(start, stop))
        start = stop
    return ranges


# --------------------------------------------------------------------------- frames


def parse_frame_range(
    text: str, *, first: int, last: int, option: str = "--frames"
) -> list[int]:
    """Parse a farm frame range such as ``1001-1016`` into frame numbers.

    Accepts fileseq's frame-range syntax: single frames and ranges separated by
    commas (``1001,1005-1010``), steps (``1001-1100x4``) and negative frames. This is
    what Deadline (``<STARTFRAME>-<ENDFRAME>``), OpenCue
    (``#FRAME_START#-#FRAME_END#``) and Tractor job scripts pass per task.

    Args:
        text: the range as typed.
        first: the first frame of the sequence.
        last: the last frame of the sequence.
        option: the option name used in error messages.

    Returns:
        The frame numbers, ascending, without duplicates.

    Raises:
        OptionError: the text is not a frame range, or names frames outside
            ``first``-``last``.
    """
    from fileseq.exceptions import MaxSizeException
    from fileseq.frameset import FrameSet

    syntax = "frame ranges like 1001-1016, 1001,1005-1010 or 1001-1100x4"
    allowed = f"frames of the sequence, {first}-{last}"
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        raise OptionError(option, text, syntax)
    try:
        frame_set = FrameSet(cleaned)
    except MaxSizeException as exc:
        # fileseq refuses ranges of more than ten million frames (a typo such as
        # 1-1000000000); no sequence is that long.
        raise OptionError(option, text, allowed) from exc
    except (ValueError, TypeError) as exc:  # fileseq.ParseException is a ValueError
        raise OptionError(option, text, syntax) from exc
    if len(frame_set) == 0:
        raise OptionError(option, text, syntax)
    if frame_set.start() < first or frame_set.end() > last:
        raise OptionError(option, text, allowed)
    return sorted({int(f) for f in frame_set})
