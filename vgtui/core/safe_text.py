"""Text from a file or an argument, made safe to show: the one function every printer and
widget passes such a string through.

A sweep folder, a run folder or an argument may hold control characters: an escape sequence
would reach the terminal (OSC 52 writes the clipboard, OSC 0/2 the window title, CSI 2J clears
the screen, 8-bit C1 CSI does the same in one byte), a newline would forge another line, a
bidirectional override make text read differently than it is, a lone surrogate (a file name
that is not UTF-8) fail to encode. Every such character is shown escaped (``\\x1b``, ``\\n``,
``\\u2028``), and a text too long is cut with a note of how much was left out. The app shows
the result as plain text, never as Rich markup.
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Controls (C0, DEL, C1), format characters (bidirectional overrides), surrogates, private
use, unassigned, and the line and paragraph separators."""
NAME_LIMIT = 200
"""Characters of one name shown at most (a 3 MB name would make wrapping quadratic)."""

_SUSPECT = re.compile("[^\x20-\x7e]")
"""Printable ASCII is safe as it is: only the other characters are looked up (fast on the
long, mostly ASCII output of ``vgtui export``)."""


def _escaped(ch: str, lines: bool) -> str:
    if lines and ch in "\n\t":
        return ch
    if unicodedata.category(ch) in UNSAFE_CATEGORIES:
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")
    return ch


def safe_text(text: object, limit: int | None = None, *, lines: bool = False) -> str:
    """``text`` with every unsafe character escaped, cut to about ``limit`` characters (None:
    not cut). ``lines``: newlines and tabs are kept (a printer's whole output)."""
    text = str(text)
    part = text if limit is None else text[: limit + 1]  # a 3 MB name costs what a short one does
    shown = _SUSPECT.sub(lambda match: _escaped(match.group(), lines), part)
    if limit is not None and (len(text) > limit or len(shown) > limit):
        shown = f"{shown[:limit]}... ({len(text)} characters)"
    return shown


def fitted_name(name: str, width: int = 80) -> str:
    """A folder's name, safe to show: whole when it fits ``width`` columns (every name vgtui
    gives a run folder does: stamp, a description of at most 60 and a same-second number), else
    cut so that it and the note of its length fit. (Cut at 60, a 66-character name could not be
    typed into vgtui show.)"""
    shown = safe_text(name, width)
    if len(shown) <= width:
        return shown
    return safe_text(name, max(1, width - len(f"... ({len(name)} characters)")))


__all__ = ["NAME_LIMIT", "fitted_name", "safe_text"]
