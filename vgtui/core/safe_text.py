"""Text from a file or an argument, made safe to print on one terminal line.

A sweep folder, a run folder or an argument may hold control characters: an escape sequence
would reach the terminal (clear it, set its title, write the clipboard), a newline would forge
another line. Every such character is shown escaped (``\\x1b``, ``\\n``, ``\\u2028``), and a
text too long is cut with a note of how much was left out.
"""

from __future__ import annotations

import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Controls (C0, DEL, C1), format characters (bidirectional overrides), surrogates, private
use, unassigned, and the line and paragraph separators."""


def safe_text(text: str, limit: int | None = None) -> str:
    """``text`` with every unsafe character escaped, cut to about ``limit`` characters."""
    shown = "".join(
        ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        if unicodedata.category(ch) in UNSAFE_CATEGORIES
        else ch
        for ch in (text if limit is None else text[: limit + 1])
    )
    if limit is not None and (len(text) > limit or len(shown) > limit):
        shown = f"{shown[:limit]}... ({len(text)} characters)"
    return shown


__all__ = ["safe_text"]
