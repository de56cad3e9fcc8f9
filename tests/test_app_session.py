"""RunSession and RunHistory, the app's non-Textual parts, driven directly."""

from __future__ import annotations

import json
import threading

from tests.apptools import DIVERGING, SHORT
from vgtui.core.config import RunConfig
from vgtui.core.results import RUN_DONE, RUN_STOPPED
from vgtui.ui.history import RunHistory
from vgtui.ui.session import RunSession


def test_execute_writes_the_run_folder_and_hands_over_every_record(mnist, tmp_path):
    session = RunSession(SHORT, mnist, tmp_path)
    taken = []

    def take() -> None:  # as the app does when the notification arrives
        taken.extend(session.take_records())

    assert session.execute(take) == RUN_DONE
    taken.extend(session.take_records())
    assert [r.iteration for r in taken] == [i for i in (10, 20, 30, 40) for _ in range(4)]
    assert session.finished.is_set()
    summary = json.loads((session.path / "summary.json").read_text())
    assert summary["status"] == "done" and summary["iterations_done"] == 40
    assert session.wall_seconds > 0


def test_steps_queue_up_and_the_last_records_are_not_held_back(mnist, tmp_path):
    config = RunConfig(iterations=1000, eval_every=10)
    session = RunSession(config, mnist, tmp_path, paused=True)
    seen: list[int] = []
    arrived = threading.Condition()

    def take() -> None:
        with arrived:
            seen.extend(r.iteration for r in session.take_records())
            arrived.notify_all()

    worker = threading.Thread(target=session.execute, args=(take,))
    worker.start()
    try:
        session.step()
        session.step()
        session.step()
        with arrived:
            assert arrived.wait_for(lambda: len(seen) >= 12, timeout=60)
        assert sorted(set(seen)) == [10, 20, 30]
        assert session.trainer.iteration == 30  # paused at the third evaluation point
    finally:
        session.stop(RUN_STOPPED)
        worker.join(10)
    assert not worker.is_alive()
    assert session.status == RUN_STOPPED
    assert json.loads((session.path / "summary.json").read_text())["status"] == "stopped"


def test_history_keeps_curves_per_setup_and_marks_divergence(mnist, tmp_path):
    session = RunSession(DIVERGING, mnist, tmp_path)
    history = RunHistory(DIVERGING.setup_names)
    session.execute(lambda: None)
    history.add(session.take_records())
    diverged, healthy = (history.series[name] for name in DIVERGING.setup_names)
    assert diverged.diverged_at is not None
    assert all(i < diverged.diverged_at for i in diverged.iterations)
    assert healthy.diverged_at is None
    assert healthy.iterations == [10, 20, 30, 40, 50, 60]
    assert len(healthy.layer_norms(0)) == 6
    assert history.last_iteration == 60
