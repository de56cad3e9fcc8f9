"""The Sweep tab (issue 13, "In the app"): the heatmap of a real sweep folder with the theory on
top, cells appended while the app is open, the cursor's readout, a cell opened as a run (whose
numbers are the sweep's), the newest folder followed, and a sweep started from the tab that is
stopped, with its whole process group, when the app quits.

The sweep folders are written by the real code (SweepFolder and run_task) from one small
sweep trained once per module: the quick preset at 2 seeds and width 16."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.ui.apptools import (
    GIVE_UP_SECONDS,
    SHORT,
    read_summary,
    screen_lines,
    wait_for_state,
    wait_until,
)
from vgtui.core.summary import format_percent
from vgtui.core.sweep.folder import SweepFolder, read_cells, sweep_folders
from vgtui.core.sweep.grid import Grid, critical, theory
from vgtui.core.sweep.spec import PRESETS, SweepSpec, Task
from vgtui.core.sweep.task import run_task
from vgtui.core.sweep.text import heatmap
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.sweep.process import SweepProcess
from vgtui.ui.sweep.tab import SweepMap

SWEEP_KEY = str(TAB_IDS.index("sweep") + 1)
SPEC = replace(PRESETS["quick"], seeds=2, width=16)
"""5 sigma_w^2 x 3 depths x 2 seeds: 6 tasks, about 2 s to train."""


@pytest.fixture(scope="module")
def results() -> dict[Task, dict]:
    """Every task of SPEC, trained once (run_task: as a Dask worker would)."""
    return {task: run_task(SPEC.to_dict(), task) for task in SPEC.tasks()}


def write_sweep(root: Path, results: dict[Task, dict], tasks=None, spec: SweepSpec = SPEC) -> Path:
    """A sweep folder under ``root`` with ``tasks`` (all by default) written by SweepFolder."""
    folder = SweepFolder.create(root, spec)
    for task in spec.tasks() if tasks is None else tasks:
        folder.add_task(task, results[task], None)
    folder.close()
    return folder.path


def cells_of(path: Path) -> dict[tuple[int, float], dict]:
    folder = SweepFolder.open(path)
    return {(depth, w): line for (_, depth, w), line in folder.cells().items()}


def grid(text: str) -> dict[int, list[str]]:
    """The map's rows: depth -> the mark of each column (digit, x, ?, ., in parentheses where
    theory says it does not train), read as text without the cursor's brackets."""
    rows = {}
    heatmap_part = text.split("\nsd of test accuracy")[0]  # not the seeds' sd grid below it
    for line in heatmap_part.splitlines():
        match = re.fullmatch(r"\s*(\d+) [ >]( .*)", line)
        if match:
            rows[int(match.group(1))] = re.sub(r"[\[\]]", " ", match.group(2)).split()
    return rows


def digit(cell: dict) -> str:
    """A cell's band: the tens digit of its test accuracy, . before it has one."""
    accuracy = cell["test_accuracy"]
    return "." if accuracy is None else str(min(9, int(accuracy * 10)))


def mark(cell: dict, depth: int, weight_variance: float) -> str:
    """A cell's mark: its digit, in parentheses where depth >= 6 xi_c."""
    limit = theory("tanh", weight_variance, SPEC.bias_variance).trainable_depth
    return digit(cell) if depth < limit else f"({digit(cell)})"


async def show_sweep_tab(pilot, app: VgtuiApp) -> SweepMap:
    await pilot.press(SWEEP_KEY)
    sweep_map = app.tabs.sweep.map
    await wait_until(pilot, lambda: app.tabs.sweep.state is not None, "the sweep read")
    await pilot.pause()
    return sweep_map


