"""The app tests run the real app in this process without Textual's animations.

Why: Pilot's ``press`` and ``pause`` wait until the process is idle, and an animation (the
tab underline slides for 0.3 s on every tab change) keeps it busy, so each tab key cost a
third of a second of waiting and nothing else. ``TEXTUAL_ANIMATIONS=none`` is Textual's own
documented setting; only the animations' frames go, not the state they end in. The SVG
snapshots (test_app_snapshots.py) override this fixture: they compare what a user sees, and
without animations Textual draws the tab underline differently. Subprocess apps (the tmux
tests) keep the default.
"""

from __future__ import annotations

import pytest
import textual.constants


@pytest.fixture(autouse=True)
def textual_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made in this test read Textual's animation level as ``none``."""
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")
