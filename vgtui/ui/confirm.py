"""Keys that would throw away something on screen take effect on a second press."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vgtui.core.run import Run


class SecondPress:
    """``confirmed(key)`` is true when ``key`` was pressed once already within the window."""

    WINDOW_SECONDS = 4.0

    def __init__(self) -> None:
        self.pending: str | None = None
        self.until = 0.0

    def confirmed(self, key: str) -> bool:
        now = time.monotonic()
        if self.pending == key and now < self.until:
            self.pending = None
            return True
        self.pending = key
        self.until = now + self.WINDOW_SECONDS
        return False

    def may_replace(
        self,
        key: str,
        finished: Run | None,
        state: object,
        notify: Callable[..., Any],
        clear: bool = False,
    ) -> bool:
        """Whether ``key`` may replace the ``finished`` run (None: nothing to lose) by a new
        one, or ``clear`` the charts of it; the first press says how to go on instead."""
        if finished is None or self.confirmed(key):
            return True
        doing = "clear the charts" if clear else "start a new run"
        notify(
            f"press {key} again to {doing}; {finished.path.name} stays saved",
            title=f"{'clear' if clear else 'replace'} the {state} run?",
            timeout=self.WINDOW_SECONDS,
        )
        return False