async def test_the_heatmap_shows_every_cells_band_the_theory_curve_and_the_critical_column(
    mnist, tmp_path, results
):
    path = write_sweep(tmp_path, results)
    cells = cells_of(path)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        assert sweep_map.has_focus and not app.sidebar.display  # compact: the map has room
        text = sweep_map.plain
        rows = grid(text)
        assert sorted(rows) == sorted(SPEC.depths)
        for depth, marks in rows.items():
            assert marks == [mark(cells[depth, w], depth, w) for w in SPEC.weight_variances]
        lines = text.splitlines()
        assert lines[-1].startswith("arrows")  # the keys, last
        limits = [
            theory("tanh", w, SPEC.bias_variance).trainable_depth for w in SPEC.weight_variances
        ]
        six_xi = next(line for line in lines if line.startswith("6xi_c"))
        assert six_xi.split()[1:] == [f"{limit:.0f}" if limit < 1e4 else "29k" for limit in limits]
        # Theory: sigma_w^2 0.5 (6 xi_c ~ 7) trains depth 6, not 12: parentheses below 7.
        assert limits[0] < 12 and rows[12][0] == f"({digit(cells[12, 0.5])})"
        assert rows[6][0] == digit(cells[6, 0.5])
        # The critical sigma_w^2: a v over its place between the columns, and its value.
        crit = critical("tanh", SPEC.bias_variance)
        marker = next(line for line in lines if "critical sigma_w^2" in line)
        assert f"{crit:.3f}" in marker
        header = next(line for line in lines if line.startswith("depth"))
        column = header.index(" 1.76 ") + 3  # the column nearest 1.761
        assert abs(marker.index("v") - column) <= 1
        legend = " ".join(text.split())
        assert "digit: test accuracy in tens of %" in legend
        assert "(d): depth >= 6 xi_c (theory: does not train)" in legend
        assert all(len(line) <= 78 for line in lines)
        assert sweep_map.size.height <= app.tabs.sweep.size.height  # no scrolling at 80x24


def printed_grid(text: str) -> dict[int, list[str]]:
    """The rows of ``vgtui sweep``'s text heatmap: depth -> the mark of each column."""
    rows = {}
    heatmap_part = text.split("\nsd of test accuracy")[0]  # not the seeds' sd grid below it
    for line in heatmap_part.splitlines():
        match = re.fullmatch(r"\s*(\d+)  (.*)", line)
        if match:
            rows[int(match.group(1))] = match.group(2).split()
    return rows


async def test_the_tab_draws_the_grid_vgtui_sweep_prints_cell_by_cell(mnist, tmp_path, results):
    deepest = [t for t in SPEC.tasks() if t.depth == max(SPEC.depths)]
    path = write_sweep(tmp_path, results, [t for t in SPEC.tasks() if t not in deepest])
    folder = SweepFolder.open(path)
    folder.add_task(deepest[0], None, "failed on purpose")  # both seeds failed: ? cells
    folder.add_task(deepest[1], None, "failed on purpose")
    folder.close()
    printed = heatmap(SPEC, SweepFolder.open(path).cells())
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        shown = (await show_sweep_tab(pilot, app)).plain
    rows = printed_grid(printed)
    assert rows == grid(shown) and sorted(rows) == sorted(SPEC.depths)
    marks = {m for row in rows.values() for m in row}
    assert (
        "?" in marks and any(m.startswith("(") for m in marks) and any(m.isdigit() for m in marks)
    )
    six_xi = [next(line for line in text.splitlines() if line.startswith("6xi_c")).split()
              for text in (printed, shown)]  # fmt: skip
    assert six_xi[0] == six_xi[1]
    legend = Grid.of(SPEC, "tanh", SweepFolder.open(path).cells()).legend(narrow=False)
    assert "? failed" in legend and "(d): depth >= 6 xi_c" in legend
    for text in (printed, shown):
        assert legend in " ".join(text.split())
        assert f"v critical sigma_w^2 {critical('tanh', SPEC.bias_variance):.3f}" in text


