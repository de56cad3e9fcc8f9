"""Regenerate the README screenshots: a real default run in the app, saved as SVG, then PNG.

Run from the repository root with the dev venv: ``.venv/bin/python assets/make_screenshots.py``.
Needs ``rsvg-convert`` (Debian: librsvg2-bin). librsvg ignores SVG ``textLength`` and draws
braille (the chart dots) in a wider fallback font, so every braille character is placed in its
own terminal cell before converting.
"""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
import tempfile
from pathlib import Path

from vgtui.core.blas import limit_blas_threads
from vgtui.core.config import RunConfig
from vgtui.core.data import load_bundled
from vgtui.ui.app import VgtuiApp

ASSETS = Path(__file__).parent
TEXT_ELEMENT = re.compile(
    r'<text([^>]*?) x="([\d.]+)"([^>]*?) textLength="([\d.]+)"([^>]*)>([^<]*)</text>'
)
BRAILLE = re.compile("[\u2800-\u28ff]")


def place_braille_in_cells(svg: str) -> str:
    """Split text runs holding braille into one element per character at its cell's x."""

    def split(match: re.Match) -> str:
        before, x, middle, length, after, content = match.groups()
        chars = html.unescape(content)
        if not BRAILLE.search(chars):
            return match.group(0)
        cell = float(length) / len(chars)
        return "".join(
            f'<text{before} x="{float(x) + i * cell:.1f}"{middle}{after}>{html.escape(c)}</text>'
            for i, c in enumerate(chars)
            if not c.isspace()
        )

    svg = svg.replace("Fira Code, monospace", "DejaVu Sans Mono")
    return TEXT_ELEMENT.sub(split, svg)


async def shoot(size: tuple[int, int], shots: list[tuple[tuple[str, ...], str]]) -> None:
    app = VgtuiApp(RunConfig(), load_bundled(), Path(tempfile.mkdtemp()))
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        while app.run_state != "done":
            await asyncio.sleep(0.2)
        await pilot.pause(0.3)
        app.clear_notifications()
        for keys, name in shots:
            if keys:
                await pilot.press(*keys)
            await pilot.pause(0.5)
            with tempfile.TemporaryDirectory() as folder:
                svg = Path(app.save_screenshot(filename=f"{name}.svg", path=folder))
                svg.write_text(place_braille_in_cells(svg.read_text()))
                png = ASSETS / f"{name}.png"
                subprocess.run(
                    ["rsvg-convert", "--zoom", "0.85", str(svg), "-o", str(png)], check=True
                )
        await pilot.press("q")


async def main() -> None:
    await shoot(
        (120, 40),
        [((), "accuracy"), (("3",), "gradients"), (("2",), "overlay"), (("4",), "summary")],
    )
    await shoot((80, 24), [((), "compact-80x24")])


if __name__ == "__main__":
    limit_blas_threads(1)  # the entry points' policy, as the vgtui command sets it
    asyncio.run(main())
