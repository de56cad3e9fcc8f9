"""Evaluation shared with helper processes: same counts, failures survived, nothing left behind."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tests.reference import expected_counts
from vgtui.core.bank import NetworkBank
from vgtui.core.config import RunConfig, SetupSpec, parse_setups
from vgtui.core.eval_blocks import dataset_blocks
from vgtui.core.evaluation import helpers as helper_evaluator
from vgtui.core.evaluation.helpers import HelperEvaluator
from vgtui.core.evaluation.interface import MAX_LANES, available_cores, make_evaluator
from vgtui.core.evaluation.local import LocalEvaluator
from vgtui.core.evaluation.shared import CLAIMED
from vgtui.core.trainer import Trainer

SIZES = (784, 40, 20, 10)
SETUPS = [SetupSpec("sigmoid", "gauss"), SetupSpec("relu", "he"), SetupSpec("tanh", "xavier")]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="helper processes need POSIX")


def make_pool(mnist, helpers: int) -> tuple[NetworkBank, HelperEvaluator]:
    bank = NetworkBank(SIZES, SETUPS, np.random.default_rng(3))
    return bank, HelperEvaluator(dataset_blocks(mnist), helpers=helpers, entries=3)


def kill_helper(pool: HelperEvaluator) -> None:
    pid = pool.helper_pids[0]
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_helper_evaluates_whole_snapshots_with_the_same_counts(mnist):
    bank, pool = make_pool(mnist, helpers=1)
    try:
        for _ in range(3):
            evaluation = pool.start(bank.evaluation_snapshot())
            assert len(pool.helper_pids) == 1
            # This thread takes no block: the helper must do them all.
            assert wait_until(lambda e=evaluation: e.finished)
            assert np.array_equal(evaluation.counts(), expected_counts(mnist, bank))
            bank.params.flat[:] *= np.float32(1.01)  # the next snapshot differs
    finally:
        pool.close()


def test_a_helper_evaluates_batch_norm_and_shortcuts_as_this_thread(mnist):
    """Batch norm is folded into the snapshot; the shortcuts the helper learns of from the
    shared layout."""
    setups = parse_setups("sigmoid-xavier+res,tanh-xavier+bn,relu-he+bn+res@adam:0.001")
    bank = NetworkBank((784, 30, 30, 30, 10), setups, np.random.default_rng(3))
    blocks = dataset_blocks(mnist)
    pool = HelperEvaluator(blocks, helpers=1, entries=3)
    try:
        snapshot = bank.evaluation_snapshot()
        evaluation = pool.start(snapshot)
        assert wait_until(lambda: evaluation.finished)  # the helper did every block
        alone = LocalEvaluator(blocks).start(snapshot)
        while alone.help_one():
            pass
        assert np.array_equal(evaluation.counts(), alone.counts())
    finally:
        pool.close()


def test_work_is_shared(mnist):
    bank, pool = make_pool(mnist, helpers=1)
    try:
        evaluation = pool.start(bank.evaluation_snapshot())
        taken_here = 0
        while evaluation.help_one():
            taken_here += 1
        assert taken_here > 0  # this thread did some blocks, the helper may have done others
        assert np.array_equal(evaluation.counts(), expected_counts(mnist, bank))
    finally:
        pool.close()


def test_a_block_this_thread_left_unfinished_is_done_when_finishing(mnist):
    """Ctrl-C may hit between claiming a block and completing it."""
    bank, pool = make_pool(mnist, helpers=1)
    try:
        evaluation = pool.start(bank.evaluation_snapshot())
        orphan = evaluation.shared.claim()
        assert orphan is not None
        assert np.array_equal(evaluation.counts(), expected_counts(mnist, bank))
    finally:
        pool.close()


def test_a_helper_that_dies_is_replaced_by_this_thread(mnist):
    bank, pool = make_pool(mnist, helpers=1)
    try:
        evaluation = pool.start(bank.evaluation_snapshot())
        # A block claimed by a helper that then dies before completing it.
        assert evaluation.shared.claim(CLAIMED) is not None
        kill_helper(pool)
        assert np.array_equal(evaluation.counts(), expected_counts(mnist, bank))
        assert len(pool.helper_pids) == 0
        again = pool.start(bank.evaluation_snapshot())
        assert np.array_equal(again.counts(), expected_counts(mnist, bank))
    finally:
        pool.close()


def test_a_dead_helper_is_noticed_at_the_next_evaluation(mnist):
    bank, pool = make_pool(mnist, helpers=1)
    try:
        pool.start(bank.evaluation_snapshot()).counts()  # helpers started
        kill_helper(pool)
        evaluation = pool.start(bank.evaluation_snapshot())
        assert len(pool.helper_pids) == 0
        assert np.array_equal(evaluation.counts(), expected_counts(mnist, bank))
    finally:
        pool.close()


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_the_factory_starts_a_helper_per_further_core(mnist):
    cores = available_cores()
    evaluator = make_evaluator(dataset_blocks(mnist))
    if cores == 1:
        assert isinstance(evaluator, LocalEvaluator)
    else:
        assert isinstance(evaluator, HelperEvaluator)
    assert isinstance(make_evaluator([], cores=1), LocalEvaluator)
    trainer = Trainer(
        RunConfig(iterations=10, eval_every=10), mnist, np.random.default_rng(0), evaluator
    )
    trainer.run(lambda records: None)
    assert len(getattr(evaluator, "helper_pids", [])) == min(MAX_LANES, cores) - 1
    trainer.close()


def test_close_and_garbage_collection_end_the_helpers(mnist):
    def trainer_with_a_helper() -> Trainer:
        evaluator = HelperEvaluator(dataset_blocks(mnist), helpers=1)
        config = RunConfig(iterations=10, eval_every=10)
        return Trainer(config, mnist, np.random.default_rng(0), evaluator)

    trainer = trainer_with_a_helper()
    trainer.run(lambda records: None)
    helpers = trainer.evaluator.helper_pids
    assert len(helpers) == 1
    trainer.close()
    assert all(gone(pid) for pid in helpers)

    dropped = trainer_with_a_helper()
    dropped.run(lambda records: None)
    helpers = dropped.evaluator.helper_pids
    del dropped
    gc.collect()
    assert wait_until(lambda: all(gone(pid) for pid in helpers), 10)


def test_helpers_with_and_without_give_identical_records(mnist):
    config = RunConfig(iterations=40, eval_every=10)

    def records(helpers: int) -> list:
        blocks = dataset_blocks(mnist)
        evaluator = HelperEvaluator(blocks, helpers) if helpers else LocalEvaluator(blocks)
        trainer = Trainer(config, mnist, np.random.default_rng(5), evaluator)
        collected: list = []
        trainer.run(collected.extend)
        trainer.close()
        return [(r.iteration, r.setup, r.test_accuracy, r.train_loss) for r in collected]

    alone = records(0)
    assert records(1) == alone
    assert records(2) == alone  # as on a machine with three cores or more


def test_a_script_without_a_main_guard_trains_with_helpers(tmp_path):
    """Helpers never re-run the program's main module (multiprocessing's spawn would)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from vgtui.core.config import RunConfig
            from vgtui.core.data import load_bundled
            from vgtui.core.trainer import Trainer

            print("main module ran")
            trainer = Trainer(RunConfig(iterations=20, eval_every=10), load_bundled(),
                              np.random.default_rng(0))
            records = []
            trainer.run(records.extend)
            print("helpers", len(getattr(trainer.evaluator, "helper_pids", [])),
                  "records", len(records))
            trainer.close()
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("main module ran") == 1
    assert "records 8" in done.stdout
    assert done.stderr == ""


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_ctrl_c_on_a_headless_run_leaves_no_helper_behind(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "vgtui", "--no-ui", "--json", "--iters", "1000000"]
        + ["--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        process.stdout.readline()  # the first evaluation has started the helpers
        helpers = children_of(process.pid)
        assert helpers, "no helper process"
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), 10)


