"""What the sweep's subprocess tests share: the tiny sweep's flags, the environment of a
``vgtui sweep`` subprocess, and a real ``dask scheduler`` on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

DASK = Path(sys.executable).parent / "dask"
TINY = ["--activations", "tanh", "--weight-var", "0.5,1.76,4", "--width", "16",
        "--iters", "30", "--eval-every", "10", "--batch-size", "50", "--seeds", "1"]  # fmt: skip
"""A sweep of one seed a cell (the schoenholz preset it starts from has 2); a later --seeds
wins."""


def env() -> dict:
    """This environment without the quiet logging an in-process sweep sets."""
    found = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    found.pop("DASK_LOGGING__DISTRIBUTED", None)
    return found


def start_scheduler(log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("w") as sink:  # a file, not a pipe: an undrained pipe would block it
        process = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=sink,
            env={**env(), "DASK_LOGGING__DISTRIBUTED": "info"},  # it logs its address
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"Scheduler at:\s+(tcp://\S+)", log.read_text())
        if found:
            return process, found.group(1)
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise AssertionError("the scheduler did not start: " + log.read_text()[-500:])
