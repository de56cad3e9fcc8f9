"""What the live monitor and the saved-runs view share: one App base (stylesheet, title, the
compact layout on resize) and one charts screen (header, tabs, the per-setup strip, footer,
the chart keys, the compact class).

The monitor (vgtui.ui.app) adds the sidebar and the run's keys; the saved-runs view
(vgtui.ui.saved.screen) adds its notes and read-only keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent

from vgtui.ui.charts.tabs import TAB_IDS, ChartTabs
from vgtui.ui.goto import GoToScreen
from vgtui.ui.header import RunHeader

COMPACT_WIDTH, COMPACT_HEIGHT = 100, 30
"""Below this size, the compact layout: no sidebar at first (b shows it), tighter charts."""

CHART_KEYS = [
    Binding("t", "toggle_train", "Train", show=False),
    Binding("e", "chart_view('smooth')", "Smooth", show=False),
    Binding("l", "chart_view('scale')", "Log/linear", show=False),
    Binding("z", "chart_view('zoom')", "Zoom", show=False),
    Binding("left_square_bracket", "chart_view('cursor-left')", "Cursor left", show=False),
    Binding("right_square_bracket", "chart_view('cursor-right')", "Cursor right", show=False),
    Binding("left_curly_bracket", "chart_view('cursor-page-left')", "Cursor page", show=False),
    Binding("right_curly_bracket", "chart_view('cursor-page-right')", "Cursor page", show=False),
    Binding("home", "chart_view('cursor-first')", "Cursor first", show=False),
    Binding("end", "chart_view('cursor-last')", "Cursor latest", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("up", "line(-1)", "Up", show=False),
    Binding("down", "line(1)", "Down", show=False),
    Binding("g", "go_to", "Go to iteration", show=False),
    Binding("c", "chart_view('cursor-off')", "Cursor off", show=False),
    Binding("h", "chart_view('solo')", "Hide others", show=False),
    Binding("d", "chart_view('delta')", "Gradient norm / error std", show=False),
    Binding("H", "chart_view('series')", "Series", show=False),
    *(
        Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False)
        for number, tab in enumerate(TAB_IDS, start=1)
    ),
]
"""The chart controls and the tab keys, the same on a live run and on saved runs."""


def is_compact(size: Size) -> bool:
    return size.width < COMPACT_WIDTH or size.height < COMPACT_HEIGHT


class ChartsScreen(Screen[None]):
    """A header, the chart tabs with the strip under them and a footer, with the chart keys.
    Subclasses put their own parts around the charts (:meth:`compose_body`)."""

    BINDINGS = CHART_KEYS

    def __init__(self, header: RunHeader, tabs: ChartTabs) -> None:
        super().__init__()
        self.header = header
        self.tabs = tabs
        self.compact: bool | None = None
        """Whether the compact layout is on (None: not decided yet)."""

    def compose(self) -> ComposeResult:
        yield self.header
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterator[Widget]:
        """What lies between the header and the footer: by default, the charts alone."""
        yield from self.compose_charts()

    def compose_charts(self) -> Iterator[Widget]:
        with Vertical(id="main"):
            yield self.tabs
            yield self.tabs.legend_line
            yield self.tabs.strip
            yield self.tabs.status

    def on_mount(self) -> None:
        self.fit_to(self.app.size)
        self.tabs.focus_tabs()

    def fit_to(self, size: Size, resized: bool = False) -> None:
        """The compact layout below COMPACT_WIDTH x COMPACT_HEIGHT; after a resize the charts
        redraw at once (their ticks and titles depend on the size)."""
        compact = is_compact(size)
        if compact != self.compact:
            self.compact = compact
            self.set_class(compact, "-compact")
            self.compact_changed(compact)
        if resized:
            self.tabs.mark_all_dirty()
            self.call_after_refresh(self.redraw)

    def compact_changed(self, compact: bool) -> None:
        """The layout became compact (or not): subclasses adapt their own parts."""

    def redraw(self) -> None:
        """Redraw the dirty charts of the visible tab."""
        with self.app.batch_update():
            self.redrawn(self.tabs.redraw_visible())

    def redrawn(self, drawn: bool) -> None:
        """Told after every redraw whether charts were drawn (the monitor paces by it)."""

    @on(TabbedContent.TabActivated)
    def tab_shown(self) -> None:
        self.redraw()

    def action_chart_view(self, change: str) -> None:
        self.redrawn(self.tabs.change_view(change))

    def action_page(self, direction: int) -> None:
        """PgUp/PgDn: on the Summary tab, scroll the findings (no focus needed, so the tab
        keys keep working); elsewhere, page the cursor."""
        if self.tabs.active == "summary":
            self.tabs.diagnosis.scroll_page_down() if direction > 0 else (
                self.tabs.diagnosis.scroll_page_up()
            )
        else:
            self.action_chart_view("cursor-page-right" if direction > 0 else "cursor-page-left")

    def action_line(self, direction: int) -> None:
        """Up/down: on the Summary tab, scroll the findings a line."""
        if self.tabs.active == "summary":
            self.tabs.diagnosis.scroll_relative(y=direction, animate=False)

    def action_go_to(self) -> None:
        """g: type an iteration; the cursor goes to the evaluation point nearest it."""

        def jump(iteration: int | None) -> None:
            if iteration is not None:
                self.redrawn(self.tabs.jump_to(iteration))

        self.app.push_screen(GoToScreen(), jump)

    def action_show_tab(self, tab: str) -> None:
        self.tabs.active = tab

    def action_toggle_train(self) -> None:
        self.redrawn(self.tabs.toggle_train())


class ChartsApp(App[int]):
    """The stylesheet and title of every vgtui app that shows charts; on a resize, every
    charts screen in the stack fits itself (also one under a help screen)."""

    CSS_PATH = Path(__file__).with_name("vgtui.tcss")  # absolute: subclasses live elsewhere
    TITLE = "vgtui"
    ENABLE_COMMAND_PALETTE = False

    def on_resize(self, event: events.Resize) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, ChartsScreen):
                screen.fit_to(event.size, resized=True)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """On a charts screen, a message goes to its status line, under the charts: a toast
        would cover one. Other screens (lists, pickers) keep Textual's toasts."""
        screen = self.screen_stack[-1] if self.screen_stack else None
        if isinstance(screen, ChartsScreen) and screen.tabs.status.is_mounted:
            seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
            screen.tabs.status.say(str(message), title, severity, seconds)
        else:
            super().notify(message, title=title, severity=severity, timeout=timeout,
                           markup=markup)  # fmt: skip
