"""The app's non-Textual parts, driven directly: a core Run feeding the UI's RecordOutbox, and
the RunHistory the charts draw."""

from __future__ import annotations

import json
import threading

from tests.ui.apptools import DIVERGING, SHORT
from vgtui.core.config import RunConfig
from vgtui.core.run import Run
from vgtui.core.vocabulary import RunStatus
from vgtui.ui.history import RunHistory
from vgtui.ui.outbox import RecordOutbox


def test_outbox_notifies_once_per_take(mnist, tmp_path):
    run = Run(SHORT, mnist, tmp_path)
    notified = 0

    def notify() -> None:  # the app would post RecordsReady here (and take later)
        nonlocal notified
        notified += 1

    outbox = RecordOutbox(notify)
    assert run.execute(outbox.put) == RunStatus.DONE
    assert notified == 1  # nothing was taken meanwhile: one notification for all records
    taken = outbox.take()
    assert [r.iteration for r in taken] == [i for i in (10, 20, 30, 40) for _ in range(4)]
    assert outbox.take() == []
    assert run.finished.is_set()
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["status"] == "done" and summary["iterations_done"] == 40
    assert run.wall_seconds > 0


def test_execute_hands_every_record_over_when_taken_at_each_notification(mnist, tmp_path):
    run = Run(SHORT, mnist, tmp_path)
    taken = []
    outbox = RecordOutbox(lambda: taken.extend(outbox.take()))  # as the app does
    run.execute(outbox.put)
    taken.extend(outbox.take())
    assert [r.iteration for r in taken] == [i for i in (10, 20, 30, 40) for _ in range(4)]
    assert taken == run.records


def test_steps_queue_up_and_the_last_records_are_not_held_back(mnist, tmp_path):
    config = RunConfig(iterations=1000, eval_every=10)
    run = Run(config, mnist, tmp_path, paused=True)
    seen: list[int] = []
    arrived = threading.Condition()

    def take() -> None:
        with arrived:
            seen.extend(r.iteration for r in outbox.take())
            arrived.notify_all()

    outbox = RecordOutbox(take)
    worker = threading.Thread(target=run.execute, args=(outbox.put,))
    worker.start()
    try:
        run.step()
        run.step()
        run.step()
        with arrived:
            assert arrived.wait_for(lambda: len(seen) >= 12, timeout=60)
        assert sorted(set(seen)) == [10, 20, 30]
        assert run.iteration == 30  # paused at the third evaluation point
    finally:
        run.stop(RunStatus.STOPPED)
        worker.join(10)
    assert not worker.is_alive()
    assert run.status == RunStatus.STOPPED
    assert json.loads((run.path / "summary.json").read_text())["status"] == "stopped"


def test_history_keeps_curves_per_setup_and_marks_divergence(mnist, tmp_path):
    run = Run(DIVERGING, mnist, tmp_path)
    outbox = RecordOutbox(lambda: None)
    history = RunHistory(DIVERGING.setup_names)
    run.execute(outbox.put)
    history.add(outbox.take())
    diverged, healthy = (history.series[name] for name in DIVERGING.setup_names)
    assert diverged.diverged_at is not None
    assert all(i < diverged.diverged_at for i in diverged.iterations)
    assert healthy.diverged_at is None
    assert healthy.iterations == [10, 20, 30, 40, 50, 60]
    assert len(healthy.layer_norms(0)) == 6
    assert history.last_iteration == 60
