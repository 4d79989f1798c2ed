"""Jobs as records for export (``e`` in the dashboard) and ``resync-tui jobs``.

Pure: rows in, text out; writing files is the caller's. Both the export modal and the
headless command use these, so a CSV saved from the table and one printed by the
command have the same columns, in the same order, with the same neutralizing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Final

from resync_tui.model.job_row import JobRow, aware
from resync_tui.sanitize import safe_text

__all__ = ["FIELDS", "csv_cell", "csv_lines", "json_lines", "record", "text_lines"]

FIELDS: Final = ("id", "name", "stream", "workstation", "folder", "status", "rc",
                 "start", "end")
"""Columns of every export, in order (``resync-tui jobs`` promises at least these)."""

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet takes as a formula (OWASP's CSV injection list)."""
_CELL_MAX: Final = 10_000


def _time(value: datetime | None) -> str:
    return "" if value is None else aware(value).isoformat(timespec="seconds")


def record(row: JobRow) -> dict[str, str | int | None]:
    """One job as export fields: the engine's values as they are (times ISO 8601)."""
    return {
        "id": row.job_id, "name": row.job, "stream": row.stream,
        "workstation": row.workstation, "folder": row.folder, "status": row.status,
        "rc": row.return_code, "start": _time(row.started), "end": _time(row.ended),
    }


def csv_cell(value: str | int | None) -> str | int:
    """A CSV cell a spreadsheet will not run: text from the engine starting like a
    formula (``=HYPERLINK(...)``, ``@SUM``, ``-2+3``) gets a leading ``'``, and control
    characters are removed. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    text = safe_text(value, _CELL_MAX)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(rows: Iterable[JobRow]) -> Iterator[str]:
    """The header, then one CSV line per row (each ending with ``\\r\\n``, as RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(value) for value in record(row).values()])
        yield buffer.getvalue()


def json_lines(rows: Iterable[JobRow]) -> Iterator[str]:
    """One JSON object per row and line (JSON Lines). ASCII-only: every control or
    escape character from the engine is a ``\\u`` escape, harmless on a terminal."""
    for row in rows:
        yield json.dumps(record(row), ensure_ascii=True) + "\n"


def text_lines(rows: Iterable[JobRow]) -> Iterator[str]:
    """An aligned table for a terminal: a header, then one line per row, every value
    made safe to print (``safe_text``)."""
    cells = [[safe_text("" if v is None else str(v), 120) for v in record(row).values()]
             for row in rows]
    header = [name.upper() for name in FIELDS]
    widths = [max([len(header[i]), *(len(line[i]) for line in cells)])
              for i in range(len(FIELDS))]
    for line in [header, *cells]:
        yield "  ".join(value.ljust(width) for value, width in zip(line, widths,
                                                                    strict=True)).rstrip() + "\n"
