"""Plain-text tables and progress for the CLI (rich is used when installed, never required)."""

from __future__ import annotations

import sys
from typing import Iterable, Sequence


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A left-aligned text table with a rule under the header."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ProgressBar:
    """A progress bar on stderr: rich's when installed and stderr is a terminal, else one line per item."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self._rich = None
        if sys.stderr.isatty():
            try:
                from rich.progress import Progress
            except ImportError:
                pass
            else:
                self._rich = Progress(transient=True)
                self._task = self._rich.add_task(label, total=total)

    def __enter__(self) -> "ProgressBar":
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.stop()

    def step(self, what: str) -> None:
        """Announce the item now running (the bar advances past the previous one)."""
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, description=f"{self.label}: {what}")
        else:
            width = 20
            filled = width * self.done // max(self.total, 1)
            print(f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {what}", file=sys.stderr,
                  flush=True)
        self.done += 1
