"""Tables, colour and progress for the CLI (rich is used when installed, never required).

Progress goes to stderr and only to a terminal (never into a log or a pipe); colour only to a terminal
and never when ``NO_COLOR`` is set (https://no-color.org); ``--json`` output is plain JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any, Iterable, Sequence, TextIO

#: the width tables are fitted to
TABLE_WIDTH = 100
_COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}


def add_output_options(p: argparse.ArgumentParser) -> None:
    """``--json`` and ``--quiet``, shared by check, certify, derive and sweep."""
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (nothing else)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress or notes on stderr; print only the outcome line")


def print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2))


def colour_enabled(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to a non-empty value or TERM is dumb."""
    return (not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
            and hasattr(stream, "isatty") and stream.isatty())


def style(text: str, colour: str, stream: TextIO | None = None) -> str:
    """``text`` in ``colour`` (green, red, yellow, bold) when ``stream`` (default stdout) shows colour."""
    if not colour_enabled(stream or sys.stdout):
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 1)] + "..."


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], width: int = TABLE_WIDTH,
          shrink: int | None = None) -> str:
    """A left-aligned text table with a rule under the header, at most ``width`` columns wide:
    column ``shrink`` (default the widest) is clipped with "..." to fit."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    if excess > 0:
        k = shrink if shrink is not None else max(range(len(widths)), key=widths.__getitem__)
        widths[k] = max(widths[k] - excess, len(cells[0][k]), 8)
        cells = [[_clip(c, widths[k]) if i == k else c for i, c in enumerate(row)] for row in cells]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ProgressBar:
    """Progress on stderr while work runs: rich's bar when installed, else one line redrawn in place.

    Shown only when stderr is a terminal and ``quiet`` is false, so logs and pipes never see it.
    ``total=None`` is work of unknown length (a spinner with the elapsed time).
    """

    def __init__(self, total: int | None, label: str, quiet: bool = False) -> None:
        self.total, self.label, self.done = total, label, 0
        self.what = ""
        self._on = not quiet and sys.stderr.isatty()
        self._rich: Any = None
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        if self._on:
            try:
                from rich.console import Console
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
                from rich.progress import TimeElapsedColumn
            except ImportError:
                pass
            else:
                columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                           *([MofNCompleteColumn()] if total is not None else []), TimeElapsedColumn()]
                self._rich = Progress(*columns, console=Console(stderr=True), transient=True)
                self._task = self._rich.add_task(label, total=total)

    def __enter__(self) -> "ProgressBar":
        if self._rich is not None:
            self._rich.start()
        elif self._on:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            with self._lock:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()

    def grow(self, extra: int) -> None:
        """The work turned out to have ``extra`` more steps."""
        if self.total is not None:
            self.total += extra
            if self._rich is not None:
                self._rich.update(self._task, total=self.total)

    def step(self, what: str) -> None:
        """Announce the item now running (the bar advances past the previous one)."""
        self.what = what
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, description=f"{self.label}: {what}")
        self.done += 1
        self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        if not self._on or self._rich is not None:
            return
        elapsed = time.monotonic() - self._start
        count = f" {min(self.done, self.total)}/{self.total}" if self.total is not None else ""
        text = _clip(f"{self.label}{count}: {self.what}" if self.what else self.label, TABLE_WIDTH - 12)
        with self._lock:
            sys.stderr.write(f"\r\033[K{text}  {elapsed:.0f} s")
            sys.stderr.flush()
