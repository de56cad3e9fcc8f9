"""The tabs right of the sidebar: accuracy grid, overlay, gradient grid, summary table (with
the diagnosis), loss and the sweep heatmap (vgtui.ui.sweep.tab).

Each tab's view owns its widgets and knows how to redraw them; :class:`ChartTabs` owns the
run's :class:`RunHistory`, hands it to every view and redraws only the visible tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import events, on
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane, Tabs

from vgtui.core.diagnosis import describe, diagnose
from vgtui.core.layer_profile import LayerProfile
from vgtui.core.records import MetricRecord
from vgtui.core.summary import SUMMARY_COLUMNS, fit_summary_columns, summarize, summary_cells
from vgtui.core.vocabulary import SetupStatus
from vgtui.ui.charts.accuracy import AccuracyChart, OverlayChart
from vgtui.ui.charts.activations import ActivationsGrid
from vgtui.ui.charts.chart import Chart, SetupChart, fit_legend, runs_compared, shape_grid
from vgtui.ui.charts.gradients import GradientChart, GradientScale
from vgtui.ui.charts.loss import LossChart
from vgtui.ui.charts.profile import ProfileView
from vgtui.ui.charts.strip import SetupStrip
from vgtui.ui.history import RunHistory
from vgtui.ui.series import SeriesScreen
from vgtui.ui.status import StatusLine
from vgtui.ui.sweep.tab import SweepTab
from vgtui.ui.view import CURSOR_PAGE, ChartView

SHORT_TITLES = (
    {"accuracy": "Acc", "gradients": "Grad", "activations": "Activ"},
    {"accuracy": "Acc", "overlay": "Over", "gradients": "Grad", "summary": "Sum",
     "activations": "Act", "profile": "Prof"},
)  # fmt: skip
"""Tab titles where the eight whole ones do not fit (80 columns, or beside the sidebar), and
shorter ones where those do not either."""
TAB_IDS = (
    "accuracy", "overlay", "gradients", "summary", "loss", "activations", "profile", "sweep"
)  # fmt: skip


class SetupGrid(Grid):
    """One chart of ``chart_type`` per setup, laid out in a grid."""

    def __init__(
        self, chart_type: type[SetupChart], prefix: str, view: ChartView, **kwargs: Any
    ) -> None:
        super().__init__(classes="chart-grid", **kwargs)
        self.chart_type = chart_type
        self.prefix = prefix
        self.view = view

    @property
    def charts(self) -> list[SetupChart]:
        return list(self.query(SetupChart))

    @property
    def setup_names(self) -> list[str]:
        return [chart.series.setup for chart in self.charts]

    async def mount_charts(self, history: RunHistory, total_iterations: int) -> None:
        """Replace the charts by one per setup of ``history``."""
        await self.remove_children()
        shape_grid(self, len(history.setup_names), runs_compared(history.setup_names))
        await self.mount_all(
            self.chart_type(
                history.series[name],
                total_iterations,
                index,
                id=f"{self.prefix}-{index}",
                classes="setup-chart",
            )
            for index, name in enumerate(history.setup_names)
        )
        name_width = max(map(len, history.setup_names), default=0)
        for chart in self.charts:
            chart.name_width = name_width
            chart.view = self.view


class SummaryTable(DataTable):
    """One row per setup, the columns of the ``--no-ui`` summary that fit the width: the setup
    column stays put while scrolling, and a column is shown whole or not at all (least
    important first to go, then headers abbreviated), so no number is ever cut."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, **kwargs)
        self.dirty = True
        self.history: RunHistory | None = None
        self.shown_columns: tuple[str, ...] = ()
        self.shown_headers: tuple[str, ...] = ()

    def show(self, history: RunHistory) -> None:
        self.dirty = False
        self.history = history
        rows = [summary_cells(s) for s in summarize(history.records, history.setup_names)]
        columns, headers = fit_columns(rows, self.size.width or 80)
        # the same columns may come with shorter headers (narrower): relabel them too
        if (columns, headers) != (self.shown_columns, self.shown_headers):
            self.clear(columns=True)
            self.add_columns(*headers)
            self.shown_columns, self.shown_headers = columns, headers
        else:
            self.clear()
        positions = [SUMMARY_COLUMNS.index(c) for c in columns]
        for row in rows:
            self.add_row(*(row[i] for i in positions))

    def on_resize(self) -> None:
        if self.history is not None:
            self.show(self.history)