def test_without_shared_memory_or_processes_this_thread_does_it_all(mnist, monkeypatch):
    evaluation = helper_evaluator
    launches = []
    launch = evaluation._launch_helper

    def counted_launch(shared: int):
        launches.append(shared)
        return launch(shared)

    for broken in ("shared file", "interpreter"):
        with monkeypatch.context() as patch:
            if broken == "shared file":
                patch.setattr(evaluation, "shared_file", lambda size: None)
            else:
                patch.setattr(evaluation.sys, "executable", "/nonexistent/python")
                patch.setattr(evaluation, "_launch_helper", counted_launch)
            bank, pool = make_pool(mnist, helpers=1)
            try:
                for _ in range(2):
                    evaluation_ = pool.start(bank.evaluation_snapshot())
                    assert len(pool.helper_pids) == 0
                    counts = evaluation_.counts()
                    assert np.array_equal(counts, expected_counts(mnist, bank))
            finally:
                pool.close()
    assert len(launches) == 1  # a failed start is not retried at every evaluation


def test_a_helper_runs_on_one_blas_thread():
    """A helper process's main loop limits every BLAS in it to one thread, whatever the process
    started with (as threadpoolctl sees them): here a process that serves as a helper, given
    a shared file and told to stop after it has set up."""
    code = textwrap.dedent(
        """
        import json, os, socket
        from multiprocessing.connection import Connection
        from threadpoolctl import threadpool_info
        from vgtui.core.evaluation.helpers import serve
        from vgtui.core.evaluation.shared import SharedLayout, shared_file

        def blas_pools():
            return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

        layout = SharedLayout((784, 40, 10), ("relu",), ((785, 10, 0, 0),), entries=1)
        ours, theirs = socket.socketpair()
        trainer = Connection(ours.detach())
        trainer.send(layout)
        trainer.send(None)  # stop at the first announcement
        before = blas_pools()
        serve(theirs.detach(), shared_file(layout.size()), os.getppid())
        print(json.dumps([before, blas_pools()]))
        """
    )
    two = {"OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "BLIS_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **two}
    )
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout.splitlines()[-1])
    if not before:
        pytest.skip("threadpoolctl finds no BLAS here")
    assert before == [2] * len(before)  # the environment's two threads, so the limit shows
    assert after == [1] * len(before)
