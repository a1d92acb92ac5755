"""`adapter` for sqlfluff's jinja templater (lint only; dbt supplies the real one).

`adapter.dispatch('name', 'kefu')(args…)` renders as the SQL call `name(args…)`,
so that models using the engine macros (macros/instants.sql) lint as plain SQL.
"""

from __future__ import annotations

from collections.abc import Callable


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(*args: object) -> str:
        return f"{macro_name}({', '.join(str(arg) for arg in args)})"

    return render