def fit_columns(
    rows: Sequence[Sequence[str]], width: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The summary's columns that fit the tab (the scrollbar may take a column): the same
    choice as the command line's table."""
    return fit_summary_columns(rows, width - 1)


class Diagnosis(VerticalScroll):
    """The diagnosis of every setup (vgtui.core.diagnosis) under the summary table, wrapped to
    the width; it scrolls when long."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = Static(id="diagnosis-text")
        self.history: RunHistory | None = None

    def compose(self) -> Any:
        yield self.text

    def show(self, history: RunHistory) -> None:
        self.history = history
        findings = diagnose(history.records, history.setup_names)
        width = max(20, (self.size.width or 80) - 3)
        seeds = max((series.seeds for series in history.series.values()), default=1)
        self.text.update(describe(findings, width, seeds) if findings else "")

    def on_resize(self) -> None:
        if self.history is not None:
            self.show(self.history)

    @property
    def plain(self) -> str:
        return str(self.text.render())


class ChartTabs(TabbedContent):
    """The four tabs; charts are redrawn only while their tab is shown."""

    def __init__(
        self,
        history: RunHistory,
        total_iterations: int,
        sweep_root: Path | None = None,
        sweep_read_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(initial="accuracy", **kwargs)
        self.history = history
        self.view = ChartView()
        """How every chart is viewed (smoothing, scale, x range, cursor): shared."""
        self.accuracy_grid = SetupGrid(AccuracyChart, "acc", self.view, id="accuracy-grid")
        self.gradient_grid = SetupGrid(GradientChart, "grad", self.view, id="gradient-grid")
        self.overlay = OverlayChart(history, total_iterations, id="overlay-chart")
        self.table = SummaryTable(id="summary-table")
        self.diagnosis = Diagnosis(id="diagnosis")
        self.loss = LossChart(history, total_iterations, id="loss-chart")
        self.loss.view = self.overlay.view = self.view
        self.strip = SetupStrip(history, self.view, id="strip")
        """Composed by the app below the tabs: it shows on every tab."""
        self.legend_line = Static("", id="tab-legend")
        """Under the tabs when their charts are too short for legends of their own (80x24):
        one line saying what the marks of the visible tab mean."""
        self.status = StatusLine(self.view, id="status")
        """Under the strip: the run's state and the view's (smoothing, zoom, cursor)."""
        summary = Vertical(self.table, self.diagnosis, id="summary-pane")
        self.sweep = SweepTab(sweep_root, read_only=sweep_read_only, id="sweep-pane")
        """The newest sweep under ``sweep_root`` (the output folder), live."""
        views = (self.accuracy_grid, self.overlay, self.gradient_grid, summary, self.loss)
        self.activations = ActivationsGrid(self.view, id="activations-grid")
        """Each setup's activation histograms on the probe images (vgtui.ui.charts.activations)."""
        self.profile = ProfileView(self.view, id="profile-view")
        """Why Xavier and He work: the per-layer stds (vgtui.ui.charts.profile)."""
        self.initial_profiles: dict[str, LayerProfile] = {}
        views += (self.activations, self.profile, self.sweep)
        for number, (tab, view) in enumerate(zip(TAB_IDS, views, strict=True), start=1):
            self.compose_add_child(TabPane(f"{tab.title()} {number}", view, id=tab))

    def on_resize(self, event: events.Resize) -> None:
        """The tabs' titles, short when the whole ones do not fit (every tab stays visible:
        at 80 columns, or beside the sidebar)."""
        if not self.query(TabPane):  # (not composed yet)
            return
        for names in ({}, *SHORT_TITLES):
            labels = [f"{names.get(tab, tab.title())} {n}" for n, tab in enumerate(TAB_IDS, 1)]
            if len("  ".join(labels)) + 2 <= event.size.width:
                break
        for tab, label in zip(TAB_IDS, labels, strict=True):
            if str(self.get_tab(tab).label) != label:
                self.get_tab(tab).label = label

    def focus_tabs(self) -> None:
        self.query_one(Tabs).focus()

    @on(TabbedContent.TabActivated)
    def focus_sweep_map(self, event: TabbedContent.TabActivated) -> None:
        """The sweep map takes the keys (its cursor's arrows) while its tab is shown."""
        if event.pane.id == "sweep":
            self.sweep.map.focus()
        elif self.screen.focused is None:  # the map, hidden, let go of the focus
            self.focus_tabs()

    def all_charts(self) -> list[Chart]:
        return [*self.accuracy_grid.charts, self.overlay, *self.gradient_grid.charts, self.loss]

    def visible_charts(self) -> list[Chart]:
        tab = self.active
        if tab == "accuracy":
            return list(self.accuracy_grid.charts)
        if tab == "gradients":
            return list(self.gradient_grid.charts)
        if tab == "overlay":
            return [self.overlay]
        if tab == "loss":
            return [self.loss]
        if tab == "activations":
            return list(self.activations.panels)  # type: ignore[arg-type]
        return []

    def redraw_visible(self) -> bool:
        """Redraw the dirty charts of the visible tab and, if shown, the summary; return
        whether any chart was redrawn (the redraw pacer measures what painting them costs)."""
        charts = [chart for chart in self.visible_charts() if chart.dirty]
        if any(isinstance(chart, GradientChart) for chart in charts):
            scale = GradientScale.of(
                self.history, log=self.view.log_y, quantity=self.view.gradient_quantity
            )
            for chart in self.gradient_grid.charts:
                assert isinstance(chart, GradientChart)
                chart.scale = scale
        for chart in charts:
            chart.redraw()
        self.update_legend_line()
        if self.active == "profile" and self.profile.dirty:
            self.profile.redraw()
            charts += self.profile.charts
        if self.active == "summary" and self.table.dirty:
            self.table.show(self.history)
            self.diagnosis.show(self.history)
        self.strip.update_values()
        return bool(charts)

    @on(Chart.Resized)
    def chart_resized(self) -> None:
        """A chart's height decides whether the tab's legend line shows: decided again from
        the size it was laid out at (a tab's redraw may have read the size of its charts
        before they were ever laid out, 0: the overlay at 80x24 then kept the line under its
        own legend, one row lower)."""
        self.update_legend_line()

    def update_legend_line(self) -> None:
        """The tab's legend line: shown when its charts are short (they keep only their
        status), fitted to the width (``+2 more`` for what does not fit)."""
        charts = [chart for chart in self.visible_charts() if isinstance(chart, Chart)]
        short = bool(charts) and all(chart.short for chart in charts)
        parts = charts[0].tab_legend() if short else []
        if self.active == "activations":  # its panels have no legends of their own
            parts = self.activations.tab_legend()
        text = fit_legend(parts, (self.legend_line.size.width or self.size.width) - 2)
        self.legend_line.display = bool(text)
        if str(self.legend_line.render()) != text:
            self.legend_line.update(text)

    def toggle_train(self) -> bool:
        """Show the overlay with or without the train curves; return whether it was redrawn."""
        self.overlay.show_train = not self.overlay.show_train
        self.overlay.mark_dirty()
        self.active = "overlay"
        return self.redraw_visible()

    def add(self, records: Sequence[MetricRecord], announce: bool = True) -> None:
        """Add records to the history; every chart will show them when next drawn. A diverged
        setup is also announced at once (if ``announce``), whatever tab is shown."""
        self.history.add(records)
        for record in records if announce else ():
            if record.status == SetupStatus.DIVERGED:
                self.notify(
                    f"{record.setup} diverged at iteration {record.iteration}; the others go on",
                    title="diverged",
                    severity="warning",
                )
        for chart in self.all_charts():
            chart.mark_dirty()
        for panel in self.activations.panels:
            panel.mark_dirty()
        self.profile.mark_dirty()
        self.table.dirty = True
        self.strip.dirty = True

    def change_view(self, change: str) -> bool:
        """Apply a view ``change`` (smooth, scale, zoom, cursor-left, cursor-right,
        cursor-off, solo) to every chart, say what it did and redraw the visible tab; return whether
        charts were redrawn. ``series`` opens the picker of the setups the overlay and loss show."""
        view = self.view
        if change == "series":  # on the overlay (unless on the loss): the change shows
            self.active = self.active if self.active == "loss" else "overlay"
            self.app.push_screen(SeriesScreen(view, list(self.history.series), self.hide_series))
            return False
        iterations = self.iterations
        actions = {
            "smooth": view.cycle_smoothing,
            "scale": view.toggle_log,
            "zoom": view.cycle_zoom,
            "cursor-left": lambda: view.move_cursor(iterations, -1),
            "cursor-right": lambda: view.move_cursor(iterations, 1),
            "cursor-page-left": lambda: view.move_cursor(iterations, -CURSOR_PAGE),
            "cursor-page-right": lambda: view.move_cursor(iterations, CURSOR_PAGE),
            "cursor-first": lambda: view.jump_cursor(iterations, 0),
            "cursor-last": lambda: view.jump_cursor(iterations, max(iterations, default=0)),
            "cursor-off": view.clear_cursor,
            "solo": lambda: view.cycle_solo(list(self.history.series)),
            "delta": view.toggle_gradient_quantity,
        }
        if change == "delta":  # the change shows on the gradients tab
            self.active = "gradients"
        said = actions[change]()
        if change in ("solo", "scale") or not iterations and change.startswith("cursor"):
            self.notify(said, timeout=1.5)  # the rest stays said in the status line
        return self.view_changed()

    @property
    def iterations(self) -> list[int]:
        """The evaluation points of the run (of its longest series): where the cursor goes."""
        return max((s.iterations for s in self.history.series.values()), key=len, default=[])

    def jump_to(self, iteration: int) -> bool:
        """The cursor on the evaluation point nearest ``iteration`` (g); redraw."""
        self.view.jump_cursor(self.iterations, iteration)
        return self.view_changed()

    def view_changed(self) -> bool:
        """Every chart, the strip and the status line follow the view; redraw the tab."""
        self.status.refresh()
        self.mark_all_dirty()
        self.strip.dirty = True
        with self.app.batch_update():
            return self.redraw_visible()

    def hide_series(self, setups: list[str]) -> bool:
        """Leave ``setups`` out of the overlay and loss charts (the strip says so); redraw."""
        self.view.hide(setups)
        self.mark_all_dirty()
        self.strip.dirty = True
        with self.app.batch_update():
            return self.redraw_visible()

    def mark_all_dirty(self) -> None:
        for chart in self.all_charts():
            chart.mark_dirty()
        for panel in self.activations.panels:
            panel.mark_dirty()
        self.profile.mark_dirty()
        self.table.dirty = True

    def show_initial_profiles(self, profiles: dict[str, LayerProfile]) -> None:
        """The setups' profiles at initialisation, computed off the UI thread; redraw."""
        self.initial_profiles = profiles
        self.profile.show(self.history, profiles)
        if self.active == "profile":
            self.redraw_visible()

    async def show_run(self, history: RunHistory, total_iterations: int) -> bool:
        """Give every chart ``history`` (a new, empty one) and redraw the visible tab; return
        whether charts were redrawn. The chart widgets are replaced only when the setups
        changed: remounting costs a layout pass, at the start of a run."""
        drawn_empty = len(self.history) == 0 and total_iterations == self.overlay.total_iterations
        self.history = history
        self.view.cursor = None
        self.strip.show(history)
        self.initial_profiles = {}  # the app computes the new run's (show_initial_profiles)
        self.profile.show(history, {})
        if self.activations.setup_names == list(history.setup_names):
            self.activations.show(history)
        else:
            await self.activations.mount_panels(history)
        if self.accuracy_grid.setup_names == list(history.setup_names):
            for chart in self.all_charts():
                if isinstance(chart, SetupChart):
                    chart.series = history.series[chart.series.setup]
            if drawn_empty:  # the charts already show exactly this: no repaint needed
                self.overlay.history = history
                self.loss.history = history
                return False
        else:
            with self.app.batch_update():
                await self.accuracy_grid.mount_charts(history, total_iterations)
                await self.gradient_grid.mount_charts(history, total_iterations)
        for chart in self.all_charts():
            if isinstance(chart, SetupChart):
                chart.total_iterations = total_iterations
            chart.mark_dirty()
        for chart in (self.overlay, self.loss):
            chart.history = history
            chart.total_iterations = total_iterations
        self.table.dirty = True
        with self.app.batch_update():
            return self.redraw_visible()
