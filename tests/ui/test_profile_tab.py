"""The Profile tab (issue 19, item 11): why Xavier and He work, readable at 80x24, at
initialisation and at the cursor."""

from __future__ import annotations

import math
import re

import pytest

from tests.ui.apptools import screen_lines, wait_for_state, wait_until
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.layer_profile import LayerProfile, initial_profiles
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.profile import CAPTIONS, ProfileChart
from vgtui.ui.charts.profile_bn import MEANING
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.help import help_text

RUN = RunConfig(iterations=60, eval_every=10)


async def profile_after_the_run(pilot, app: VgtuiApp):
    """Run to the end, open the Profile tab and wait for the profile at initialisation."""
    await pilot.press("r")
    await wait_for_state(pilot, app, "done")
    await pilot.press(str(TAB_IDS.index("profile") + 1))
    view = app.tabs.profile
    await wait_until(pilot, lambda: bool(view.initial), "the profile at init")
    await pilot.pause()
    return view


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_profile_tab_at_init_and_at_the_cursor(mnist, tmp_path, size):
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        view = await profile_after_the_run(pilot, app)
        expected = initial_profiles(RUN, mnist)
        assert view.initial == expected  # the numbers drawn dotted are the init's
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert any(caption in text for caption in CAPTIONS)  # one line, whole
        assert "Profile 7" in lines[1] and "Sweep 8" in lines[1]  # every tab visible
        assert "line: latest" in text and "dots: init (weights: prescribed)" in text
        weights = app.query_one("#profile-weights", ProfileChart)  # its dots: the prescribed
        for index, name in enumerate(RUN.setup_names):
            drawn = next(dotted for i, dotted, _ in weights.shown_values() if i == index)
            assert drawn == [math.log10(v) for v in expected[name].prescribed_std]
            assert drawn != [math.log10(v) for v in expected[name].weight_std]
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
        assert not view.batch_norm.display  # no +bn setup: no batch-norm rows


def test_the_help_explains_the_profile():
    text = help_text()
    assert "Profile: why Xavier and He work" in text and "Glorot & Bengio" in text


REMEDIES = RunConfig(
    iterations=60,
    eval_every=10,
    setups=parse_setups("sigmoid-gauss,sigmoid-gauss+bn,relu-he,sigmoid-xavier+res"),
)


def shown_groups(row: str) -> dict[str, list[str]]:
    """A batch-norm row's groups of numbers as the screen shows them: {"σ": [...], ...}."""
    groups = re.findall(r"(init σ|σ|γ|β)((?: -?[\d.e+-]+)+)(?=  |$)", row)
    return {name: numbers.split() for name, numbers in groups}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_profile_tab_shows_batch_norm_at_work(mnist, tmp_path, size):
    """Issue 20 item 7: a +bn setup's running std of u, its std at initialisation (the probe
    as one batch), gamma and beta per hidden layer, under the charts, the numbers recorded."""
    app = VgtuiApp(REMEDIES, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        view = await profile_after_the_run(pilot, app)
        lines = screen_lines(app)
        head = next(i for i, line in enumerate(lines) if "BN latest (unit means)" in line)
        assert all(text in lines[head] for text in MEANING.values())  # every group named
        row = lines[head + 1]
        assert "x " in row and "o " not in row.split("σ")[0]  # sigmoid-gauss+bn's, only
        assert not any("σ of u" in line for line in lines[head + 2 :])  # one +bn setup
        record = [r for r in app.history.records if r.setup == "sigmoid-gauss+bn"][-1]
        assert record.iteration == 60
        hidden = record.layers[:-1]
        at_init = initial_profiles(REMEDIES, mnist)["sigmoid-gauss+bn"].batch_std
        expected = {
            "σ": [f"{layer.running_std:.2g}" for layer in hidden],
            "init σ": [f"{v:.2g}" for v in at_init],
            "γ": [f"{layer.gamma:.2g}" for layer in hidden],
            "β": [f"{layer.beta:.2g}" for layer in hidden],
        }
        assert shown_groups(row) == expected
        assert expected["γ"] != ["1", "1"] or expected["β"] != ["0", "0"]  # it learned
        table = view.batch_norm.region
        for chart in app.query(ProfileChart):  # under the charts, none covered
            assert chart.region.bottom <= table.y and chart.region.height >= 10
        await pilot.press("home")  # the cursor on the first evaluation: its numbers
        await pilot.pause()
        first = next(r for r in app.history.records
                     if r.setup == "sigmoid-gauss+bn" and r.iteration == 10)  # fmt: skip
        lines = screen_lines(app)
        row = lines[next(i for i, line in enumerate(lines) if "BN @10" in line) + 1]
        gammas = [f"{layer.gamma:.2g}" for layer in first.layers[:-1]]
        assert shown_groups(row)["γ"] == gammas
