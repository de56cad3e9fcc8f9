"""The one run lifecycle (vgtui.core.run.Run) that the CLI, the app and sweep workers drive."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from vgtui.core.config import RunConfig
from vgtui.core.eval_blocks import dataset_blocks
from vgtui.core.evaluation.local import LocalEvaluator
from vgtui.core.run import Run
from vgtui.core.vocabulary import RunStatus

SHORT = RunConfig(iterations=40, eval_every=10)


def read_summary(run: Run) -> dict:
    return json.loads((run.path / "summary.json").read_text())


def metrics_rows(run: Run) -> list[dict]:
    with (run.path / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


class IterationWatcher:
    """Executes ``run`` on a thread and collects the iterations of its records."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.seen: list[int] = []
        self.arrived = threading.Condition()
        self.worker = threading.Thread(target=run.execute, args=(self.on_records,))
        self.worker.start()

    def on_records(self, records) -> None:
        with self.arrived:
            self.seen.extend(r.iteration for r in records)
            self.arrived.notify_all()

    def wait_for(self, condition) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: condition(self.seen), timeout=60)

    def stop(self, status: RunStatus = RunStatus.INTERRUPTED) -> None:
        self.run.stop(status)
        self.worker.join(30)
        assert not self.worker.is_alive()


def test_a_run_writes_its_folder_and_hands_on_every_record(mnist, tmp_path):
    run = Run(SHORT, mnist, tmp_path)
    seen = []
    assert run.execute(seen.extend) == RunStatus.DONE
    assert [r.iteration for r in seen] == [i for i in (10, 20, 30, 40) for _ in range(4)]
    assert run.records == seen and run.finished.is_set() and run.wall_seconds > 0
    summary = read_summary(run)
    assert summary["status"] == "done" and summary["iterations_done"] == 40
    assert [s["setup"] for s in summary["setups"]] == list(SHORT.setup_names)
    assert [s.setup for s in run.summaries] == list(SHORT.setup_names)
    assert len(metrics_rows(run)) == 16
    assert json.loads((run.path / "config.json").read_text())["config"]["iterations"] == 40


def test_stop_from_another_thread_ends_the_run_as_asked(mnist, tmp_path):
    run = Run(RunConfig(iterations=100_000, eval_every=10), mnist, tmp_path)
    first = threading.Event()
    worker = threading.Thread(target=run.execute, args=(lambda records: first.set(),))
    worker.start()
    try:
        assert first.wait(60)
    finally:
        run.stop(RunStatus.STOPPED)
        worker.join(30)
    assert not worker.is_alive()
    assert run.status == RunStatus.STOPPED
    summary = read_summary(run)
    assert summary["status"] == "stopped"
    assert summary["iterations_done"] == run.iteration >= max(r.iteration for r in run.records) > 0


def test_an_exception_in_the_callback_still_leaves_a_complete_folder(mnist, tmp_path):
    """Ctrl-C or a closed pipe while handing records on: saved, summarised, then re-raised."""
    run = Run(RunConfig(iterations=1000, eval_every=10), mnist, tmp_path)

    def interrupt_at_30(records):
        if records[-1].iteration >= 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.execute(interrupt_at_30)
    assert run.status == RunStatus.INTERRUPTED
    summary = read_summary(run)
    assert summary["status"] == "interrupted" and summary["iterations_done"] >= 30
    assert {int(row["iteration"]) for row in metrics_rows(run)} >= {10, 20, 30}


def test_a_flush_request_writes_the_metrics_with_the_next_records(mnist, tmp_path):
    run = Run(RunConfig(iterations=100_000, eval_every=10), mnist, tmp_path, paused=True)
    watcher = IterationWatcher(run)
    try:
        run.step()  # to iteration 10, then paused: the usual 2 s flush interval has not passed
        watcher.wait_for(lambda seen: 10 in seen)
        assert not (run.path / "metrics.csv").exists()
        run.request_flush()
        run.step()
        watcher.wait_for(lambda seen: 20 in seen)
        assert {int(row["iteration"]) for row in metrics_rows(run)} == {10, 20}
    finally:
        watcher.stop()


def test_steps_queue_up_and_pause_at_evaluation_points(mnist, tmp_path):
    run = Run(RunConfig(iterations=1000, eval_every=10), mnist, tmp_path, paused=True)
    watcher = IterationWatcher(run)
    try:
        for _ in range(3):
            run.step()
        watcher.wait_for(lambda seen: len(seen) >= 12)
        assert sorted(set(watcher.seen)) == [10, 20, 30]
        assert run.iteration == 30
    finally:
        watcher.stop(RunStatus.STOPPED)
    assert read_summary(run)["status"] == "stopped"


