"""Report periods: a day, an ISO week (Monday start) or a calendar month, and the one
before it. Pure date arithmetic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PERIODS = ("day", "week", "month")
# The trend lines and the load heatmap show at least this many days ending on the last
# day of the period, so that a daily report still shows a trend.
MIN_TREND_DAYS = 14
MIN_HEATMAP_DAYS = 7


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        """The date in file names: the first day of the period."""
        return self.start.isoformat()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def context_start(self, min_days: int) -> dt.date:
        """The first day of a chart that shows the period, or at least min_days."""
        return min(self.start, self.end - dt.timedelta(days=min_days - 1))


def period_of(kind: str, day: dt.date) -> Period:
    """The day, ISO week or month containing `day`."""
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return Period(kind, start, start + dt.timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return Period(kind, start, following - dt.timedelta(days=1))
    raise ValueError(f"unknown period {kind!r} (one of {', '.join(PERIODS)})")


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
