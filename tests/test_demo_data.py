"""The demo landing zone: reproducible, the layout of docs/landing.md §1, and every
phenomenon the metrics need to be exercised really occurs (checked with DuckDB
over the written files)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from openpyxl import load_workbook

from kefu.demo_data import MARKER, generate_landing

MESSAGES = 30_000

REQUIRED = {
    "shops": {"shop_id"},
    "agents": {"agent_id", "shop_id"},
    "filters": {"shop_id", "buyer_id"},
    "messages": {"message_id", "shop_id", "buyer_id", "agent_id", "sender_role", "sent_at"},
    "orders": {"order_id", "shop_id", "buyer_id", "created_at", "amount"},
    "ratings": {"rating_id", "shop_id", "buyer_id", "agent_id", "rated_at", "score"},
}
ALIASES = {
    "消息id": "message_id",
    "店铺id": "shop_id",
    "买家": "buyer_id",
    "客服": "agent_id",
    "发送方": "sender_role",
    "发送时间": "sent_at",
    "内容": "content",
    "订单号": "order_id",
    "下单时间": "created_at",
    "付款时间": "paid_at",
    "实付金额": "amount",
    "件数": "quantity",
}
ROLE_ALIASES = {
    "买家": "buyer",
    "客服": "agent",
    "智能辅助": "assist",
    "自动回复": "auto",
    "系统": "system",
}


# ---------------------------------------------------------------------------- helpers


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _header(path: Path) -> list[str]:
    if path.suffix == ".csv":
        names = next(csv.reader(io.StringIO(_decode(path.read_bytes()))))
    elif path.suffix == ".parquet":
        names = duckdb.sql(f"select * from read_parquet('{path}') limit 0").columns
    elif path.suffix == ".jsonl":
        names = list(json.loads(path.read_text(encoding="utf-8").splitlines()[0]))
    elif path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True).worksheets[0]
        names = [str(cell) for cell in next(sheet.iter_rows(values_only=True))]
    else:
        raise AssertionError(f"unexpected file {path}")
    return [ALIASES.get(name.lower(), name.lower()) for name in names]


def _csv_table(path: Path) -> pa.Table:
    """Any demo CSV as strings, headers and role labels translated to English."""
    text = _decode(path.read_bytes())
    names = next(csv.reader(io.StringIO(text)))
    options = pacsv.ConvertOptions(
        strings_can_be_null=True, column_types={name: pa.string() for name in names}
    )
    table = pacsv.read_csv(io.BytesIO(text.encode("utf-8")), convert_options=options)
    table = table.rename_columns([ALIASES.get(n.lower(), n.lower()) for n in table.column_names])
    if "sender_role" in table.column_names:
        roles = [ROLE_ALIASES.get(r, r) for r in table["sender_role"].to_pylist()]
        table = table.set_column(
            table.column_names.index("sender_role"), "sender_role", pa.array(roles)
        )
    return table.append_column("file", pa.array([path.name] * table.num_rows, pa.string()))


def _entity_table(landing: Path, entity: str) -> pa.Table:
    tables = []
    for path in sorted((landing / entity).iterdir()):
        if path.suffix == ".csv":
            tables.append(_csv_table(path))
        elif path.suffix == ".parquet":
            table = duckdb.sql(f"select * from read_parquet('{path}')").to_arrow_table()
            table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
            tables.append(table.append_column("file", pa.array([path.name] * table.num_rows)))
        elif path.suffix == ".xlsx":
            rows = list(
                load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)
            )
            columns = {
                name: pa.array([None if r[i] is None else str(r[i]) for r in rows[1:]])
                for i, name in enumerate(rows[0])
            }
            table = pa.table(columns)
            tables.append(table.append_column("file", pa.array([path.name] * table.num_rows)))
        elif path.suffix == ".jsonl":
            tables.append(duckdb.sql(f"select * from read_json('{path}')").to_arrow_table())
    return pa.concat_tables(tables, promote_options="permissive")


def _local(column: str) -> str:
    """Either timestamp format of the demo as a local TIMESTAMP."""
    return f"strptime(left(replace({column}, 'T', ' '), 19), '%Y-%m-%d %H:%M:%S')"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "landing"
    generate_landing(folder, messages=MESSAGES, seed=7)
    return folder


@pytest.fixture(scope="module")
def con(landing: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for entity in REQUIRED:
        con.register(f"{entity}_src", _entity_table(landing, entity))
    con.execute(
        f"""
        create table messages as
        select * exclude (sent_at), {_local("sent_at")} as sent_at from messages_src;
        create table orders as
        select * exclude (created_at, paid_at, updated_at),
            {_local("created_at")} as created_at,
            {_local("paid_at")} as paid_at,
            {_local("updated_at")} as updated_at
        from orders_src;
        create table latest_orders as
        select * from orders
        qualify row_number() over (partition by shop_id, order_id order by updated_at desc) = 1;
        create table ratings as
        select * exclude (rated_at), {_local("rated_at")} as rated_at from ratings_src;
        create table agents as select * from agents_src;
        create table shops as select * from shops_src;
        create table filters as select * from filters_src;
        create table receptions as
        select shop_id, agent_id, buyer_id, cast(sent_at as date) as biz_date
        from messages where sender_role = 'buyer'
        group by all;
        """
    )
    return con


# ---------------------------------------------------------------- reproducibility, size


def test_same_seed_and_size_give_identical_files(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", messages=5_000, seed=3, days=20)
    generate_landing(tmp_path / "b", messages=5_000, seed=3, days=20)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_a_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate_landing(tmp_path / "a", messages=5_000, seed=3, days=20)
    generate_landing(tmp_path / "b", messages=5_000, seed=4, days=20)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a["messages/2026-10-02.csv"] != b["messages/2026-10-02.csv"]


def test_message_count_is_near_the_requested_size(con: duckdb.DuckDBPyConnection) -> None:
    assert 0.97 * MESSAGES <= _scalar(con, "select count(*) from messages") <= 1.03 * MESSAGES


def test_summary_names_the_files_rows_and_dates(tmp_path: Path) -> None:
    summary = generate_landing(tmp_path / "x", messages=2_000, seed=1, days=10)
    assert "messages" in summary and "orders" in summary and "2026-10-01" in summary


def test_rerun_removes_only_its_own_files(tmp_path: Path) -> None:
    folder = tmp_path / "landing"
    generate_landing(folder, messages=3_000, seed=1, days=40)
    (folder / "orders" / "mine.csv").write_text("kept", encoding="utf-8")
    generate_landing(folder, messages=3_000, seed=1, days=10)
    assert (folder / "orders" / "mine.csv").read_text(encoding="utf-8") == "kept"
    assert not (folder / "messages" / "2026-10-30.csv").exists()
    assert (folder / "messages" / "2026-10-05.csv").exists()


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "exports.csv").write_text("precious", encoding="utf-8")
    with pytest.raises(FileExistsError, match=MARKER):
        generate_landing(tmp_path, messages=1_000)
    assert (tmp_path / "exports.csv").read_text(encoding="utf-8") == "precious"


# -------------------------------------------------------------------------- layout


def test_every_file_has_the_required_columns(landing: Path) -> None:
    for entity, required in REQUIRED.items():
        files = [p for p in (landing / entity).iterdir()]
        assert files, entity
        for path in files:
            assert required <= set(_header(path)), path


def test_several_formats_and_encodings_are_exercised(landing: Path) -> None:
    suffixes = {p.suffix for p in landing.rglob("*") if p.is_file()}
    assert {".csv", ".parquet", ".jsonl", ".xlsx"} <= suffixes
    gb = [p for p in landing.rglob("*.csv") if _is_gb18030(p)]
    assert any(_header(p)[0] == "message_id" and "消息ID" in _decode(p.read_bytes()) for p in gb)
    assert (landing / "shops" / "shops.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def _is_gb18030(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_one_file_per_day_for_messages_and_orders(landing: Path) -> None:
    days = {p.stem[-10:] for p in (landing / "messages").iterdir()}
    assert len(days) == 60
    assert len({p.stem[-10:] for p in (landing / "orders").iterdir()}) == 60


def test_shops_span_platforms_and_one_exports_iso_times(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, "select count(distinct platform) from shops") >= 5
    assert _scalar(con, "select bool_and(timezone = 'Asia/Shanghai') from shops")
    iso = con.execute(
        "select distinct shop_id from messages_src where sent_at like '%T%+08:00'"
    ).fetchall()
    assert len(iso) == 1


def test_agents_3_to_15_per_shop_with_both_teams(con: duckdb.DuckDBPyConnection) -> None:
    per_shop = con.execute(
        "select shop_id, count(*), count(distinct team) from agents group by shop_id"
    ).fetchall()
    assert all(3 <= n <= 15 and teams >= 2 for _, n, teams in per_shop)
    assert _scalar(
        con,
        "select count(*) from (select employee_id from agents where employee_id is not null"
        " group by employee_id having count(*) >= 2)",
    )


def test_message_id_is_unique_per_shop(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        _scalar(con, "select count(*) - count(distinct (shop_id, message_id)) from messages") == 0
    )


# -------------------------------------------------------------------- chat phenomena


def test_auto_assist_and_system_messages_occur(con: duckdb.DuckDBPyConnection) -> None:
    roles = {r for (r,) in con.execute("select distinct sender_role from messages").fetchall()}
    assert roles == {"buyer", "agent", "assist", "auto", "system"}


def test_a_buyer_message_gets_no_reply_that_day(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        """
        select count(*) from messages b
        where b.sender_role = 'buyer' and not exists (
            select 1 from messages a
            where a.shop_id = b.shop_id and a.agent_id = b.agent_id and a.buyer_id = b.buyer_id
              and a.sender_role in ('agent', 'assist') and a.sent_at > b.sent_at
              and cast(a.sent_at as date) = cast(b.sent_at as date))
        """,
    )


def _gaps(con: duckdb.DuckDBPyConnection) -> str:
    return """
        select *, epoch(sent_at - lag(sent_at) over w) as gap_s,
            lag(sender_role) over w as previous_role
        from messages where sender_role != 'system'
        window w as (partition by shop_id, agent_id, buyer_id, cast(sent_at as date)
                     order by sent_at, message_id)
    """


def test_replies_are_mostly_quick_with_slow_and_very_slow_ones(
    con: duckdb.DuckDBPyConnection,
) -> None:
    quick, slow, over_max_wait = con.execute(
        f"""
        select avg((gap_s between 5 and 90)::int), count(*) filter (gap_s > 120),
            count(*) filter (gap_s > 1800)
        from ({_gaps(con)})
        where sender_role in ('agent', 'assist') and previous_role = 'buyer'
        """
    ).fetchone()
    assert quick > 0.6 and slow > 0 and over_max_wait > 0


def test_buyers_write_in_bursts(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        f"select count(*) from ({_gaps(con)}) where sender_role = 'buyer' "
        "and previous_role = 'buyer'",
    )


def test_agents_sometimes_write_first(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        """
        select count(*) from (
            select arg_min(sender_role, (sent_at, message_id)) as first_role,
                count(*) filter (sender_role = 'buyer') as buyer_msgs
            from messages where sender_role != 'system'
            group by shop_id, agent_id, buyer_id, cast(sent_at as date))
        where first_role = 'agent' and buyer_msgs > 0
        """,
    )


def test_auto_reply_follows_the_first_buyer_message(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        f"select count(*) from ({_gaps(con)}) where sender_role = 'auto' "
        "and previous_role = 'buyer' and gap_s <= 2",
    )


def test_a_buyer_talks_to_two_accounts_in_a_day(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        "select count(*) from (select 1 from receptions group by shop_id, buyer_id, biz_date "
        "having count(distinct agent_id) >= 2)",
    )


def test_conversations_run_past_midnight(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        """
        select count(*) from messages b join messages a
          on a.shop_id = b.shop_id and a.agent_id = b.agent_id and a.buyer_id = b.buyer_id
        where b.sender_role = 'buyer' and hour(b.sent_at) = 23
          and a.sender_role in ('agent', 'assist')
          and cast(a.sent_at as date) = cast(b.sent_at as date) + 1 and hour(a.sent_at) = 0
        """,
    )


def test_filtered_ad_buyers_write_spam(con: duckdb.DuckDBPyConnection) -> None:
    reasons = {r for (r,) in con.execute("select distinct reason from filters").fetchall()}
    assert "ads" in reasons
    assert _scalar(
        con,
        """
        select count(*) from messages join filters using (shop_id, buyer_id)
        where reason = 'ads' and sender_role = 'buyer' and content like '%加%'
        """,
    )


def test_the_promotion_day_is_busier_than_its_neighbours(con: duckdb.DuckDBPyConnection) -> None:
    per_day = dict(
        con.execute("select cast(sent_at as date), count(*) from messages group by all").fetchall()
    )
    promo = dt.date(2026, 11, 11)
    neighbours = [per_day[promo + dt.timedelta(days=d)] for d in (-7, -3, -1, 1, 3, 7)]
    typical = sorted(per_day.values())[len(per_day) // 2]
    assert per_day[promo] > max(neighbours) and per_day[promo] > 2 * typical


def test_nights_are_quieter_than_evenings(con: duckdb.DuckDBPyConnection) -> None:
    night, evening = con.execute(
        """
        select count(*) filter (hour(sent_at) >= 22 or hour(sent_at) < 8) / 10,
            count(*) filter (hour(sent_at) between 19 and 21) / 3
        from messages
        """
    ).fetchone()
    assert night < evening / 3


# -------------------------------------------------------------------- orders, ratings


def test_an_order_is_paid_two_or_more_days_after_creation(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        "select count(*) from latest_orders "
        "where cast(paid_at as date) >= cast(created_at as date) + 2",
    )


def test_payments_same_day_and_next_day(con: duckdb.DuckDBPyConnection) -> None:
    same, next_day = con.execute(
        """
        select count(*) filter (cast(paid_at as date) = cast(created_at as date)),
            count(*) filter (cast(paid_at as date) = cast(created_at as date) + 1)
        from latest_orders
        """
    ).fetchone()
    assert same > next_day > 0


def test_some_orders_stay_unpaid(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, "select count(*) from latest_orders where paid_at is null")


def test_some_buyers_order_without_ever_chatting(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        "select count(*) from latest_orders o where not exists (select 1 from messages m "
        "where m.shop_id = o.shop_id and m.buyer_id = o.buyer_id)",
    )


def test_consulting_buyers_order_minutes_to_a_day_later(con: duckdb.DuckDBPyConnection) -> None:
    lags = con.execute(
        """
        select min(epoch(o.created_at - m.sent_at)) as lag_s
        from latest_orders o join messages m using (shop_id, buyer_id)
        where m.sender_role = 'buyer' and m.sent_at <= o.created_at
          and m.sent_at > o.created_at - interval 2 day
        group by o.shop_id, o.order_id
        """
    ).fetchall()
    lags = [lag for (lag,) in lags]
    assert any(lag < 1800 for lag in lags) and any(lag > 12 * 3600 for lag in lags)


def test_after_sale_buyers_chat_weeks_after_a_paid_order(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(
        con,
        """
        select count(*) from receptions r
        join agents a using (shop_id, agent_id)
        join latest_orders o using (shop_id, buyer_id)
        where a.team = 'after_sales' and o.paid_at is not null
          and o.created_at < r.biz_date - interval 7 day
        """,
    )


def test_an_order_reappears_in_a_later_export_with_its_payment(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert _scalar(
        con,
        """
        select count(*) from orders early join orders later using (shop_id, order_id)
        where early.file < later.file and early.paid_at is null and later.paid_at is not null
          and later.updated_at > early.updated_at
          and cast(later.paid_at as date) >= cast(early.created_at as date) + 2
        """,
    )


def test_amounts_have_two_decimals_and_quantities_1_to_5(con: duckdb.DuckDBPyConnection) -> None:
    bad_amounts, min_qty, max_qty = con.execute(
        """
        select count(*) filter (not regexp_full_match(amount, '\\d+\\.\\d{2}')),
            min(quantity::int), max(quantity::int)
        from orders
        """
    ).fetchone()
    assert bad_amounts == 0 and (min_qty, max_qty) == (1, 5)


def test_ratings_use_both_scales(con: duckdb.DuckDBPyConnection) -> None:
    scores = {s for (s,) in con.execute("select distinct score from ratings").fetchall()}
    assert {"1", "2", "3", "4", "5"} <= scores
    assert {"满意", "一般", "失望"} <= scores
