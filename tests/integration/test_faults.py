"""Nothing lost, nothing hung: the headless command under write errors, closed streams, signals
at any moment, oversized models and interrupted evaluations (real subprocesses, real files)."""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vgtui.cli.latch import Interrupted, SignalLatch
from vgtui.core.budget import check_memory, estimated_bytes
from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.control import RunControl
from vgtui.core.eval_blocks import dataset_blocks
from vgtui.core.evaluation.local import LocalEvaluator, LocalPending
from vgtui.core.trainer import Trainer

VGTUI = [sys.executable, "-m", "vgtui"]
GIVE_UP_SECONDS = 120


def start(*args: str, **popen) -> subprocess.Popen:
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen([*VGTUI, *args], text=True, **popen)


def finish(process: subprocess.Popen) -> tuple[str, str]:
    try:
        stdout, stderr = process.communicate(timeout=GIVE_UP_SECONDS)
    finally:
        process.kill()
    return stdout or "", stderr or ""


def the_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def summary_of(out: Path) -> dict:
    return json.loads((the_run(out) / "summary.json").read_text())


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("vgtui: error")]


def metrics_rows(run: Path) -> list[dict]:
    with (run / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert all(None not in row and all(v is not None for v in row.values()) for row in rows)
    return rows


# -- write errors -----------------------------------------------------------------------------


def test_a_file_size_limit_mid_run_is_one_line_and_keeps_the_records(tmp_path):
    """`ulimit -f`: metrics.csv can no longer grow; the run stops as failed, saved."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))

    out = tmp_path / "runs"
    process = start(
        "--no-ui", "--iters", "5000", "--eval-every", "1", "--out", str(out),
        preexec_fn=limit_files,
    )  # fmt: skip
    stdout, stderr = finish(process)
    assert process.returncode == 1, stderr
    errors = error_lines(stderr)
    assert len(errors) == 1 and "too large" in errors[0]
    assert "records.jsonl" in errors[0] or "metrics.csv" in errors[0]
    summary = summary_of(out)
    assert summary["status"] == "failed"
    assert 0 < summary["iterations_done"] < 5000
    rows = metrics_rows(the_run(out))
    assert rows and int(rows[-1]["iteration"]) <= summary["iterations_done"]
    assert "Results:" in stdout


def test_the_run_folder_deleted_mid_run_is_one_line(tmp_path):
    out = tmp_path / "runs"
    process = start("--no-ui", "--json", "--iters", "1000000", "--out", str(out))
    assert process.stdout.readline()  # the first records: the folder exists
    shutil.rmtree(the_run(out))
    _, stderr = finish(process)
    assert process.returncode == 1, stderr
    errors = error_lines(stderr)
    assert len(errors) == 1 and "cannot write" in errors[0]


def test_json_to_a_full_device_is_one_line_and_the_run_is_saved(tmp_path):
    out = tmp_path / "runs"
    with open("/dev/full", "w") as full:
        process = start("--no-ui", "--json", "--iters", "100", "--out", str(out), stdout=full)
        _, stderr = finish(process)
    assert process.returncode == 1, stderr
    errors = error_lines(stderr)
    assert errors == ["vgtui: error: cannot write to standard output: No space left on device"]
    assert summary_of(out)["status"] == "interrupted"


def test_the_table_to_a_closed_pipe_exits_141_quietly(tmp_path):
    """`vgtui --no-ui | true`: the reader is gone before the table is printed."""
    out = tmp_path / "runs"
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = start("--no-ui", "--iters", "20", "--out", str(out), stdout=write_end)
    os.close(write_end)
    _, stderr = finish(process)
    assert process.returncode == 141, stderr
    assert error_lines(stderr) == [] and "Exception ignored" not in stderr
    assert summary_of(out)["status"] == "done"


@pytest.mark.parametrize("closed", [0, 1, 2])
def test_a_closed_standard_stream_changes_nothing(tmp_path, closed):
    """`vgtui <&-`, `>&-`, `2>&-`: the run goes on and saves; the exit status is still right."""
    out = tmp_path / "runs"

    def close_it() -> None:
        os.close(closed)

    process = start("--no-ui", "--iters", "20", "--out", str(out), preexec_fn=close_it)
    finish(process)
    assert process.returncode == 0
    assert summary_of(out)["status"] == "done"
    # No stray output in the run folder from a descriptor that took the closed one's place.
    assert sorted(p.name for p in the_run(out).iterdir()) == [
        "activations.csv",
        "config.json",
        "layers.csv",
        "metrics.csv",
        "records.jsonl",
        "summary.json",
    ]

    bad = start("--no-ui", "--data-dir", str(tmp_path / "nowhere"), preexec_fn=close_it)
    finish(bad)
    assert bad.returncode == 1  # the status survives a closed stream


# -- signals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_saves_like_ctrl_c(tmp_path, number):
    out = tmp_path / "runs"
    process = start("--no-ui", "--json", "--iters", "1000000", "--out", str(out))
    assert process.stdout.readline()
    process.send_signal(number)
    _, stderr = finish(process)
    assert process.returncode == 128 + number, stderr
    assert error_lines(stderr) == [] and "Run interrupted" in stderr
    summary = summary_of(out)
    assert summary["status"] == "interrupted" and summary["iterations_done"] >= 10
    assert metrics_rows(the_run(out))


def wait_for_library(pid: int, name: str) -> None:
    """Until process ``pid`` has mapped a library whose path contains ``name``."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while name not in Path(f"/proc/{pid}/maps").read_text():
        assert time.monotonic() < deadline, f"{name} never loaded"
        time.sleep(0.002)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("moment", ["importing numpy", "loading MNIST"])
def test_a_signal_during_start_up_exits_quietly(tmp_path, number, moment):
    """While Python imports NumPy or loads MNIST: no traceback, the signal's exit status."""
    process = start("--no-ui", "--iters", "100000", "--out", str(tmp_path / "runs"))
    wait_for_library(process.pid, "numpy")  # numpy's own libraries: its import has begun
    if moment == "loading MNIST":
        time.sleep(0.3)
    process.send_signal(number)
    _, stderr = finish(process)
    assert process.returncode == 128 + number, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


def run_launch_with(tmp_path: Path, dispatch_prelude: str, *args: str) -> subprocess.Popen:
    """``vgtui`` whose dispatch first runs ``dispatch_prelude``: a moment of start-up that a
    timed signal hits only now and then, made to happen every time."""
    script = f"""
import os, signal, sys
from vgtui.cli import main as launch
dispatch = launch._dispatch
def prelude_then_dispatch(latch):
{textwrap.indent(textwrap.dedent(dispatch_prelude), "    ")}
    return dispatch(latch)
launch._dispatch = prelude_then_dispatch
sys.argv = ["vgtui", *sys.argv[1:]]
sys.exit(launch.main())
"""
    (tmp_path / "vgtui_with_prelude.py").write_text(script)
    return subprocess.Popen(  # run as ``-m``, as ``python -m vgtui``: its exit path differs
        [sys.executable, "-m", "vgtui_with_prelude", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_inside_a_dataclass_being_built_keeps_the_exit_status(tmp_path):
    """CPython 3.11 marks the process to die by SIGINT when the KeyboardInterrupt passes through
    a string ``exec`` (dataclasses build methods so, while vgtui imports): the CI failure of a
    start-up signal, -2 instead of 130."""
    process = run_launch_with(
        tmp_path,
        """
        try:
            exec("raise KeyboardInterrupt")
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        """,
    )
    _, stderr = finish(process)
    assert process.returncode == 128 + signal.SIGINT, stderr
    assert "Traceback" not in stderr


def test_a_signal_a_library_turns_into_its_own_error_exits_quietly(tmp_path):
    """A signal while NumPy's C code imports becomes NumPy's ImportError (the flaky failure of
    test_a_signal_during_start_up_exits_quietly): the signal's status, no traceback."""
    process = run_launch_with(
        tmp_path,
        """
        import importlib.abc, time

        class ImportInterrupted(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "vgtui.cli.train":
                    try:
                        os.kill(os.getpid(), signal.SIGTERM)
                        time.sleep(5)
                    except KeyboardInterrupt as interrupt:
                        raise ImportError("PyCapsule_Import could not import module") from interrupt
                return None

        sys.meta_path.insert(0, ImportInterrupted())
        """,
        "--no-ui",
    )
    _, stderr = finish(process)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "ImportError" not in stderr


def test_a_ctrl_c_that_a_library_swallows_still_stops_the_run(tmp_path):
    """A KeyboardInterrupt caught by code not ours (a finalizer, a library's bare except) is
    remembered: the run stops at its next records and is saved as interrupted."""
    out = tmp_path / "runs"
    process = run_launch_with(
        tmp_path,
        """
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10**7):
                pass
        except KeyboardInterrupt:
            pass
        """,
        "--no-ui",
        "--iters",
        "3000",
        "--out",
        str(out),
    )
    stdout, stderr = finish(process)
    assert process.returncode == 128 + signal.SIGINT, stderr
    assert error_lines(stderr) == [] and "Run interrupted" in stdout
    assert summary_of(out)["status"] == "interrupted"


def test_the_latch_lets_the_records_flushed_while_stopping_through():
    """The latch re-raises a signal whose exception was swallowed, but not while that exception
    is being handled: the records flushed as the run stops are streamed, not cut off."""
    latch = SignalLatch()
    latch.received = signal.SIGINT
    try:
        raise Interrupted(signal.SIGINT)
    except KeyboardInterrupt:
        try:
            latch.check()  # the stop is under way: the flush goes on
        except Interrupted:
            pytest.fail("the latch cut off the records flushed while the run stops")
    with pytest.raises(Interrupted):
        latch.check()


# -- oversized models -------------------------------------------------------------------------


def test_a_model_that_cannot_fit_is_refused_before_any_work(tmp_path):
    out = tmp_path / "runs"
    process = start("--no-ui", "--hidden", "100000,100000", "--out", str(out))
    _, stderr = finish(process)
    assert process.returncode == 2
    errors = error_lines(stderr)
    assert len(errors) == 1 and "GiB" in errors[0] and "100000,100000" in errors[0]
    assert not out.exists()  # refused before a run folder was made


def test_the_train_command_checks_its_config_once(tmp_path, write_dataset, monkeypatch):
    """``vgtui --no-ui`` validates the config once and estimates its memory once, in building
    the Run (it validated three times and checked the memory twice); the errors stay one usage
    line each (test_cli's bad arguments, the oversized model above)."""
    from vgtui.cli.train import main as train_main
    from vgtui.core import budget

    calls = {"validate": 0, "check_memory": 0}
    validate, check_memory = RunConfig.validate, budget.check_memory

    def counted_validate(config, train_size=None):
        calls["validate"] += 1
        return validate(config, train_size)

    def counted_check_memory(config, available=None):
        calls["check_memory"] += 1
        return check_memory(config, available)

    monkeypatch.setattr(RunConfig, "validate", counted_validate)
    users = [m for m in list(sys.modules.values()) if m.__name__.startswith("vgtui")]
    for module in users:
        if getattr(module, "check_memory", None) is check_memory:
            monkeypatch.setattr(module, "check_memory", counted_check_memory)
    folder = write_dataset(tmp_path / "set")
    argv = ["--no-ui", "--data-dir", str(folder), "--iters", "10", "--batch-size", "10"]
    assert train_main([*argv, "--out", str(tmp_path / "runs")]) == 0
    assert calls == {"validate": 1, "check_memory": 1}


def test_the_estimate_bounds_what_a_run_really_uses(tmp_path):
    """The estimate is an upper bound of the trainer process's peak (ru_maxrss)."""
    config = RunConfig(hidden=(1000, 1000), iterations=10)
    code = (
        "import resource, sys\n"
        "from vgtui.cli.main import main\n"
        "sys.argv = ['vgtui', '--no-ui', '--hidden', '1000,1000', '--iters', '10',"
        f" '--out', {str(tmp_path)!r}]\n"
        "status = main()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    peak, status = done.stdout.split()[-2:]
    assert status == "0", done.stderr
    assert int(peak) < estimated_bytes(config)
    with pytest.raises(ConfigError, match="GiB"):
        check_memory(config, available=int(peak) // 2)


# -- stopping mid-evaluation ------------------------------------------------------------------


class SlowEvaluator(LocalEvaluator):
    """Evaluation that takes long (as for a huge model), counting the blocks it evaluates."""

    def __init__(self, blocks, seconds_per_block: float) -> None:
        super().__init__(blocks)
        self.seconds_per_block = seconds_per_block
        self.blocks_done = 0

    def start(self, snapshot) -> LocalPending:
        pending = super().start(snapshot)
        help_one = pending.help_one

        def slow_help_one() -> bool:
            time.sleep(self.seconds_per_block)
            self.blocks_done += 1
            return help_one()

        pending.help_one = slow_help_one  # type: ignore[method-assign]
        return pending


def test_a_stop_does_not_wait_for_every_pending_evaluation(mnist):
    """A stop lets pending evaluations finish only for a moment: quitting stays quick."""
    blocks = dataset_blocks(mnist)
    evaluator = SlowEvaluator(blocks, seconds_per_block=0.1)  # 2 s per evaluation
    config = RunConfig(iterations=100_000, eval_every=1)
    trainer = Trainer(config, mnist, np.random.default_rng(0), evaluator)
    control = RunControl()
    seen = []
    worker = threading.Thread(target=trainer.run, args=(seen.extend, control))
    worker.start()
    while evaluator.blocks_done < 3 * len(blocks) // 2:  # evaluations are piling up
        time.sleep(0.01)
    done_at_stop = evaluator.blocks_done
    control.cancel()
    worker.join(GIVE_UP_SECONDS)
    assert not worker.is_alive()
    # The pending evaluations held dozens of blocks; a stop evaluates only a few more.
    assert evaluator.blocks_done - done_at_stop <= 8
    iterations = [r.iteration for r in seen]
    assert iterations == sorted(iterations)  # what was handed on is whole and in order
    assert all(r.test_accuracy == r.test_accuracy for r in seen)  # every one measured


def test_a_gauss_scale_beyond_float32_diverges_without_a_warning(tmp_path):
    out = tmp_path / "runs"
    process = start("--no-ui", "--setups", "relu-gauss:1e300,relu-he", "--iters", "20",
                    "--out", str(out))  # fmt: skip
    _, stderr = finish(process)
    assert process.returncode == 0, stderr
    assert "Warning" not in stderr and error_lines(stderr) == []
    setups = {s["setup"]: s["status"] for s in summary_of(out)["setups"]}
    assert setups == {"relu-gauss:1e+300": "diverged", "relu-he": "ok"}


# -- headless output (#10 items 20-22) ---------------------------------------------------------


def run_in_a_terminal(args: list[str], columns: int, stderr=None) -> tuple[int, str]:
    """The command with stdin, stdout and stderr (unless given) on a pseudo-terminal
    ``columns`` wide."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [*VGTUI, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower if stderr is None else stderr,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(GIVE_UP_SECONDS), output.decode(errors="replace")


def test_the_progress_bar_and_the_table_fit_an_80_column_terminal(tmp_path):
    status, output = run_in_a_terminal(
        ["--no-ui", "--iters", "400", "--out", str(tmp_path)], columns=80
    )
    assert status == 0, output
    redraws = [part.split("\x1b[K")[0] for part in output.split("\r") if "it/s" in part]
    assert redraws and [r for r in redraws if len(_visible(r)) >= 80] == []
    table = output[output.index("Run done") : output.index("Results: ")].splitlines()
    assert [line for line in table if len(_visible(line)) > 80] == []  # (a path is a path)


def _visible(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text).rstrip("\r\n")


def test_json_in_a_terminal_implies_no_ui(tmp_path):
    status, output = run_in_a_terminal(
        ["--json", "--iters", "20", "--out", str(tmp_path)], columns=100, stderr=subprocess.DEVNULL
    )
    assert status == 0, output
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == 8 and json.loads(lines[0])["iteration"] == 10


def test_the_table_and_the_summary_count_iterations_trained_not_evaluated(tmp_path):
    out = tmp_path / "runs"
    process = start("--no-ui", "--json", "--iters", "1000000", "--eval-every", "7",
                    "--out", str(out))  # fmt: skip
    assert process.stdout.readline()
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = finish(process)
    summary = summary_of(out)
    recorded = max(int(row["iteration"]) for row in metrics_rows(the_run(out)))
    assert summary["iterations_done"] >= recorded
    assert f"Run interrupted: {summary['iterations_done']}/1000000" in stderr


# -- small ones (#9 item 13) --------------------------------------------------------------------


def test_an_empty_out_folder_is_refused(tmp_path):
    process = start("--no-ui", "--out", "", cwd=tmp_path)
    _, stderr = finish(process)
    assert process.returncode == 2 and "--out" in stderr
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


def test_a_run_stopped_before_its_first_record_leaves_no_folder(mnist, tmp_path):
    """As an r then x in the app: no empty run folder piles up."""
    from vgtui.core.run import Run

    run = Run(RunConfig(iterations=1000, eval_every=500), mnist, tmp_path)
    run.stop()
    run.execute()
    assert not run.kept and list(tmp_path.iterdir()) == []


def test_run_metadata_is_recorded_without_running_programs(mnist, tmp_path, monkeypatch):
    """platform.platform() would run `uname -p` found through $PATH at every run."""
    from vgtui.core.store.run_folder import RunWriter

    def no_programs(*args, **kwargs):
        raise AssertionError("a program was run")

    monkeypatch.setattr(subprocess, "Popen", no_programs)
    monkeypatch.setattr(os, "popen", no_programs)
    writer = RunWriter(tmp_path, RunConfig(), "mnist")
    config = json.loads((writer.path / "config.json").read_text())
    assert config["platform"] and config["versions"]["python"]
    writer.discard()


def test_a_long_run_is_announced_before_it_starts(tmp_path):
    """#10 item 17: the estimate of a long run, on stderr before the first record."""
    from vgtui.core.budget import estimated_seconds, long_run_warning

    assert long_run_warning(RunConfig()) is None  # the notebook's few seconds
    assert estimated_seconds(RunConfig(hidden=(400, 400))) > estimated_seconds(RunConfig())
    process = start("--no-ui", "--json", "--iters", "1000000", "--out", str(tmp_path))
    assert process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, stderr = finish(process)
    first = stderr.splitlines()[0]
    assert first.startswith("vgtui: this run will take about") and "minutes" in first


def test_a_signal_whose_exception_was_dropped_still_stops_the_run(mnist, tmp_path):
    """An exception raised while Python runs a finalizer is printed and dropped; the signal is
    remembered, and the run stops at its next records, saved, with the signal's status."""
    from vgtui.cli.latch import Interrupted, SignalLatch
    from vgtui.cli.train import build_parser, config_from_args, run_headless

    latch = SignalLatch()
    with pytest.raises(Interrupted):
        latch.handle(signal.SIGTERM, None)  # as if raised inside a finalizer and dropped
    args = build_parser().parse_args(["--no-ui", "--iters", "100000", "--out", str(tmp_path)])
    status = run_headless(args, config_from_args(args), mnist, latch)
    assert status == 128 + signal.SIGTERM
    summary = summary_of(tmp_path)
    assert summary["status"] == "interrupted" and 10 <= summary["iterations_done"] < 100
