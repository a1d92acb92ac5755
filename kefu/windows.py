"""Refresh windows of the nightly job: pure date arithmetic, no I/O.

A window is `(start, end)`: the biz_dates whose mart rows a build deletes and
writes again (both ends included). `(None, None)` means a full build of every day.
"""

from __future__ import annotations

import datetime as dt

Window = tuple[dt.date | None, dt.date | None]

FULL_BUILD: Window = (None, None)


def maturing_days(as_of: dt.date, final_pay_days: int) -> Window:
    """The days whose conversion figures can still change on `as_of` (docs/metrics.md §4.6):
    as_of − final_pay_days … as_of. Day D's final figures count payments up to the end
    of D + final_pay_days, so a payment on as_of can change every day of this range."""
    if final_pay_days < 0:
        raise ValueError(f"final_pay_days must be >= 0, got {final_pay_days}")
    return (as_of - dt.timedelta(days=final_pay_days), as_of)


def widen_window(
    window: Window,
    earliest_new_date: dt.date | None,
    marts_exist: bool,
    *,
    master_data_changed: bool = False,
) -> Window:
    """A planned window made safe for what the load brought and what the warehouse holds:
    a full build when the marts do not exist yet (a window build would create them with
    the window's days only) or when master data changed (a filter-list entry or a shop's
    timezone applies to every day), and the start moved back to the earliest biz_date of
    newly loaded rows when older data arrived late."""
    if not marts_exist or master_data_changed:
        return FULL_BUILD
    start, end = window
    if start is None:
        return (None, end)
    if earliest_new_date is not None and earliest_new_date < start:
        start = earliest_new_date
    return (start, end)


def refresh_window(
    as_of: dt.date,
    final_pay_days: int,
    earliest_new_date: dt.date | None,
    marts_exist: bool,
    *,
    master_data_changed: bool = False,
) -> Window:
    """The days the nightly rebuilds: the maturing days as_of − final_pay_days … as_of
    (D-4 … D by default: the new day D and the four before it whose conversion is still
    maturing), widened back to the earliest biz_date of newly loaded rows when older
    data arrives, and a full build when the marts do not exist yet or master data changed."""
    return widen_window(
        maturing_days(as_of, final_pay_days),
        earliest_new_date,
        marts_exist,
        master_data_changed=master_data_changed,
    )


def schedule_as_of(scheduled_local_date: dt.date) -> dt.date:
    """The as-of date of a scheduled nightly run: the day before the tick's local date
    (the 02:00 run of day X publishes the exports of day X − 1)."""
    return scheduled_local_date - dt.timedelta(days=1)


# ---------------------------------------------------------------- build watermark


def pending_load_runs(loaded_runs: tuple[int, ...], taken_in_runs: tuple[int, ...]) -> list[int]:
    """The load runs no successful build has taken in yet, whoever loaded them and
    whatever failed in between (a build that failed or was killed took nothing in)."""
    taken = set(taken_in_runs)
    return sorted(run for run in set(loaded_runs) if run not in taken)


def needs_full_build(
    pending_entities: set[str],
    master_entities: tuple[str, ...],
    seeds_now: str,
    seeds_last_build: str | None,
) -> bool:
    """Master data among the pending loads, or seeds changed since the last successful
    build (None: no build recorded, so nothing is known to be up to date)."""
    return bool(pending_entities & set(master_entities)) or seeds_now != seeds_last_build


def cover_unfinished(window: Window, unfinished: tuple[Window, ...]) -> Window:
    """A window stretched over the windows of builds that started after the last
    successful one and never finished (killed, failed): their days may be half-written.
    Any open end makes it a full build."""
    start, end = window
    for other_start, other_end in unfinished:
        if None in (start, end, other_start, other_end):
            return FULL_BUILD
        start, end = min(start, other_start), max(end, other_end)
    return (start, end)
