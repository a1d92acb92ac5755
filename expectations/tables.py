"""The tables `kefu check` looks at, as plain data (no Great Expectations import: a check
that validates no incoming rows never loads GX, which takes seconds).

- INCOMING_TABLES: the raw tables the GX incoming suite validates (expectations/suites.py
  holds their expectations);
- MART_KEYS / MART_COLUMNS: the shape of the published marts of docs/metrics.md §14 (the
  key of each mart and the columns BI relies on), checked in SQL against
  information_schema by kefu.checks, with MESSAGE_TEXT_COLUMNS (no mart may carry chat
  text).
"""

from __future__ import annotations

# The tables of the GX incoming suite, in the order it reports them.
INCOMING_TABLES = ("raw.messages", "raw.orders", "raw.ratings", "raw.load_files")

# Column names that would carry chat text; none may appear in schema marts.
MESSAGE_TEXT_COLUMNS = ["content"]

_AGENT_FIGURES = [
    "consult_buyer_cnt", "filtered_buyer_cnt", "received_buyer_cnt", "replied_buyer_cnt",
    "unreplied_buyer_cnt", "reply_rate",
    "buyer_msg_cnt", "agent_msg_cnt", "answer_question_ratio",
    "first_response_cnt", "first_response_total_s", "avg_first_response_s",
    "response_cnt", "response_total_s", "avg_response_s",
    "round_cnt", "replied_3min_round_cnt", "reply_3min_rate", "slow_reception_cnt",
    "reception_duration_s", "avg_reception_duration_s", "max_concurrent_receptions",
    "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt", "inq_to_pay_rate_next_day",
    "inq_pay_final_cnt", "inq_to_pay_rate_final", "is_next_day_final", "is_final",
    "cs_sales_amt", "cs_sales_qty", "cs_sales_buyer_cnt", "cs_order_cnt", "cs_aov",
    "cs_items_per_buyer", "assist_buyer_cnt",
    "rating_cnt", "satisfied_cnt", "neutral_cnt", "disappointed_cnt", "good_rate",
]  # fmt: skip

# docs/metrics.md §14: the key of each mart and the columns BI relies on.
MART_KEYS: dict[str, list[str]] = {
    "agent_daily_kpis": ["shop_id", "agent_id", "biz_date"],
    "shop_daily_kpis": ["shop_id", "biz_date"],
    "agent_weekly_kpis": ["shop_id", "agent_id", "week_start"],
    "agent_monthly_kpis": ["shop_id", "agent_id", "month_start"],
    "fct_rounds": ["shop_id", "agent_id", "buyer_id", "biz_date", "round_seq"],
    "fct_receptions": ["shop_id", "agent_id", "buyer_id", "biz_date"],
    "fct_order_credits": ["shop_id", "order_id"],
    "platform_service_daily": ["shop_id", "agent_id", "biz_date", "preset"],
    "reception_load_hourly": ["shop_id", "agent_id", "biz_date", "hour"],
}

MART_COLUMNS: dict[str, list[str]] = {
    "agent_daily_kpis": ["shop_id", "agent_id", "agent_name", "biz_date", *_AGENT_FIGURES],
    "shop_daily_kpis": [
        "shop_id", "biz_date", "consult_buyer_cnt", "filtered_buyer_cnt",
        "received_buyer_cnt", "replied_buyer_cnt", "unreplied_buyer_cnt", "reply_rate",
        "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt",
        "inq_to_pay_rate_next_day", "inq_pay_final_cnt", "inq_to_pay_rate_final",
        "is_next_day_final", "is_final",
        "buyer_msg_cnt", "agent_msg_cnt", "answer_question_ratio",
        "first_response_cnt", "first_response_total_s", "avg_first_response_s",
        "response_cnt", "response_total_s", "avg_response_s", "round_cnt",
        "replied_3min_round_cnt", "reply_3min_rate",
        "paid_sales_amt", "cs_sales_amt", "silent_sales_amt", "cs_sales_share", "cs_aov",
        "silent_aov",
    ],
    "agent_weekly_kpis": ["shop_id", "agent_id", "week_start"],
    "agent_monthly_kpis": ["shop_id", "agent_id", "month_start"],
    "fct_rounds": [
        "shop_id", "agent_id", "buyer_id", "biz_date", "round_seq", "asked_at", "replied_at",
        "wait_s", "is_replied", "is_timed", "is_first_round", "is_slow",
    ],
    "fct_receptions": [
        "shop_id", "agent_id", "buyer_id", "biz_date", "is_filtered", "is_replied",
        "is_inquiry", "is_after_sale", "is_assisted", "first_message_at", "first_reply_at",
        "reception_duration_s", "session_cnt", "round_cnt",
    ],
    "fct_order_credits": [
        "shop_id", "order_id", "buyer_id", "created_at", "paid_at", "amount", "quantity",
        "order_agent_id", "payment_agent_id", "credited_agent_id", "is_silent",
    ],
    "platform_service_daily": [
        "shop_id", "agent_id", "biz_date", "preset", "unit", "sla_s", "assessed_cnt",
        "within_sla_cnt", "sla_reply_rate", "capped_round_cnt", "capped_wait_total_s",
        "capped_avg_response_s",
    ],
    "reception_load_hourly": [
        "shop_id", "agent_id", "biz_date", "hour", "consult_buyer_cnt", "buyer_msg_cnt",
        "max_concurrent_receptions",
    ],
}  # fmt: skip
