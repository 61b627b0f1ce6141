"""Plain-text tables and progress for the CLI (rich is used when installed, never required)."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A left-aligned text table with a rule under the header."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def progress(items: Sequence[T], label: str) -> Iterator[T]:
    """Iterate with a progress bar on stderr (rich if installed and a terminal, else a plain counter)."""
    if sys.stderr.isatty():
        try:
            from rich.progress import track
        except ImportError:
            pass
        else:
            yield from track(items, description=label, console=None, transient=True)
            return
    total = len(items)
    for i, item in enumerate(items, 1):
        print(f"[{i}/{total}] {label}", file=sys.stderr, flush=True)
        yield item
