"""Opens the right view of saved runs: followed or replayed (``vgtui show RUN... [--replay]``).

Apart from both screens so that neither imports the other: the replay screen extends the
saved-runs screen, and only this module chooses between them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from textual.app import App, AutopilotCallbackType

from vgtui.core.safe_text import safe_text
from vgtui.ui.saved.replay import ReplayScreen
from vgtui.ui.saved.screen import SavedRunsApp, SavedRunsScreen, read_all


def saved_screen(paths: Sequence[Path], replay: float | None = None) -> SavedRunsScreen:
    """The view of the run folders at ``paths``: followed when still being written, or played
    back at ``replay`` iterations per second."""
    entries = read_all(paths)
    if replay is None:
        return SavedRunsScreen(entries)
    return ReplayScreen(entries, replay)


def show_saved(paths: Sequence[Path], replay: float | None = None) -> int:
    """``vgtui show RUN...`` in the app; exit status 1 if a run could not be read (each is named
    on stderr, after the app; none readable: the app does not open)."""
    screen = saved_screen(paths, replay)
    errors = [e.error for e in screen.entries if e.error is not None]
    crashed = False
    if screen.readable:
        crashed = run_app(SavedRunsApp(screen)) != 0
        errors = [e.error for e in screen.entries if e.error is not None]
    for error in errors:
        print(safe_text(f"vgtui: error: {error}", 1000), file=sys.stderr)
    return 1 if errors or crashed else 0


def run_app(
    app: App, headless: bool = False, auto_pilot: AutopilotCallbackType | None = None
) -> int:
    """Run ``app`` to its end: 0, or 1 if it crashed (Textual printed the error; the exit
    status must say it too)."""
    app.run(headless=headless, auto_pilot=auto_pilot)
    return 1 if app.return_code else 0
