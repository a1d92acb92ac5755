"""Text that a spreadsheet will show, never run.

Excel, LibreOffice and WPS evaluate a cell whose text starts with `=`, `+`, `-` or `@`
(and some read a leading tab or carriage return the same way), so an agent name such
as `=HYPERLINK(...)` or `=cmd|...` in an export would run as a formula on the reader's
machine. Every CSV or xlsx the project writes passes its text cells through
`spreadsheet_safe`; the marts keep the true values.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value as a spreadsheet cell that shows it as text: a string starting with a
    formula trigger gets a leading apostrophe (which Excel hides and never evaluates);
    numbers, dates, None and other strings are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
