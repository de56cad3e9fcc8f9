"""``vgtui sweep``: the grid and its parsing, an embedded LocalCluster end to end, Ctrl-C then
--resume, an unreachable scheduler, and a real scheduler with two workers, one killed mid-sweep.
Sweeps here are tiny (few iterations, narrow and shallow networks)."""

from __future__ import annotations

import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.sweeptools import DASK, TINY, env, start_scheduler
from vgtui.cli.sweep import main as sweep_main
from vgtui.core.config import ConfigError
from vgtui.core.sweep.folder import SweepFolder, read_cells
from vgtui.core.sweep.spec import SweepSpec, Task, parse_depths, parse_weight_variances
from vgtui.core.sweep.task import run_task
from vgtui.core.sweep.text import heatmap

VGTUI = Path(sys.executable).parent / "vgtui"


def lines_of(folder: Path) -> list[dict]:
    return read_cells(folder)


def sweep_folders(out: Path) -> list[Path]:
    return sorted(out.glob("*-sweep")) if out.exists() else []


# -- start-up ----------------------------------------------------------------------------------


def test_startup_does_not_load_dask():
    code = (
        "import sys\n"
        "import vgtui.cli.train, vgtui.cli.main\n"
        "sys.argv = ['vgtui', '--help']\n"
        "try:\n"
        "    vgtui.cli.main.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('distributed', 'dask'))\n"
        "print(','.join(loaded), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr.strip() == ""


# -- the grid and its parsing ------------------------------------------------------------------


def test_axes_parse_ranges_and_lists():
    assert parse_weight_variances("1:4:13")[:3] == (1.0, 1.25, 1.5)
    assert len(parse_weight_variances("1:4:13")) == 13
    assert parse_weight_variances("2,0.5,1") == (0.5, 1.0, 2.0)
    assert parse_depths("10:100:10") == tuple(range(10, 101, 10))
    assert parse_depths("5,2,2") == (2, 5)
    for bad in ("1:4", "4:1:3", "a:b:3", "1:4:0", "1,,2", "", "0,1", "1:2:x"):
        with pytest.raises(ConfigError):
            parse_weight_variances(bad)
    for bad in ("10:100", "0:5:3", "2.5", "x", "1:10:2:3"):
        with pytest.raises(ConfigError):
            parse_depths(bad)


def test_one_task_trains_every_weight_variance_in_one_bank():
    spec = SweepSpec(weight_variances=(1.0, 2.0), depths=(3, 7), seeds=2, width=8)
    tasks = spec.tasks()
    assert len(tasks) == 4 and tasks[0].depth == 7  # the most expensive first
    config = spec.config(Task("tanh", 3, 1))
    assert config.hidden == (8, 8, 8) and config.seed == 1 and config.bias_variance == 0.05
    assert config.setup_names == ("tanh-var:1", "tanh-var:2")


@pytest.mark.parametrize(
    "args",
    [["--weight-var", "1:4"], ["--depths", "10:5:3"], ["--weight-var", "a:b:3"],
     ["--depths", "0,2"], ["--activations", "tanh,softmax"], ["--lr", "0"]],
)  # fmt: skip
def test_malformed_input_exits_2_before_any_work(args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        sweep_main([*args, "--out", str(tmp_path / "runs")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("vgtui: error:")
    assert not (tmp_path / "runs").exists()


# -- embedded LocalCluster end to end ----------------------------------------------------------


def test_local_cluster_sweep_end_to_end(tmp_path, capsys):
    out = tmp_path / "runs"
    code = sweep_main([*TINY, "--depths", "2,4", "--seeds", "2", "--workers", "2",
                       "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (folder,) = sweep_folders(out)
    document = json.loads((folder / "sweep.json").read_text())
    assert {"vgtui", "numpy", "dask", "distributed"} <= document["versions"].keys()
    lines = lines_of(folder)
    seeds = [line for line in lines if line["kind"] == "seed"]
    cells = [line for line in lines if line["kind"] == "cell"]
    assert len(seeds) == 2 * 2 * 3 and len(cells) == 2 * 3
    assert {(c["depth"], c["weight_variance"]) for c in cells} == {
        (d, w) for d in (2, 4) for w in (0.5, 1.76, 4.0)
    }
    for cell in cells:
        assert cell["seeds_done"] == 2 and len(cell["per_seed_test_accuracy"]) == 2
        assert cell["test_accuracy_min"] <= cell["test_accuracy"] <= cell["test_accuracy_max"]
        assert isinstance(cell["diagnosis"], list) and "agrees" in cell
    stdout = captured.out
    assert all(len(line) <= 80 for line in stdout.splitlines())
    assert re.search(r"Agreement with theory: \d+/6 cells \(\d+%\)", stdout)
    assert "critical sigma_w^2" in stdout and "6xi_c" in stdout
    assert "[4/4]" in captured.err
    said = " ".join(stdout.split())
    for threshold in (0.5, 0.6, 0.7):  # the scores, recomputed here from each seed's accuracy
        means = [(c["depth"], statistics.fmean(c["per_seed_test_accuracy"]),
                  c["predicted_trains"]) for c in cells]  # fmt: skip
        outcome = [(d, m >= threshold, p) for d, m, p in means]  # no seed diverges here
        theory = sum(t == p for _, t, p in outcome)
        always = sum(t for _, t, _ in outcome)
        rules = {None: sum(not t for _, t, _ in outcome)}
        rules.update({D: sum((d <= D) == t for d, t, _ in outcome) for D in (2, 4)})
        best = max(rules.values())
        limit = next(D for D, right in rules.items() if right == best)
        rule = "never" if limit is None else f"<= {limit}"
        assert (f"Trains at >= {100 * threshold:.0f}%: theory {theory}/6, always {always}/6, "
                f"depth {rule} {best}/6.") in said  # fmt: skip
    sd_grid = stdout.split("sd of test accuracy over 2 seeds, in points")[1].splitlines()[2:4]
    for row, depth in zip(sd_grid, (4, 2), strict=True):
        shown = row.split()
        assert shown[0] == str(depth)
        expected = [
            f"{100 * statistics.stdev(c['per_seed_test_accuracy']):.0f}"
            for w in (0.5, 1.76, 4.0)
            for c in cells
            if (c["depth"], c["weight_variance"]) == (depth, w)
        ]
        assert shown[1:] == expected


def test_heatmap_fits_80_columns_for_many_columns():
    spec = SweepSpec(weight_variances=tuple(0.5 + 0.1 * k for k in range(40)), depths=(5, 50))
    assert all(len(line) <= 80 for line in heatmap(spec, {}).splitlines())


# -- Ctrl-C, then --resume ---------------------------------------------------------------------


def finished_lines(out: Path) -> int:
    """Lines in the sweep's cells file so far (the folder appears before the file does)."""
    folders = sweep_folders(out)
    return len(read_cells(folders[0])) if folders else 0


def test_interrupt_keeps_finished_cells_and_resume_runs_only_the_rest(tmp_path):
    out = tmp_path / "runs"
    command = [str(VGTUI), "sweep", *TINY, "--depths", "1:6:6", "--iters", "120", "--seeds",
               "1", "--workers", "1", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if finished_lines(out) >= 3:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    (folder,) = sweep_folders(out)
    before = lines_of(folder)
    done_before = SweepFolder.open(folder).finished_tasks()
    assert 1 <= len(done_before) < 6, "interrupted too late to test resume"
    result = subprocess.run(
        [str(VGTUI), "sweep", "--resume", str(folder), "--workers", "1"],
        capture_output=True, text=True, env=env(), timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{6 - len(done_before)} of 6 tasks to run" in result.stderr
    after = lines_of(folder)
    assert after[: len(before)] == before
    seeds = [(s["depth"], s["weight_variance"], s["seed"]) for s in after if s["kind"] == "seed"]
    assert len(seeds) == len(set(seeds)) == 6 * 3  # no task ran twice
    assert len(SweepFolder.open(folder).cells()) == 6 * 3


# -- schedulers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_scheduler_is_one_line_and_exit_1(tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [str(VGTUI), "sweep", *TINY, "--depths", "2", "--out", str(tmp_path / "runs"),
         "--scheduler", f"tcp://127.0.0.1:{free_port()}", "--connect-timeout", "0.5"],
        capture_output=True, text=True, env=env(), timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot reach the Dask scheduler" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_real_scheduler_survives_a_killed_worker(tmp_path):
    processes: list[subprocess.Popen] = []
    try:
        scheduler, address = start_scheduler(tmp_path / "scheduler.log")
        processes.append(scheduler)
        quiet = {**env(), "DASK_LOGGING__DISTRIBUTED": "error"}
        workers = [
            subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=quiet,
            )
            for _ in range(2)
        ]
        processes += workers
        out = tmp_path / "runs"
        sweep = subprocess.Popen(
            [str(VGTUI), "sweep", *TINY, "--depths", "1:6:6", "--iters", "60",
             "--scheduler", address, "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
        )  # fmt: skip
        processes.append(sweep)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and sweep.poll() is None:
            if finished_lines(out) >= 1:
                break
            time.sleep(0.02)
        workers[0].kill()  # mid-sweep: its task, if any, goes to the other worker
        _, err = sweep.communicate(timeout=60)
        assert sweep.returncode == 0, err
        (folder,) = sweep_folders(out)
        seen = {
            (s["depth"], s["weight_variance"]): s["test_accuracy"]
            for s in lines_of(folder)
            if s["kind"] == "seed"
        }
        assert len(seen) == 6 * 3
        spec = SweepFolder.open(folder).spec
        expected = {}
        for task in spec.tasks():  # an undisturbed run, in this process
            for row in run_task(spec.to_dict(), task)["results"]:
                expected[(task.depth, row["weight_variance"])] = row["test_accuracy"]
        assert seen == expected
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.kill()
            process.wait()
