"""The tabs right of the sidebar: accuracy grid, overlay, gradient grid and summary table.

Each tab's view owns its widgets and knows how to redraw them; :class:`ChartTabs` owns the
run's :class:`RunHistory`, hands it to every view and redraws only the visible tab.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from textual.containers import Grid
from textual.widgets import DataTable, TabbedContent, TabPane, Tabs

from vgtui.core.records import MetricRecord
from vgtui.core.results import SUMMARY_COLUMNS, summarize, summary_cells
from vgtui.core.vocabulary import SetupStatus
from vgtui.ui.charts import (
    AccuracyChart,
    Chart,
    GradientChart,
    OverlayChart,
    SetupChart,
    grid_columns,
)
from vgtui.ui.history import RunHistory

TAB_IDS = ("accuracy", "overlay", "gradients", "summary")


class SetupGrid(Grid):
    """One chart of ``chart_type`` per setup, laid out in a grid."""

    def __init__(self, chart_type: type[SetupChart], prefix: str, **kwargs: Any) -> None:
        super().__init__(classes="chart-grid", **kwargs)
        self.chart_type = chart_type
        self.prefix = prefix

    @property
    def charts(self) -> list[SetupChart]:
        return list(self.query(SetupChart))

    @property
    def setup_names(self) -> list[str]:
        return [chart.series.setup for chart in self.charts]

    async def mount_charts(self, history: RunHistory, total_iterations: int) -> None:
        """Replace the charts by one per setup of ``history``."""
        count = len(history.setup_names)
        columns = grid_columns(count)
        await self.remove_children()
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = math.ceil(count / columns)
        await self.mount_all(
            self.chart_type(
                history.series[name],
                total_iterations,
                id=f"{self.prefix}-{index}",
                classes="setup-chart",
            )
            for index, name in enumerate(history.setup_names)
        )


class SummaryTable(DataTable):
    """One row per setup, the same columns as the ``--no-ui`` summary."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.dirty = True

    def on_mount(self) -> None:
        self.add_columns(*SUMMARY_COLUMNS)

    def show(self, history: RunHistory) -> None:
        self.dirty = False
        self.clear()
        for summary in summarize(history.records, history.setup_names):
            self.add_row(*summary_cells(summary))


class ChartTabs(TabbedContent):
    """The four tabs; charts are redrawn only while their tab is shown."""

    def __init__(self, history: RunHistory, total_iterations: int, **kwargs: Any) -> None:
        super().__init__(initial="accuracy", **kwargs)
        self.history = history
        self.accuracy_grid = SetupGrid(AccuracyChart, "acc", id="accuracy-grid")
        self.gradient_grid = SetupGrid(GradientChart, "grad", id="gradient-grid")
        self.overlay = OverlayChart(history, total_iterations, id="overlay-chart")
        self.table = SummaryTable(id="summary-table")
        views = (self.accuracy_grid, self.overlay, self.gradient_grid, self.table)
        for number, (tab, view) in enumerate(zip(TAB_IDS, views, strict=True), start=1):
            self.compose_add_child(TabPane(f"{tab.title()} {number}", view, id=tab))

    def focus_tabs(self) -> None:
        self.query_one(Tabs).focus()

    def all_charts(self) -> list[Chart]:
        return [*self.accuracy_grid.charts, self.overlay, *self.gradient_grid.charts]

    def visible_charts(self) -> list[Chart]:
        tab = self.active
        if tab == "accuracy":
            return list(self.accuracy_grid.charts)
        if tab == "gradients":
            return list(self.gradient_grid.charts)
        if tab == "overlay":
            return [self.overlay]
        return []

    def redraw_visible(self) -> bool:
        """Redraw the dirty charts of the visible tab and, if shown, the summary; return
        whether any chart was redrawn (the redraw pacer measures what painting them costs)."""
        charts = [chart for chart in self.visible_charts() if chart.dirty]
        for chart in charts:
            chart.redraw()
        if self.active == "summary" and self.table.dirty:
            self.table.show(self.history)
        return bool(charts)

    def toggle_train(self) -> bool:
        """Show the overlay with or without the train curves; return whether it was redrawn."""
        self.overlay.show_train = not self.overlay.show_train
        self.overlay.mark_dirty()
        self.active = "overlay"
        return self.redraw_visible()

    def add(self, records: Sequence[MetricRecord]) -> None:
        """Add records to the history; every chart will show them when next drawn. A diverged
        setup is also announced at once, whatever tab is shown."""
        self.history.add(records)
        for record in records:
            if record.status == SetupStatus.DIVERGED:
                self.notify(
                    f"{record.setup} diverged at iteration {record.iteration}; the others go on",
                    title="diverged",
                    severity="warning",
                )
        for chart in self.all_charts():
            chart.mark_dirty()
        self.table.dirty = True

    async def show_run(self, history: RunHistory, total_iterations: int) -> bool:
        """Give every chart ``history`` (a new, empty one) and redraw the visible tab; return
        whether charts were redrawn. The chart widgets are replaced only when the setups
        changed: remounting costs a layout pass, at the start of a run."""
        drawn_empty = len(self.history) == 0 and total_iterations == self.overlay.total_iterations
        self.history = history
        if self.accuracy_grid.setup_names == list(history.setup_names):
            for chart in self.all_charts():
                if isinstance(chart, SetupChart):
                    chart.series = history.series[chart.series.setup]
            if drawn_empty:  # the charts already show exactly this: no repaint needed
                self.overlay.history = history
                return False
        else:
            with self.app.batch_update():
                await self.accuracy_grid.mount_charts(history, total_iterations)
                await self.gradient_grid.mount_charts(history, total_iterations)
        for chart in self.all_charts():
            if isinstance(chart, SetupChart):
                chart.total_iterations = total_iterations
            chart.mark_dirty()
        self.overlay.history = history
        self.overlay.total_iterations = total_iterations
        self.table.dirty = True
        with self.app.batch_update():
            return self.redraw_visible()
