"""The Profile tab (issue 19, item 11): why Xavier and He work, readable at 80x24, at
initialisation and at the cursor."""

from __future__ import annotations

import re

import pytest

from tests.ui.apptools import screen_lines, wait_for_state, wait_until
from vgtui.core.config import RunConfig
from vgtui.core.layer_profile import LayerProfile, initial_profiles
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.profile import CAPTIONS, ProfileChart
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.help import help_text

RUN = RunConfig(iterations=60, eval_every=10)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_profile_tab_at_init_and_at_the_cursor(mnist, tmp_path, size):
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press(str(TAB_IDS.index("profile") + 1))
        view = app.tabs.profile
        await wait_until(pilot, lambda: bool(view.initial), "the profile at init")
        await pilot.pause()
        expected = initial_profiles(RUN, mnist)
        assert view.initial == expected  # the numbers drawn dotted are the init's
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert any(caption in text for caption in CAPTIONS)  # one line, whole
        assert "Profile 7" in lines[1] and "Sweep 8" in lines[1]  # every tab visible
        assert "line: latest" in text and "dots: init" in text
        for chart in app.query(ProfileChart):
            rendered = chart.render().plain
            assert len(re.findall(r"1e-?\d+┤", rendered)) >= 2  # a log axis with labels
            assert "L1" in rendered.splitlines()[-2] + rendered.splitlines()[-1]
        await pilot.press("home")  # the cursor on the first evaluation: its records
        await pilot.pause()
        record = next(r for r in app.history.records if r.setup == "relu-he" and r.iteration == 10)
        at = view.at_cursor("relu-he")
        assert at == LayerProfile.of_record(record, expected["relu-he"].prescribed_std)
        assert at.activation_std == tuple(a.std for a in record.activations)
        assert "line: @10" in "\n".join(screen_lines(app))


def test_the_help_explains_the_profile():
    text = help_text()
    assert "Profile: why Xavier and He work" in text and "Glorot & Bengio" in text
