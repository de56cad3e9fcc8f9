"""``g``: a one-line prompt for the iteration to put the cursor on, at the bottom of the
screen (over the status line, not over a chart)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class GoToScreen(ModalScreen[int | None]):
    """Enter an iteration (a whole number); esc cancels."""

    DEFAULT_CSS = """
    GoToScreen { align: left bottom; background: $background 0%; }
    GoToScreen Input { dock: bottom; width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="go to iteration (enter; esc cancels)", type="integer",
                    id="go-to", compact=True)  # fmt: skip

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.dismiss(int(text) if text.lstrip("-").isdigit() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