async def test_the_preset_grid_fits_80x24_and_fills_the_space_at_120x40(mnist, tmp_path):
    """At 80x24 (where the strip's header line takes a row from the tab) the whole map is on
    screen, no scrollbar: the legend with '. not run yet' unbroken, the readout and the
    sweep's status line, the keys after it as far as they fit (the help lists them all)."""
    SweepFolder.create(tmp_path, PRESETS["schoenholz"]).close()  # no cells yet: all "."
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        rows = grid(sweep_map.plain)
        assert sorted(rows) == sorted(PRESETS["schoenholz"].depths)
        assert all(set(marks) <= {".", "(.)"} for marks in rows.values())
        assert ". not run yet" in sweep_map.plain
        assert sweep_map.size.height <= app.tabs.sweep.size.height
        on_screen = "\n".join(screen_lines(app))
        for line in sweep_map.plain.splitlines():
            assert line in on_screen, line
        assert "0/63 cells" in on_screen and "not run yet; theory" in on_screen
        assert max(map(len, sweep_map.plain.splitlines())) <= sweep_map.size.width
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.sidebar.display
        tall = sweep_map.plain.splitlines()
        assert len(tall) > len(rows) + 10  # blocks of several lines per row
        assert sweep_map.size.height <= app.tabs.sweep.size.height


async def test_a_sweep_of_several_activations_shows_one_at_a_time(mnist, tmp_path):
    spec = replace(SPEC, activations=("tanh", "relu"), bias_variance=0.0)
    SweepFolder.create(tmp_path, spec).close()
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        assert sweep_map.plain.startswith("tanh (1 of 2, a: next): test accuracy")
        assert "critical sigma_w^2 1.000" in sweep_map.plain  # tanh, sigma_b^2 0
        await pilot.press("a")
        assert sweep_map.plain.startswith("relu (2 of 2, a: next): test accuracy")
        assert "critical sigma_w^2 2.000" in sweep_map.plain  # He's init
        assert "relu, depth" in sweep_map.plain and "a: next grid" in sweep_map.plain


async def test_a_sweep_of_variants_shows_a_grid_per_lane_theory_on_plain_only(mnist, tmp_path):
    """At 80x24, a switches between the lanes: the plain grid has the mean-field overlay, the
    +bn and +res grids say that none is drawn (and the readout that there is none)."""
    spec = replace(SPEC, variants=("plain", "bn", "res"))
    SweepFolder.create(tmp_path, spec).close()
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        assert sweep_map.plain.startswith("tanh (1 of 3, a: next): test accuracy")
        assert "critical sigma_w^2" in sweep_map.plain and "6xi_c" in sweep_map.plain
        for number, lane in ((2, "tanh+bn"), (3, "tanh+res")):
            await pilot.press("a")
            shown = sweep_map.plain
            assert shown.startswith(f"{lane} ({number} of 3, a: next): test accuracy")
            assert "no mean-field prediction drawn" in shown and "6xi" not in shown
            assert f"{lane}, depth 12, sigma_w^2" in shown
            said = " ".join(shown.split())
            assert f"no mean-field prediction (+{lane[5:]})" in said and "theory:" not in said
            assert max(map(len, shown.splitlines())) <= 80
            assert sweep_map.size.height <= app.tabs.sweep.size.height
        await pilot.press("a", "a", "enter")  # the bn lane's cell, opened as a run
        await pilot.pause()
        config = app.sidebar.read_config()
        assert config == spec.config(Task("tanh", max(spec.depths), 0, "bn"))
        assert "tanh-var:1.76+bn" in config.setup_names
        assert all(setup.batch_norm and not setup.residual for setup in config.setups)


