"""White space in comp-spec text as both regex dialects that judge it read it.

A spec's text is judged by Python (the model, the rate parser: validate, the command
line, the service) and by whoever checks a spec with the published JSON Schema, whose
patterns are ECMA-262's. Their ``\\s`` differ: Python's alone matches U+001C-U+001F
(the information separators) and U+0085 (NEL), ECMA-262's alone U+FEFF (the
zero-width no-break space, a byte-order mark), so a rule spelled ``\\s`` or
``str.strip()`` on one side and ``\\s``/``\\S`` on the other takes different text.
Each rule here is one pattern both dialects read alike, which Python uses as the
schema does.
"""

from __future__ import annotations

import re

__all__ = ["NOT_BLANK", "SPACE", "is_blank"]

# The characters both dialects' \s match: TAB LF VT FF CR, SPACE, NBSP, every other
# Zs, LINE and PARAGRAPH SEPARATOR.
_BOTH = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The characters one dialect's \s matches and the other's does not.
_PYTHON_ONLY = r"\u001c-\u001f\u0085"
_ECMA_ONLY = r"\ufeff"

#: White space text may hold around what it says (rate text around its numbers and
#: ``/``): a character both dialects call white space, so neither takes text the
#: other refuses.
SPACE = f"[{_BOTH}]"

#: What makes text not blank: a character neither dialect calls white space. Text
#: of white space alone, in either dialect's sense ("\\ufeff" as Python reads it,
#: "\\x1c" as ECMA-262 does), is blank to both. The JSON Schema's pattern for a field
#: that may not be blank.
NOT_BLANK = f"[^{_BOTH}{_PYTHON_ONLY}{_ECMA_ONLY}]"
_NOT_BLANK_RE = re.compile(NOT_BLANK)


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but white space (:data:`NOT_BLANK` finds no
    character in it): empty, spaces, a lone byte-order mark.

    Args:
        text: the text.

    Returns:
        True when the text is blank.
    """
    return _NOT_BLANK_RE.search(text) is None
