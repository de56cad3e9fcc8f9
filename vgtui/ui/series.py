"""The series picker (key H): which setups the overlay and loss charts show.

A small list over the bottom right of the charts, one line per setup with its number, marker
and name, ticked when shown. Digits, space or a click show or hide a setup at once, and the
charts behind the list follow; ``a`` shows every setup. ``h`` (one setup alone, in turn) is
the quick look; this is the lasting choice, kept through new records and redraws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from vgtui.ui.look import series_color, series_marker
from vgtui.ui.sidebar import SetupList
from vgtui.ui.view import ChartView

DIGIT_KEYS = 9
"""Setups 1 to 9 have a digit key; the others are reached with the arrow keys and space."""
HINT = "1-9 space: on/off  a: all  esc: close"


def series_label(number: int, name: str) -> Text:
    """``3 + sigmoid-xavier``: the digit that toggles it, its marker (in its colour), its name."""
    index = number - 1
    digit = f"{number} " if number <= DIGIT_KEYS else "  "
    color = "rgb({},{},{})".format(*series_color(index))
    return Text.assemble(digit, (series_marker(index), f"bold {color}"), f" {name}")


class SeriesScreen(ModalScreen[None]):
    """Tick the setups the overlay and loss charts show; every change applies at once."""

    DEFAULT_CSS = """
    SeriesScreen {
        align: right bottom;
        background: $background 0%;
    }
    #series-box {
        width: auto;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        border-title-color: $accent;
        background: $surface;
        padding: 0 1;
        margin: 0 0 3 0;
    }
    #series-list {
        width: auto;
        height: auto;
        max-height: 12;
    }
    #series-hint {
        color: $text-muted;
        width: auto;
    }
    """

    BINDINGS = [
        Binding("escape,H,q", "dismiss", "Close"),
        Binding("a,0", "show_all", "Show all"),
        *(Binding(str(n), f"toggle({n})", show=False) for n in range(1, DIGIT_KEYS + 1)),
    ]

    def __init__(
        self, view: ChartView, setups: Sequence[str], hide: Callable[[list[str]], object]
    ) -> None:
        super().__init__()
        self.view = view
        self.setups = list(setups)
        self.hide = hide
        """Called with the setups to hide after every change (the tabs redraw)."""

    def compose(self) -> ComposeResult:
        box = Vertical(id="series-box")
        box.border_title = "overlay and loss show"
        with box:
            yield SetupList(
                *(
                    Selection(series_label(number, name), name, self.view.shows(name))
                    for number, name in enumerate(self.setups, start=1)
                ),
                id="series-list",
                compact=True,
            )
            yield Static(HINT, id="series-hint")

    def on_mount(self) -> None:
        self.query_one(SetupList).focus()

    @property
    def shown(self) -> list[str]:
        return list(self.query_one(SetupList).selected)

    @on(SelectionList.SelectedChanged)
    def apply(self) -> None:
        """Hide what is not ticked (a ``h`` solo ends: the ticks are now the choice)."""
        hidden = [name for name in self.setups if name not in self.shown]
        if hidden != self.view.hidden_among(self.setups) or self.view.solo is not None:
            self.hide(hidden)

    def action_toggle(self, number: int) -> None:
        if number <= len(self.setups):
            self.query_one(SetupList).toggle(self.setups[number - 1])

    def action_show_all(self) -> None:
        self.query_one(SetupList).select_all()