async def test_a_cell_appended_to_cells_jsonl_appears_live(mnist, tmp_path, results):
    deepest = [t for t in SPEC.tasks() if t.depth == max(SPEC.depths)]
    others = [t for t in SPEC.tasks() if t not in deepest]
    path = write_sweep(tmp_path, results, others)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        depth = max(SPEC.depths)
        waiting = [mark({"test_accuracy": None}, depth, w) for w in SPEC.weight_variances]
        assert waiting[0] == "(.)" and set(waiting[1:]) == {"."}
        assert grid(sweep_map.plain)[depth] == waiting
        folder = SweepFolder.open(path)
        folder.add_task(deepest[0], results[deepest[0]], None)  # one seed: no cell line yet
        await wait_until(
            pilot, lambda: "1 of 2 seeds in" in sweep_map.plain, "the seed counted in the readout"
        )
        assert grid(sweep_map.plain)[depth] == waiting
        folder.close()
        # The second seed's lines and the cell lines, as the writer would append them (written
        # in a copy), appended here in two parts: a writer caught mid-line is waited for.
        copy = shutil.copytree(path, tmp_path / "copy")
        writer = SweepFolder.open(copy)
        writer.add_task(deepest[1], results[deepest[1]], None)
        writer.close()
        before = (path / "cells.jsonl").stat().st_size
        new = (copy / "cells.jsonl").read_bytes()[before:]
        with open(path / "cells.jsonl", "ab") as cells_file:
            cells_file.write(new[:40])
            cells_file.flush()
            await pilot.pause(0.6)
            assert grid(sweep_map.plain)[depth] == waiting
            cells_file.write(new[40:])
        cells = cells_of(path)
        expected = [mark(cells[depth, w], depth, w) for w in SPEC.weight_variances]
        await wait_until(
            pilot, lambda: grid(sweep_map.plain)[depth] == expected, "the new cells drawn"
        )
        assert f"{len(cells)}/{SPEC.cell_count} cells" in sweep_map.plain


async def test_the_cursor_reads_its_cell(mnist, tmp_path, results):
    path = write_sweep(tmp_path, results)
    cells = cells_of(path)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        columns, depths = SPEC.weight_variances, sorted(SPEC.depths)
        # It starts at the deepest row, in the column nearest the critical sigma_w^2.
        assert sweep_map.cursor.key(SPEC) == ("tanh", depths[-1], 1.76)
        await pilot.press("down", "left_square_bracket", "left")  # depth 6, sigma_w^2 0.5
        key = sweep_map.cursor.key(SPEC)
        assert key == ("tanh", depths[-2], columns[0])
        cell = cells[key[1:]]
        text = sweep_map.plain
        assert f"tanh, depth {key[1]}, sigma_w^2 {columns[0]:g}:" in text
        assert f"test {format_percent(cell['test_accuracy'])}" in text
        assert f"train {format_percent(cell['train_accuracy'])}" in text
        for finding in cell["diagnosis"]:
            assert finding in text
        low, high = sorted(cell["per_seed_test_accuracy"])
        assert f"2 seeds: {format_percent(low)} to {format_percent(high)}" in text
        limit = theory("tanh", columns[0], SPEC.bias_variance).trainable_depth
        assert f"6 xi_c {limit:.0f}" in text
        assert ("agrees" if cell["agrees"] else "disagrees") in text
        row = next(line for line in text.splitlines() if re.match(rf"\s*{key[1]} > ", line))
        assert re.search(rf"\[ *\(?{digit(cell)}\)? *\]", row)  # brackets: no colour needed
        await pilot.press("right_curly_bracket", "right_square_bracket", "right")  # { } [ ]
        assert sweep_map.cursor.key(SPEC) == ("tanh", depths[-1], columns[2])
        await pilot.press(*["up"] * 5, *["right"] * 9)  # stays on the grid
        assert sweep_map.cursor.key(SPEC) == ("tanh", depths[-1], columns[-1])


async def test_opening_a_cell_puts_its_run_in_the_sidebar_and_r_reproduces_the_sweep(
    mnist, tmp_path, results
):
    path = write_sweep(tmp_path, results)
    cells = cells_of(path)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_sweep_tab(pilot, app)
        await pilot.press("down", "right", "enter")  # depth 6, sigma_w^2 3
        await pilot.pause()
        config = app.sidebar.read_config()
        assert config == SPEC.config(Task("tanh", sorted(SPEC.depths)[-2], 0))
        assert config.hidden == (16,) * 6 and config.bias_variance == 0.05
        assert "tanh-var:3" in config.setup_names
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        summary = read_summary(app.current_run.path)
    final = {s["setup"]: s["final_test_accuracy"] for s in summary["setups"]}
    for w in SPEC.weight_variances:  # the same numbers as the sweep's seed 0
        assert final[f"tanh-var:{w:g}"] == cells[6, w]["per_seed_test_accuracy"][0]


