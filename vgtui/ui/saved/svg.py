"""The charts of saved runs as SVG files, one per tab (``vgtui export RUN... --svg DIR``): the
saved-runs view drawn headless, each tab saved as Textual's screenshot.

librsvg (rsvg-convert) and some browsers ignore SVG ``textLength`` and draw braille (the chart
dots) in a wider fallback font, so every braille character is placed in its own terminal cell
(and squeezed to it where ``textLength`` is honoured). The app's ``s`` saves the same way.
"""

from __future__ import annotations

import asyncio
import html
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vgtui.core.store.run_folder import atomic_write_text
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.saved.screen import SavedRunsApp, SavedRunsScreen, read_all

SIZE = (120, 40)
TEXT_ELEMENT = re.compile(
    r'<text([^>]*?) x="([\d.]+)"([^>]*?) textLength="([\d.]+)"([^>]*)>([^<]*)</text>'
)
BRAILLE = re.compile("[\u2800-\u28ff\u2580-\u259f]")
"""Braille (the chart dots) and block elements (the histograms' bars): drawn cell by cell."""
FONTS = '"DejaVu Sans Mono", "DejaVu Sans", "Noto Sans Symbols 2", "Segoe UI Symbol", monospace'
"""The SVG's font stack: DejaVu Sans Mono has no braille; DejaVu Sans, Noto Sans Symbols 2
(Linux) and Segoe UI Symbol (Windows) do, so the dots render instead of boxes."""


def place_braille_in_cells(svg: str) -> str:
    """Split text runs holding braille or blocks into one element per character at its
    cell's x; start other runs after their leading spaces (librsvg drops those)."""

    def split(match: re.Match) -> str:
        before, x, middle, length, after, content = match.groups()
        chars = html.unescape(content)
        cell = float(length) / max(len(chars), 1)
        if not BRAILLE.search(chars):
            leading = len(chars) - len(chars.lstrip(" \u00a0"))
            if not leading or leading == len(chars):
                return match.group(0)
            start, rest = float(x) + leading * cell, chars[leading:]
            return (
                f'<text{before} x="{start:.1f}"{middle} textLength="{cell * len(rest):.1f}"'
                f"{after}>{html.escape(rest)}</text>"
            )
        # Each glyph squeezed into its cell (browsers): a wider braille font's dots would run
        # past the chart's frame.
        fit = f' textLength="{cell:.1f}" lengthAdjust="spacingAndGlyphs"'
        return "".join(
            f'<text{before} x="{float(x) + i * cell:.1f}"{middle}{fit}{after}>'
            f"{html.escape(c)}</text>"
            for i, c in enumerate(chars)
            if not c.isspace()
        )

    svg = svg.replace("Fira Code, monospace", FONTS)
    return TEXT_ELEMENT.sub(split, svg)


async def save_tabs(app: SavedRunsApp, folder: Path, prefix: str, size=SIZE) -> list[Path]:
    """Draw ``app`` headless at ``size`` and save every tab as ``folder/prefix-TAB.svg``."""
    written = []
    async with app.run_test(size=size) as pilot:
        for number, tab in enumerate(TAB_IDS, start=1):
            if tab == "sweep":  # the newest sweep of the folder, not the runs': left out
                continue
            await pilot.press(str(number))
            await pilot.pause()
            app.clear_notifications()
            await pilot.pause()
            with tempfile.TemporaryDirectory() as scratch:
                shot = Path(app.save_screenshot(filename="tab.svg", path=scratch))
                text = place_braille_in_cells(shot.read_text(encoding="utf-8"))
            target = folder / svg_name(prefix, tab)
            atomic_write_text(target, text)  # an interrupted export leaves no half file
            written.append(target)
        await pilot.press("q")
    return written


def svg_name(prefix: str, tab: str) -> str:
    return f"{prefix}-{tab}.svg"


def export_svgs(
    paths: Sequence[Path], folder: Path, force: bool = False
) -> tuple[list[Path], list[str]]:
    """One SVG per tab of the runs at ``paths`` (several: compared) in ``folder``; the files
    written and the runs that could not be read (or the files that exist, without
    ``force``). Nothing is written to the run folders."""
    entries = read_all(paths)
    errors = [str(e.error) for e in entries if e.error is not None]
    if errors:
        return [], errors
    prefix = entries[0].name if len(entries) == 1 else "compare"
    existing = [folder / svg_name(prefix, tab) for tab in TAB_IDS]
    existing = [path for path in existing if path.exists() or path.is_symlink()]
    if existing and not force:
        return [], [f"{existing[0]} exists: add --force to replace it"]
    folder.mkdir(parents=True, exist_ok=True)
    app = SavedRunsApp(SavedRunsScreen(entries, follow=False))
    # Drawn for no one to watch: the tab underline's slide would only hold each tab's
    # screenshot back until it ends (half the export's time); the files are the same.
    app.animation_level = "none"
    return asyncio.run(save_tabs(app, folder, prefix)), []
