"""The keys of the monitor, and the help screen that explains them and the charts."""

from __future__ import annotations

import textwrap

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from vgtui.core.config import PRESETS, RUN_OPTIONS
from vgtui.core.vocabulary import ACTIVATION_NAMES, init_forms, remedies_help

KEYS = [
    Binding("e", "chart_view('smooth')", "Smooth", show=False),
    Binding("l", "chart_view('scale')", "Log/linear", show=False),
    Binding("z", "chart_view('zoom')", "Zoom", show=False),
    Binding("left_square_bracket", "chart_view('cursor-left')", "Cursor left", show=False),
    Binding("right_square_bracket", "chart_view('cursor-right')", "Cursor right", show=False),
    Binding("c", "chart_view('cursor-off')", "Cursor off", show=False),
    Binding("h", "chart_view('solo')", "Hide others", show=False),
    Binding("d", "chart_view('delta')", "Gradient norm / error std", show=False),
    Binding("H", "chart_view('series')", "Series", show=False),
]
"""The chart controls, the same on a live run and on saved runs."""

MONITOR_KEYS = [
    Binding("r", "app.run", "Run"),
    Binding("p", "app.pause", "Pause"),
    Binding("n", "app.step", "Step"),
    Binding("x", "app.stop", "Stop/Reset"),
    Binding("b", "app.toggle_sidebar", "Sidebar"),
    Binding("minus", "app.pace(-1)", "Slower", show=False),
    Binding("plus,equals_sign", "app.pace(1)", "Faster", show=False),
    Binding("s", "app.save", "Save"),
    Binding("o", "app.open_runs", "Runs"),
    Binding("escape", "app.leave_field", "Leave field", show=False),
]
"""The monitor screen's keys (the actions are VgtuiApp's): they act, and the footer shows them,
only while the monitor is the screen shown, not under the Runs screen or a saved run."""

