"""Terminal output readable at a glance: a mark, a word, the detail; colour only on a tty."""

import os
import sys
from typing import TextIO

Cell = str | tuple[str, str]  # text, or (text, style)

_COLOURS = {"ok": "32", "bad": "31", "warn": "33", "info": "36", "dim": "2", "bold": "1"}
_MARKS = {"ok": "✓", "bad": "✗", "warn": "!", "info": "•"}


class Printer:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", lambda: False)()
        self.colour = isatty and not os.environ.get("NO_COLOR")

    def paint(self, text: str, style: str) -> str:
        return f"\033[{_COLOURS[style]}m{text}\033[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        print(text, file=self.stream)

    def mark(self, style: str, text: str) -> None:
        """One result line: ``✓ text`` (``style`` is ok, bad, warn or info)."""
        self.line(f"{self.paint(_MARKS[style], style)} {text}")

    def field(self, label: str, text: str, style: str | None = None) -> None:
        """An indented ``label  text`` line under a heading."""
        value = self.paint(text, style) if style else text
        self.line(f"  {self.paint(label.ljust(13), 'dim')} {value}")

    def table(self, header: list[str], rows: list[list[Cell]]) -> None:
        """Columns padded before painting, so colour never breaks the alignment."""
        plain = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
        widths = [max(len(c) for c in col) for col in zip(header, *plain, strict=True)]
        titles = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()
        self.line(self.paint(titles, "bold"))
        for row in rows:
            cells = []
            for cell, width in zip(row, widths, strict=True):
                text, style = (cell, None) if isinstance(cell, str) else cell
                padded = text.ljust(width)
                cells.append(self.paint(padded, style) if style else padded)
            self.line("  ".join(cells).rstrip())
