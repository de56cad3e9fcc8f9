"""``vgtui sweep`` under faults (issues 22 and 23): wrong scheduler addresses, a real ``dask
scheduler`` killed mid-sweep, signals during the embedded cluster's start, run and close, the
sweep folder deleted or its disk full mid-sweep, and a fake ``uname`` first in $PATH. Real
subprocesses, real Dask, 127.0.0.1 only. Each ends in the documented exit status with one line
(or none), no traceback and no log line of Dask's, and a folder ``--resume`` finishes."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.sweeptools import DASK, TINY, env, start_scheduler
from vgtui.core.sweep.folder import CELLS_FILE, SweepFolder, read_all_lines

VGTUI = [sys.executable, "-m", "vgtui", "sweep"]
SIX_TASKS = [*TINY, "--depths", "1:6:6", "--iters", "120"]
GIVE_UP_SECONDS = 120


def run(*args: str, timeout: float = GIVE_UP_SECONDS, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VGTUI, *args], capture_output=True, text=True, env=popen.pop("env", env()),
        timeout=timeout, **popen,
    )  # fmt: skip


def start(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [*VGTUI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=popen.pop("env", env()), **popen,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> str:
    try:
        _, stderr = process.communicate(timeout=GIVE_UP_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return stderr


def only_our_lines(stderr: str) -> list[str]:
    """stderr's lines, each one of vgtui's own (no traceback, no Dask log line)."""
    lines = stderr.splitlines()
    assert all(line.startswith("vgtui: ") for line in lines), stderr
    return lines


def errors(stderr: str) -> list[str]:
    return [line for line in only_our_lines(stderr) if line.startswith("vgtui: error")]


def the_sweep(out: Path) -> Path:
    (folder,) = sorted(out.glob("*-sweep"))
    return folder


def wait_for_lines(out: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        cells = [folder / CELLS_FILE for folder in out.glob("*-sweep")] if out.exists() else []
        if cells and cells[0].is_file() and cells[0].read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"no {count} lines: {finish(process)}")


def resume_finishes(folder: Path) -> None:
    """--resume on the embedded cluster completes the grid, every task once."""
    result = run("--resume", str(folder), "--workers", "1")
    assert result.returncode == 0, result.stderr
    only_our_lines(result.stderr)
    lines, _ = read_all_lines(folder)
    seeds = [(s["depth"], s["weight_variance"], s["seed"]) for s in lines if s["kind"] == "seed"]
    assert len(seeds) == len(set(seeds)) == 6 * 3
    assert len(SweepFolder.open(folder).cells()) == 6 * 3


# -- scheduler addresses -------------------------------------------------------------------------


def serve(answer: bytes | None) -> tuple[socket.socket, int]:
    """A TCP server on 127.0.0.1 that is no Dask: it says nothing, or ``answer``."""
    server = socket.create_server(("127.0.0.1", 0))
    kept: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            kept.append(connection)
            if answer is not None:
                connection.sendall(answer)

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.fixture(scope="module")
def silent_port():
    server, port = serve(None)
    yield port
    server.close()


@pytest.fixture(scope="module")
def chatty_port():
    server, port = serve(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
    yield port
    server.close()


ADDRESSES = [
    "garbage", "tcp://127.0.0.1:1", "tcp://127.0.0.1:SILENT", "tcp://127.0.0.1:CHATTY",
    "127.0.0.1:SILENT", "tls://127.0.0.1:SILENT", "inproc://x", "ucx://127.0.0.1:8786",
    "http://127.0.0.1:8786", "ws://127.0.0.1:8786", "", "  ", "tcp://" + "a" * 300 + ":8786",
    "tcp://127.0.0.1:99999", "tcp://127.0.0.1:", "tcp://[::1:8786", "\x1b]0;title\x07:1",
]  # fmt: skip


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_wrong_scheduler_address_is_one_line_and_exit_1(address, silent_port, chatty_port,
                                                          tmp_path):  # fmt: skip
    """No hang (under 10 s), no traceback, no 'Exception ignored in Client.__del__' later,
    no sweep folder; the address shown escaped. A port that says nothing is waited for as long
    as --connect-timeout says."""
    silent = "SILENT" in address and not address.startswith("tls")
    address = address.replace("SILENT", str(silent_port)).replace("CHATTY", str(chatty_port))
    out = tmp_path / "runs"
    result = run("--preset", "quick", "--out", str(out), "--scheduler", address,
                 "--connect-timeout", "0.5", timeout=10)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert len(errors(result.stderr)) == 1 == len(result.stderr.splitlines())
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert not out.exists()
    if silent:
        assert "no Dask answer within 0.5 s (is it a Dask scheduler's address?)" in result.stderr


def test_an_address_from_the_environment_is_checked_alike(silent_port, tmp_path):
    """(3 s, the default wait, is test_sweep_options.py's.)"""
    address = f"tcp://127.0.0.1:{silent_port}"
    result = run("--preset", "quick", "--out", str(tmp_path), "--connect-timeout", "0.5",
                 env={**env(), "DASK_SCHEDULER_ADDRESS": address}, timeout=10)  # fmt: skip
    assert result.returncode == 1
    assert errors(result.stderr) == [
        f"vgtui: error: cannot reach the Dask scheduler at {address}: no Dask answer within "
        "0.5 s (is it a Dask scheduler's address?)"
    ]


# -- a scheduler lost mid-sweep ------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_scheduler_killed_mid_sweep_is_one_line_and_resume_finishes(stop, tmp_path):
    processes: list[subprocess.Popen] = []
    try:
        scheduler, address = start_scheduler(tmp_path / "scheduler.log")
        processes.append(scheduler)
        worker = [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        processes.append(subprocess.Popen(worker, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env=env()))  # fmt: skip
        out = tmp_path / "runs"
        sweep = start(*SIX_TASKS, "--out", str(out), "--scheduler", address)
        processes.append(sweep)
        wait_for_lines(out, 3, sweep)
        scheduler.send_signal(stop)
        stderr = finish(sweep)
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert sweep.returncode == 1, stderr
    folder = the_sweep(out)
    kept = len(SweepFolder.open(folder).cells())
    assert kept >= 3
    assert errors(stderr) == [
        f"vgtui: error: lost the scheduler at {address}; {kept} cells kept; "
        f"resume with --resume {folder}"
    ]
    if stop == signal.SIGKILL:
        resume_finishes(folder)


# -- signals with the embedded cluster -----------------------------------------------------------


@pytest.mark.parametrize(
    ("stop", "when"),
    [(signal.SIGTERM, "starting"), (signal.SIGINT, "starting"), (signal.SIGTERM, "running"),
     (signal.SIGINT, "running")],
)  # fmt: skip
def test_a_signal_to_an_embedded_sweep_is_its_exit_status_and_nothing_else(stop, when, tmp_path):
    """While the cluster starts (no folder yet) or runs: 128 + the signal, only vgtui's own
    lines (no CommClosedError, no exit hook's traceback), and a folder --resume finishes."""
    out = tmp_path / "runs"
    sweep = start(*SIX_TASKS, "--workers", "1", "--out", str(out))
    if when == "starting":
        time.sleep(0.8)
    else:
        wait_for_lines(out, 3, sweep)
    sweep.send_signal(stop)
    stderr = finish(sweep)
    assert sweep.returncode == 128 + stop, stderr
    only_our_lines(stderr)
    if when == "running" and stop == signal.SIGTERM:
        resume_finishes(the_sweep(out))


# -- the sweep folder under write errors ---------------------------------------------------------


def test_the_sweep_folder_deleted_mid_sweep_is_one_line_and_exit_1(tmp_path):
    out = tmp_path / "runs"
    sweep = start(*SIX_TASKS, "--workers", "1", "--out", str(out))
    wait_for_lines(out, 3, sweep)
    shutil.rmtree(the_sweep(out))
    stderr = finish(sweep)
    assert sweep.returncode == 1, stderr
    (error,) = errors(stderr)
    assert "cannot write" in error and "the sweep folder was deleted" in error
    assert "tasks done" not in stderr


def test_a_file_size_limit_mid_sweep_is_one_line_and_resume_finishes(tmp_path):
    """``ulimit -f`` as a full disk: sweep.json and the first task fit, the second does not."""
    out = tmp_path / "runs"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, resource.RLIM_INFINITY))

    sweep = start(*SIX_TASKS, "--workers", "1", "--out", str(out), preexec_fn=limit)
    stderr = finish(sweep)
    assert sweep.returncode == 1, stderr
    (error,) = errors(stderr)
    folder = the_sweep(out)
    assert f"cannot write {folder / CELLS_FILE}: File too large" in error
    assert f"finish it with: vgtui sweep --resume {folder}" in error
    data = (folder / CELLS_FILE).read_bytes()
    assert data.endswith(b"\n") and json.loads((folder / "sweep.json").read_text())["sweep"]
    resume_finishes(folder)


# -- no program found through $PATH ------------------------------------------------------------


def test_no_uname_is_run_through_path(tmp_path):
    """Python's platform.uname().processor runs ``uname -p`` from $PATH, in the command and in
    each worker Dask starts: a fake one first in PATH is never executed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "ran"
    fake = bin_dir / "uname"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {marker}\nexec /bin/uname "$@"\n')
    fake.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    result = run(*TINY, "--depths", "2", "--workers", "2", "--out", str(tmp_path / "runs"),
                 env={**env(), "PATH": path})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
