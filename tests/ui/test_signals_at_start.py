"""A stop signal while the app is still composing its screen (issues 22.6 and 23.15: a SIGINT
or SIGTERM 0.5-0.8 s after start printed a Textual compose traceback) ends the app with the
signal's status and nothing else."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

SIGNAL_DURING_COMPOSE = """
import os, signal, sys
from pathlib import Path
from vgtui.cli.latch import SignalLatch
SignalLatch().install()  # as the vgtui command does before anything else
from vgtui.core.config import RunConfig
from vgtui.core.data import load_dataset
from vgtui.ui.app import MonitorScreen, VgtuiApp

number = int(sys.argv[2])
compose_body = MonitorScreen.compose_body

def signalled_body(screen):
    os.kill(os.getpid(), number)  # the user's kill, while the screen is composed
    yield from compose_body(screen)

MonitorScreen.compose_body = signalled_body
app = VgtuiApp(RunConfig(iterations=20), load_dataset(), Path(sys.argv[1]))
app.run(headless=True, size=(80, 24))
sys.exit(app.return_code)
"""


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_screen_is_composed_exits_quietly(tmp_path, number):
    result = subprocess.run(
        [sys.executable, "-c", SIGNAL_DURING_COMPOSE, str(tmp_path), str(int(number))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr + result.stdout
    assert result.returncode == 128 + number, result.stderr
