"""Presets fill the sidebar (issue 11): a selector at the top of the sidebar lists the presets,
choosing one fills every field, an edit makes it "custom", and ``--preset`` shows selected."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, SelectionList, Static

from tests.ui.apptools import screen_lines
from vgtui.cli.train import build_parser, config_from_args
from vgtui.core.config import PRESETS, RUN_OPTIONS, RunConfig
from vgtui.ui.app import VgtuiApp

ORDER = [*PRESETS, "custom"]
"""The selector's options, top to bottom."""


def shown_preset(app: VgtuiApp) -> str:
    """The selector's text as painted (the closed field: one line)."""
    label = app.query_one("#field-preset #label", Static)
    return label.render_line(0).text.strip()


def field(app: VgtuiApp, key: str) -> str:
    return app.query_one(f"#field-{key}", Input).value


async def choose(pilot: Pilot, app: VgtuiApp, name: str) -> None:
    """Open the selector with the keyboard and move to ``name``, as a user does."""
    select = app.query_one("#field-preset", Select)
    select.focus()
    await pilot.press("enter")
    steps = ORDER.index(name) - ORDER.index(str(select.value))
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await pilot.pause()


async def test_choosing_a_preset_fills_every_field(mnist, tmp_path):
    app = VgtuiApp(RunConfig(seed=3), mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert shown_preset(app) == "notebook"  # the notebook with another seed
        await choose(pilot, app, "he-deep")
        preset = PRESETS["he-deep"].config
        assert shown_preset(app) == "he-deep"
        assert field(app, "iterations") == "1000"
        assert field(app, "learning_rate") == "0.01"
        assert field(app, "hidden") == ",".join(["64"] * 30)
        assert field(app, "batch_size") == "100" and field(app, "eval_every") == "10"
        assert field(app, "seed") == "3"  # a preset is the same experiment whatever its seed
        assert not app.query_one("#field-notebook_grad", Checkbox).value
        setups = app.query_one("#setups", SelectionList)
        assert setups.selected == ["relu-he", "relu-xavier"]
        assert setups.get_option_at_index(0).value == "relu-he"  # the preset's order first
        for option in RUN_OPTIONS:
            if option.kind == "text" and option.key != "seed":
                assert field(app, option.key) == option.show(getattr(preset, option.key))
        started = app.sidebar.read_config()  # what r starts (start_run reads it)
        assert started == replace(preset, seed=3) and started.preset_name == "he-deep"


async def test_an_edit_after_a_preset_shows_custom(mnist, tmp_path):
    app = VgtuiApp(RunConfig(), mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, "glorot")
        assert shown_preset(app) == "glorot" and field(app, "learning_rate") == "0.01"
        rate = app.query_one("#field-learning_rate", Input)
        rate.focus()
        await pilot.press("0", "5")  # the field's text is selected on focus: now 05
        await pilot.pause()
        assert field(app, "learning_rate") == "05"
        assert shown_preset(app) == "custom"
        assert app.sidebar.read_config().preset_name == "custom"
        await pilot.press("backspace", "backspace", *"0.01")
        await pilot.pause()
        assert shown_preset(app) == "glorot"  # back to the preset's values: the preset again
        app.query_one("#setups", SelectionList).deselect("tanh-glorot")
        await pilot.pause()
        assert shown_preset(app) == "custom"


async def test_preset_flag_shows_selected_and_fits_80x24(mnist, tmp_path):
    args = build_parser().parse_args(["--preset", "dlfs-init", "--seed", "2"])
    app = VgtuiApp(config_from_args(args), mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")  # the compact layout hides the sidebar at first
        await pilot.pause()
        assert shown_preset(app) == "dlfs-init"
        select = app.query_one("#field-preset", Select)
        assert select.region.right <= app.sidebar.region.right
        await choose(pilot, app, "notebook")
        assert field(app, "hidden") == "40,20" and field(app, "seed") == "2"
        select.focus()
        await pilot.press("enter")
        await pilot.pause()
        lines = screen_lines(app)  # the open list as drawn below the field
        left = select.region.x
        rows = {
            words[0]: row
            for row in range(select.region.y + 1, len(lines))
            if (words := lines[row][left:].split()) and words[0] in ORDER
        }
        assert list(rows) == ORDER  # every preset in view, in order, none scrolled away
        assert "He et al. 2015" in lines[rows["he-deep"] + 1]  # its description
        assert "your own values" in lines[rows["custom"] + 1]  # the last one is not cut off
