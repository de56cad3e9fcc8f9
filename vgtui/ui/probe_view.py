"""``vgtui probe`` in a terminal: the histograms of Deep Learning from Scratch's ch. 6 figure,
one panel per setup, one histogram per layer (the headless command prints their numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from vgtui.core.histogram import bars
from vgtui.core.probe import LayerActivations, ProbeResult
from vgtui.ui.look import series_color

ROWS = 3  # text rows per histogram


def layer_panel_text(result: ProbeResult, index: int, width: int) -> Text:
    """One setup: per layer its histogram (one bar per bin, ``ROWS`` rows) with its numbers."""
    color = Style(color="rgb({},{},{})".format(*series_color(index)), bold=True)
    text = Text(no_wrap=True, overflow="crop")
    text.append(result.setup, color)
    for layer in result.layers:
        numbers = _numbers(layer)
        scale = layer.histogram_scale
        for row, line in enumerate(bars(layer.counts, ROWS, 1, scale.top(layer.counts))):
            text.append("\n" + (f"L{layer.layer}" if row == ROWS - 1 else "").ljust(4))
            text.append(line, color)
            if row < len(numbers):
                text.append("  " + numbers[row])
        text.append("\n    " + scale.axis(1))
    return text


def _numbers(layer: LayerActivations) -> list[str]:
    if layer.saturated == layer.saturated:  # bounded activation
        share = f"saturated {100 * layer.saturated:.0f}%"
    else:
        share = f"zero {100 * layer.zero:.0f}%  dead units {layer.dead_units}"
    return [f"mean {layer.mean:.3f}  std {layer.std:.3f}", share]


class ProbeApp(App[int]):
    """The probe's histograms, read-only; q quits."""

    TITLE = "vgtui probe"
    BINDINGS = [Binding("q,escape", "quit", "Quit")]
    CSS = """
    .probe-panel { width: 1fr; height: auto; margin: 0 1 1 1; }
    #probe-title { padding: 0 1; text-style: bold; }
    """

    def __init__(self, results: Sequence[ProbeResult], title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = list(results)
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="probe-title")
        with VerticalScroll(id="probe-panels"):
            for index, result in enumerate(self.results):
                yield Static(layer_panel_text(result, index, 80), classes="probe-panel")
        yield Footer()
