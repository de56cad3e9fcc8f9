"""``vgtui probe`` in a terminal: the histograms of Deep Learning from Scratch's ch. 6 figure,
one panel per setup, one histogram per layer (the headless command prints their numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from vgtui.core.histogram import BINS, bars
from vgtui.core.probe import LayerActivations, ProbeResult
from vgtui.ui.look import series_color

ROWS = 3  # text rows per histogram
LAYER_WIDTH = BINS + 2
"""A layer's histogram (a bar per bin) and the gap after it: the layers of a setup sit side by
side, as in the book's figure, as many to a band as the width takes."""


def layer_panel_text(result: ProbeResult, index: int, width: int) -> Text:
    """One setup: its layers side by side (wrapped into bands to ``width``), each a header
    (layer, mean and std), its histogram in ``ROWS`` rows, the x axis and what share of its
    units saturate or are zero."""
    color = Style(color="rgb({},{},{})".format(*series_color(index)), bold=True)
    text = Text(no_wrap=True, overflow="crop")
    text.append(result.setup, color)
    per_band = max(1, (width + 2) // LAYER_WIDTH)
    layers = list(result.layers)
    for start in range(0, len(layers), per_band):
        blocks = [_layer_block(layer) for layer in layers[start : start + per_band]]
        for row in range(ROWS + 3):
            text.append("\n")
            for block in blocks:
                style = color if 1 <= row <= ROWS else None
                text.append(block[row].ljust(LAYER_WIDTH)[:LAYER_WIDTH], style)
        text.rstrip()
    return text


def _layer_block(layer: LayerActivations) -> list[str]:
    """A layer's lines, each at most BINS wide: header, ROWS bar rows, axis, shares."""
    scale = layer.histogram_scale
    header = f"L{layer.layer} μ {layer.mean:.3f} σ {layer.std:.3f}"
    return [
        header,
        *bars(layer.counts, ROWS, 1, scale.top(layer.counts)),
        scale.axis(1),
        _share(layer),
    ]


def _share(layer: LayerActivations) -> str:
    if layer.saturated == layer.saturated:  # bounded activation
        return f"saturated {100 * layer.saturated:.0f}%"
    return f"zero {100 * layer.zero:.0f}% dead {layer.dead_units}"


class ProbeApp(App[int]):
    """The probe's histograms, read-only; q quits."""

    TITLE = "vgtui probe"
    ENABLE_COMMAND_PALETTE = False  # its footer advertised '^p palette', Textual's, not ours
    BINDINGS = [Binding("q,escape", "quit", "Quit")]
    CSS = """
    .probe-panel { width: 1fr; height: auto; margin: 0 1; }
    #probe-title { padding: 0 1; text-style: bold; }
    """

    def __init__(self, results: Sequence[ProbeResult], title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = list(results)
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="probe-title")
        with VerticalScroll(id="probe-panels"):
            for _ in self.results:
                yield Static(classes="probe-panel")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        """Lay each setup's layers out side by side in the width there is."""
        width = max(event.size.width - 2, LAYER_WIDTH)
        for index, (panel, result) in enumerate(
            zip(self.query(".probe-panel").results(Static), self.results, strict=True)
        ):
            panel.update(layer_panel_text(result, index, width))