KEYS = [
    Binding("question_mark,f1", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
    Binding("ctrl+c", "quit(130)", "Quit", show=False, priority=True),
]
"""The app's own keys, on every screen (the chart keys are the charts screen's,
vgtui.ui.base.CHART_KEYS); HELP_TEXT explains them all."""

HELP_TEXT = """\
[b]vgtui[/b] trains every selected setup in lockstep on the same
mini-batches and draws them live. Scroll this help with the arrow keys,
PgUp/PgDn or the mouse; esc closes it.

[b]Keys[/b]
  r        run (resumes when paused); after a run has ended, press r
           twice: the first press asks, the finished run stays saved
  p        pause / resume (stops between iterations)
  n        step: advance to the next evaluation point, then pause
           (after a run has ended, press n twice, like r)
  x        stop the run (results are kept); when stopped: reset the
           charts (press x twice: the first press asks)
  b        hide / show the config sidebar
  1 to 8   tabs: accuracy, overlay, gradients, summary, loss,
           activations, profile, sweep
  t        overlay: show train curves too
  - +      pace: slower / faster (10, 30, 100, 300, 1000 it/s, full);
           also mid-run. The sidebar's pace field takes any rate.
  e        smoothing of the noisy series (train accuracy, gradient
           norms, loss): off, 0.6, 0.9, 0.97 (a debiased moving
           average; the raw points stay dotted behind; test accuracy
           is never smoothed)
  l        gradients and loss: log or linear scale
  d        gradients: each layer's gradient norm, or the std of the
           error (delta) back-propagated to its output (Glorot &
           Bengio's figure: it shrinks layer by layer when gradients
           vanish)
  z        x range: all iterations, the first 25%, the first 5% (the
           lesson happens at the start), then 25% and 5% around the
           cursor (when there is one)
  [ ]      cursor: move to the previous / next evaluation point; every
           chart and the strip show the exact values there
  {{ }}      cursor: 10 evaluation points back / on (PgUp PgDn too,
           except on the Summary tab, where they scroll the findings)
  Home End cursor: the first / the latest evaluation point
  g        cursor: go to an iteration (type it, enter)
  c        cursor off
  h        overlay and loss: one setup alone, each in turn, then all
  H        overlay and loss: choose the setups shown (a list: digits,
           space or a click show / hide one, a shows all, esc closes);
           hidden setups stay hidden, and the strip marks them
  s        save a screenshot (SVG) into the run folder
  o        runs: the saved runs under the output folder, newest first;
           enter opens one, space marks several to compare (read-only;
           the last finished run stays here after a new one starts)
  ?  F1    this help
  q        quit (ctrl+c too, exit status 130; a running run is saved as
           interrupted)
  esc      leave a field;  tab: move between fields

[b]The sidebar[/b]: every option of vgtui --no-ui, checked as you type;
changes apply to the next run (r).
{fields}
  pace (it/s)      train at most this many iterations per second, to
                   watch a short run (a classroom); full: full speed
                   (default). Applies at once, also mid-run.
  setups           tick the setups to train (\\[X] on, \\[ ] off;
                   space or a click toggles). Type ACTIVATION-INIT in
                   the field below and press enter (or add) for more,
                   e.g. tanh-xavier, relu-gauss:0.05, sigmoid-gauss+bn.
{setup_names}

[b]The status line[/b] under the strip says what stays true: the run's
state (where its results are, once it ended), the pace, smoothing, zoom
and the cursor (@500). One-off messages show above it for a moment;
nothing ever covers a chart.

[b]The strip[/b] under the charts, on every tab, one entry per setup:
  its marker, its state, its latest test accuracy and its
  first/last-layer gradient ratio (4.3e-3 means 0.0043). States: ok;
  stalled (test accuracy still near chance after 5 evaluations);
  diverged at N (its loss became NaN or infinite at iteration N: it
  stopped there, the others go on). A setup hidden from the overlay and
  loss charts (h, H) has - in place of its marker, its name struck out.

[b]Reading the charts[/b]
  Accuracy: test accuracy (the line with the setup's marker) and train
  accuracy on the current mini-batch (grey dots), 0 to 1.
  Overlay: every setup's test curve; the markers match the strip.
  Gradients: the gradient norm of each weight layer (markers 1, 2, 3
  are the layer numbers) on one log scale shared by all panels, so
  equal heights are equal norms. When the input layer (L1) sits orders
  of magnitude below the output layer, the gradient vanishes on its
  way back; the first/last ratio says by how much. Exact zeros (float32
  underflow, a dead layer) lie on the row labelled 0. Deep networks
  show the first (f), middle (m) and last (l) layer and, dotted, the
  range of all layers.
  Summary: final and best test accuracy, final train accuracy, seconds
  and the gradient ratio per setup. Narrow terminals show the most
  important columns whole (the setup column stays put).
  Loss: every setup's train loss (the mean cross-entropy of the
  mini-batches since the previous evaluation point), log scale.
  A vertical line marks where a setup diverged.
  Profile: why Xavier and He work (Glorot & Bengio 2010). Across the
  layers (L1 = input side), on log scales: the signal going forward
  (each hidden layer's activation std on the probe images), the error
  coming back (the std of the delta at each layer's output) and the
  weights' std; every setup in its colour and marker, solid at the
  cursor (or the latest evaluation), dotted at initialisation (for the
  weights: the std the init prescribes, 0.01, 1/sqrt(n_in) for Xavier,
  sqrt(2/n_in) for He). With std 0.01 weights the signal and the error
  shrink layer by layer; Xavier keeps the signal level (sigmoid's slope,
  at most 1/4, still shrinks the error), He keeps both level. At
  initialisation a +bn setup normalises each layer by the probe images'
  own mean and variance (gamma 1, beta 0), as a training step does with
  its batch (at an evaluation point the probe uses the running
  averages); a +res setup adds the shortcut where widths match. The
  signal is what the activation gives, without the shortcut's input.
  Under the charts, a row per +bn setup, per hidden layer (L1 first),
  means over its units: σ, the running std of u = aW + b that batch
  norm divides by; init σ, u's std at initialisation (the probe as one
  batch); the learned scale γ and shift β. With std 0.01 weights u's
  std is small: batch norm multiplies the signal back up by 1/σ.
  Activations: each setup's hidden layers on the probe images (1000
  test images chosen by the seed), as in Deep Learning from Scratch
  ch. 6: a histogram per layer (deep networks: first, middle, last),
  at the latest evaluation or at the cursor ([ ]). Sigmoid runs 0..1,
  tanh and softsign -1..1; ReLU-like activations use a log scale from
  1e-5 to 22 with the inactive ones (<= 0) in the first bar (cut at the
  top: their share is the off % beside it). mu and sigma: mean and std
  of all activations; sat: share beyond 99% of the range; dead: units
  never active on any probe image. The bottom line: the worst layer's
  saturated (or dead-unit) share over the run. Sigmoid with N(0, 0.01^2)
  weights shows every layer as one spike at 0.5: the signal collapsed.

[b]The Sweep tab[/b] shows the newest sweep under the output folder
(vgtui sweep writes runs/TIME-sweep/) and fills in as its cells finish:
test accuracy over sigma_w^2 (across) and depth (deepest on top), one
block per cell, its digit the accuracy in tens of % (dark: chance,
bright: learned). A digit in parentheses is a cell theory says does not
train: depth >= 6 xi_c (6 xi_grad where xi_c is infinite; the 6xi_c row,
or 6xi_g, gives it); v marks the critical sigma_w^2 (chi_1 = 1).
  arrows   move the cursor; also [ ] (sigma_w^2) and {{ }} (shallower,
           deeper). The lines under the map read its cell: test and
           train accuracy, diagnosis, spread over seeds, theory
  enter    open the cell as a run: its network with every sigma_w^2 of
           its row as a setup, seed 0 (the sweep's own run for that
           seed), into the sidebar; r runs it
  w  W     start vgtui sweep --preset quick (about 10 s) / schoenholz
           (about 3 min) in the background, writing to the output folder
  k        stop that sweep (quitting stops it too); its finished cells
           stay: vgtui sweep --resume DIR finishes it
  a        next grid, in a sweep of several activations or --variants

Every run writes config.json, metrics.csv and summary.json to its run
folder (named in the header), exactly like [b]vgtui --no-ui[/b].
"""


def field_help() -> str:
    """One line per sidebar field: its label and what it sets."""
    presets = ", ".join(PRESETS)
    lines = [
        textwrap.fill(
            f"{'preset':<16} fill every field with an experiment of the literature"
            f" (--preset): {presets}; the list says where each comes from, the README"
            " what it shows. What a preset leaves open (the seed) stays; an edit makes"
            " it custom.",
            width=72,
            initial_indent="  ",
            subsequent_indent=" " * 19,
        )
    ]
    for option in RUN_OPTIONS:
        if option.kind == "setups":
            continue
        text = f"on: {option.help}" if option.kind == "switch" else option.help
        lines.append(
            textwrap.fill(
                f"{option.label:<16} {text} ({option.flag})",
                width=72,
                initial_indent="  ",
                subsequent_indent=" " * 19,
            )
        )
    return "\n".join(lines)


def setup_names_help() -> str:
    """Every activation and init a setup may name, from the core's tables."""
    text = (
        f"Activations: {' '.join(ACTIVATION_NAMES)}; inits: {' '.join(init_forms())}. "
        + remedies_help()
    )
    indent = " " * 19
    return textwrap.fill(text.replace("[", "\\["), width=72, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False)  # fmt: skip


def help_text() -> str:
    """The monitor's help, its lists made from the option and setup tables."""
    return HELP_TEXT.format(fields=field_help(), setup_names=setup_names_help())


class HelpScreen(ModalScreen[None]):
    """Key bindings and how to read the charts; scrolls when the terminal is short."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def __init__(self, text: str | None = None) -> None:
        super().__init__()
        self.text = text
        """What to show instead of the monitor's help (the saved-runs view has its own)."""

    def compose(self) -> ComposeResult:
        text = self.text if self.text is not None else help_text()
        with VerticalScroll(id="help-scroll"):
            yield Static(text, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
