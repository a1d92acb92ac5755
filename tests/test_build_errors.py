"""A build failure names the model and, where a row caused it, what to look for (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.build import BuildError, BuildWindow, run_dbt
from tests.support import msg, write_raw

POISON = "9999999999999999.99"  # fits DECIMAL(18, 2); three of them in one day do not


def test_a_poison_amount_that_bypassed_the_loader_fails_naming_model_and_what_to_look_for(
    tmp_path: Path,
) -> None:
    """The loader quarantines such an amount (test_loader_hostile); written straight into
    raw, it overflows the per-shop-day sum, and the error says where and what to look for."""
    db = tmp_path / "w.duckdb"
    orders = [
        {
            "order_id": f"o{i}",
            "shop_id": "s1",
            "buyer_id": "b1",
            "created_at": "2026-05-01 10:00:00",
            "paid_at": "2026-05-01 10:05:00",
            "amount": POISON,
        }
        for i in range(3)
    ]
    messages = [
        msg("s1", "a1", "b1", "buyer", "2026-05-01 09:00:00"),
        msg("s1", "a1", "b1", "agent", "2026-05-01 09:00:30"),
    ]
    write_raw(db, {"messages": messages, "orders": orders})
    run_dbt(db, ["seed"])
    args = ["build", "--vars", json.dumps(BuildWindow().dbt_vars())]
    with pytest.raises(BuildError) as failure:
        run_dbt(db, [*args, "--select", "+int_shop_days_sold", "--exclude", "resource_type:seed"])
    text = str(failure.value)
    assert "on model int_shop_days_sold (models/intermediate/sales/" in text
    assert 'Casting value "29999999999999999.97"' in text
    assert text.endswith(
        "a value in the data caused this: look in the raw rows the named model reads for the "
        "value quoted (an amount, quantity or time far out of range); the loader's bounds are "
        "in seeds/load_bounds.csv, the rows it held back in raw.quarantine"
    )
    assert text.count("a value in the data caused this") == 1
