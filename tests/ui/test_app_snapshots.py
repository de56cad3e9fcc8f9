"""SVG snapshots of the main screens after a deterministic short run (seed 0, 40 iterations).

The header's clock and run-folder name are fixed by FixedClockApp. After an intended visual
change, or a change of the engine's numerics, review and refresh them with
``pytest tests/ui/test_app_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.apptools import SHORT, FixedClockApp, wait_for_state


@pytest.fixture(autouse=True)
def textual_animations() -> None:
    """Textual's default animations, not tests/ui/conftest.py's none: a snapshot is of the
    screen a user sees (without animations Textual draws the tab underline otherwise)."""


async def finish_short_run(pilot: Pilot) -> None:
    await pilot.press("r")
    await wait_for_state(pilot, pilot.app, "done")
    pilot.app.clear_notifications()
    await pilot.pause()


def short_run_app(mnist, tmp_path) -> FixedClockApp:
    return FixedClockApp(SHORT, mnist, tmp_path)


def test_accuracy_tab(snap_compare, mnist, tmp_path):
    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, terminal_size=(140, 40), run_before=finish_short_run)


def test_gradients_tab(snap_compare, mnist, tmp_path):
    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, press=["3"], terminal_size=(140, 40), run_before=finish_short_run)


def test_overlay_tab_with_train_curves(snap_compare, mnist, tmp_path):
    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, press=["2", "t"], terminal_size=(140, 40), run_before=finish_short_run)


def test_compact_80x24(snap_compare, mnist, tmp_path):
    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=finish_short_run)


def test_help_screen(snap_compare, mnist, tmp_path):
    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, press=["question_mark"], terminal_size=(120, 36))


def test_invalid_sidebar_input(snap_compare, mnist, tmp_path):
    async def type_bad_values(pilot: Pilot) -> None:
        app = pilot.app
        app.query_one("#field-learning_rate", Input).value = "fast"
        app.query_one("#field-hidden", Input).value = "40,,20"
        await pilot.press("r")  # blocked: the notification says why
        await pilot.pause()

    app = short_run_app(mnist, tmp_path)
    assert snap_compare(app, terminal_size=(120, 36), run_before=type_bad_values)
