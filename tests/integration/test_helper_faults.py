"""Helper processes that die at any moment, or outlive the trainer: runs still finish with the
records of an undisturbed run, and no helper keeps computing for a trainer that is gone.
Real processes and real signals; every blocking call has a deadline, so a hang fails."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pytest

from tests.reference import expected_counts
from vgtui.core.bank import NetworkBank
from vgtui.core.config import RunConfig, SetupSpec
from vgtui.core.eval_blocks import dataset_blocks
from vgtui.core.evaluation.helpers import HelperEvaluator, SharedPending, _announcements
from vgtui.core.evaluation.shared import CLAIMED
from vgtui.core.trainer import Trainer

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="helper processes, observed through /proc"
)

DEADLINE = 30.0  # seconds: far more than any call here takes unless it hangs
SIZES = (784, 300, 300, 10)  # blocks of ~10 ms: a helper is caught holding a claim at once
SETUPS = [SetupSpec("sigmoid", "gauss"), SetupSpec("relu", "he")]


def within(call: Callable[[], object], seconds: float = DEADLINE) -> object:
    """``call()`` on another thread: its result, or a failure if it has not returned in time."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"no answer after {seconds:.0f} s: hung")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


def wait_until(condition: Callable[[], bool], seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return condition()


def process_state(pid: int) -> str:
    """R, S, T (stopped), Z (ended, not yet reaped)...; X if there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def gone(pid: int) -> bool:
    return process_state(pid) in ("Z", "X")


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    assert wait_until(lambda: process_state(pid) == "T")


def end(pid: int, how: int) -> None:
    """Send ``how`` to helper ``pid`` (stopped or not) and wait until it has died."""
    os.kill(pid, how)
    os.kill(pid, signal.SIGCONT)  # a stopped process acts on SIGTERM once it runs again
    assert wait_until(lambda: gone(pid))


def kill_if_there(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have ended and been reaped
        os.kill(pid, signal.SIGKILL)


def held_claims(evaluation: SharedPending) -> list[int]:
    return evaluation.shared.unfinished_blocks(CLAIMED)


def stop_holding_a_claim(pid: int, evaluation: SharedPending) -> None:
    """Let the stopped helper ``pid`` run until it has claimed a block of ``evaluation`` and
    not completed it, and stop it there."""
    for _ in range(200):
        os.kill(pid, signal.SIGCONT)
        wait_until(lambda: bool(held_claims(evaluation)), 5.0)
        stop(pid)
        if held_claims(evaluation):
            return
    pytest.fail("the helper never held a claim")


@pytest.mark.parametrize(
    ("how", "killed", "noticed_by"),
    [
        ("SIGKILL", "both", "finishing"),
        ("SIGTERM", "both", "starting"),
        ("SIGKILL", "one", "finishing"),
    ],
)
def test_claims_of_dead_helpers_in_several_pending_evaluations_are_redone(
    mnist, how, killed, noticed_by
):
    """Two evaluations pending, each with a block a helper claimed and never completed; the
    helpers die (or one dies and the other is stopped by the evaluator). Every evaluation
    still returns the true counts: this thread takes the claimed blocks over."""
    bank = NetworkBank(SIZES, SETUPS, np.random.default_rng(3))
    pool = HelperEvaluator(dataset_blocks(mnist), helpers=2, entries=4)
    try:
        within(lambda: pool.start(bank.evaluation_snapshot()).counts())  # helpers started
        first, second = pool.helper_pids
        stop(first)
        stop(second)
        expected, pending = [], []
        for _ in range(2):
            pending.append(pool.start(bank.evaluation_snapshot()))
            expected.append(expected_counts(mnist, bank))
            bank.params.flat[:] *= np.float32(1.02)  # the next snapshot differs
        earlier, later = pending
        stop_holding_a_claim(first, earlier)
        while earlier.help_one():  # this thread takes the rest: the second helper moves on
            pass
        stop_holding_a_claim(second, later)
        end(first, getattr(signal, how))
        if killed == "both":
            end(second, getattr(signal, how))
        if noticed_by == "starting":
            pending.append(pool.start(bank.evaluation_snapshot()))
            expected.append(expected_counts(mnist, bank))
            assert len(pool.helper_pids) == 0
        for evaluation, counts in zip(pending, expected, strict=True):
            assert np.array_equal(within(evaluation.counts), counts)
        assert len(pool.helper_pids) == 0
        again = within(lambda: pool.start(bank.evaluation_snapshot()).counts())
        assert np.array_equal(again, expected_counts(mnist, bank))
    finally:
        for pid in pool.helper_pids:
            kill_if_there(pid)
        pool.close()


CONFIG = RunConfig(iterations=200, eval_every=10)  # 20 record batches, the default setups


def comparable(records) -> list:
    """Everything but the timing."""
    return [replace(record, seconds=0.0) for record in records]


def run_records(mnist, on_batch: Callable[[HelperEvaluator, int], None] | None = None) -> list:
    """The records of a short run with a helper; ``on_batch(evaluator, k)`` after the k-th
    batch of records (from 1)."""
    evaluator = HelperEvaluator(dataset_blocks(mnist), helpers=1)
    trainer = Trainer(CONFIG, mnist, np.random.default_rng(CONFIG.seed), evaluator)
    collected: list = []

    def on_records(records) -> None:
        collected.extend(records)
        if on_batch is not None:
            on_batch(evaluator, len(collected) // len(records))

    try:
        within(lambda: trainer.run(on_records))
    finally:
        trainer.close()
    assert trainer.done
    return comparable(collected)


@pytest.fixture(scope="module")
def undisturbed(mnist) -> list:
    records = run_records(mnist)
    assert len(records) == 20 * len(CONFIG.setups)
    return records


def holds_a_claim(evaluator: HelperEvaluator) -> bool:
    """Whether the helper is evaluating a block (of any ring entry)."""
    views = evaluator._views
    return views is not None and bool((views.state == CLAIMED).any())


@pytest.mark.parametrize(
    ("batch", "how", "moment"),
    [
        (1, "SIGKILL", "at once"),
        (2, "SIGKILL", "mid-block"),
        (3, "SIGTERM", "mid-block"),
        (5, "SIGKILL", "at once"),
        (8, "SIGKILL", "mid-block"),
        (12, "SIGTERM", "at once"),
        (17, "SIGKILL", "mid-block"),
    ],
)
def test_a_helper_killed_between_record_batches_changes_no_record(
    mnist, undisturbed, batch, how, moment
):
    """When a batch of records is handed on, further evaluations are pending: the helper dies
    at once (often idle, waiting for them) or once it is evaluating a block (if it gets to one
    soon), with claims in some of them."""
    killed: list[int] = []

    def kill_at(evaluator: HelperEvaluator, k: int) -> None:
        if k == batch:
            killed.extend(evaluator.helper_pids)
            if moment == "mid-block":
                wait_until(lambda: holds_a_claim(evaluator), 0.1)
            os.kill(killed[0], getattr(signal, how))

    assert run_records(mnist, kill_at) == undisturbed
    assert len(killed) == 1


def test_a_helper_killed_at_a_random_moment_changes_no_record(mnist, undisturbed):
    timers: list[threading.Timer] = []

    def arm(evaluator: HelperEvaluator, k: int) -> None:
        if k == 1:  # the helper is running: kill it at a random moment of what is left
            pid = evaluator.helper_pids[0]
            timer = threading.Timer(random.uniform(0.0, 0.2), kill_if_there, (pid,))
            timers.append(timer)
            timer.start()

    records = run_records(mnist, arm)
    timers[0].join()
    assert records == undisturbed


def test_an_orphaned_helper_stops_at_once(tmp_path):
    """The trainer's process is killed while its helper has evaluations queued (a wide network,
    evaluated at every iteration: seconds of work): the helper ends within a block or two."""
    script = tmp_path / "trainer.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from vgtui.core.blas import limit_blas_threads
            from vgtui.core.config import RunConfig
            from vgtui.core.data import load_bundled
            from vgtui.core.eval_blocks import dataset_blocks
            from vgtui.core.evaluation.helpers import HelperEvaluator
            from vgtui.core.trainer import Trainer

            limit_blas_threads(1)
            data = load_bundled()
            evaluator = HelperEvaluator(dataset_blocks(data), helpers=1)
            config = RunConfig(iterations=100000, eval_every=1, hidden=(1000, 1000))
            trainer = Trainer(config, data, np.random.default_rng(0), evaluator)

            def on_records(records):
                print(evaluator.helper_pids[0], flush=True)

            trainer.run(on_records)
            """
        )
    )
    root = str(Path(__file__).resolve().parents[2])
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": root, "OPENBLAS_NUM_THREADS": "1"},
    )
    helper = None
    try:
        helper = int(within(parent.stdout.readline, 60.0))
        parent.kill()
        parent.wait()
        assert wait_until(lambda: gone(helper), 2.0), "the orphaned helper is still computing"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if helper is not None and not gone(helper):
            os.kill(helper, signal.SIGKILL)


def test_a_helper_reads_each_entry_at_its_newest_generation_only():
    """Announcements queued while the helper was busy: stale ones are skipped; a stop, a
    parent gone (with the socket still open) or a closed socket ends the helper."""
    ours, theirs = (Connection(end.detach()) for end in socket.socketpair())
    try:
        for message in [(0, 1), (1, 2), (0, 3), (2, 4)]:
            ours.send(message)
        announced = _announcements(theirs, lambda: False)
        assert list(announced.items()) == [(1, 2), (0, 3), (2, 4)]
        ours.send(None)
        assert _announcements(theirs, lambda: False) is None
        assert _announcements(theirs, lambda: True) is None
        ours.close()
        assert _announcements(theirs, lambda: False) is None
    finally:
        ours.close()
        theirs.close()
