"""Expectations GX 1.x does not ship."""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.expectations.expectation import BatchExpectation


class ExpectTableColumnsToExclude(BatchExpectation):
    """No column of the table is named in `column_set` (e.g. no message text in a mart).

    The table's frame must be read with those columns when they exist:
    `expectations.suites` selects every column an expectation names that the table has.
    """

    column_set: list[str]

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.columns",)
    success_keys: ClassVar[tuple[str, ...]] = ("column_set",)
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        present = sorted(set(metrics["table.columns"]) & set(self.column_set))
        return {"success": not present, "result": {"observed_value": present}}
