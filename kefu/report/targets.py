"""Headline metrics of the scorecard and their default targets (docs/metrics.md §11).

The defaults are the `taobao_tool` targets of the spec; when the marts hold
`kpi_target_status` (targets as data, with a shop's own rows winning), the report
uses the targets found there for the shop instead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    metric: str
    comparator: str  # ">=" or "<="
    value: float
    source: str

    def is_met(self, figure: float | None) -> bool | None:
        """Met, missed, or None for no figure (neither met nor missed, §11)."""
        if figure is None:
            return None
        return figure >= self.value if self.comparator == ">=" else figure <= self.value


DEFAULT_TARGETS: dict[str, Target] = {
    t.metric: t
    for t in (
        Target("reply_rate", ">=", 0.80, "80%以上的回复率通常被认为是达标的标准"),
        Target("avg_first_response_s", "<=", 20.0, "首次响应时间的合格标准是20秒内"),
        Target("avg_response_s", "<=", 60.0, "通常保持五六十秒的响应时间是比较正常的"),
        Target("good_rate", ">=", 0.80, "快手 商户客服好评率不得低于80%"),
    )
}


@dataclass(frozen=True)
class Metric:
    """A headline figure: key, labels, unit (rate, seconds, count, cny, ratio) and whether
    a higher value is better (for the colour of the change arrow)."""

    key: str
    zh: str
    en: str
    unit: str
    higher_is_better: bool = True


HEADLINE_METRICS: tuple[Metric, ...] = (
    Metric("received_buyer_cnt", "接待人数", "Buyers received", "count"),
    Metric("reply_rate", "回复率", "Reply rate", "rate"),
    Metric("avg_first_response_s", "首次响应时间", "First response", "seconds", False),
    Metric("avg_response_s", "平均响应时间", "Average response", "seconds", False),
    Metric("reply_3min_rate", "3分钟回复率", "3-minute reply rate", "rate"),
    Metric("inquiry_buyer_cnt", "询单人数", "Inquiries", "count"),
    Metric("inq_to_pay_rate_final", "询单→最终付款", "Inquiry → final payment", "rate"),
    Metric("cs_sales_amt", "客服销售额", "CS sales", "cny"),
    Metric("cs_sales_share", "客服销售占比", "CS share of sales", "rate"),
    Metric("good_rate", "好评率", "Good-rating rate", "rate"),
)
