"""Formula-safe text for every spreadsheet the project writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kefu.safe_text import spreadsheet_safe


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x","y")',
        "=cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "+1+1",
        "-2+3",
        "\t=1",
        "\r=1",
    ],
)
def test_formula_triggers_are_neutralised(text):
    safe = spreadsheet_safe(text)
    assert safe == "'" + text
    assert not str(safe).startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(
    "value",
    ["毛毛小铺", "agent=1", "a-b", "", None, 12, -3.5, Decimal("-1.00"), dt.date(2026, 5, 1)],
)
def test_other_values_are_unchanged(value):
    assert spreadsheet_safe(value) == value
