"""Regenerate the README screenshots: a real default run in the app, saved as SVG, then PNG;
and two real runs (the exact gradient and the notebook's) compared in the saved-runs view.

Run from the repository root with the dev venv: ``.venv/bin/python assets/make_screenshots.py``
(``... compare`` for the comparison only; ``... profile`` for the Profile tab at 80x24;
``... remedies`` for the notebook-remedies preset
at 120x40; ``... sweep [RUNS]`` for the Sweep tab on the newest
sweep under RUNS, default runs, after ``vgtui sweep``). Needs ``rsvg-convert`` (Debian:
librsvg2-bin).
librsvg ignores SVG ``textLength`` and draws braille (the chart dots) in a wider fallback font,
so every braille character is placed in its own terminal cell before converting
(vgtui.ui.saved.svg, as ``vgtui export --svg`` does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from vgtui.core.blas import limit_blas_threads
from vgtui.core.config import PRESETS, RunConfig, parse_setups
from vgtui.core.data import load_bundled
from vgtui.core.run import Run
from vgtui.ui.app import VgtuiApp
from vgtui.ui.saved.screen import SavedRunsApp, SavedRunsScreen, read_all
from vgtui.ui.saved.svg import place_braille_in_cells

ASSETS = Path(__file__).resolve().parent


async def shoot(
    size: tuple[int, int],
    shots: list[tuple[tuple[str, ...], str]],
    config: RunConfig | None = None,
) -> None:
    # a relative results folder, so the status line reads "results in runs/..." as a user's does
    os.chdir(tempfile.mkdtemp())
    app = VgtuiApp(config or RunConfig(), load_bundled(), Path("runs"))
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        while app.run_state != "done":
            await asyncio.sleep(0.2)
        await pilot.pause(0.3)
        app.clear_notifications()
        for keys, name in shots:
            if keys:
                await pilot.press(*keys)
            while keys == ("7",) and not app.tabs.profile.initial:  # the profile at init
                await asyncio.sleep(0.2)
            await pilot.pause(0.5)
            with tempfile.TemporaryDirectory() as folder:
                svg = Path(app.save_screenshot(filename=f"{name}.svg", path=folder))
                to_png(svg, name)
        await pilot.press("q")


def to_png(svg: Path, name: str) -> None:
    svg.write_text(place_braille_in_cells(svg.read_text()))
    png = ASSETS / f"{name}.png"
    subprocess.run(["rsvg-convert", "--zoom", "0.85", str(svg), "-o", str(png)], check=True)


async def shoot_comparison(size: tuple[int, int] = (120, 32)) -> None:
    """Two real runs, the exact gradient and the notebook's, on the overlay (the sigmoid setups,
    which the notebook's gradient changes, and relu-he for reference)."""
    dataset, root = load_bundled(), Path(tempfile.mkdtemp())
    paths = []
    for notebook in (False, True):
        setups = parse_setups("sigmoid-gauss,sigmoid-xavier,relu-he")
        config = RunConfig(notebook_grad=notebook, setups=setups)
        run = Run(config, dataset, root / str(notebook))
        run.execute()
        paths.append(run.path)
    app = SavedRunsApp(SavedRunsScreen(read_all(paths)))
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await pilot.pause(0.5)
        with tempfile.TemporaryDirectory() as folder:
            to_png(Path(app.save_screenshot(filename="compare.svg", path=folder)), "compare")
        await pilot.press("q")


async def shoot_sweep(root: Path, size: tuple[int, int] = (120, 40)) -> None:
    """The Sweep tab on the newest sweep under ``root`` (a real ``vgtui sweep`` run), cursor
    at its start (the deepest row, the column nearest the critical sigma_w^2)."""
    from vgtui.ui.charts.tabs import TAB_IDS

    app = VgtuiApp(RunConfig(), load_bundled(), root)
    async with app.run_test(size=size) as pilot:
        await pilot.press(str(TAB_IDS.index("sweep") + 1))
        while app.tabs.sweep.state is None:
            await asyncio.sleep(0.1)
        await pilot.pause(0.5)
        with tempfile.TemporaryDirectory() as folder:
            svg = Path(app.save_screenshot(filename="sweep.svg", path=folder))
            # librsvg drops the leading spaces of a text run (the critical marker's line)
            svg.write_text(svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1))
            to_png(svg, "sweep")
        await pilot.press("q")


async def main() -> None:
    if sys.argv[1:2] == ["sweep"]:  # sweep [RUNS]: after vgtui sweep --out RUNS
        await shoot_sweep(Path(sys.argv[2] if len(sys.argv) > 2 else "runs"))
        return
    if sys.argv[1:] == ["profile"]:
        await shoot((80, 24), [(("7",), "profile-80x24")])
        return
    if sys.argv[1:] == ["remedies"]:
        await shoot((120, 40), [((), "remedies")], PRESETS["notebook-remedies"].config)
        return
    await shoot_comparison()
    if sys.argv[1:] == ["compare"]:
        return
    await shoot(
        (120, 40),
        [
            ((), "accuracy"),
            (("3",), "gradients"),
            (("2",), "overlay"),
            (("4",), "summary"),
            (("6",), "activations"),
        ],
    )
    await shoot((80, 24), [((), "compact-80x24"), (("7",), "profile-80x24")])


if __name__ == "__main__":
    if shutil.which("rsvg-convert") is None:
        sys.exit(
            "make_screenshots: rsvg-convert is not installed; it turns the SVG screenshots into "
            "PNG (Debian/Ubuntu: sudo apt install librsvg2-bin)"
        )
    limit_blas_threads(1)  # the entry points' policy, as the vgtui command sets it
    asyncio.run(main())
