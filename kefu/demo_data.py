"""Demo landing zone: synthetic customer-service exports in the layout of docs/landing.md §1.

Six shops on six platforms, their agent accounts, about `messages` chat messages
over `days` days (a promotion day with three times the traffic, quiet nights),
the orders those chats lead to (and silent orders, after-sale buyers, repeated
order versions across daily exports), ratings on both scales and a filter list.

Everything is drawn with vectorised numpy from one `np.random.default_rng(seed)`
(loops run per shop or per day, never per conversation or message) and written
with DuckDB `COPY`, so the same seed and size give byte-identical files and ten
million messages take a few minutes.

Timing is modelled on real chat exports and on the "Customer Support on Twitter"
sample: buyers write in bursts, most replies come within 5-90 s,
a tail of slow replies (> 120 s) and some waits past 30 minutes (longer than
`max_wait_s`, so they split sessions); buyers who write at night are often
answered only when the morning shift starts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

MARKER = ".kefu-demo"
DEFAULT_DAYS = 60
DAY_S = 86_400

# Exports of the Qianniu-style tool that covers most shops: one file per entity
# and day, `YYYY-MM-DD HH:MM:SS` local time. The JD shop comes from another tool
# with ISO-8601 `+08:00` timestamps, in files of its own.
TIME_FMT = "%Y-%m-%d %H:%M:%S"
ISO_FMT = "%Y-%m-%dT%H:%M:%S+08:00"


@dataclass(frozen=True)
class ShopSpec:
    shop_id: str
    platform: str
    shop_name: str
    share: float  # share of the conversations
    rating_scale: str  # numeric | label3 | label5
    auto_reply: bool  # sends an automatic greeting after the buyer's first message
    iso_time: bool  # exports ISO-8601 timestamps with +08:00
    buyer_prefix: str
    order_rate: float  # share of pre-sales conversations that end in an order
    price_yuan: float  # median unit price


@dataclass(frozen=True)
class AgentSpec:
    sub: str  # sub-account name after "shop_name:"
    name: str
    team: str  # pre_sales | after_sales | other
    employee_id: str


SHOPS: tuple[ShopSpec, ...] = (
    ShopSpec("tm_yueju", "tmall", "悦居家居旗舰店", 0.30, "label3", True, False, "tb_", 0.30, 189),
    ShopSpec("tb_maomao", "taobao", "毛毛小铺", 0.12, "label3", True, False, "tb_", 0.26, 59),
    ShopSpec("pdd_guoyuan", "pdd", "果园鲜生", 0.20, "numeric", True, False, "pdd_", 0.38, 29),
    ShopSpec("ks_chaofu", "kuaishou", "潮服小铺", 0.10, "numeric", False, False, "ks_", 0.28, 79),
    ShopSpec("dy_huayang", "douyin", "花漾美妆", 0.15, "label5", True, False, "dy_", 0.30, 129),
    ShopSpec("jd_shuma", "jd", "京东数码专营店", 0.13, "numeric", True, True, "jd_", 0.22, 899),
)

# 3-15 accounts per shop. 王芳 (E001) owns a pre-sales and an after-sales account of
# the Tmall shop; 李娜 (E002) serves the Tmall and the Taobao shop.
AGENTS: dict[str, tuple[AgentSpec, ...]] = {
    "tm_yueju": (
        AgentSpec("小王", "王芳", "pre_sales", "E001"),
        AgentSpec("小李", "李娜", "pre_sales", "E002"),
        AgentSpec("小张", "张伟", "pre_sales", "E003"),
        AgentSpec("小刘", "刘洋", "pre_sales", "E004"),
        AgentSpec("小陈", "陈静", "pre_sales", "E005"),
        AgentSpec("小杨", "杨敏", "pre_sales", "E006"),
        AgentSpec("小赵", "赵磊", "pre_sales", "E007"),
        AgentSpec("小黄", "黄丽", "pre_sales", ""),
        AgentSpec("售后小芳", "王芳", "after_sales", "E001"),
        AgentSpec("售后小周", "周杰", "after_sales", "E008"),
        AgentSpec("售后小吴", "吴婷", "after_sales", "E009"),
        AgentSpec("主管", "孙强", "other", "E010"),
    ),
    "tb_maomao": (
        AgentSpec("毛毛", "林小梅", "pre_sales", "E011"),
        AgentSpec("小娜", "李娜", "pre_sales", "E002"),
        AgentSpec("阿珍", "郑珍", "pre_sales", ""),
        AgentSpec("售后阿强", "何强", "after_sales", "E012"),
    ),
    "pdd_guoyuan": (
        AgentSpec("果果", "马丽", "pre_sales", "E101"),
        AgentSpec("甜甜", "高甜", "pre_sales", "E102"),
        AgentSpec("橙子", "罗成", "pre_sales", "E103"),
        AgentSpec("小梨", "梁丽", "pre_sales", "E104"),
        AgentSpec("小桃", "宋桃", "pre_sales", "E105"),
        AgentSpec("售后大海", "谢海", "after_sales", "E106"),
        AgentSpec("售后小雨", "韩雨", "after_sales", "E107"),
    ),
    "ks_chaofu": (
        AgentSpec("阿潮", "唐潮", "pre_sales", "E201"),
        AgentSpec("小飞", "冯飞", "pre_sales", "E202"),
        AgentSpec("售后小雪", "许雪", "after_sales", "E203"),
    ),
    "dy_huayang": (
        AgentSpec("花花", "曹花", "pre_sales", "E301"),
        AgentSpec("小漾", "邓漾", "pre_sales", "E302"),
        AgentSpec("美美", "彭美", "pre_sales", "E303"),
        AgentSpec("小欣", "曾欣", "pre_sales", "E304"),
        AgentSpec("售后小蕾", "萧蕾", "after_sales", "E305"),
        AgentSpec("售后小田", "田甜", "after_sales", "E306"),
    ),
    "jd_shuma": (
        AgentSpec("京京", "袁京", "pre_sales", "E401"),
        AgentSpec("东东", "蒋东", "pre_sales", "E402"),
        AgentSpec("小码", "潘码", "pre_sales", "E403"),
        AgentSpec("售后小安", "于安", "after_sales", "E404"),
        AgentSpec("售后小宁", "董宁", "after_sales", "E405"),
    ),
}

# Conversation kinds.
PRESALE, AFTERSALE, ADS, INTERNAL, OUTREACH = range(5)
KIND_P = np.array([0.785, 0.15, 0.025, 0.005, 0.035])

# Sender roles as written in the exports, with the Qianniu labels for the one
# file that uses Chinese headers and values.
ROLES = ("buyer", "agent", "assist", "auto", "system")
ROLES_ZH = ("买家", "客服", "智能辅助", "自动回复", "系统")
BUYER, AGENT, ASSIST, AUTO, SYSTEM = range(5)
MSG_TYPES = ("text", "image", "card")
TEXT, IMAGE, CARD = range(3)

# Short fake message texts, by group. Chosen by index, never one by one.
TEXTS: dict[str, tuple[str, ...]] = {
    "buyer_pre": (
        "在吗",
        "这个有货吗",
        "什么时候发货",
        "能便宜点吗",
        "尺码怎么选",
        "有优惠券吗",
        "包邮吗",
        "发什么快递",
        "这个和那款有什么区别",
        "今天下单今天能发吗",
        "好的",
        "嗯嗯",
        "那我拍了",
        "可以开发票吗",
        "有赠品吗",
        "颜色有色差吗",
        "质量怎么样",
        "还能再少点吗",
        "活动什么时候结束",
        "谢谢",
    ),
    "buyer_after": (
        "我的快递到哪了",
        "怎么还没发货",
        "收到的东西坏了",
        "我要退货",
        "退款什么时候到",
        "能换个颜色吗",
        "少发了一件",
        "发票怎么开",
        "好的谢谢",
        "那我等等",
    ),
    "buyer_media": ("[图片]", "[商品链接]"),
    "spam": (
        "加V看图，低价代刷信誉",
        "兼职日结，刷单返现，加微信",
        "专业引流涨粉，私聊",
        "店铺代运营，首月免费",
    ),
    "internal": ("测试一下", "内部测试消息", "test"),
    "agent_pre": (
        "亲，在的哦",
        "有货的亲，放心拍",
        "今天下单今天发",
        "默认中通，也可以备注顺丰",
        "亲，参考尺码表选哦",
        "店铺首页可以领券哦",
        "全国包邮的亲",
        "这款是我们家的爆款哦",
        "已经是活动价啦亲",
        "可以开发票的，下单备注抬头",
        "好的亲，还有其他问题吗",
        "亲，拍下后尽快付款哦",
        "不客气，祝您购物愉快",
    ),
    "agent_after": (
        "亲，帮您查一下物流",
        "已经催仓库了，今天发出",
        "麻烦拍个照片给我们看下",
        "已经给您登记退货了",
        "退款1-3天原路返回",
        "可以换的，给您安排",
        "给您补发，不好意思",
        "还有其他问题吗亲",
    ),
    "assist": (
        "【智能辅助】亲，这款现货，48小时内发货",
        "【智能辅助】尺码建议：按平时尺码拍",
        "【智能辅助】退货地址已发送，请注意查收",
    ),
    "auto": (
        "您好，欢迎光临，有什么可以帮您？",
        "亲，客服正在赶来，请稍等",
    ),
    "system": ("[订单卡片] 买家已下单", "[订单卡片] 买家已付款"),
    "outreach": (
        "亲，您看中的宝贝还在吗？",
        "亲，您的订单还没付款哦，库存紧张",
        "亲，您的包裹已签收，满意请给五星哦",
    ),
}
_TEXT_LIST: list[str] = [text for group in TEXTS.values() for text in group]
_TEXT_BASE: dict[str, int] = {}
_offset = 0
for _group, _texts in TEXTS.items():
    _TEXT_BASE[_group] = _offset
    _offset += len(_texts)

ORDER_STATUSES = ("等待买家付款", "买家已付款", "交易关闭", "退款成功")
UNPAID, PAID, CLOSED, REFUNDED = range(4)

RATING_LABELS = {
    "label3": (("满意", 0.82), ("一般", 0.11), ("失望", 0.07)),
    "label5": (
        ("非常满意", 0.62),
        ("满意", 0.2),
        ("一般", 0.09),
        ("不满意", 0.05),
        ("非常不满意", 0.04),
    ),
    "numeric": (("5", 0.7), ("4", 0.14), ("3", 0.07), ("2", 0.04), ("1", 0.05)),
}
RATING_CHANNELS = ("邀评", "主动评价")

# Conversations by hour of day: quiet from 22:00 to 08:00, busy in the afternoon
# and the evening.
HOUR_WEIGHTS = np.array(
    [1.6, 0.9, 0.5, 0.3, 0.25, 0.3, 0.6, 1.3, 2.8, 4.6, 5.8, 5.9]
    + [4.8, 5.2, 6.0, 6.4, 6.2, 5.6, 5.0, 5.6, 6.8, 7.4, 5.2, 3.2]
)
WEEKDAY_WEIGHTS = np.array([1.0, 0.98, 0.97, 1.0, 1.05, 1.15, 1.12])

# Messages per conversation the draws below give on average (measured); used to
# size the first draw, which is then cut at the requested message count.
_MESSAGES_PER_CONVERSATION = 9.5


def generate_landing(
    landing_dir: Path,
    messages: int = 200_000,
    seed: int = 7,
    start_date: dt.date = dt.date(2026, 10, 1),
    days: int | None = None,
) -> str:
    """Write a demo landing zone of about `messages` messages and return a summary.

    A folder that holds the `.kefu-demo` marker of an earlier run is cleared of
    the files that run wrote; a non-empty folder without the marker is refused.
    """
    if messages < 1:
        raise ValueError(f"messages must be positive, got {messages}")
    days = DEFAULT_DAYS if days is None else days
    if days < 1:
        raise ValueError(f"days must be positive, got {days}")
    landing_dir = Path(landing_dir)
    _clear_previous_demo(landing_dir)

    rng = np.random.default_rng(seed)
    calendar = _Calendar.make(start_date, days, rng)
    convs = _draw_conversations(rng, calendar, messages)
    msgs, conv_end = _draw_messages(rng, convs)
    orders = _draw_orders(rng, calendar, convs, conv_end)
    msgs = _with_order_cards(msgs, convs, orders)
    msgs["shop"] = convs["shop"][msgs["conv"]]
    msgs["buyer"] = convs["buyer"][msgs["conv"]]
    ratings = _draw_ratings(rng, calendar, convs, conv_end)
    versions = _order_versions(orders, calendar)
    filters = _filter_list(convs)

    writer = _Writer(landing_dir, calendar)
    writer.shops()
    writer.agents()
    writer.filters(filters)
    n_msgs = writer.messages(msgs)
    n_versions = writer.orders(versions)
    n_ratings = writer.ratings(ratings)

    n_orders = int(np.count_nonzero(orders["created"] < calendar.end_s))
    last = calendar.start + dt.timedelta(days=days - 1)
    return (
        f"Wrote {len(writer.written)} demo export files to {landing_dir}: "
        f"{len(SHOPS)} shops, {len(_agent_rows())} agent accounts, "
        f"{len(filters['shop'])} filtered buyers, {n_msgs:,} messages, "
        f"{n_versions:,} order versions of {n_orders:,} orders, {n_ratings:,} ratings; "
        f"{calendar.start} to {last} (promotion day {calendar.promo_date}), seed {seed}."
    )


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    start: dt.date
    days: int
    day_weights: np.ndarray  # share of the conversations per day
    promo_day: int  # index of the promotion day

    @property
    def end_s(self) -> int:
        return self.days * DAY_S

    @property
    def promo_date(self) -> dt.date:
        return self.start + dt.timedelta(days=self.promo_day)

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    @staticmethod
    def make(start: dt.date, days: int, rng: np.random.Generator) -> _Calendar:
        promo = _promotion_day(start, days)
        weekday = np.array([(start + dt.timedelta(days=d)).weekday() for d in range(days)])
        weights = WEEKDAY_WEIGHTS[weekday] * rng.normal(1.0, 0.05, days).clip(0.85, 1.15)
        for offset, factor in ((-2, 1.2), (-1, 1.4), (0, 3.0), (1, 1.3)):
            if 0 <= promo + offset < days:
                weights[promo + offset] *= factor
        return _Calendar(start, days, weights / weights.sum(), promo)


def _promotion_day(start: dt.date, days: int) -> int:
    """Index of 双11 (or 618, or 双12) when in range, else of the middle day."""
    for year in range(start.year, (start + dt.timedelta(days=days)).year + 1):
        for month, day in ((11, 11), (6, 18), (12, 12)):
            offset = (dt.date(year, month, day) - start).days
            if 0 <= offset < days:
                return offset
    return days // 2


# ---------------------------------------------------------------------- conversations


def _agent_rows() -> list[tuple[int, str, AgentSpec]]:
    """(shop index, agent_id, spec) of every account, in a fixed order."""
    return [
        (s, f"{shop.shop_name}:{agent.sub}", agent)
        for s, shop in enumerate(SHOPS)
        for agent in AGENTS[shop.shop_id]
    ]


def _draw_conversations(rng: np.random.Generator, cal: _Calendar, messages: int) -> dict:
    """One entry per conversation (a buyer's chat with one shop, starting at `start`)."""
    n = int(messages / _MESSAGES_PER_CONVERSATION * 1.15) + 64
    shares = np.array([shop.share for shop in SHOPS])
    shop = rng.choice(len(SHOPS), n, p=shares / shares.sum()).astype(np.int8)
    kind = rng.choice(len(KIND_P), n, p=KIND_P).astype(np.int8)
    day = rng.choice(cal.days, n, p=cal.day_weights).astype(np.int64)
    hour = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    tod = hour * 3600 + rng.integers(0, 3600, n)
    kind[(kind == AFTERSALE) & (day < 3)] = PRESALE  # no paid orders to follow up yet
    night = hour < 8

    n_rounds = np.select(
        [kind == PRESALE, kind == AFTERSALE, kind == OUTREACH],
        [np.minimum(rng.geometric(0.4, n), 10), np.minimum(rng.geometric(0.3, n), 12), 0],
        1,
    )
    # The last round of some conversations gets no reply; at night more often.
    p_unreplied = np.select([kind == ADS, kind == INTERNAL], [0.85, 0.5], 0.06) + np.where(
        night, 0.2, 0.0
    )
    last_unreplied = rng.random(n) < p_unreplied
    promo = day == cal.promo_day
    order_rate = np.array([shop.order_rate for shop in SHOPS])[shop] * np.where(promo, 1.3, 1.0)
    ordered = (kind == PRESALE) & (rng.random(n) < order_rate)
    n_orders = np.where(ordered, 1 + (rng.random(n) < 0.1), 0)
    agent_first = (kind == PRESALE) & (rng.random(n) < 0.05)
    auto = np.array([s.auto_reply for s in SHOPS])[shop] & (kind != OUTREACH) & (kind != INTERNAL)
    transfer = (n_rounds >= 2) & (rng.random(n) < 0.07)
    split = 1 + (rng.random(n) * np.maximum(n_rounds - 1, 1)).astype(np.int64)
    primary, secondary = _draw_accounts(rng, shop, kind)
    outreach_msgs = np.where(kind == OUTREACH, 1 + (rng.random(n) < 0.3), 0)

    return _cut_to_size(
        rng,
        messages,
        {
            "shop": shop,
            "kind": kind,
            "day": day,
            "start": day * DAY_S + tod,
            "night": night,
            "n_rounds": n_rounds.astype(np.int64),
            "last_unreplied": last_unreplied,
            "ordered": ordered,
            "n_orders": n_orders.astype(np.int64),
            "agent_first": agent_first,
            "auto": auto,
            "transfer": transfer,
            "split": split,
            "primary": primary,
            "secondary": secondary,
            "outreach_msgs": outreach_msgs.astype(np.int64),
            "buyer": _draw_buyers(rng, shop, kind),
        },
    )


def _draw_accounts(
    rng: np.random.Generator, shop: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global agent indexes: the account the buyer writes to, and the one a transfer
    hands the buyer to (another serving account of the shop)."""
    rows = _agent_rows()
    primary = np.zeros(len(shop), np.int16)
    secondary = np.zeros(len(shop), np.int16)
    for s in range(len(SHOPS)):
        serving = np.array([i for i, r in enumerate(rows) if r[0] == s and r[2].team != "other"])
        teams = np.array([rows[i][2].team for i in serving])
        others = [i for i, r in enumerate(rows) if r[0] == s and r[2].team == "other"]
        weights = rng.uniform(0.5, 1.5, len(serving))  # some accounts are busier
        in_shop = shop == s
        for team, kinds in (("pre_sales", (PRESALE, ADS, OUTREACH)), ("after_sales", (AFTERSALE,))):
            mask = in_shop & np.isin(kind, kinds)
            members = np.flatnonzero(teams == team)
            p = weights[members] / weights[members].sum()
            pick = members[rng.choice(len(members), int(mask.sum()), p=p)]
            hop = 1 + rng.integers(0, len(serving) - 1, len(pick))
            primary[mask] = serving[pick]
            secondary[mask] = serving[(pick + hop) % len(serving)]
        mask = in_shop & (kind == INTERNAL)
        fallback = serving[rng.integers(0, len(serving), int(mask.sum()))]
        primary[mask] = others[0] if others else fallback
        secondary[mask] = primary[mask]
    return primary, secondary


def _draw_buyers(rng: np.random.Generator, shop: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Buyer numbers: a pool per shop (buyers come back), ad and internal accounts apart.
    Silent buyers (orders, never a chat) get numbers from 50,000,000 up."""
    buyer = np.zeros(len(shop), np.int64)
    for s in range(len(SHOPS)):
        in_shop = shop == s
        pool = max(40, int(in_shop.sum() * 0.55))
        real = in_shop & ((kind == PRESALE) | (kind == AFTERSALE) | (kind == OUTREACH))
        buyer[real] = rng.integers(0, pool, int(real.sum()))
        ads = in_shop & (kind == ADS)
        buyer[ads] = 90_000_000 + rng.integers(0, max(3, int(ads.sum() * 0.2)), int(ads.sum()))
        internal = in_shop & (kind == INTERNAL)
        buyer[internal] = 99_000_000 + rng.integers(0, 2, int(internal.sum()))
    return buyer


def _cut_to_size(rng: np.random.Generator, messages: int, convs: dict) -> dict:
    """Draw the rounds, then keep the first conversations whose messages reach the
    requested count (conversations are independent draws, so the cut is unbiased)."""
    n = len(convs["shop"])
    n_r = int(convs["n_rounds"].sum())
    conv = np.repeat(np.arange(n, dtype=np.int32), convs["n_rounds"])
    first_round = np.concatenate([[0], np.cumsum(convs["n_rounds"])[:-1]])
    ridx = np.arange(n_r) - first_round[conv]
    last = ridx == convs["n_rounds"][conv] - 1
    burst = np.minimum(rng.geometric(0.55, n_r), 6)
    burst = np.where(convs["kind"][conv] == ADS, 1 + rng.integers(0, 3, n_r), burst)
    replied = ~(last & convs["last_unreplied"][conv])
    replies = np.where(replied, np.minimum(rng.geometric(0.6, n_r), 4), 0)
    per_round = burst + replies
    extra = (
        convs["agent_first"].astype(np.int64)
        + convs["auto"]
        + (convs["n_orders"] > 0)
        + convs["outreach_msgs"]
    )
    per_conv = np.bincount(conv, weights=per_round, minlength=n).astype(np.int64) + extra
    keep = min(n, int(np.searchsorted(np.cumsum(per_conv), messages)) + 1)
    kept_rounds = int(convs["n_rounds"][:keep].sum())
    out = {key: value[:keep] for key, value in convs.items()}
    out["rounds"] = {
        "conv": conv[:kept_rounds],
        "ridx": ridx[:kept_rounds],
        "burst": burst[:kept_rounds],
        "replies": replies[:kept_rounds],
    }
    return out


# --------------------------------------------------------------------------- messages


def _draw_messages(rng: np.random.Generator, convs: dict) -> tuple[dict, np.ndarray]:
    """Every message of the conversations; and the time of each conversation's last
    buyer/agent message (-1 for outreach conversations)."""
    rounds = convs["rounds"]
    conv_r = rounds["conv"]
    n_c, n_r = len(convs["shop"]), len(conv_r)

    # Gaps in seconds. Replies: mostly 5-90 s, a slow tail, a few waits > 30 min;
    # at night the first reply often waits for the 08:00 shift.
    mixture = rng.random(n_r)
    delay = np.select(
        [mixture < 0.86, mixture < 0.95, mixture < 0.98],
        [
            np.clip(rng.lognormal(np.log(22), 0.7, n_r), 3, 110),
            rng.uniform(121, 900, n_r),
            rng.uniform(900, 1800, n_r),
        ],
        rng.uniform(1801, 5400, n_r),
    )
    tod = convs["start"][conv_r] % DAY_S
    morning = 8 * 3600 + rng.uniform(0, 2400, n_r) - tod
    to_morning = convs["night"][conv_r] & (rounds["ridx"] == 0) & (rng.random(n_r) < 0.6)
    delay = np.where(to_morning, np.maximum(morning, delay), delay)
    mixture = rng.random(n_r)
    think = np.select(
        [mixture < 0.7, mixture < 0.92],
        [np.clip(rng.lognormal(np.log(35), 0.8, n_r), 5, 600), rng.uniform(120, 1500, n_r)],
        rng.uniform(1860, 10800, n_r),
    )

    burst = rounds["burst"]
    per_round = burst + rounds["replies"]
    msg_round = np.repeat(np.arange(n_r, dtype=np.int32), per_round)
    is_buyer, gap = _core_gaps(rng, msg_round, per_round, burst, rounds["ridx"], delay, think)
    del delay, think

    conv_m = conv_r[msg_round]
    per_conv = np.bincount(conv_m, minlength=n_c)
    conv_first = np.concatenate([[0], np.cumsum(per_conv)[:-1]])
    csum = np.cumsum(gap, dtype=np.int64)
    del gap
    t = convs["start"][conv_m] + csum - csum[conv_first[conv_m]]
    del csum
    conv_end = np.where(per_conv > 0, t[np.maximum(conv_first + per_conv - 1, 0)], -1)
    core = {"conv": conv_m, "t": t}
    core.update(_core_attributes(rng, convs, conv_m, rounds["ridx"][msg_round], is_buyer))

    # Conversation-level messages: the automatic greeting one second after the
    # buyer's first message, an agent writing first (up to 90 min before), and
    # outreach the buyer never answers.
    c = np.arange(n_c)
    auto = c[convs["auto"]]
    first = c[convs["agent_first"]]
    out1 = c[convs["outreach_msgs"] >= 1]
    out2 = c[convs["outreach_msgs"] >= 2]
    extra_t = np.concatenate(
        [
            convs["start"][auto] + 1,
            convs["start"][first] - rng.integers(120, 5400, len(first)),
            convs["start"][out1],
            convs["start"][out2] + rng.integers(600, 7200, len(out2)),
        ]
    )
    extra_conv = np.concatenate([auto, first, out1, out2])
    extra_role = np.concatenate(
        [np.full(len(auto), AUTO), np.full(len(first) + len(out1) + len(out2), AGENT)]
    )
    extra_content = np.concatenate(
        [
            _TEXT_BASE["auto"] + (convs["night"][auto] | (rng.random(len(auto)) < 0.2)),
            _TEXT_BASE["outreach"] + rng.integers(0, 2, len(first)),
            _TEXT_BASE["outreach"] + rng.integers(0, 3, len(out1)),
            _TEXT_BASE["outreach"] + 1 + np.zeros(len(out2), np.int64),
        ]
    )
    extra = {
        "conv": extra_conv,
        "t": extra_t,
        "agent": convs["primary"][extra_conv],
        "role": extra_role.astype(np.int8),
        "msg_type": np.zeros(len(extra_conv), np.int8),
        "content": extra_content.astype(np.int16),
    }
    return _concat(core, extra), conv_end


def _core_gaps(
    rng: np.random.Generator,
    msg_round: np.ndarray,
    per_round: np.ndarray,
    burst: np.ndarray,
    ridx: np.ndarray,
    delay: np.ndarray,
    think: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per message of the rounds: is it the buyer's, and the seconds since the
    previous message of its conversation (0 for the first)."""
    n_m = len(msg_round)
    round_first = np.concatenate([[0], np.cumsum(per_round)[:-1]]).astype(np.int32)
    pos = np.arange(n_m, dtype=np.int32) - round_first[msg_round]
    is_buyer = pos < burst[msg_round]
    draw = rng.random(n_m, dtype=np.float32)
    gap = np.where(is_buyer, 2 + 38 * draw, 2 + 23 * draw)  # burst / follow-up reply
    del draw
    first_reply = pos == burst[msg_round]
    gap[first_reply] = delay[msg_round[first_reply]]
    opens = np.flatnonzero(is_buyer & (pos == 0))
    del pos, first_reply
    opening_round = msg_round[opens]
    gap[opens] = np.where(ridx[opening_round] == 0, 0, think[opening_round])
    return is_buyer, gap.astype(np.int32)


def _core_attributes(
    rng: np.random.Generator,
    convs: dict,
    conv_m: np.ndarray,
    ridx: np.ndarray,
    is_buyer: np.ndarray,
) -> dict:
    """Account, role, type and text of each message of the rounds."""
    n_m = len(conv_m)
    kind_m = convs["kind"][conv_m]
    transferred = convs["transfer"][conv_m] & (ridx >= convs["split"][conv_m])
    del ridx
    agent = np.where(transferred, convs["secondary"][conv_m], convs["primary"][conv_m])
    del transferred
    assist = rng.random(n_m, dtype=np.float32) < 0.12
    role = np.where(is_buyer, BUYER, np.where(assist, ASSIST, AGENT)).astype(np.int8)
    del assist
    u = rng.random(n_m, dtype=np.float32)
    media = is_buyer & (kind_m != ADS) & (u < 0.09)
    image = media & (u < 0.06)
    del u
    msg_type = np.where(media, np.where(image, IMAGE, CARD), TEXT).astype(np.int8)
    group = np.select(
        [
            image,
            media,
            is_buyer & (kind_m == ADS),
            kind_m == INTERNAL,
            is_buyer & (kind_m == AFTERSALE),
            is_buyer,
            role == ASSIST,
            kind_m == AFTERSALE,
        ],
        np.arange(8, dtype=np.int8),
        np.int8(8),
    )
    names = ["buyer_media", "buyer_media", "spam", "internal", "buyer_after", "buyer_pre"]
    content = _pick_text(rng, group, [*names, "assist", "agent_after", "agent_pre"])
    content[group == 1] = _TEXT_BASE["buyer_media"] + 1
    content[group == 0] = _TEXT_BASE["buyer_media"]
    return {
        "agent": agent.astype(np.int16),
        "role": role,
        "msg_type": msg_type,
        "content": content.astype(np.int16),
    }


def _pick_text(rng: np.random.Generator, group: np.ndarray, names: list[str]) -> np.ndarray:
    """Index into _TEXT_LIST of a random text of each row's group."""
    base = np.array([_TEXT_BASE[name] for name in names], np.int16)
    size = np.array([len(TEXTS[name]) for name in names], np.int16)
    return base[group] + rng.integers(0, size[group], dtype=np.int16)


def _concat(*parts: dict) -> dict:
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _with_order_cards(msgs: dict, convs: dict, orders: dict) -> dict:
    """A system order card at the creation time of the first order of a conversation."""
    src = orders["conv"]
    is_first = src >= 0
    is_first[1:] &= src[1:] != src[:-1]
    conv = src[is_first]
    card = {
        "conv": conv,
        "t": orders["created"][is_first],
        "agent": _last_account(convs)[conv],
        "role": np.full(len(conv), SYSTEM, np.int8),
        "msg_type": np.full(len(conv), CARD, np.int8),
        "content": np.full(len(conv), _TEXT_BASE["system"], np.int16),
    }
    return _concat(msgs, card)


def _last_account(convs: dict) -> np.ndarray:
    """The account that served the conversation's last round."""
    transferred = convs["transfer"] & (convs["n_rounds"] - 1 >= convs["split"])
    return np.where(transferred, convs["secondary"], convs["primary"]).astype(np.int16)


# ----------------------------------------------------------------------------- orders


def _draw_orders(
    rng: np.random.Generator, cal: _Calendar, convs: dict, conv_end: np.ndarray
) -> dict:
    """Orders after a chat (minutes to a day later), orders of after-sale buyers weeks
    before their chat, and silent orders of buyers who never chat; sorted by creation."""
    n_c = len(convs["shop"])
    c = np.arange(n_c)

    # Orders following a pre-sales chat.
    src = np.repeat(c, convs["n_orders"])
    second = np.concatenate([[False], src[1:] == src[:-1]])
    u = rng.random(len(src))
    lag = np.select(
        [u < 0.55, u < 0.8],
        [rng.uniform(20, 1800, len(src)), rng.uniform(1800, 6 * 3600, len(src))],
        rng.uniform(12 * 3600, 30 * 3600, len(src)),
    ).astype(np.int64)
    consult_created = conv_end[src] + lag + np.where(second, rng.integers(60, 3600, len(src)), 0)

    # The paid order an after-sale buyer chats about: 2-20 days earlier, a few
    # 22-35 days (beyond after_sale_days, so those chats count as inquiries).
    after = c[convs["kind"] == AFTERSALE]
    back_days = np.where(
        rng.random(len(after)) < 0.85,
        rng.integers(2, 21, len(after)),
        rng.integers(22, 36, len(after)),
    )
    prior = convs["start"][after] - back_days * DAY_S - rng.integers(0, 6 * 3600, len(after))
    prior = np.where(prior < 0, rng.integers(0, 3600, len(after)), prior)

    # Silent orders: about as many as the orders after a chat, by day and hour.
    per_shop = np.bincount(convs["shop"][src], minlength=len(SHOPS))
    n_silent = per_shop + rng.poisson(2, len(SHOPS))
    silent_shop = np.repeat(np.arange(len(SHOPS)), n_silent).astype(np.int8)
    m = len(silent_shop)
    silent_day = rng.choice(cal.days, m, p=cal.day_weights)
    silent_hour = rng.choice(24, m, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    silent_created = silent_day * DAY_S + silent_hour * 3600 + rng.integers(0, 3600, m)

    shop = np.concatenate([convs["shop"][src], convs["shop"][after], silent_shop])
    buyer = np.concatenate(
        [convs["buyer"][src], convs["buyer"][after], 50_000_000 + rng.integers(0, m + 10, m)]
    )
    created = np.concatenate([consult_created, prior, silent_created]).astype(np.int64)
    conv = np.concatenate([src, -np.ones(len(after) + m, np.int64)])
    n = len(created)

    # Payment: same day, next day, up to a week later, or never.
    u = rng.random(n)
    pay_lag = np.select(
        [u < 0.62, u < 0.72, u < 0.80, u < 0.86],
        [
            rng.integers(5, 600, n),
            rng.integers(600, 4 * 3600, n),
            rng.integers(18 * 3600, 36 * 3600, n),
            rng.integers(2 * DAY_S, 7 * DAY_S, n),
        ],
        -1,
    )
    is_prior = np.zeros(n, bool)
    is_prior[len(src) : len(src) + len(after)] = True
    pay_lag = np.where(is_prior, rng.integers(5, 900, n), pay_lag)
    paid = np.where(pay_lag >= 0, created + pay_lag, -1)

    # Money: unit price around the shop's median, 1-5 pieces, coupons and odd cents.
    price = np.array([shop.price_yuan for shop in SHOPS])[shop]
    unit = np.maximum(2, np.round(price * rng.lognormal(0, 0.5, n))) * 100 - 10
    qty = rng.choice(5, n, p=[0.62, 0.2, 0.1, 0.04, 0.04]) + 1
    coupon = rng.choice([0, 0, 0, 300, 500, 1000, 2000], n)
    cents = np.where(rng.random(n) < 0.3, rng.integers(0, 100, n), 0)
    amount = np.maximum(unit * qty - coupon - cents, 1).astype(np.int64)

    # Unpaid orders close after a day; a few paid orders are refunded later, and
    # a quarter of the after-sale orders on the day of the chat.
    closed = np.where((paid < 0) & (rng.random(n) < 0.6), created + DAY_S, -1)
    refund_at = np.where(
        (paid >= 0) & (rng.random(n) < 0.05), paid + rng.integers(DAY_S, 10 * DAY_S, n), -1
    )
    after_refund = rng.random(len(after)) < 0.25
    refund_at[is_prior] = np.where(
        after_refund, convs["start"][after] + rng.integers(600, 2 * DAY_S, len(after)), -1
    )
    refund = np.where(
        rng.random(n) < 0.7, amount, np.maximum(1, (amount * rng.uniform(0.1, 0.9, n)))
    ).astype(np.int64)

    order = np.lexsort((np.arange(n), created, shop))
    orders = {
        "shop": shop,
        "buyer": buyer,
        "created": created,
        "paid": paid,
        "amount": amount,
        "qty": qty.astype(np.int64),
        "closed": closed,
        "refund_at": refund_at,
        "refund": refund,
        "conv": conv,
    }
    orders = {key: value[order] for key, value in orders.items()}
    orders["number"] = _rank_within(orders["shop"])
    # Back into creation-time order of conversations for the order cards.
    by_conv = np.lexsort((orders["created"], orders["conv"]))
    return {key: value[by_conv] for key, value in orders.items()}


def _rank_within(shop: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    starts = np.flatnonzero(np.concatenate([[True], shop[1:] != shop[:-1]]))
    lengths = np.diff(np.concatenate([starts, [len(shop)]]))
    return np.arange(len(shop)) - np.repeat(starts, lengths)


def _order_versions(orders: dict, cal: _Calendar) -> dict:
    """One row per order version, dated by the daily export it appears in: the
    creation day (paid if paid that day), the payment day, the refund day and
    the day an unpaid order closes. Times past the last day have not happened yet."""
    end = cal.end_s
    created = orders["created"]
    live = created < end
    paid = np.where(orders["paid"] < end, orders["paid"], -1)
    same_day = (paid >= 0) & (paid // DAY_S == created // DAY_S)
    refund_at = np.where((orders["refund_at"] < end) & (paid >= 0), orders["refund_at"], -1)
    closed = np.where(orders["closed"] < end, orders["closed"], -1)

    kinds = [
        (live, np.where(same_day, paid, -1), np.where(same_day, PAID, UNPAID), None),
        (live & (paid >= 0) & ~same_day, paid, PAID, None),
        (live & (refund_at >= 0), paid, REFUNDED, refund_at),
        (live & (closed >= 0), -1, CLOSED, closed),
    ]
    parts = []
    for mask, paid_at, status, updated in kinds:
        idx = np.flatnonzero(mask)
        paid_v = np.broadcast_to(paid_at, created.shape)[idx]
        status_v = np.broadcast_to(status, created.shape)[idx]
        if updated is None:
            updated_v = np.where(paid_v >= 0, paid_v, created[idx])
        else:
            updated_v = updated[idx]
        parts.append(
            {
                "idx": idx,
                "paid": paid_v,
                "status": status_v.astype(np.int8),
                "updated": updated_v,
                "refund": np.where(status_v == REFUNDED, orders["refund"][idx], 0),
            }
        )
    v = _concat(*parts)
    idx = v.pop("idx")
    for key in ("shop", "buyer", "created", "amount", "qty", "number"):
        v[key] = orders[key][idx]
    v["day"] = v["updated"] // DAY_S
    order = np.lexsort((v["number"], v["updated"], v["shop"], v["day"]))
    return {key: value[order] for key, value in v.items()}


# ---------------------------------------------------------------------------- ratings


def _draw_ratings(
    rng: np.random.Generator, cal: _Calendar, convs: dict, conv_end: np.ndarray
) -> dict:
    """About one replied conversation in six gets a rating, minutes to two hours after."""
    replied = ~(convs["last_unreplied"] & (convs["n_rounds"] == 1))
    eligible = np.isin(convs["kind"], (PRESALE, AFTERSALE)) & replied & (conv_end >= 0)
    rated = np.flatnonzero(eligible & (rng.random(len(eligible)) < 0.16))
    t = conv_end[rated] + rng.integers(30, 7200, len(rated))
    keep = t < cal.end_s
    rated, t = rated[keep], t[keep]
    shop = convs["shop"][rated]
    score = np.zeros(len(rated), np.int16)
    labels: list[str] = []
    for s, spec in enumerate(SHOPS):
        options = RATING_LABELS[spec.rating_scale]
        mask = shop == s
        p = np.array([weight for _, weight in options])
        # After-sale buyers are less happy.
        worse = convs["kind"][rated][mask] == AFTERSALE
        draw = rng.choice(len(options), int(mask.sum()), p=p / p.sum())
        draw = np.where(worse & (rng.random(int(mask.sum())) < 0.3), len(options) - 1, draw)
        score[mask] = len(labels) + draw
        labels.extend(label for label, _ in options)
    order = np.lexsort((rated, t, shop))
    ratings = {
        "shop": shop,
        "buyer": convs["buyer"][rated],
        "agent": _last_account(convs)[rated],
        "t": t,
        "score": score,
        "channel": (rng.random(len(rated)) < 0.4).astype(np.int8),
    }
    ratings = {key: value[order] for key, value in ratings.items()}
    ratings["number"] = _rank_within(ratings["shop"])
    ratings["labels"] = labels
    return ratings


def _filter_list(convs: dict) -> dict:
    """Every ad and internal buyer that wrote to a shop, once."""
    kind = convs["kind"]
    mask = (kind == ADS) | (kind == INTERNAL)
    key = np.unique(convs["shop"][mask].astype(np.int64) * 10**9 + convs["buyer"][mask])
    shop, buyer = key // 10**9, key % 10**9
    return {"shop": shop, "buyer": buyer, "reason": np.where(buyer >= 99_000_000, 1, 0)}


# ---------------------------------------------------------------------------- writing


def _clear_previous_demo(landing: Path) -> None:
    """Remove the files an earlier run listed in the marker; refuse other folders."""
    marker = landing / MARKER
    if not landing.exists():
        landing.mkdir(parents=True)
    elif marker.exists():
        root = landing.resolve()
        for line in marker.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            path = (landing / line).resolve()
            if root not in path.parents:
                raise ValueError(f"{marker}: listed file {line!r} is outside {landing}")
            path.unlink(missing_ok=True)
        marker.unlink()
    elif any(landing.iterdir()):
        raise FileExistsError(
            f"{landing} is not empty and holds no {MARKER} marker of an earlier demo; "
            "refusing to write demo data into it (choose an empty or new folder)"
        )
    marker.write_text("# files written by kefu generate; removed by the next run\n", "utf-8")


class _Writer:
    """Writes the export files and lists each one in the marker as it goes."""

    def __init__(self, landing: Path, cal: _Calendar) -> None:
        self.landing = landing
        self.cal = cal
        self.written: list[str] = []
        self.con = duckdb.connect()
        self.con.execute("set preserve_insertion_order = true")
        self.epoch = np.datetime64(cal.start.isoformat(), "s")
        self.agent_ids = [agent_id for _, agent_id, _ in _agent_rows()]

    def _path(self, relative: str) -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with (self.landing / MARKER).open("a", encoding="utf-8") as marker:
            marker.write(relative + "\n")
        self.written.append(relative)
        return path

    def _copy(self, table: pa.Table, select: str, relative: str, options: str) -> None:
        path = self._path(relative)
        self.con.register("src", table)
        try:
            target = str(path).replace("'", "''")
            self.con.execute(f"copy (select {select} from src) to '{target}' ({options})")
        finally:
            self.con.unregister("src")

    def _csv(self, table: pa.Table, select: str, relative: str) -> None:
        self._copy(table, select, relative, "format csv, header true")

    def _time(self, t: np.ndarray) -> pa.Array:
        """Seconds since the first day's midnight -> timestamp, NULL where negative."""
        stamps = self.epoch + np.maximum(t, 0).astype("timedelta64[s]")
        return pa.array(stamps, pa.timestamp("s"), mask=t < 0)

    # -- small entities

    def shops(self) -> None:
        """shops/shops.csv, UTF-8 with a BOM as Excel saves it."""
        lines = ["shop_id,platform,shop_name,timezone,ruleset"]
        lines += [
            f"{s.shop_id},{s.platform},{s.shop_name},Asia/Shanghai,taobao_tool" for s in SHOPS
        ]
        self._path("shops/shops.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))

    def agents(self) -> None:
        """agents/agents.csv in GB18030, as Excel writes it on a Chinese Windows."""
        lines = ["agent_id,shop_id,agent_name,team,employee_id"]
        lines += [
            f"{agent_id},{SHOPS[s].shop_id},{a.name},{a.team},{a.employee_id}"
            for s, agent_id, a in _agent_rows()
        ]
        self._path("agents/agents.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))

    def filters(self, filters: dict) -> None:
        """filters/filters.jsonl (none when no ad or internal buyer wrote)."""
        if not len(filters["shop"]):
            return
        table = pa.table(
            {
                "shop_id": _dictionary(filters["shop"], [s.shop_id for s in SHOPS]),
                "buyer_id": self._buyer_ids(filters["shop"], filters["buyer"]),
                "reason": _dictionary(filters["reason"], ["ads", "internal"]),
            }
        )
        self._copy(table, "*", "filters/filters.jsonl", "format json")

    def _buyer_ids(self, shop: np.ndarray, buyer: np.ndarray) -> pa.Array:
        prefix = np.array([s.buyer_prefix for s in SHOPS])[shop]
        numbers = (10_000_000 + buyer).astype(str)
        return pa.array(np.char.add(prefix, numbers))

    # -- messages

    def messages(self, msgs: dict) -> int:
        """messages/<day>.csv for the shops on the Qianniu-style tool, messages/jd_<day>.csv
        for the ISO shop, and the first day of the Taobao shop as a GB18030 file with
        Chinese headers and role labels (messages/qianniu_<shop>_<day>.csv)."""
        m = msgs  # filtered and sorted in place: the caller's arrays are not needed again
        keep = (m["t"] >= 0) & (m["t"] < self.cal.end_s)
        for name in list(m):
            m[name] = m[name][keep]
        day, group = m["t"] // DAY_S, _ISO_GROUP[m["shop"]]
        key = ((day * 2 + group) * 8 + m["shop"]) * DAY_S + m["t"] % DAY_S
        order = np.lexsort((m["conv"], key))
        del key, keep
        for name in list(m):
            m[name] = m[name][order]
        part = (day * 2 + group)[order]
        del day, group, order
        shop = m["shop"]
        table = pa.table(
            {
                "message_id": _MESSAGE_BASE[shop] + _rank_per_value(shop),
                "shop_id": _dictionary(shop, [s.shop_id for s in SHOPS]),
                "prefix": _dictionary(shop, [s.buyer_prefix for s in SHOPS]),
                "buyer": m["buyer"],
                "agent_id": _dictionary(m["agent"], self.agent_ids),
                "sender_role": _dictionary(m["role"], ROLES),
                "sender_role_zh": _dictionary(m["role"], ROLES_ZH),
                "sent_at": self._time(m["t"]),
                "msg_type": _dictionary(m["msg_type"], MSG_TYPES),
                "content": _dictionary(m["content"], _TEXT_LIST),
            }
        )
        m.clear()
        qianniu = next(s for s, spec in enumerate(SHOPS) if spec.platform == "taobao")
        bounds = np.searchsorted(part, np.arange(2 * self.cal.days + 1))
        for d in range(self.cal.days):
            date = self.cal.date(d).isoformat()
            a, b = bounds[2 * d], bounds[2 * d + 1]
            if d == 0 and a < b:
                lo, hi = a + np.searchsorted(shop[a:b], [qianniu, qianniu + 1])
                if lo < hi:
                    self._gb18030_messages(
                        table.slice(lo, hi - lo),
                        f"messages/qianniu_{SHOPS[qianniu].shop_id}_{date}.csv",
                    )
                    rest = pa.concat_tables([table.slice(a, lo - a), table.slice(hi, b - hi)])
                    self._csv(rest, _message_select(TIME_FMT), f"messages/{date}.csv")
                    a = b
            if a < b:
                self._csv(table.slice(a, b - a), _message_select(TIME_FMT), f"messages/{date}.csv")
            a, b = bounds[2 * d + 1], bounds[2 * d + 2]
            if a < b:
                self._csv(
                    table.slice(a, b - a), _message_select(ISO_FMT), f"messages/jd_{date}.csv"
                )
        return table.num_rows

    def _gb18030_messages(self, table: pa.Table, relative: str) -> None:
        select = (
            "message_id::varchar as 消息ID, shop_id as 店铺ID, "
            "prefix || (buyer + 10000000)::varchar as 买家, agent_id as 客服, "
            f"sender_role_zh as 发送方, strftime(sent_at, '{TIME_FMT}') as 发送时间, "
            "content as 内容"
        )
        self._csv(table, select, relative)
        path = self.landing / relative
        path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))

    # -- orders

    def orders(self, v: dict) -> int:
        """orders/<day>.csv (the third day as .parquet) and orders/jd_<day>.csv."""
        group = _ISO_GROUP[v["shop"]]
        order = np.lexsort((np.arange(len(group)), group, v["day"]))  # stable: keeps the rest
        v = {key: value[order] for key, value in v.items()}
        part = v["day"] * 2 + group[order]
        shop = v["shop"]
        table = pa.table(
            {
                "order_id": _ORDER_BASE[shop] + v["number"],
                "shop_id": _dictionary(shop, [s.shop_id for s in SHOPS]),
                "prefix": _dictionary(shop, [s.buyer_prefix for s in SHOPS]),
                "buyer": v["buyer"],
                "created_at": self._time(v["created"]),
                "paid_at": self._time(v["paid"]),
                "amount": v["amount"],
                "quantity": v["qty"],
                "status": _dictionary(v["status"], ORDER_STATUSES),
                "refund_amount": v["refund"],
                "updated_at": self._time(v["updated"]),
            }
        )
        bounds = np.searchsorted(part, np.arange(2 * self.cal.days + 1))
        for d in range(self.cal.days):
            date = self.cal.date(d).isoformat()
            for group_id, prefix in ((0, ""), (1, "jd_")):
                a, b = bounds[2 * d + group_id], bounds[2 * d + group_id + 1]
                if a == b:
                    continue
                rows = table.slice(a, b - a)
                if group_id == 0 and d == min(2, self.cal.days - 1):
                    self._copy(rows, _ORDER_PARQUET, f"orders/{date}.parquet", "format parquet")
                else:
                    fmt = ISO_FMT if group_id else TIME_FMT
                    self._csv(rows, _order_select(fmt), f"orders/{prefix}{date}.csv")
        return table.num_rows

    # -- ratings

    def ratings(self, r: dict) -> int:
        """ratings/<day>.csv, ratings/jd_<day>.csv, and the Kuaishou shop's ratings of
        the whole period as one .xlsx."""
        shop = r["shop"]
        group = np.where(_XLSX_RATINGS[shop], 2, _ISO_GROUP[shop])
        day = r["t"] // DAY_S
        order = np.lexsort((r["t"], shop, group, day))
        shop, group, day = shop[order], group[order], day[order]
        table = pa.table(
            {
                "rating_id": _RATING_BASE[shop] + _rank_per_value(shop),
                "shop_id": _dictionary(shop, [s.shop_id for s in SHOPS]),
                "prefix": _dictionary(shop, [s.buyer_prefix for s in SHOPS]),
                "buyer": r["buyer"][order],
                "agent_id": _dictionary(r["agent"][order], self.agent_ids),
                "rated_at": self._time(r["t"][order]),
                "score": _dictionary(r["score"][order], r["labels"]),
                "channel": _dictionary(r["channel"][order], RATING_CHANNELS),
            }
        )
        part = day * 3 + group
        bounds = np.searchsorted(part, np.arange(3 * self.cal.days + 1))
        for d in range(self.cal.days):
            date = self.cal.date(d).isoformat()
            for group_id, prefix in ((0, ""), (1, "jd_")):
                a, b = bounds[3 * d + group_id], bounds[3 * d + group_id + 1]
                if a < b:
                    fmt = ISO_FMT if group_id else TIME_FMT
                    rows = table.slice(a, b - a)
                    self._csv(rows, _rating_select(fmt), f"ratings/{prefix}{date}.csv")
        xlsx = table.filter(pa.array(group == 2))
        if xlsx.num_rows:
            self._xlsx(xlsx, "ratings/kuaishou_ratings.xlsx")
        return table.num_rows

    def _xlsx(self, table: pa.Table, relative: str) -> None:
        """An .xlsx as the Kuaishou back office exports it: text times, numeric scores."""
        from openpyxl import Workbook

        self.con.register("src", table)
        try:
            rows = self.con.execute(f"select {_rating_select(TIME_FMT)} from src").fetchall()
        finally:
            self.con.unregister("src")
        book = Workbook(write_only=True)
        sheet = book.create_sheet("评价明细")
        sheet.append(
            ["rating_id", "shop_id", "buyer_id", "agent_id", "rated_at", "score", "channel"]
        )
        for row in rows:  # one shop's ratings: thousands of rows, not millions
            sheet.append([*row[:5], int(row[5]) if row[5].isdigit() else row[5], row[6]])
        book.properties.creator = "kefu demo"
        book.properties.created = book.properties.modified = dt.datetime(2026, 1, 1)
        buffer = io.BytesIO()
        book.save(buffer)
        self._path(relative).write_bytes(_reproducible_zip(buffer.getvalue()))


def _dictionary(indices: np.ndarray, values: list[str] | tuple[str, ...]) -> pa.Array:
    """A dictionary-encoded string column with the narrowest index type that fits."""
    dtype = np.int8 if len(values) <= 127 else np.int16 if len(values) <= 32767 else np.int32
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(indices, dtype)), pa.array(list(values), pa.string())
    )


def _rank_per_value(values: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... counted separately for each value, in array order."""
    rank = np.zeros(len(values), np.int64)
    for value in np.unique(values):
        mask = values == value
        rank[mask] = np.arange(int(mask.sum()))
    return rank


def _reproducible_zip(data: bytes) -> bytes:
    """The same archive with fixed entry times and document dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-01T00:00:00Z", body)
            entry = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, body)
    return out.getvalue()


_ISO_GROUP = np.array([int(s.iso_time) for s in SHOPS], np.int64)
_XLSX_RATINGS = np.array([s.platform == "kuaishou" for s in SHOPS])
_MESSAGE_BASE = np.array([(30 + s) * 10**11 for s in range(len(SHOPS))], np.int64)
_ORDER_BASE = np.array([3_100_000_000_000_000_000 + s * 10**16 for s in range(len(SHOPS))])
_RATING_BASE = np.array([(70 + s) * 10**9 for s in range(len(SHOPS))], np.int64)
_BUYER_SQL = "prefix || (buyer + 10000000)::varchar as buyer_id"
_MONEY_SQL = "printf('%d.%02d', {0} // 100, {0} % 100)"


def _message_select(fmt: str) -> str:
    return (
        f"message_id::varchar as message_id, shop_id, {_BUYER_SQL}, agent_id, sender_role, "
        f"strftime(sent_at, '{fmt}') as sent_at, msg_type, content"
    )


def _order_select(fmt: str) -> str:
    return (
        f"order_id::varchar as order_id, shop_id, {_BUYER_SQL}, "
        f"strftime(created_at, '{fmt}') as created_at, strftime(paid_at, '{fmt}') as paid_at, "
        f"{_MONEY_SQL.format('amount')} as amount, quantity, status, "
        f"{_MONEY_SQL.format('refund_amount')} as refund_amount, "
        f"strftime(updated_at, '{fmt}') as updated_at"
    )


_ORDER_PARQUET = (
    f"order_id::varchar as order_id, shop_id::varchar as shop_id, {_BUYER_SQL}, "
    "created_at::timestamp as created_at, paid_at::timestamp as paid_at, "
    f"{_MONEY_SQL.format('amount')}::decimal(18, 2) as amount, quantity::integer as quantity, "
    f"status::varchar as status, {_MONEY_SQL.format('refund_amount')}::decimal(18, 2) "
    "as refund_amount, updated_at::timestamp as updated_at"
)


def _rating_select(fmt: str) -> str:
    return (
        f"rating_id::varchar as rating_id, shop_id, {_BUYER_SQL}, agent_id, "
        f"strftime(rated_at, '{fmt}') as rated_at, score, channel"
    )
