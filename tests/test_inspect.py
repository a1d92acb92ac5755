"""`kefu inspect FILE`: encoding, delimiter, header, column mapping, missing columns with
the mapping line that fixes them, first rows and quarantined rows; nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kefu.cli import main
from tests.landing import write_csv

SAMPLES = Path(__file__).parent / "samples"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder below `folder`: content and modification time."""
    found: dict[str, tuple[bytes, int]] = {}
    for path in sorted(folder.rglob("*")):
        content = path.read_bytes() if path.is_file() else b"<dir>"
        found[path.relative_to(folder).as_posix()] = (content, path.stat().st_mtime_ns)
    return found


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["inspect", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that is the current directory, with KEFU_DB pointing inside it: a command
    that opened a warehouse would create one here."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_DB", str(tmp_path / "warehouse.duckdb"))
    (tmp_path / "landing").mkdir()
    return tmp_path


def test_missing_column_is_reported_with_the_line_that_fixes_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = workspace / "landing"
    path = write_csv(
        landing / "orders" / "mine.csv",
        ["订单号码", "店铺ID", "买家", "下单时间", "实付金额"],
        [["A1", "s1", "b1", "2026-11-20 10:00:00", "10"]],
    )
    before = snapshot(workspace)
    status, out, err = run(capsys, str(path))
    assert status == 1
    assert "missing required columns, and the mapping line that would fix each:" in out
    assert "  order_id (订单号):\n      columns: {订单号码: order_id}\n" in out
    assert "  订单号码 -> (not used)" in out
    assert "  下单时间 -> created_at" in out
    assert "would be REJECTED: missing required column: order_id (订单号)" in out
    assert err.count("\n") == 1 and "a load would reject it: missing required column" in err
    assert snapshot(workspace) == before  # nothing written: no warehouse, landing unchanged


def test_the_suggested_line_makes_the_file_load(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = workspace / "landing"
    path = write_csv(
        landing / "orders" / "mine.csv",
        ["订单号码", "买家", "下单时间", "实付金额"],
        [
            ["A1", "b1", "2026-11-20 10:00:00", "10"],
            ["A2", "b2", "2026-11-20 25:00:00", "￥1,299.5"],
            ["A3", "", "2026-11-20 11:00:00", "abc"],
        ],
    )
    status, out, _ = run(capsys, str(path))
    assert status == 1
    assert "columns: {订单号码: order_id}" in out
    assert "  shop_id (店铺ID):\n      constants: {shop_id: YOUR_SHOP_ID}\n" in out
    (landing / "mappings").mkdir()
    (landing / "mappings" / "mine.yaml").write_text(
        "entity: orders\nfiles: mine.csv\ncolumns: {订单号码: order_id}\n"
        "constants: {shop_id: s1}\n",
        encoding="utf-8",
    )
    before = snapshot(workspace)
    status, out, err = run(capsys, str(path))
    assert (status, err) == (0, "")
    assert "mapping:   mine (" in out
    assert "  (constant) -> shop_id = 's1'" in out
    assert (
        "  line 2: order_id=A1  shop_id=s1  buyer_id=b1  created_at=2026-11-20 10:00:00  "
        "paid_at=∅  amount=10.00  quantity=1  status=∅  refund_amount=0.00  updated_at=∅"
    ) in out
    assert "rows that would be quarantined (2):" in out
    assert "  line 3: created_at: unparseable timestamp\n" in out
    assert "  line 4: amount: non-numeric amount\n  line 4: buyer_id: missing required value\n" in (
        out
    )
    assert "would load 1 of 3 rows, quarantine 2" in out
    assert snapshot(workspace) == before


def test_taobao_sample_encoding_mapping_and_rows(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workspace / "landing" / "orders"
    folder.mkdir()
    shutil.copy(SAMPLES / "ExportOrderList202611201000.csv", folder)
    mappings = workspace / "config"
    mappings.mkdir()
    (mappings / "tb.yaml").write_text(
        "entity: orders\nextends: taobao_orders\nconstants: {shop_id: tb_flagship}\n",
        encoding="utf-8",
    )
    path = folder / "ExportOrderList202611201000.csv"
    status, out, _ = run(capsys, str(path), "--mappings", str(mappings))
    assert status == 0
    assert "encoding:  gb18030\ndelimiter: comma\nheader:    line 1, 14 columns; 3 data rows" in out
    assert "  买家实际支付金额 -> amount\n" in out
    assert "  总金额 -> (not used)\n" in out
    assert "created_at=2026-11-20 10:00:00  paid_at=2026-11-20 10:03:00  amount=189.00" in out
    assert "would load 3 of 3 rows, quarantine 0" in out


def test_tab_separated_file_is_named_and_unknown_entity_is_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace / "landing" / "messages" / "tabs.csv"
    path.parent.mkdir()
    path.write_text("message_id\tshop_id\nm1\ts1\n", encoding="utf-8")
    status, out, _ = run(capsys, str(path))
    assert status == 1
    assert "delimiter: comma expected, but the header has tabs" in out
    loose = workspace / "export.csv"
    loose.write_text("a,b\n1,2\n", encoding="utf-8")
    status, out, err = run(capsys, str(loose))
    assert (status, out) == (1, "")
    # One line: the reason, then where the details are (as every kefu failure).
    assert err.count("\n") == 1
    assert err.startswith(
        f"kefu inspect: {loose}: cannot tell the entity from the folder: pass --entity "
        "(one of shops, agents, filters, messages, orders, ratings) (details: "
    )
    status, out, _ = run(capsys, str(loose), "--entity", "filters")
    assert status == 1 and "would be REJECTED: missing required columns: shop_id" in out
