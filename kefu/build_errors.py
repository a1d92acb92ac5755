"""What a failed dbt build says: each failed node with its model, then what to look for."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.loading.sql import prefix

# DuckDB errors that a value in the data raises (not a bug in the SQL).
DATA_ERROR_MARKERS = (
    "Conversion Error",
    "Overflow",
    "out of range",
    "Out of Range",
    "Constraint Error",
    "Could not convert",
)
DATA_HINT = (
    "a value in the data caused this: look in the raw rows the named model reads for the "
    "value quoted (an amount, quantity or time far out of range); the loader's bounds are "
    "in seeds/load_bounds.csv, the rows it held back in raw.quarantine"
)
TEST_HINT = (
    "to see the rows breaking a test: .venv/bin/dbt test --select TEST --store-failures "
    "--profiles-dir . (then query the table it names)"
)


@dataclass(frozen=True)
class Failure:
    """One failed dbt node."""

    resource_type: str  # model | test | unit_test | seed | snapshot
    name: str
    path: str  # the file that defines it
    message: str
    model: str | None = None  # the model a test is attached to


def failure_line(failure: Failure) -> str:
    """`test not_null_x on model int_x (models/...yml): <first lines of the error>`."""
    detail = " ".join(line.strip() for line in failure.message.splitlines() if line.strip())
    on_model = f" on model {failure.model}" if failure.model else ""
    return (
        f"{failure.resource_type} {failure.name}{on_model} ({failure.path}): {prefix(detail, 400)}"
    )


def failure_summary(failures: list[Failure]) -> str:
    """The failed nodes, one after the other, and once what to look for."""
    text = "; ".join(failure_line(failure) for failure in failures)
    if any(marker in f.message for f in failures for marker in DATA_ERROR_MARKERS):
        text += f" — {DATA_HINT}"
    elif any(f.resource_type in ("test", "unit_test") for f in failures):
        text += f" — {TEST_HINT}"
    return text


def failure_of(run_result: object, broken: str = "") -> Failure:
    """A Failure from one dbt RunResult (node, message; `broken`: the rules a kefu_rules
    test found broken)."""
    node = getattr(run_result, "node", None)
    attached = getattr(node, "attached_node", None) or ""
    message = str(getattr(run_result, "message", "") or "")
    return Failure(
        resource_type=str(getattr(node, "resource_type", "node")),
        name=str(getattr(node, "name", "?")),
        path=str(getattr(node, "original_file_path", "?")),
        message=f"{message} (broken: {broken})" if broken else message,
        model=attached.rsplit(".", 1)[-1] if attached else None,
    )
