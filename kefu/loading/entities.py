"""What each landing-zone entity looks like: its columns, their kinds and vocabularies.

Headers are matched after `normalise_header`: BOM stripped, trimmed, lower-cased, runs of
spaces and hyphens turned into one underscore ("Message ID" -> "message_id"). Which headers
name which column (the built-in Chinese aliases included) is data, not code: the mappings of
kefu/mappings/ (see kefu.loading.mappings and docs/mappings.md; the landing format is
docs/landing.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

DEFAULT_TIMEZONE = "Asia/Shanghai"  # of a shop not in shops/ or without a timezone


class Kind(Enum):
    """How a column's text is cleaned and checked (see kefu.loading.transform)."""

    ID = "id"  # trimmed text
    TEXT = "text"  # trimmed text, free
    CONTENT = "content"  # kept exactly as read
    TIMESTAMP = "timestamp"  # local or offset time -> shop-local TIMESTAMP
    ROLE = "role"  # sender_role vocabulary
    AMOUNT = "amount"  # DECIMAL(18, 2) >= 0
    QUANTITY = "quantity"  # integer >= 1, default 1
    SCORE = "score"  # 1..5 or a Chinese label
    PLATFORM = "platform"  # platform vocabulary
    TEAM = "team"  # team vocabulary, loose: unknown values kept as read
    TIMEZONE = "timezone"  # an IANA zone name known to DuckDB's ICU


@dataclass(frozen=True)
class Column:
    """One column of an entity as the raw table stores it."""

    name: str
    kind: Kind
    required: bool = False
    default: str | None = None  # SQL literal used when the value is empty


@dataclass(frozen=True)
class Entity:
    """A landing sub-folder and the raw table it loads into."""

    name: str
    columns: tuple[Column, ...]
    dedupe_key: tuple[str, ...] = ()  # first loaded copy wins; later copies are duplicates
    # (or, when their other fields differ, conflicting duplicates: quarantined)
    dedupe_identical: bool = False  # a row identical in every field to a stored one is a duplicate
    shop_column: str = "shop_id"  # whose timezone converts offset timestamps

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.required)

    @property
    def has_timestamps(self) -> bool:
        return any(column.kind is Kind.TIMESTAMP for column in self.columns)


# Shared columns ---------------------------------------------------------------------------

SHOP_ID = Column("shop_id", Kind.ID, True)
BUYER_ID = Column("buyer_id", Kind.ID, True)
AGENT_ID = Column("agent_id", Kind.ID, True)

ENTITIES: dict[str, Entity] = {
    "shops": Entity(
        "shops",
        (
            SHOP_ID,
            Column("platform", Kind.PLATFORM),
            Column("shop_name", Kind.TEXT),
            Column("timezone", Kind.TIMEZONE),
            Column("ruleset", Kind.TEXT),
        ),
    ),
    "agents": Entity(
        "agents",
        (
            Column("agent_id", Kind.ID, True),
            SHOP_ID,
            Column("agent_name", Kind.TEXT),
            Column("team", Kind.TEAM),
            Column("employee_id", Kind.TEXT),
        ),
    ),
    "filters": Entity(
        "filters",
        (
            SHOP_ID,
            BUYER_ID,
            Column("reason", Kind.TEXT),
        ),
    ),
    "messages": Entity(
        "messages",
        (
            Column("message_id", Kind.ID, True),
            SHOP_ID,
            BUYER_ID,
            AGENT_ID,
            Column("sender_role", Kind.ROLE, True),
            Column("sent_at", Kind.TIMESTAMP, True),
            Column("msg_type", Kind.TEXT),
            Column("content", Kind.CONTENT),
        ),
        dedupe_key=("shop_id", "message_id"),
    ),
    "orders": Entity(
        "orders",
        (
            Column("order_id", Kind.ID, True),
            SHOP_ID,
            BUYER_ID,
            Column("created_at", Kind.TIMESTAMP, True),
            Column("paid_at", Kind.TIMESTAMP),
            Column("amount", Kind.AMOUNT, True),
            Column("quantity", Kind.QUANTITY, default="1"),
            Column("status", Kind.TEXT),
            Column("refund_amount", Kind.AMOUNT, default="0"),
            Column("updated_at", Kind.TIMESTAMP),
        ),
        dedupe_identical=True,
    ),
    "ratings": Entity(
        "ratings",
        (
            Column("rating_id", Kind.ID, True),
            SHOP_ID,
            BUYER_ID,
            AGENT_ID,
            Column("rated_at", Kind.TIMESTAMP, True),
            Column("score", Kind.SCORE, True),
            Column("channel", Kind.TEXT),
        ),
        dedupe_key=("shop_id", "rating_id"),
    ),
}

# Vocabularies (keys lower-cased) -----------------------------------------------------------

SENDER_ROLES: dict[str, str] = {
    "buyer": "buyer",
    "买家": "buyer",
    "agent": "agent",
    "客服": "agent",
    "人工客服": "agent",
    "人工": "agent",
    "assist": "assist",
    "智能辅助": "assist",
    "auto": "auto",
    "自动回复": "auto",
    "机器人": "auto",
    "全自动机器人": "auto",
    "system": "system",
    "系统": "system",
    "系统消息": "system",
}

PLATFORMS: dict[str, str] = {
    "taobao": "taobao",
    "淘宝": "taobao",
    "tmall": "tmall",
    "天猫": "tmall",
    "pdd": "pdd",
    "pinduoduo": "pdd",
    "拼多多": "pdd",
    "kuaishou": "kuaishou",
    "快手": "kuaishou",
    "douyin": "douyin",
    "抖音": "douyin",
    "jd": "jd",
    "京东": "jd",
}

# Loose: a team not listed here is stored as read (staging maps it to "other").
TEAMS: dict[str, str] = {
    "pre_sales": "pre_sales",
    "presales": "pre_sales",
    "pre-sales": "pre_sales",
    "售前": "pre_sales",
    "after_sales": "after_sales",
    "aftersales": "after_sales",
    "after-sales": "after_sales",
    "售后": "after_sales",
    "other": "other",
    "其他": "other",
}

# Stored as read; the numeric scores 1..5 are stored as '1'..'5'.
SCORE_LABELS: tuple[str, ...] = ("满意", "一般", "失望", "不满意", "非常满意", "非常不满意")


# Quarantine reasons: short fixed phrases ---------------------------------------------------


class Reason:
    MISSING = "missing required value"
    TIMESTAMP = "unparseable timestamp"
    ROLE = "unknown sender_role"
    NON_NUMERIC = "non-numeric amount"
    NEGATIVE = "negative amount"
    QUANTITY = "bad quantity"
    SCORE = "unknown score"
    PLATFORM = "unknown platform"
    TIMEZONE = "unknown timezone"
    ENCODING = "encoding"  # the row's bytes do not decode in the file's encoding
    CONFLICT = "conflicting duplicate"  # + " of <file> line <n>": same key, other fields


# Header matching --------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_header(header: str) -> str:
    """BOM stripped, trimmed, lower-cased, spaces/hyphens -> '_' ("Message ID" -> "message_id")."""
    return _SEPARATORS.sub("_", header.replace("\ufeff", "").strip()).lower()
