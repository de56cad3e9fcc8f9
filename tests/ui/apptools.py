"""Helpers for the app tests: short configs and waiting on the app without timed assertions."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

from vgtui.core.config import RunConfig, parse_setups
from vgtui.ui.app import VgtuiApp
from vgtui.ui.header import RunHeader

SHORT = RunConfig(iterations=40, eval_every=10)
LONG = RunConfig(iterations=2000, eval_every=10)
DIVERGING = RunConfig(
    iterations=60,
    eval_every=10,
    learning_rate=10.0,
    setups=parse_setups("relu-gauss:100,sigmoid-gauss"),
)
GIVE_UP_SECONDS = 60.0
"""Only a guard against a hung test: no assertion depends on how fast anything is."""


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (fails if it never does)."""
    loop_time = 0.0
    while not condition():
        await pilot.pause(0.05)
        loop_time += 0.05
        if loop_time > GIVE_UP_SECONDS:
            raise AssertionError(f"gave up waiting for {what}")


async def wait_for_state(pilot: Pilot, app: VgtuiApp, *states: str) -> None:
    await wait_until(pilot, lambda: app.run_state in states, f"state in {states}")


async def start_run(pilot: Pilot, app: VgtuiApp, key: str = "r") -> None:
    """Press ``key`` (r) on a ready app and wait until its run exists.

    Why not ``pilot.press``: it waits, twice per key, until the process is idle, and a run
    the key starts keeps the process busy in its thread, so each press waited its full
    two seconds for nothing. The key takes the same way (a key event through the app's
    bindings) by the app's public ``simulate_key``."""
    assert app.current_run is None, "start_run is for an app with no run yet"
    app.simulate_key(key)
    await wait_until(pilot, lambda: app.current_run is not None, f"{key!r} to start a run")


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def header_text(app: VgtuiApp) -> str:
    return app.header.text


class FixedClockHeader(RunHeader):
    """The header with its timing and run-folder parts fixed, for snapshots."""

    def timing_text(self, iteration: int, seconds: float) -> str:
        return "00:01  99.9 it/s"

    def eta_text(self, seconds: float) -> str:
        return "eta 00:19"

    def folder_text(self, path: Path) -> str:
        return "<run folder>"


class FixedClockApp(VgtuiApp):
    """The app with a :class:`FixedClockHeader` and the run folder fixed in its status line."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header = FixedClockHeader(id="header")

    def folder_text(self, path: Path, short: bool = False) -> str:
        return "<run folder>"  # the status line's too


class Notifications:
    """Every notification an app shows from the moment this is made, read through the app's
    public ``notify`` (which the notify of every widget and screen calls)."""

    def __init__(self, app: App) -> None:
        self.shown: list[tuple[str, str]] = []
        """(message, title) pairs, oldest first."""
        notify = app.notify

        def recording(message: str, *, title: str = "", **options: Any) -> None:
            self.shown.append((str(message), title))
            notify(message, title=title, **options)

        app.notify = recording  # type: ignore[method-assign]

    @property
    def text(self) -> str:
        return "\n".join(message for message, _ in self.shown)

    def titled(self, title: str) -> list[str]:
        return [message for message, shown_title in self.shown if shown_title == title]


SVG_TEXT = re.compile(
    r'<text[^>]* x="([\d.]+)"[^>]* textLength="([\d.]+)"[^>]*-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(app: App) -> list[str]:
    """The text on ``app``'s screen row by row, as a user sees it (toasts and overlays
    included), read from the app's public SVG screenshot."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, row, content in SVG_TEXT.findall(app.export_screenshot()):
        chars = html.unescape(content).replace("\xa0", " ")
        if not chars.strip("\n") or int(row) >= height:
            continue
        start = round(float(x) / (float(length) / len(chars)))
        for column, char in enumerate(chars[: max(0, width - start)], start=start):
            rows[int(row)][column] = char
    return ["".join(row).rstrip() for row in rows]


def drawn_colors(chart: Widget) -> set[tuple[int, int, int]]:
    """The colours a chart draws in (the styles of its rendered text)."""
    rendered = chart.render()
    assert isinstance(rendered, Text)
    colors = set()
    for span in rendered.spans:
        style = span.style if isinstance(span.style, Style) else Style.parse(span.style)
        if style.color is not None and style.color.triplet is not None:
            colors.add(tuple(style.color.triplet))
    return colors


def plot_rows(chart: Widget) -> list[str]:
    """The rows inside a chart's frame (between its four borders), labelled rows included:
    each the plot's width, the columns under the top border's."""
    lines = chart.render().plain.splitlines()  # type: ignore[union-attr]
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left, right = lines[top].index("┌") + 1, lines[top].rfind("┐")
    return [line[left : right if right > 0 else None] for line in lines[top + 1 : bottom]]


STRIP_NUMBER = re.compile(r"(?<!\S)(\d+(?:\.\d+)?%|\d\.\de-?\d+)(?!\S)")
"""A test accuracy (9.6%) or a gradient ratio (4.3e-3) in the strip."""


def unnamed_strip_numbers(app: App) -> list[str]:
    """The strip's numbers that nothing on screen names: a number is named by its label just
    before it (``test 9.6%``) or by the strip's header, whose name for it (``test`` for an
    accuracy, ``1st/last`` for a ratio) stands over it; the strip's lines are read on screen."""
    from vgtui.ui.charts.strip import SetupStrip

    strip = app.query_one(SetupStrip)
    top = strip.region.y
    lines = screen_lines(app)[top : top + strip.region.height]
    header = lines[0] if lines and not STRIP_NUMBER.search(lines[0]) else ""
    unnamed = []
    for line in lines:
        for number in STRIP_NUMBER.finditer(line):
            name = "test" if number.group().endswith("%") else "1st/last"
            if line[: number.start()].endswith(f"{name} "):
                continue
            over = (m.span() for m in re.finditer(re.escape(name), header))
            if not any(a < number.end() and number.start() < b for a, b in over):
                unnamed.append(number.group())
    return unnamed
