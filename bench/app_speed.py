"""How live the app is, and what it costs: chart frames per second while the default run trains
in the app, and the app's run time over the headless run's.

    .venv/bin/python bench/app_speed.py [--size 120x40] [--repeats 3] [--json]

Each repeat runs the default configuration (four setups, 2000 iterations) headless (a core
``Run``, as ``vgtui --no-ui`` does) and then in the app under Textual's headless driver at the
given size, interleaved so that machine load hits both alike; times are the runs' own
``wall_seconds`` (start to summary.json). Frames are chart redraws of the visible tab while
training; the longest gap between two frames is reported too, and the share of a core the
app's own thread used meanwhile (drawing, painting, the header), which the trainer loses.
The issue's targets: at least 2 frames per second at 120x40, and an app/headless ratio of at
most 1.15. On a loaded machine the headless times vary a lot: compare the median ratio too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vgtui.core.blas import limit_blas_threads  # noqa: E402
from vgtui.core.config import RunConfig  # noqa: E402
from vgtui.core.data import load_bundled  # noqa: E402
from vgtui.core.run import Run  # noqa: E402
from vgtui.core.vocabulary import RunPhase, RunStatus  # noqa: E402
from vgtui.ui import pacer  # noqa: E402
from vgtui.ui.app import VgtuiApp  # noqa: E402
from vgtui.ui.charts.tabs import ChartTabs  # noqa: E402

FULL = RunConfig()


def headless_seconds(dataset, out_root: Path) -> float:
    run = Run(FULL, dataset, out_root)
    assert run.execute() == RunStatus.DONE
    return run.wall_seconds


async def app_run(dataset, out_root: Path, size: tuple[int, int]) -> dict:
    """The default run started with r in the app; frames counted while it trains."""
    frames: list[float] = []
    original = ChartTabs.redraw_visible

    def counting(self: ChartTabs) -> bool:
        drawn = original(self)
        if drawn and self.app.run_state == RunPhase.RUNNING:
            frames.append(time.perf_counter())
        return drawn

    ChartTabs.redraw_visible = counting  # type: ignore[method-assign]
    try:
        app = VgtuiApp(FULL, dataset, out_root)
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.5)
            started, cpu_started = time.perf_counter(), time.thread_time()
            await pilot.press("r")
            while app.run_state != RunStatus.DONE:  # plain sleeps: no extra work for the app
                await asyncio.sleep(0.1)
            ended, cpu_ended = time.perf_counter(), time.thread_time()
            await pilot.press("q")
    finally:
        ChartTabs.redraw_visible = original  # type: ignore[method-assign]
    assert app.current_run is not None and app.current_run.status == RunStatus.DONE
    gaps = [b - a for a, b in zip([started, *frames], [*frames, ended], strict=True)]
    return {
        "seconds": app.current_run.wall_seconds,
        "frames": len(frames),
        "fps": len(frames) / app.current_run.wall_seconds,
        "longest_gap": max(gaps),
        "ui_cpu_share": (cpu_ended - cpu_started) / (ended - started),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="120x40", help="terminal size of the app (120x40)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=None,
        help="override the pacer's longest wait between frames (s), to compare",
    )
    args = parser.parse_args()
    if args.max_wait is not None:
        pacer.MAX_WAIT_SECONDS = args.max_wait
    width, height = (int(n) for n in args.size.split("x"))
    limit_blas_threads(1)  # the entry points' policy
    dataset = load_bundled()
    headless, in_app = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            headless.append(headless_seconds(dataset, Path(folder) / "headless"))
            in_app.append(await app_run(dataset, Path(folder) / "app", (width, height)))
    best_headless = min(headless)
    best_app = min(run["seconds"] for run in in_app)
    result = {
        "size": args.size,
        "headless_seconds": headless,
        "app_seconds": [run["seconds"] for run in in_app],
        "ratio_best": best_app / best_headless,
        "ratio_median": statistics.median(r["seconds"] for r in in_app)
        / statistics.median(headless),
        "fps": [run["fps"] for run in in_app],
        "longest_gap_seconds": [run["longest_gap"] for run in in_app],
        "ui_cpu_share": [run["ui_cpu_share"] for run in in_app],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"app at {args.size}, default run, {args.repeats} interleaved repeats")
    print("headless s   ", " ".join(f"{t:6.2f}" for t in headless))
    print("app s        ", " ".join(f"{t:6.2f}" for t in result["app_seconds"]))
    print("frames/s     ", " ".join(f"{f:6.1f}" for f in result["fps"]))
    print("longest gap s", " ".join(f"{g:6.2f}" for g in result["longest_gap_seconds"]))
    print("UI thread CPU", " ".join(f"{c:6.1%}" for c in result["ui_cpu_share"]))
    print(
        f"app/headless: best {result['ratio_best']:.3f}, median {result['ratio_median']:.3f}"
        " (target <= 1.15); frames/s target >= 2"
    )


if __name__ == "__main__":
    asyncio.run(main())