def test_a_run_takes_any_evaluator(mnist, tmp_path):
    evaluator = LocalEvaluator(dataset_blocks(mnist))
    local = Run(SHORT, mnist, tmp_path, evaluator=evaluator)
    local.execute()
    default = Run(SHORT, mnist, tmp_path)
    default.execute()

    def numbers(run: Run) -> list[tuple]:
        return [(r.iteration, r.setup, r.test_accuracy, r.train_loss) for r in run.records]

    assert numbers(local) == numbers(default)  # the same whoever evaluates
    assert local.path != default.path  # never the same folder


def test_an_unwritable_out_folder_fails_before_training(mnist, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        Run(SHORT, mnist, blocker)


def test_a_run_needs_no_terminal_ui_or_main_thread(tmp_path):
    """As in a sweep worker: another process, no terminal, the run on a non-main thread."""
    script = textwrap.dedent(
        f"""
        import sys, threading
        from vgtui.core.config import RunConfig
        from vgtui.core.data import load_bundled
        from vgtui.core.run import Run
        run = Run(RunConfig(iterations=20, eval_every=10), load_bundled(), {str(tmp_path)!r})
        result = []
        thread = threading.Thread(target=lambda: result.append(run.execute()))
        thread.start(); thread.join()
        print(result[0], len(run.records))
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["done 8", "[]"]


def test_the_helper_module_can_be_deleted(tmp_path):
    """Without vgtui.core.evaluation.helpers, runs evaluate on their own thread."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["vgtui.core.evaluation.helpers"] = None  # as if the file were deleted
        from vgtui.core.config import RunConfig
        from vgtui.core.data import load_bundled
        from vgtui.core.run import Run
        run = Run(RunConfig(iterations=20, eval_every=10), load_bundled(), {str(tmp_path)!r})
        print(type(run.trainer.evaluator).__name__, run.execute(), len(run.records))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LocalEvaluator", "done", "8"]


def test_building_a_trainer_leaves_the_process_blas_alone():
    """The one-thread BLAS policy belongs to the entry points, not to constructing a Trainer."""
    script = textwrap.dedent(
        """
        import numpy as np
        from vgtui.core.blas import blas_threads, limit_blas_threads
        from vgtui.core.config import RunConfig
        from vgtui.core.data import load_bundled
        from vgtui.core.evaluation.local import LocalEvaluator
        from vgtui.core.trainer import Trainer
        if limit_blas_threads(2) is None:
            print("unknown BLAS")
        else:
            data = load_bundled()
            Trainer(RunConfig(), data, np.random.default_rng(0), LocalEvaluator([]))
            print("threads", blas_threads())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if done.stdout.strip() == "unknown BLAS":
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    assert done.stdout.split() == ["threads", "2"]


BLAS_POOLS = textwrap.dedent(
    """
    import json
    from threadpoolctl import threadpool_info

    def blas_pools():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    """
)
TWO_BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "BLIS_NUM_THREADS": "2"}


def test_the_command_line_runs_on_one_blas_thread(tmp_path):
    """The vgtui entry point limits every BLAS in its process to one thread, whatever the
    process started with (as threadpoolctl sees them)."""
    code = BLAS_POOLS + textwrap.dedent(
        f"""
        import sys
        import numpy
        from vgtui.cli.main import main
        before = blas_pools()
        sys.argv = ["vgtui", "--no-ui", "--iters", "20", "--out", {str(tmp_path)!r}]
        status = main()
        print(json.dumps([before, blas_pools(), status]))
        """
    )
    env = {**os.environ, **TWO_BLAS_THREADS}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    before, after, status = json.loads(done.stdout.splitlines()[-1])
    if not before:
        pytest.skip("threadpoolctl finds no BLAS here")
    assert before == [2] * len(before)  # the environment's two threads, so the limit shows
    assert after == [1] * len(before)
    assert status == 0


def test_layer_statistics_are_saved_streamed_and_read_back(mnist, tmp_path):
    from vgtui.core.store.saved_runs import read_run

    run = Run(SHORT, mnist, tmp_path)
    run.execute()
    rows = list(csv.DictReader((run.path / "layers.csv").open()))
    assert len(rows) == len(run.records) * 3  # every record, every weight layer
    assert set(rows[0]) == {
        "iteration", "setup", "layer", "grad_norm",
        "delta_std", "weight_std", "update_ratio", "grad_zeros",
        "gamma", "beta", "running_mean", "running_std",
    }  # fmt: skip
    assert {r["gamma"] for r in rows} == {""}  # no batch norm in this run
    back = read_run(run.path)
    assert [r.layers for r in back.records] == [r.layers for r in run.records]
    assert all(len(r.layers) == 3 for r in run.records)
    line = json.loads((run.path / "records.jsonl").read_text().splitlines()[0])
    assert len(line["layers"]) == 3 and "update_ratio" in line["layers"][0]
