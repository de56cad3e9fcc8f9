"""The Sweep tab on a damaged sweep folder (issue 23 item 7): a cell line whose accuracy is
"x", 1e308, Infinity or a list of text is damage the follower skips; the cursor moves across
those cells and reads them as not run, the app does not crash."""

from __future__ import annotations

import json
from dataclasses import replace

from tests.ui.apptools import SHORT, wait_until
from vgtui.core.sweep.folder import CELLS_FILE, SweepFolder
from vgtui.core.sweep.lines import cell_line
from vgtui.core.sweep.spec import PRESETS
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.tabs import TAB_IDS

SWEEP_KEY = str(TAB_IDS.index("sweep") + 1)
SPEC = replace(PRESETS["quick"], width=16)
SEED = {"kind": "seed", "status": "done", "test_accuracy": 0.6, "train_accuracy": 0.6,
        "seed": 0, "setup_status": "learned", "diagnosis": ["healthy"]}  # fmt: skip


def cell(depth: int, weight_variance: float) -> dict:
    seed = {**SEED, "activation": "tanh", "depth": depth, "weight_variance": weight_variance}
    return cell_line(SPEC, "tanh", depth, weight_variance, [seed])


async def test_the_cursor_moves_across_damaged_cells_without_a_crash(mnist, tmp_path):
    deepest = max(SPEC.depths)
    damaged = {
        1.76: {"test_accuracy": "x"},
        3.0: {"test_accuracy": 1e308},
        6.0: {"per_seed_test_accuracy": ["x"], "test_accuracy_std": 1e308},
        1.0: {"train_accuracy": "Infinity"},
    }
    folder = SweepFolder.create(tmp_path, SPEC)
    folder.close()
    lines = []
    for depth in SPEC.depths:
        for w in SPEC.weight_variances:
            line = cell(depth, w)
            if depth == deepest and w in damaged:
                line.update(damaged[w])
            lines.append(json.dumps(line).replace('"Infinity"', "Infinity"))
    (folder.path / CELLS_FILE).write_text("\n".join(lines) + "\n")

    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(SWEEP_KEY)
        sweep_map = app.tabs.sweep.map
        await wait_until(pilot, lambda: app.tabs.sweep.state is not None, "the sweep read")
        await pilot.pause()
        assert sweep_map.cursor.key(SPEC) == ("tanh", deepest, 1.76)
        assert f"tanh, depth {deepest}, sigma_w^2 1.76: not run yet" in sweep_map.plain
        for key, shown in (("right", 3), ("right", 6), ("left", 3), ("left", 1.76), ("left", 1),
                           ("left", 0.5)):  # fmt: skip
            await pilot.press(key)
            await pilot.pause()
            text = sweep_map.plain
            if shown == 0.5:
                assert "sigma_w^2 0.5: test 60" in text
            else:
                assert f"tanh, depth {deepest}, sigma_w^2 {shown:g}: not run yet" in text
        await pilot.press("down")  # a whole row of good cells above
        await pilot.pause()
        assert "test 60" in sweep_map.plain
        assert app.is_running
