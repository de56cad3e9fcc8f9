"""The Activations tab: each setup's histograms on the probe images, live, with the cursor."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from tests.ui.apptools import SHORT, wait_for_state
from vgtui.core.config import parse_setups
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.activations import layer_text, shown_layers


def assert_every_mark_named(app: VgtuiApp) -> None:
    """The tab's legend line names sat, off, dead and the bottom row, whole (issue 19 item 4:
    the Activations tab had no legend at any size)."""
    legend = str(app.tabs.legend_line.render())
    assert app.tabs.legend_line.display and "more" not in legend, legend
    for part in ("sat: ", "off: ", "dead: ", "worst layer over time"):
        assert part in legend, legend


def test_deep_networks_show_their_first_middle_and_last_layer():
    assert shown_layers(2) == [0, 1] and shown_layers(30) == [0, 15, 29]


async def test_every_setup_shows_its_latest_histograms_at_80x24(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("6")
        await pilot.pause(0.2)
        assert app.tabs.active == "activations"
        panels = app.tabs.activations.panels
        assert [p.setup for p in panels] == list(SHORT.setup_names)
        assert_every_mark_named(app)
        last = {r.setup: r for r in app.tabs.history.records}
        for panel in panels:
            text = panel.render_text(panel.size.width, panel.size.height).plain
            lines = text.splitlines()
            assert all(len(line) <= panel.size.width for line in lines)
            assert len(lines) <= panel.size.height
            record = last[panel.setup]
            assert f"it {record.iteration}" in lines[0]
            assert "L1" in text and "L2" in text
            # the numbers beside each layer's bars are the record's
            first = layer_text(record.activations[0], panel.activation)[0]
            assert first in text


async def test_the_cursor_scrubs_the_histograms_back(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("6", "left_square_bracket", "left_square_bracket")
        await pilot.pause(0.2)
        cursor = app.tabs.view.cursor
        assert cursor is not None and cursor < SHORT.iterations
        assert_every_mark_named(app)
        panel = app.tabs.activations.panels[0]
        text = panel.render_text(panel.size.width, panel.size.height).plain
        assert f"it {cursor} (cursor)" in text.splitlines()[0]
        record = next(
            r for r in app.tabs.history.records if r.setup == panel.setup and r.iteration == cursor
        )
        assert layer_text(record.activations[1], panel.activation)[0] in text


async def test_a_deep_network_shows_first_middle_and_last_layer(mnist, tmp_path):
    deep = replace(SHORT, hidden=(16,) * 9, setups=parse_setups("relu-he"))
    app = VgtuiApp(deep, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("6")
        await pilot.pause(0.2)
        (panel,) = app.tabs.activations.panels
        text = panel.render_text(panel.size.width, panel.size.height).plain
        labels = [line.split()[0] for line in text.splitlines() if line.startswith("L")]
        assert labels == ["L1", "L5", "L9"]


async def test_narrow_panels_put_the_numbers_under_the_bars(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("b", "6")  # the sidebar takes a third of the width
        await pilot.pause(0.2)
        panel = app.tabs.activations.panels[0]
        text = panel.render_text(panel.size.width, panel.size.height).plain
        assert panel.size.width < 40
        assert all(len(line) <= panel.size.width for line in text.splitlines())
        record = [r for r in app.tabs.history.records if r.setup == panel.setup][-1]
        assert layer_text(record.activations[0], panel.activation)[0].split("  ")[0] in text
        # every number shown is one of the record's, whole (never cut into another number)
        for panel in app.tabs.activations.panels:
            text = panel.render_text(panel.size.width, panel.size.height).plain
            record = [r for r in app.tabs.history.records if r.setup == panel.setup][-1]
            shown = re.findall(r"([μσ]) (\S+)", text)
            assert shown, text
            whole = {f"μ {a.mean:.2g}" for a in record.activations}
            whole |= {f"σ {a.std:.2g}" for a in record.activations}
            assert {f"{symbol} {value}" for symbol, value in shown} <= whole, text


async def test_vgtui_probe_draws_each_layers_histogram_in_a_terminal():
    import numpy as np

    from vgtui.core.probe import probe, probe_inputs
    from vgtui.ui.probe_view import ProbeApp

    inputs = probe_inputs("randn", 300, 50, np.random.default_rng(0))
    results = probe(inputs, parse_setups("sigmoid-gauss:1,relu-he"), layers=3, width=50, seed=0)
    app = ProbeApp(results, "300 randn inputs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panels = [str(panel.render()) for panel in app.query(".probe-panel")]
        assert len(panels) == 2 and panels[0].startswith("sigmoid-gauss:1")
        first = results[0].layers[0]
        assert f"saturated {100 * first.saturated:.0f}%" in panels[0]
        # the layers side by side, as in the book's figure (issue 19.21)
        assert re.findall(r"L(\d) μ", panels[1]) == ["1", "2", "3"]
        # the two ends of sigmoid-gauss:1's first layer are the tallest bars
        bars_row = panels[0].splitlines()[-3]  # the histograms' bottom row
        assert bars_row[0] == "█" and bars_row[19] == "█"
        await pilot.press("q")
    assert app.return_code in (0, None)


def test_screenshots_keep_bars_and_leading_spaces_in_their_cells():
    from vgtui.ui.saved.svg import place_braille_in_cells

    svg = (
        '<text class="r1" x="10" y="5" textLength="40">  ab</text>'
        '<text class="r2" x="0" y="9" textLength="30"> █▁</text>'
    )
    fixed = place_braille_in_cells(svg)
    assert '<text class="r1" x="30.0" y="5" textLength="20.0">ab</text>' in fixed  # librsvg
    fit = 'textLength="10.0" lengthAdjust="spacingAndGlyphs"'  # each glyph squeezed to its cell
    assert f'x="10.0" y="9" {fit}>█</text>' in fixed and f'x="20.0" y="9" {fit}>▁</text>' in fixed


async def test_d_turns_the_gradients_tab_to_the_error_std_per_layer(mnist, tmp_path):
    from vgtui.core.summary import format_ratio
    from vgtui.ui.charts.gradients import GradientChart

    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("1", "d", "left_square_bracket")
        await pilot.pause()
        assert app.tabs.active == "gradients"
        chart = app.query_one("#grad-0", GradientChart)
        assert "error std first/last" in chart.title or "δ first/last" in chart.title
        record = [r for r in app.tabs.history.records if r.setup == chart.series.setup][-1]
        deltas = [layer.delta_std for layer in record.layers]
        assert chart.values[-1] == tuple(deltas)
        readout = chart.cursor_readout(record.iteration)
        assert readout.startswith(f"@{record.iteration}")
        assert [format_ratio(d) for d in deltas] == readout.split()[2::2]
        scale = chart.scale
        assert scale is not None and scale.ticks[0] <= min(map(math.log10, deltas))
        await pilot.press("d")
        await pilot.pause()
        assert "error std" not in chart.title and chart.values[-1] == record.grad_norms


async def test_vgtui_probe_shows_all_five_setups_at_120x40():
    """At 120x40 it showed 1.5 of its 5 setups in a 30-column strip: each setup's layers sit
    side by side, and the five setups fit the screen."""
    import numpy as np

    from tests.ui.apptools import screen_lines
    from vgtui.cli.probe import PROBE_SETUPS
    from vgtui.core.probe import probe, probe_inputs
    from vgtui.ui.probe_view import ProbeApp

    inputs = probe_inputs("randn", 300, 100, np.random.default_rng(0))
    setups = parse_setups(PROBE_SETUPS)
    results = probe(inputs, setups, layers=5, width=100, seed=0)
    app = ProbeApp(results, "300 randn inputs")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        assert [line.strip() for line in lines if line.strip() in {s.name for s in setups}] == [
            s.name for s in setups
        ]
        last = max(i for i, line in enumerate(lines) if "saturated" in line or "zero" in line)
        assert last < 39  # the last setup's last line is on screen, above the footer
        assert max(len(line) for line in lines) > 100  # the width is used
        assert "palette" not in lines[-1]  # only the probe's own keys in its footer