async def test_the_tab_follows_the_newest_sweep_folder(mnist, tmp_path, results):
    older = write_sweep(tmp_path, results)
    (tmp_path / "20990101-000000-notasweep").mkdir()  # not a sweep folder: ignored
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sweep_map = await show_sweep_tab(pilot, app)
        assert older.name in sweep_map.plain
        newer = SweepFolder.create(tmp_path, replace(SPEC, depths=(3,)))
        assert newer.path.name >= older.name  # the same second: the -2 suffix comes later
        newer.close()
        await wait_until(pilot, lambda: newer.path.name in sweep_map.plain, "the newer sweep")
        assert sorted(grid(sweep_map.plain)) == [3]


async def test_with_no_sweep_one_line_says_how_to_start_one(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(SWEEP_KEY)
        await pilot.pause()
        text = app.tabs.sweep.map.plain
        assert text.startswith("No sweep in runs/: w starts a quick one")
        assert len(text.splitlines()) == 1


NO_DASK = """
import asyncio, sys
from pathlib import Path
from vgtui.core.config import RunConfig
from vgtui.core.data import load_bundled
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.tabs import TAB_IDS

async def main():
    app = VgtuiApp(RunConfig(), load_bundled(), Path(sys.argv[1]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(str(TAB_IDS.index("sweep") + 1))
        while app.tabs.sweep.state is None:
            await asyncio.sleep(0.05)
        await pilot.press("down", "enter")
        assert app.sidebar.read_config().hidden == (16,) * 6

asyncio.run(main())
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))))
"""


def test_the_app_follows_a_sweep_without_importing_dask(tmp_path):
    SweepFolder.create(tmp_path, SPEC).close()
    result = subprocess.run(
        [sys.executable, "-c", NO_DASK, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def group_members(pgid: int) -> list[int]:
    """The processes whose process group is ``pgid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def wait_for(condition, what: str, seconds: float = GIVE_UP_SECONDS) -> None:
    """Poll ``condition`` until it holds (fails if it does not within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_a_sweep_started_from_the_tab_is_stopped_with_its_group_when_the_app_quits(
    mnist, tmp_path
):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(SWEEP_KEY, "w")
        process = app.tabs.sweep.process
        assert process is not None and process.running()
        assert process.popen.args[1:4] == ["-m", "vgtui", "sweep"]
        assert process.popen.args[-3:] == ["quick", "--out", str(tmp_path)]
        assert os.getpgid(process.pid) == process.pid  # its own group and session
        await wait_until(
            pilot, lambda: len(group_members(process.pid)) > 1, "the sweep's helper processes"
        )
        await pilot.press("w")  # one at a time
        assert app.tabs.sweep.process is process
        await pilot.press("q")
    assert process not in SweepProcess.live
    # Killed processes take a moment to go, longer on a busy machine: wait for the state.
    wait_for(lambda: process.popen.poll() is not None, "the sweep's end")
    assert process.popen.returncode in (-signal.SIGTERM, -signal.SIGKILL, 143)
    wait_for(lambda: group_members(process.pid) == [], "the sweep's group gone")


EXITS_WITH_A_SWEEP = """
import sys
from pathlib import Path
from vgtui.ui.sweep.process import SweepProcess
process = SweepProcess("quick", Path(sys.argv[1]))
print(process.pid, flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_started_sweep_is_stopped_with_its_group_when_python_exits(tmp_path):
    """The exit hook comes with the first process (not at import) and still stops it."""
    result = subprocess.run(
        [sys.executable, "-c", EXITS_WITH_A_SWEEP, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    pid = int(result.stdout)
    wait_for(lambda: group_members(pid) == [], "the sweep's group gone")
    for folder in sweep_folders(tmp_path):  # stopped, not finished
        cells = [line for line in read_cells(folder) if line["kind"] == "cell"]
        assert len(cells) < PRESETS["quick"].cell_count
