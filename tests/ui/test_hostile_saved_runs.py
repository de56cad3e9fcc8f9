"""Hostile run folders in the app (issue 22 items 2-3, issue 23 items 8 and 12): escape
sequences and Rich markup from a file are shown as text on every tab; damaged values are named
as unreadable, never a crash; the Runs screen always ends its "reading..."; a crashed app is
exit status 1."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from textual.widgets import Input

from tests.hostile_runs import ESCAPES, escaped_folder, hostile_folder, write_run
from tests.ui.apptools import SHORT, wait_until
from vgtui.core.store.saved_runs import read_run
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.saved.opener import run_app, saved_screen
from vgtui.ui.saved.runs_list import RunsScreen
from vgtui.ui.saved.screen import SavedRunsApp, SavedRunsScreen, Shown

RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


async def every_tab(app: SavedRunsApp, pilot) -> str:
    """Each tab shown in turn; the screenshots' text, all of them."""
    shots = []
    for number, _ in enumerate(TAB_IDS, start=1):
        await pilot.press(str(number), "right", "left")
        await pilot.pause()
        shots.append(app.export_screenshot())
    return "\n".join(shots)


async def test_escapes_and_markup_from_files_are_shown_as_text_on_every_tab(tmp_path):
    """Every escape family in two compared runs' folder names (their labels) and datasets,
    and in an unreadable run's error message."""
    every = ESCAPES["markup"] + "".join(ESCAPES.values())
    first = escaped_folder(tmp_path / "a", every)
    second = escaped_folder(tmp_path / "b", every)
    unreadable = write_run(tmp_path / "c" / f"20261129-152238-y{every.replace('/', '|')}")
    config = json.loads((unreadable / "config.json").read_text())
    config["config"]["setups"] = [every]  # its error message quotes it
    (unreadable / "config.json").write_text(json.dumps(config))
    app = SavedRunsApp(saved_screen([first, second, unreadable]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.saved
        shots = await every_tab(app, pilot)
        assert not RAW_CONTROL.search(screen.header.text + screen.notes_text)
        assert not RAW_CONTROL.search(shots)
        assert "unreadable: damaged run folder" in screen.notes_text
        assert "evil.example" not in "".join(re.findall(r'href="[^"]*"', shots))  # no link
        assert "[/][link=" in screen.header.text  # shown as it is, not taken for markup
    assert not app.return_code


async def test_damaged_values_are_named_not_a_crash(tmp_path):
    good = write_run(tmp_path / "ok" / "20261129-152238-custom")
    damages = ["more-gradient-layers", "summary-wall-Infinity", "summary-wall-1e308",
               "histogram-infinite", "histogram-100000-bins"]  # fmt: skip
    bad = [hostile_folder(tmp_path / damage, damage) for damage in damages]
    app = SavedRunsApp(saved_screen([good, *bad]))
    async with app.run_test(size=(120, 40)) as pilot:
        await every_tab(app, pilot)
        assert all(f"damaged run folder: {folder}" in app.saved.notes_text for folder in bad)
    assert not app.return_code


def test_a_crash_of_the_app_is_exit_status_1(tmp_path):
    """23.8: ``vgtui show`` said 0 after a traceback. Records the reader would refuse (no
    gradient norm at all), given to the app directly, crash it."""
    run = read_run(write_run(tmp_path / "20261129-152238-custom"))
    hostile = [dataclasses.replace(r, grad_norms=()) for r in run.records]
    entry = Shown(run.path, dataclasses.replace(run, records=tuple(hostile)))
    app = SavedRunsApp(SavedRunsScreen([entry]))

    async def look(pilot) -> None:
        await pilot.pause()
        if app.return_code is None:  # it has not crashed
            app.exit()

    assert run_app(app, headless=True, auto_pilot=look) == 1


async def test_the_runs_screen_names_unreadable_folders_and_ends_its_reading(mnist, tmp_path):
    """23.12: a folder with an out-of-range value killed the screen's worker silently."""
    root = tmp_path / "runs"
    write_run(root / "20261129-152238-custom")
    hostile_folder(root, "config-iterations-Infinity", "20261129-152239-custom")
    hostile_folder(root, "config-fifo", "20261129-152240-custom")
    app = VgtuiApp(SHORT, mnist, root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        await wait_until(pilot, lambda: runs.table.row_count == 3, "the run folders listed")
        rows = [" ".join(map(str, runs.table.get_row_at(n))) for n in range(3)]
        assert sum("unreadable" in row for row in rows) == 2


async def test_the_runs_screen_of_a_file_says_why(mnist, tmp_path):
    out = tmp_path / "not-a-folder"
    out.write_text("")
    app = VgtuiApp(SHORT, mnist, out)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        runs = app.screen
        await wait_until(pilot, lambda: "reading" not in str(runs.title_line.render()),
                         "the listing ended")  # fmt: skip
        assert "No runs" in str(runs.title_line.render())


async def test_a_screenshot_of_names_that_are_not_utf8(mnist, tmp_path):
    """22.3: a screenshot (the monitor's s) of the Runs screen listing a folder named with
    invalid UTF-8 (UnicodeEncodeError)."""
    root = tmp_path / "runs"
    name = b"20261129-152238-\xff\xfe".decode("utf-8", "surrogateescape")
    write_run(root / name)
    app = VgtuiApp(SHORT, mnist, root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        runs = app.screen
        await wait_until(pilot, lambda: runs.table.row_count == 1, "the run folder listed")
        app.action_save()  # what s does in the monitor, here of the Runs screen
        await pilot.pause()
    shots = list(Path(root).glob("screen-*.svg"))
    assert len(shots) == 1 and "\\udcff" in shots[0].read_text(encoding="utf-8")


async def test_markup_typed_into_any_sidebar_field_is_text(mnist, tmp_path):
    """23.6: ``[/]`` typed into a field crashed the monitor (its message read as markup)."""
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        fields = [field for field in app.query(Input) if field.id]
        assert len(fields) >= 10
        for field in fields:
            field.focus()
            await pilot.pause()
            field.value += "[/]"  # as typed: Input.Changed, then validation
            await pilot.pause()
        said = [str(label.render()) for label in app.query(".field-error") if label.display]
        assert said  # the fields said why, as text
    assert not app.return_code
