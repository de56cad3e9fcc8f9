"""End to end: the real ``vgtui`` command in a tmux pane, driven by keys, read by capture-pane."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

GIVE_UP_SECONDS = 60.0
"""Only a guard against a hung test: no assertion depends on how fast anything is."""


class Pane:
    """One tmux pane on a private tmux server (``-L``), so the user's sessions are untouched."""

    def __init__(self, socket: str, session: str) -> None:
        self.socket = socket
        self.session = session

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def wait_for(self, *texts: str) -> str:
        """Poll the screen until every one of ``texts`` is on it; return the screen."""
        deadline = time.monotonic() + GIVE_UP_SECONDS
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {texts} on the screen:\n{screen}")


@pytest.fixture
def start_vgtui(tmp_path) -> Iterator:
    socket = f"vgtui-test-{uuid.uuid4().hex[:8]}"
    started: list[Pane] = []

    def start(args: str, width: int = 120, height: int = 40) -> Pane:
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        command = (
            f"cd {shlex.quote(str(tmp_path))} && {shlex.quote(sys.executable)} -m vgtui {args}"
            f" --out {shlex.quote(str(tmp_path / 'runs'))}; echo EXIT=$?; sleep 60"
        )
        subprocess.run(
            [
                "tmux",
                "-L",
                socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                str(width),
                "-y",
                str(height),
                command,
            ],
            check=True,
            env=env,
        )
        pane = Pane(socket, "e2e")
        started.append(pane)
        return pane

    yield start
    if started:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def only_run(tmp_path: Path) -> Path:
    (run,) = (tmp_path / "runs").iterdir()
    return run


def test_run_watch_switch_tabs_and_quit(start_vgtui, tmp_path):
    pane = start_vgtui("--iters 40 --eval-every 10 --hidden 40,20")
    screen = pane.wait_for("READY", "Acc 1", "sigmoid-gauss", "relu-he", "Quit")
    assert "iter 0/40" in screen
    pane.keys("r")
    screen = pane.wait_for("DONE", "iter 40/40")
    assert "train" in screen and "test" in screen
    pane.keys("3")
    pane.wait_for("first/last", "L1 in")
    pane.keys("4")
    pane.wait_for("1st/last", "relu-he")
    pane.keys("q")
    screen = pane.wait_for("EXIT=0")
    assert "run done; results in" in screen
    summary = json.loads((only_run(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "done"
    assert summary["iterations_done"] == 40


def test_quit_mid_run_at_80x24(start_vgtui, tmp_path):
    pane = start_vgtui("--iters 2000 --run", width=80, height=24)
    pane.wait_for("RUNNING")
    pane.wait_for("%")  # the first evaluation is on the charts (the strip)
    pane.keys("q")
    screen = pane.wait_for("EXIT=0")
    assert "run interrupted; results in" in screen
    summary = json.loads((only_run(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert 0 < summary["iterations_done"] < 2000


def vgtui_pids(out_root: Path) -> list[int]:
    """Processes whose command line names ``out_root``: the vgtui started by a test."""
    result = subprocess.run(["pgrep", "-f", str(out_root)], capture_output=True, text=True)
    pids = []
    for pid in result.stdout.split():
        try:  # only the Python process: not the pane's shell, not the tmux server
            command = Path(f"/proc/{pid}/comm").read_text()
        except OSError:
            continue
        if command.startswith("python"):
            pids.append(int(pid))
    return pids


def wait_for_summary(tmp_path: Path, what: str) -> dict:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not list(tmp_path.glob("runs/*/summary.json")):
        assert time.monotonic() < deadline, f"no summary.json after {what}"
        time.sleep(0.1)
    return json.loads((only_run(tmp_path) / "summary.json").read_text())


needs_pgrep = pytest.mark.skipif(
    shutil.which("pgrep") is None or not Path("/proc").is_dir(), reason="needs pgrep and /proc"
)


def wait_until_gone(out_root: Path, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while vgtui_pids(out_root):
        assert time.monotonic() < deadline, f"vgtui still running after {what}"
        time.sleep(0.1)


@needs_pgrep
def test_closing_the_terminal_mid_run_saves_the_run_and_exits(start_vgtui, tmp_path):
    pane = start_vgtui("--iters 2000 --run")
    pane.wait_for("RUNNING")
    pane.wait_for("%")
    pane.tmux("kill-pane", "-t", pane.session)  # the pane's processes get SIGHUP
    summary = wait_for_summary(tmp_path, "the terminal closed")
    assert summary["status"] == "interrupted"
    assert 0 < summary["iterations_done"] < 2000
    wait_until_gone(tmp_path / "runs", "the terminal closed")


@needs_pgrep
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_stops_saves_and_exits(start_vgtui, tmp_path, number):
    """kill -TERM or kill -INT: the run stops at once (not at its end), saved as interrupted."""
    pane = start_vgtui("--iters 20000 --run")
    pane.wait_for("RUNNING")
    pane.wait_for("%")
    for pid in vgtui_pids(tmp_path / "runs"):
        os.kill(pid, number)
    screen = pane.wait_for(f"EXIT={128 + number}")
    assert "run interrupted; results in" in screen
    summary = wait_for_summary(tmp_path, signal.Signals(number).name)
    assert summary["status"] == "interrupted"
    assert 0 < summary["iterations_done"] < 20000


def test_the_lessons_numbers_are_whole_at_80x24(start_vgtui, tmp_path):
    """At 80x24 the summary shows every setup's gradient ratio whole, the strip shows every
    setup on every tab, and the header names the run folder."""
    pane = start_vgtui("--iters 40 --eval-every 10", width=80, height=24)
    pane.wait_for("READY")
    pane.keys("r")
    pane.wait_for("DONE", "iter 40/40")
    pane.keys("4")
    # the summary's header (the strip's names 1st/last too) and the strip (its entries start
    # with the setups' markers): the "run done" toast sits above it
    screen = pane.wait_for("status", "1st/last", "o sigmoid-gauss", "x relu-gauss", "* relu-he")
    ratio = re.compile(r"\d\.\de-?\d+\b|\d\.\d\de[+-]\d\d")  # 4.3e-3 (or 4.30e-03)
    for name in ("sigmoid-gauss", "relu-gauss", "sigmoid-xavier", "relu-he"):
        rows = [line for line in screen.splitlines() if line.lstrip().startswith(name)]
        assert rows and ratio.search(rows[0]), screen  # the table's row, ratio whole
        assert any(f" {name} " in line and "%" in line for line in screen.splitlines()[-6:])
    folder = next((tmp_path / "runs").iterdir()).name
    assert folder.split("-", 1)[1] in screen.splitlines()[0]
    pane.keys("q")
    pane.wait_for("EXIT=0")
