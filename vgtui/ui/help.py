"""The keys of the monitor, and the help screen that explains them and the charts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from vgtui.ui.chart_tabs import TAB_IDS

KEYS = [
    Binding("r", "run", "Run"),
    Binding("p", "pause", "Pause"),
    Binding("n", "step", "Step"),
    Binding("x", "stop", "Stop/Reset"),
    Binding("b", "toggle_sidebar", "Sidebar"),
    Binding("t", "toggle_train", "Train", show=False),
    Binding("s", "save", "Save"),
    Binding("question_mark,f1", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    Binding("escape", "leave_field", "Leave field", show=False),
    *(
        Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False)
        for number, tab in enumerate(TAB_IDS, start=1)
    ),
]
"""The app's key bindings (the actions are VgtuiApp's); HELP_TEXT explains them."""

HELP_TEXT = """\
[b]vgtui[/b] trains every selected setup in lockstep on the same mini-batches and draws them live.

[b]Keys[/b]
  r        run (a new run replaces the charts; resumes when paused)
  p        pause / resume (stops between iterations)
  n        step: advance to the next evaluation point, then pause
  x        stop the run (results are kept); when stopped: reset the charts
  b        hide / show the config sidebar
  1 2 3 4  accuracy, overlay, gradients, summary tabs
  t        overlay: show train curves too
  s        save a screenshot (SVG) into the run folder
  ?  F1    this help        q  ctrl+c  quit (a running run is saved)
  esc      leave a field      tab  move between fields

[b]Reading the charts[/b]
  Accuracy: train (dots) and test (line) accuracy per setup, 0 to 1.
  Gradients: the gradient norm of each layer on a log scale. When the
  input layer (L1) sits orders of magnitude below the output layer, the
  gradient vanishes on its way back: the first/last ratio says by how much.

Every run writes config.json, metrics.csv and summary.json to its run folder,
exactly like [b]vgtui --no-ui[/b].
"""


class HelpScreen(ModalScreen[None]):
    """Key bindings and how to read the charts."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(HELP_TEXT, id="help-text")
